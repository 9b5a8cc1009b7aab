// The second thread of spectra/ritzThread.ts (bundled as dist/ritzWorker.js): a TensorFlow context of its own that
// computes one side's dominant Ritz pairs per job, replies on the port it was given, and raises the shared flag the
// waiting thread sleeps on.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend/backend';
import { tf } from '../backend/tf';
import { isRitzConnect, isRitzJob, sidePairs, type RitzConnect, type RitzReply } from './ritzThread';

const ready = initBackend('tensorflow');

async function answer(job: unknown): Promise<RitzReply> {
  if (!isRitzJob(job)) return { type: 'ritzReply', id: -1, error: 'a message that is not a job' };
  try {
    await ready;
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

function serve({ port, flag }: RitzConnect): void {
  port.on('message', async (job: unknown) => {
    port.postMessage(await answer(job));
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
}

parentPort?.once('message', (m: unknown) => {
  if (isRitzConnect(m)) serve(m);
});
