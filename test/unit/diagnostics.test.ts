// Spectra and theory against closed forms: matrices whose eigenvalues and singular values are known
// exactly, and the variance prediction recomputed in float64 from the run's own trajectory.
import { strict as assert } from 'node:assert';
import { analyzeText } from '../../src/engine';
import { spectralNorm, spectralRadius, spectrumOf } from '../../src/engine/run/diagnostics';
import { forEachBackend } from './helpers/backends';
import { repoRoot } from './helpers/repo';
import { denseSpectralNorm, denseSpectralRadius } from './reference/spectra';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe('spectra of matrices with known eigenvalues and singular values', () => {
  it('a scaled rotation has eigenvalues r·e^{±iθ} and both singular values r', () => {
    const [r, th] = [0.7, 0.9];
    const m = Float32Array.from([r * Math.cos(th), -r * Math.sin(th), r * Math.sin(th), r * Math.cos(th)]);
    const s = spectrumOf(m, 0, 2, 2, { singular: true, eigen: true });
    close(spectralRadius(s), r, 1e-6, 'radius');
    close(Math.abs(s.eigenIm![0]), r * Math.sin(th), 1e-6, 'imaginary part');
    close(s.eigenRe![0], r * Math.cos(th), 1e-6, 'real part');
    close(spectralNorm(s), r, 1e-6, 'norm');
  });

  it('an upper-triangular matrix: eigenvalues are its diagonal, sorted by modulus', () => {
    const m = Float32Array.from([0.5, 3, 1, 0, -2, 4, 0, 0, 1.5]);
    const s = spectrumOf(m, 0, 3, 3, { singular: false, eigen: true });
    assert.deepEqual(Array.from(s.eigenRe!, (x) => Math.round(x * 1e6) / 1e6), [-2, 1.5, 0.5]);
    close(spectralRadius(s), 2, 1e-6, 'radius');
  });

  it('zero rows and columns that appear only as others are isolated: the rest are the eigenvalues of the remaining block', () => {
    // Column 0 and row 1 are zero; column 2's one entry is in row 0, so it is zero once index 0 has gone. What is
    // left is the 2×2 block of indices 3 and 4, [[0, 2], [0.5, 0]] with eigenvalues ±1; the other three are 0.
    const n = 5;
    const m = new Float32Array(n * n);
    const entries: [number, number, number][] = [[0, 1, 7], [0, 2, 1], [0, 3, -1], [2, 1, 3], [2, 3, 5], [3, 1, 4], [3, 4, 2], [4, 3, 0.5]];
    for (const [i, j, v] of entries) m[i * n + j] = v;
    const s = spectrumOf(m, 0, n, n, { singular: false, eigen: true });
    const moduli = Array.from(s.eigenRe!, (re, k) => Math.round(Math.hypot(re, s.eigenIm![k]) * 1e6) / 1e6);
    assert.deepEqual(moduli, [1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(s.eigenRe!.slice(0, 2), (x) => Math.round(x * 1e6) / 1e6).sort(), [-1, 1]);
  });

  it('a rectangular diagonal matrix: singular values are |diagonal|, descending; no eigenvalues', () => {
    const m = Float32Array.from([0, 0, -3, 0, 2, 0]); // rows [0 0 -3], [0 2 0]
    const s = spectrumOf(m, 0, 2, 3, { singular: true, eigen: true });
    assert.deepEqual(Array.from(s.singularValues!, (x) => Math.round(x * 1e6) / 1e6), [3, 2]);
    assert.equal(s.eigenRe, undefined);
  });
});

forEachBackend('a linear cell: one Jacobian for every step, decomposed once', () => {
  it('seed linear: ρ, ‖J‖₂ and the whole spectra of every step are those of W_hᵀ (dense float64)', async () => {
    const n = 24;
    const r = await analyzeText(
      JSON.stringify({ cell: 'seed', units: n, inputDim: 2, activation: 'linear', timeSteps: 3, batchSize: 2, seed: 5, diagnostics: ['spectralRadius', 'spectralNorm', 'eigenvalues', 'singularValues'] }),
      '/tmp/linear.jacobian.json',
      { keepJacobiansMB: Infinity },
    );
    const w = r.arrays.tensors.find((t) => t.name === 'linear_rec/kernel')!.data;
    const wt = Float32Array.from({ length: n * n }, (_, k) => w[(k % n) * n + Math.floor(k / n)]);
    const [rho, norm] = [denseSpectralRadius(wt, 0, n), denseSpectralNorm(wt, 0, n, n)];
    const pair = r.report.jacobians[0];
    const arrays = r.arrays.pairs[0];
    pair.steps.forEach((step, k) => step.spectralRadius!.forEach((v, b) => {
      close(v, rho, 1e-5 * rho, `ρ at t=${step.t} b=${b}`);
      close(step.spectralNorm![b], norm, 1e-5 * norm, `‖J‖₂ at t=${step.t} b=${b}`);
      const at = (k * 2 + b) * n;
      close(arrays.singularValues![at], norm, 1e-5 * norm, `σ₁ array at t=${step.t} b=${b}`);
      close(Math.hypot(arrays.eigenvaluesRe![at], arrays.eigenvaluesIm![at]), rho, 1e-5 * rho, `|λ₁| array at t=${step.t} b=${b}`);
    }));
  });
});

forEachBackend('theory: expected varTimesFanIn recomputed in float64', () => {
  it('seed relu: n·Var(W)·mean(relu′(h_{t−1})²) with Var(W) = limit²/3 of glorot_uniform', async () => {
    const r = await analyzeText(
      JSON.stringify({ cell: 'seed', units: 50, inputDim: 2, timeSteps: 5, batchSize: 3, seed: 3 }),
      '/tmp/theory.jacobian.json',
      { keepJacobiansMB: Infinity },
    );
    const h = r.arrays.tensors.find((t) => t.name === 'h')!;
    const n = 50;
    const prev = h.data.subarray(0, 5 * 3 * n); // h@0..h@4: the previous states of steps 1..5
    let active = 0;
    for (const v of prev) if (v > 0) active++;
    const limit = Math.sqrt(6 / (n + n));
    const expected = n * ((limit * limit) / 3) * (active / prev.length);
    close(r.report.jacobians[0].expected!.varTimesFanIn, expected, 1e-6, 'expected');
  });

  it('simple_rnn tanh with orthogonal recurrent kernel: n·(1/n)·mean(tanh′(z)²)', async () => {
    const r = await analyzeText(
      JSON.stringify({ cell: 'simple_rnn', units: 16, inputDim: 3, timeSteps: 4, batchSize: 2, seed: 5, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }] }),
      '/tmp/theory.jacobian.json',
      { keepJacobiansMB: Infinity },
    );
    // h = tanh(z), so tanh'(z) = 1 − h².
    const h = r.arrays.tensors.find((t) => t.name === 'h')!;
    const after = h.data.subarray(2 * 16); // h@1..h@4
    let s = 0;
    for (const v of after) s += (1 - v * v) ** 2;
    const expected = s / after.length;
    close(r.report.jacobians[0].expected!.varTimesFanIn, expected, 1e-5, 'expected');
  });
});

