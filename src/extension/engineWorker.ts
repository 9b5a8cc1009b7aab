// The engine process. The extension host starts it with
//   child_process.fork('dist/engineWorker.js', { serialization: 'advanced' })
// so that the Float32Arrays of a RunResult cross the pipe as binary (V8 structured clone), never as JSON numbers.
// It runs one analysis at a time, streams progress per step, and keeps only the last successful result in
// memory so that "Export .npy" can write it without recomputing.
//
// Cancelling is the host's job: it kills this process (SIGTERM, then SIGKILL). No SIGTERM handler is installed
// here on purpose, so the default action ends the process even in the middle of a synchronous tfjs kernel.
import { analyzeText, saveRun, CancelledError, UserError, type RunResult } from '../engine';
import type { EngineToHost, HostToEngine } from '../protocol/messages';

if (!process.send) {
  process.stderr.write('engineWorker: must be started by the RNN Jacobian Lab extension with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

function send(message: EngineToHost): void {
  // When the host has gone the channel is closed; there is nobody left to tell.
  if (process.connected) process.send!(message);
}

let lastResult: { runId: number; result: RunResult } | undefined;
let current: { runId: number; abort: AbortController } | undefined;

async function run(message: Extract<HostToEngine, { type: 'run' }>): Promise<void> {
  // The host sends one run at a time; a run that arrives anyway supersedes the one going.
  current?.abort.abort();
  const abort = new AbortController();
  const mine = { runId: message.runId, abort };
  current = mine;
  const { runId } = message;
  try {
    const result = await analyzeText(message.text, message.file, {
      backend: message.options.backend,
      maxMemoryMB: message.options.maxMemoryMB,
      keepJacobiansMB: message.options.keepJacobiansMB,
      signal: abort.signal,
      onProgress: (progress) => send({ type: 'progress', runId, progress }),
      log: (line) => send({ type: 'log', line }),
    });
    if (abort.signal.aborted) return;
    // Dropped before the next result arrives so that two runs' arrays are never held at once.
    lastResult = { runId, result };
    send({ type: 'result', runId, result: { report: result.report, pairs: result.arrays.pairs } });
  } catch (error) {
    if (error instanceof CancelledError || abort.signal.aborted) return;
    if (error instanceof UserError) {
      send({ type: 'invalid', runId, kind: error.kind, issues: error.issues });
    } else {
      const failure = error instanceof Error ? error : new Error(String(error));
      send({ type: 'failed', runId, message: failure.message, stack: failure.stack });
    }
  } finally {
    if (current === mine) current = undefined;
  }
}

function save(message: Extract<HostToEngine, { type: 'save' }>): void {
  const { runId, dir } = message;
  if (!lastResult || lastResult.runId !== runId) {
    send({ type: 'saveFailed', runId, message: `run ${runId} is no longer held by the engine process; run the analysis again, then export` });
    return;
  }
  try {
    const manifest = saveRun(lastResult.result, dir);
    send({ type: 'saved', runId, dir, files: [...manifest.files.map((f) => f.file), 'manifest.json'] });
  } catch (error) {
    // A UserError (a folder holding other files) carries a message meant for the user as it is.
    send({ type: 'saveFailed', runId, message: error instanceof Error ? error.message : String(error) });
  }
}

process.on('message', (raw: unknown) => {
  const message = raw as HostToEngine;
  switch (message.type) {
    case 'run':
      void run(message);
      break;
    case 'save':
      save(message);
      break;
    default:
      send({ type: 'log', line: `engineWorker: ignored unknown message ${JSON.stringify(raw).slice(0, 200)}` });
  }
});

// The host went away (window closed, extension host crashed): nothing may outlive it.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', pid: process.pid });
