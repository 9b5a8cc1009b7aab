// The second thread of LSC's eigenproblems (spectra/ritzThread.ts): the same pairs on two threads as on one, and a
// worker that cannot start or cannot load TensorFlow reported, never waited for, with the pairs computed here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor3D } from '../../src/engine/backend/tf';
import type { RitzPair } from '../../src/engine/spectra/arnoldi';
import { bothSides, configureRitzThread, ritzThreadStatus, startRitzThread } from '../../src/engine/spectra/ritzThread';
import { forEachBackend } from './helpers/backends';
import { randomVector } from './helpers/random';

const OPTIONS = { tol: 1e-4, maxProducts: 400, seed: 0, dimension: 40 };

/** Six random 120 × 120 matrices (disc-like spectra; odd ones with a dominant real eigenvalue). */
function matrices(): { j: Tensor3D; data: Float32Array } {
  const [M, n] = [6, 120];
  const data = new Float32Array(M * n * n);
  for (let b = 0; b < M; b++) {
    const a = randomVector(n * n, 4100 + b).map((x) => x / Math.sqrt(n));
    if (b % 2) a[0] += 1.5;
    data.set(a, b * n * n);
  }
  return { j: tf().tensor3d(data, [M, n, n]), data };
}

async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (status: ${ritzThreadStatus()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertSamePairs(actual: (RitzPair | undefined)[], expected: (RitzPair | undefined)[], what: string): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, b) => {
    const a = actual[b];
    assert.ok(e && a, `${what}: matrix ${b} converged on both`);
    assert.deepEqual([a.re, a.im], [e.re, e.im], `${what}: matrix ${b}'s Ritz value`);
    assert.deepEqual(Array.from(a.vector), Array.from(e.vector), `${what}: matrix ${b}'s Ritz vector`);
  });
}

function brokenWorker(source: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-jacobian-ritz-')), 'ritzWorker.js');
  fs.writeFileSync(file, source);
  return file;
}

forEachBackend('spectra: the left eigenvectors on a second thread', (backend) => {
  let input: { j: Tensor3D; data: Float32Array };
  let oneThread: ReturnType<typeof bothSides>;
  before(() => {
    input = matrices();
    configureRitzThread({ enabled: false });
    oneThread = bothSides(input.j, input.data, OPTIONS);
  });
  after(() => {
    input.j.dispose();
    configureRitzThread();
  });

  it(backend === 'tensorflow' ? 'the worker gives exactly the pairs one thread gives' : 'runs on one thread (no worker off tensorflow)', async () => {
    configureRitzThread();
    startRitzThread();
    if (backend === 'tensorflow') await until(() => ritzThreadStatus() === 'two threads', 'the worker has loaded TensorFlow');
    else assert.equal(ritzThreadStatus(), 'one thread');
    const before = tf().memory().numTensors;
    const twoThreads = bothSides(input.j, input.data, OPTIONS);
    assert.equal(tf().memory().numTensors, before, 'no tensor left behind');
    assertSamePairs(twoThreads.right, oneThread.right, 'right side');
    assertSamePairs(twoThreads.left, oneThread.left, 'left side');
  });

  if (backend !== 'tensorflow') return;

  const broken = [
    { what: 'a worker script that throws as it loads', source: "throw new Error('broken on purpose');", says: /broken on purpose/ },
    {
      what: 'a worker that cannot load TensorFlow',
      source: "const { parentPort } = require('node:worker_threads'); parentPort.once('message', () => parentPort.postMessage({ type: 'ritzFailed', error: 'no TensorFlow here' }));",
      says: /could not load TensorFlow: no TensorFlow here/,
    },
  ];
  for (const { what, source, says } of broken) {
    it(`${what}: reported, never waited for, the pairs computed on this thread`, async () => {
      configureRitzThread({ script: brokenWorker(source) });
      startRitzThread();
      await until(() => ritzThreadStatus().includes('failed'), 'the failure is seen');
      assert.match(ritzThreadStatus(), says);
      const fallback = bothSides(input.j, input.data, OPTIONS);
      assertSamePairs(fallback.right, oneThread.right, 'right side');
      assertSamePairs(fallback.left, oneThread.left, 'left side');
    });
  }
});