describe('values-only eigenvalues agree with ml-matrix EigenvalueDecomposition', () => {
  // A deterministic LCG: the test needs varied matrices, not statistical quality.
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  it('a product of ReLU transition Jacobians (h@T wrt h@0): large defective zero cluster', async () => {
    const { EigenvalueDecomposition, Matrix } = await import('ml-matrix');
    const { eigenvalues } = await import('../../src/engine/wasm/linalg');
    const n = 60;
    let product = Matrix.eye(n);
    for (let step = 0; step < 4; step++) {
      const w = Matrix.from1DArray(n, n, Array.from({ length: n * n }, rand)).mul(0.2);
      const mask = Matrix.diag(Array.from({ length: n }, () => (rand() > 0 ? 1 : 0)));
      product = w.mmul(mask).mmul(product);
    }
    const data = Float64Array.from(product.to1DArray());
    const ours = eigenvalues(data, 0, n);
    const ref = new EigenvalueDecomposition(product);
    const radius = Math.max(...ref.realEigenvalues.map((r, i) => Math.hypot(r, ref.imaginaryEigenvalues[i])));
    close(Math.hypot(ours.re[0], ours.im[0]), radius, 1e-8, 'spectral radius');
    const moduli = (re: ArrayLike<number>, im: ArrayLike<number>) => Array.from(re, (r, i) => Math.hypot(r, im[i])).sort((a, b) => b - a);
    const refModuli = moduli(ref.realEigenvalues, ref.imaginaryEigenvalues);
    // Zero eigenvalues of a defective cluster are only determined to ~eps^(1/k) by any QR method; compare the rest.
    moduli(ours.re, ours.im).forEach((m, i) => {
      if (refModuli[i] > 1e-6) close(m, refModuli[i], 1e-8, `modulus ${i}`);
    });
  });

  it('the seed cell\'s h@T wrt h@0 that once stalled the QR iteration (49 zero columns): radius as numpy.linalg.eigvals', async () => {
    const { readNpyFile } = await import('../../src/engine/params/npy');
    const { eigenvalues } = await import('../../src/engine/wasm/linalg');
    const { join } = await import('node:path');
    const m = readNpyFile(join(repoRoot(), 'test/fixtures/eig/relu-transition-product.npy'));
    const ours = eigenvalues(m.data, 0, 100);
    // numpy.linalg.eigvals (LAPACK dgeev) on this file gives a spectral radius of 0.29579753617582427.
    close(Math.hypot(ours.re[0], ours.im[0]), 0.29579753617582427, 1e-7, 'spectral radius');
  });

  for (const n of [2, 3, 5, 17, 64, 100]) {
    it(`random ${n}×${n} (and a rank-deficient one, like a ReLU Jacobian with dead units)`, async () => {
      const { EigenvalueDecomposition, Matrix } = await import('ml-matrix');
      for (const deficient of [false, true]) {
        const data = new Float64Array(n * n).map((_, k) => (deficient && k % n < n / 3 ? 0 : rand()));
        const ours = (await import('../../src/engine/wasm/linalg')).eigenvalues(data, 0, n);
        const ref = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * n, (i + 1) * n)))));
        const key = (re: number, im: number) => [Math.hypot(re, im), re, Math.abs(im)];
        const sortKeys = (re: ArrayLike<number>, im: ArrayLike<number>) =>
          Array.from(re, (r, i) => key(r, im[i])).sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2]);
        const a = sortKeys(ours.re, ours.im);
        const b = sortKeys(ref.realEigenvalues, ref.imaginaryEigenvalues);
        a.forEach((x, i) => x.forEach((v, k) => close(v, b[i][k], 1e-8 * Math.max(1, b[0][0]), `n=${n} eigenvalue ${i} component ${k}`)));
      }
    });
  }
});
