// The second thread of spectra/ritzThread.ts (bundled as dist/ritzWorker.js): a TensorFlow context of its own that
// computes one side's dominant Ritz pairs per job, replies on the port it was given, and stamps the shared word
// with the job's id, which wakes the waiting thread. It says on its own channel when TensorFlow has loaded (or why
// not): jobs come only after that.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend/backend';
import { tf } from '../backend/tf';
import { isRitzConnect, isRitzJob, sidePairs, type RitzConnect, type RitzReply, type RitzStatus } from './ritzThread';

function answer(job: unknown): RitzReply {
  if (!isRitzJob(job)) return { type: 'ritzReply', id: -1, error: 'a message that is not a job' };
  try {
    const j = tf().tensor3d(job.data, [job.rows, job.n, job.n]);
    try {
      return { type: 'ritzReply', id: job.id, pairs: sidePairs(j, job.side, job.options).map((p) => p ?? null) };
    } finally {
      j.dispose();
    }
  } catch (e) {
    return { type: 'ritzReply', id: job.id, error: (e as Error).message };
  }
}

function serve({ port, answered }: RitzConnect): void {
  port.on('message', (job: unknown) => {
    const reply = answer(job);
    port.postMessage(reply);
    if (reply.id > 0) {
      Atomics.store(answered, 0, reply.id);
      Atomics.notify(answered, 0);
    }
  });
}

parentPort?.once('message', (m: unknown) => {
  if (!isRitzConnect(m)) return;
  serve(m);
  initBackend('tensorflow').then(
    () => parentPort!.postMessage({ type: 'ritzReady' } satisfies RitzStatus),
    (e: Error) => parentPort!.postMessage({ type: 'ritzFailed', error: e.message } satisfies RitzStatus),
  );
});
