// The second thread of thread/secondThread.ts (bundled as dist/threadWorker.js, started through dist/threadStart.js,
// thread/start.ts, which compiles it with V8's code cache): a TensorFlow context of its own
// that answers each job on the port it was given, then stamps the shared word with the job's id, which wakes the
// waiting thread. It says on its own channel when TensorFlow has loaded (or why not): jobs come only after that.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend/backend';
import { tf } from '../backend/tf';
import { DIAGNOSTIC_DEFS } from '../diagnostics';
import { operatorOf } from '../spectra/operator';
import { sidePairs } from '../spectra/bothSides';
import { isConnect, isMeasureJob, isRitzJob, type Connect, type MeasureJob, type MeasureReply, type Reply, type RitzJob, type RitzReply, type Status } from './protocol';
import { fromWire } from './wireJacobian';
import { SAVE_CODE_CACHE } from '../codeCache';

function ritzReply(job: RitzJob): RitzReply {
  const j = tf().tensor3d(job.data, [job.rows, job.n, job.n]);
  try {
    return { type: 'ritzReply', id: job.id, pairs: sidePairs(j, job.side, job.options).map((p) => p ?? null) };
  } finally {
    j.dispose();
  }
}

function measureReply(job: MeasureJob): MeasureReply {
  const t = tf();
  // A scope: the Jacobian's tensors, and the operators Krylov methods narrow to their unconverged rows.
  t.engine().startScope();
  try {
    const op = operatorOf(fromWire(job.jacobian), job.rows);
    const results = job.diagnostics.map((name) => {
      const measure = DIAGNOSTIC_DEFS.find((d) => d.name === name)?.scalar?.matrixFree;
      if (!measure) throw new Error(`internal: no matrix-free measurement "${name}"`);
      return measure(op, job.options);
    });
    return { type: 'measureReply', id: job.id, results };
  } finally {
    t.engine().endScope();
  }
}

function answer(job: unknown): Reply {
  try {
    if (isRitzJob(job)) return ritzReply(job);
    if (isMeasureJob(job)) return measureReply(job);
  } catch (e) {
    const type = isRitzJob(job) ? 'ritzReply' : 'measureReply';
    return { type, id: (job as { id: number }).id, error: (e as Error).message };
  }
  return { type: 'measureReply', id: -1, error: 'a message that is not a job' };
}

function serve({ port, answered }: Connect): void {
  port.on('message', (job: unknown) => {
    const reply = answer(job);
    port.postMessage(reply);
    if (reply.id > 0) {
      Atomics.store(answered, 0, reply.id);
      Atomics.notify(answered, 0);
    }
    // After the first job, with what it compiled (thread/start.ts; once, and only where there was no cache).
    setImmediate(() => (globalThis as Record<symbol, (() => void) | undefined>)[SAVE_CODE_CACHE]?.());
  });
}

parentPort?.once('message', (m: unknown) => {
  if (!isConnect(m)) return;
  serve(m);
  initBackend('tensorflow').then(
    () => parentPort!.postMessage({ type: 'ready' } satisfies Status),
    (e: Error) => parentPort!.postMessage({ type: 'failed', error: e.message } satisfies Status),
  );
});
