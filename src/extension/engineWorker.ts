// The engine process. The extension host starts it with
//   child_process.fork('dist/engineWorker.js', { serialization: 'advanced' })
// so that the Float32Arrays of a RunResult cross the pipe as binary (V8 structured clone), never as JSON numbers.
// It stays up between runs (a warm engine: the backend, the config validator and the engine's code are loaded
// and compiled once), runs one analysis at a time, streams progress per step, and keeps only the last
// successful result in memory so that "Export .npy" can write it without recomputing.
//
// Cancelling is the host's job: it kills this process (SIGTERM, then SIGKILL) and starts a fresh one. No SIGTERM
// handler is installed here on purpose, so the default action ends the process even in the middle of a
// synchronous tfjs kernel. What arrives is checked (isHostToEngine); a malformed message is logged and dropped.
import { analyzeText, saveRun, spectrumAt, CancelledError, UserError, type RunResult } from '../engine';
import { selectBackend } from '../engine/backend/backend';
import { describeRejected } from '../protocol/guards';
import { exportFailureMessage } from './writeErrors';
import { ControlWorker } from './controlWorker';
import { isHostToEngine, type EngineToHost, type HostToEngine } from '../protocol/messages';

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
/** Warming up and runs go one after the other: a run that arrives while the backend loads waits for it. */
let queue: Promise<void> = Promise.resolve();
/** Runs received and not started yet. */
let waitingRuns = 0;

/**
 * A small run of every stage, done a few times: loads the backend, compiles the validator, and lets V8 optimise the
 * engine's hot loops (the float64 spectra above all), which a first real run would otherwise pay for: measured, the
 * first runs of the seed example after a 4-unit warm-up took 0.4–0.9 s, later ones 25–120 ms.
 */
const WARM_UP_CONFIG = JSON.stringify({
  cell: 'seed', units: 64, inputDim: 2, timeSteps: 4, batchSize: 1, seed: 1,
  jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: ['varTimesFanIn', 'spectralRadius', 'spectralNorm'],
});
const WARM_UP_RUNS = 4;

async function warm(message: Extract<HostToEngine, { type: 'warm' }>): Promise<void> {
  const t0 = performance.now();
  try {
    // With `auto` the backend a warm process holds is the fastest that loads: its load is paid now, while
    // nobody waits, so later runs find it loaded (cost 0) and auto keeps it.
    const choice = await selectBackend(message.backend);
    // A run waiting behind the warm-up goes first: the optimisation is for later runs, not worth a wait now.
    for (let i = 0; i < WARM_UP_RUNS && waitingRuns === 0; i++) {
      await analyzeText(WARM_UP_CONFIG, 'warm-up.jacobian.json', { backend: choice.name, keepJacobiansMB: 0 });
    }
    send({ type: 'warmed', requestId: message.requestId, backend: choice.name, reason: choice.reason, ms: performance.now() - t0 });
  } catch (error) {
    // A backend that does not load is the first run's error to report, with its config's name on it.
    send({ type: 'log', line: `warm-up failed: ${error instanceof Error ? error.message : String(error)}` });
  }
}

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
  const { requestId, runId, dir } = message;
  if (!lastResult || lastResult.runId !== runId) {
    send({ type: 'saveFailed', requestId, runId, message: `run ${runId} is no longer held by the engine process; run the analysis again, then export` });
    return;
  }
  try {
    const manifest = saveRun(lastResult.result, dir);
    send({ type: 'saved', requestId, runId, dir, files: [...manifest.files.map((f) => f.file), 'manifest.json'] });
  } catch (error) {
    // saveRun stages into a sibling folder and removes it on failure: nothing half-written is left to mention.
    send({ type: 'saveFailed', requestId, runId, message: exportFailureMessage('the .npy files', dir, error) });
  }
}

/** One kept Jacobian's whole spectrum from the held result (the panel asks for the matrix on screen). */
function spectrum(message: Extract<HostToEngine, { type: 'spectrum' }>): void {
  const { requestId, runId } = message;
  if (!lastResult || lastResult.runId !== runId) {
    send({ type: 'spectrum', requestId, runId, outcome: { ok: false, message: `run ${runId} is no longer held by the engine process` } });
    return;
  }
  try {
    const s = spectrumAt(lastResult.result, message.pair, message.step, message.b);
    const singularValues = s.singularValues ?? new Float64Array(0);
    send({ type: 'spectrum', requestId, runId, outcome: { ok: true, spectrum: { singularValues, eigenRe: s.eigenRe, eigenIm: s.eigenIm } } });
  } catch (error) {
    const text = error instanceof UserError ? error.issues.map((i) => i.message).join('; ') : error instanceof Error ? error.message : String(error);
    send({ type: 'spectrum', requestId, runId, outcome: { ok: false, message: text } });
  }
}

const control = new ControlWorker(send);

process.on('message', (raw: unknown) => {
  if (!isHostToEngine(raw)) {
    send({ type: 'log', line: `engineWorker: dropped a malformed ${describeRejected(raw)}` });
    return;
  }
  const message = raw;
  switch (message.type) {
    case 'warm':
      queue = queue.then(() => warm(message));
      break;
    case 'run':
      // Supersedes a run going at once; starts after a warm-up still loading the backend.
      current?.abort.abort();
      waitingRuns++;
      queue = queue.then(() => {
        waitingRuns--;
        return run(message);
      });
      break;
    case 'save':
      queue = queue.then(() => save(message));
      break;
    case 'spectrum':
      queue = queue.then(() => spectrum(message));
      break;
    case 'control':
      waitingRuns++;
      queue = queue.then(() => {
        waitingRuns--;
        return control.run(message);
      });
      break;
    case 'controlCancel':
      control.cancel(message);
      break;
    case 'controlExport':
      queue = queue.then(() => control.export(message));
      break;
    case 'controlCompare':
      queue = queue.then(() => control.compare(message));
      break;
  }
});

// The host went away (window closed, extension host crashed): nothing may outlive it.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', pid: process.pid });
