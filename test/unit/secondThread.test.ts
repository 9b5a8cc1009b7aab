// The engine's second thread (thread/secondThread.ts): LSC's pairs and a chunk's matrix-free spectra the same on two
// threads as on one, and a worker that cannot start or cannot load TensorFlow reported, never waited for, with the
// work done here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor3D } from '../../src/engine/backend/tf';
import type { RitzPair } from '../../src/engine/spectra/arnoldi';
import { bothSides } from '../../src/engine/spectra/bothSides';
import { configureSecondThread, secondThreadStatus, startSecondThread } from '../../src/engine/thread/secondThread';
import { DIAGNOSTIC_DEFS, type DiagnosticDef } from '../../src/engine/diagnostics';
import type { SJ } from '../../src/engine/graph/structuredJacobian';
import { measureRows, MIN_SPLIT_ROWS } from '../../src/engine/run/measureRows';
import type { KrylovResult } from '../../src/engine/spectra/krylov';
import { forEachBackend } from './helpers/backends';
import { denseSpectralNorm, denseSpectralRadius } from './reference/spectra';
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
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (status: ${secondThreadStatus()})`);
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

const MEASURED = DIAGNOSTIC_DEFS.filter((d) => d.scalar?.matrixFree) as DiagnosticDef[];
const KRYLOV = { maxProducts: 600, seed: 3 };

/**
 * W6 in small: 24 seed-relu-like Jacobians W·diag(mask) of order 160, factored (one shared W, a 0/1 mask per row),
 * with their dense float64 values of ρ and ‖J‖₂ (ml-matrix's decompositions).
 */
function factored(): { j: SJ; rows: number; dense: number[][]; dispose: () => void } {
  const [rows, n] = [24, 160];
  const w = randomVector(n * n, 77).map((x) => x / Math.sqrt(n));
  const mask = randomVector(rows * n, 78).map((x) => (x > 0 ? 1 : 0));
  const dense = Array.from({ length: rows }, (_, r) => {
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) m[i * n + k] = Math.fround(w[i * n + k]) * mask[r * n + k];
    return [denseSpectralRadius(m, 0, n), denseSpectralNorm(m, 0, n, n)];
  });
  const t = tf();
  const j: SJ = { kind: 'scaled', m: t.tensor2d(Float32Array.from(w), [n, n]), col: t.tensor2d(Float32Array.from(mask), [rows, n]) };
  return { j, rows, dense, dispose: () => t.dispose([j.m, j.col!]) };
}

/** measureRows in a scope of its own, as a chunk runs it (the narrowed operators' tensors are freed with it). */
function measured(j: SJ, rows: number): KrylovResult[] {
  tf().engine().startScope();
  try {
    return measureRows(j, rows, MEASURED, KRYLOV);
  } finally {
    tf().engine().endScope();
  }
}

function brokenWorker(source: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-jacobian-thread-')), 'threadWorker.js');
  fs.writeFileSync(file, source);
  return file;
}

forEachBackend("the engine's second thread: LSC's left eigenvectors, half of a chunk's spectra", (backend) => {
  let input: { j: Tensor3D; data: Float32Array };
  let oneThread: ReturnType<typeof bothSides>;
  let spectra: ReturnType<typeof factored>;
  let measuredHere: KrylovResult[];
  before(() => {
    input = matrices();
    spectra = factored();
    configureSecondThread({ enabled: false });
    oneThread = bothSides(input.j, input.data, OPTIONS);
    measuredHere = measured(spectra.j, spectra.rows);
  });
  after(() => {
    input.j.dispose();
    spectra.dispose();
    configureSecondThread();
  });

  it('a chunk measured on one thread: ρ and ‖J‖₂ of factored Jacobians agree with dense float64', () => {
    assert.ok(spectra.rows >= MIN_SPLIT_ROWS, 'enough rows that a second thread would take half');
    MEASURED.forEach((d, k) => {
      const which = d.name === 'spectralRadius' ? 0 : 1;
      measuredHere[k].values.forEach((v, r) => {
        assert.equal(measuredHere[k].converged[r], 1, `${d.name} of matrix ${r} converged`);
        const exact = spectra.dense[r][which];
        assert.ok(Math.abs(v - exact) <= 1e-4 * exact, `${d.name} of matrix ${r}: ${v} against dense ${exact}`);
      });
    });
  });

  it(backend === 'tensorflow' ? 'the worker gives exactly the pairs one thread gives, and its half of a chunk the same ρ and ‖J‖₂' : 'runs on one thread (no worker off tensorflow)', async () => {
    configureSecondThread();
    startSecondThread();
    if (backend === 'tensorflow') await until(() => secondThreadStatus() === 'two threads', 'the worker has loaded TensorFlow');
    else assert.equal(secondThreadStatus(), 'one thread');
    const before = tf().memory().numTensors;
    const twoThreads = bothSides(input.j, input.data, OPTIONS);
    assert.equal(tf().memory().numTensors, before, 'no tensor left behind');
    assertSamePairs(twoThreads.right, oneThread.right, 'right side');
    assertSamePairs(twoThreads.left, oneThread.left, 'left side');
    // Half the rows measured by the worker: each row starts where it does on one thread, so the values agree to the
    // float32 rounding of the batched products (which may differ with the batch's size), far inside the tolerance.
    const split = measured(spectra.j, spectra.rows);
    assert.equal(tf().memory().numTensors, before, 'no tensor left behind by the split measurement');
    MEASURED.forEach((d, k) => {
      assert.deepEqual(Array.from(split[k].converged), Array.from(measuredHere[k].converged), `${d.name}: the same rows converged`);
      split[k].values.forEach((v, r) => {
        const one = measuredHere[k].values[r];
        assert.ok(Math.abs(v - one) <= 1e-6 * one, `${d.name} of matrix ${r}: ${v} on two threads, ${one} on one`);
      });
    });
  });

  if (backend !== 'tensorflow') return;

  const broken = [
    { what: 'a worker script that throws as it loads', source: "throw new Error('broken on purpose');", says: /broken on purpose/ },
    {
      what: 'a worker that cannot load TensorFlow',
      source: "const { parentPort } = require('node:worker_threads'); parentPort.once('message', () => parentPort.postMessage({ type: 'failed', error: 'no TensorFlow here' }));",
      says: /could not load TensorFlow: no TensorFlow here/,
    },
  ];
  for (const { what, source, says } of broken) {
    it(`${what}: reported, never waited for, the pairs computed on this thread`, async () => {
      configureSecondThread({ script: brokenWorker(source) });
      startSecondThread();
      await until(() => secondThreadStatus().includes('failed'), 'the failure is seen');
      assert.match(secondThreadStatus(), says);
      const fallback = bothSides(input.j, input.data, OPTIONS);
      assertSamePairs(fallback.right, oneThread.right, 'right side');
      assertSamePairs(fallback.left, oneThread.left, 'left side');
      // The split measurement is not split: the same numbers as one thread, to the bit.
      const here = measured(spectra.j, spectra.rows);
      MEASURED.forEach((d, k) => assert.deepEqual(Array.from(here[k].values), Array.from(measuredHere[k].values), d.name));
    });
  }
});
