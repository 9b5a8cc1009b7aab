// The matrix-free spectral norm (Golub–Kahan–Lanczos) and spectral radius (restarted Arnoldi) against
// dense float64 decompositions (ml-matrix), on every backend: every built-in cell through a whole run,
// and hard matrices through the batched operator, where a value that did not converge must come from
// the dense method and say so.
import { strict as assert } from 'node:assert';
import { analyzeText, spectrumAt } from '../../src/engine';
import type { TensorContainer } from '@tensorflow/tfjs-core';
import { tf, type Tensor2D } from '../../src/engine/backend/tf';
import { spectralRadii } from '../../src/engine/spectra/arnoldi';
import { DENSE_MAX_N, withDenseFallback, type PerMatrix } from '../../src/engine/spectra/extremes';
import { DEFAULT_KRYLOV } from '../../src/engine/spectra/krylov';
import { spectralNorms } from '../../src/engine/spectra/lanczos';
import { operatorOf } from '../../src/engine/spectra/operator';
import { parseRunConfig } from '../../src/engine/runConfig';
import { buildNetwork } from '../../src/engine/network/network';
import { resolvePairs } from '../../src/engine/run/pairs';
import { estimateFlops } from '../../src/engine/run/work';
import { largestSingularValue, matrixMoments, topTridiagonal } from '../../src/engine/wasm/linalg';
import { Rng } from '../../src/engine/params/rng';
import { forEachBackend } from './helpers/backends';
import { assertClose } from './helpers/close';
import { denseSpectralNorm, denseSpectralRadius } from './reference/spectra';

/** The target: matrix-free values agree with float64 dense ones to 1e-4 relative. */
const REL = 1e-4;
const close = (got: number, want: number, rel: number, what: string) => assertClose(what, [got], 0, [want], rel);

describe('topTridiagonal: largest eigenpair of a symmetric tridiagonal matrix', () => {
  it('the Toeplitz tridiagonal (2, −1): λ_max = 2 + 2cos(π/(k+1)), eigenvector sin(jkπ/(k+1)) pattern', () => {
    for (const k of [1, 2, 7, 40]) {
      const { value, lastComponent } = topTridiagonal(new Float64Array(k).fill(2), new Float64Array(k - 1).fill(-1));
      close(value, 2 + 2 * Math.cos(Math.PI / (k + 1)), 1e-13, `λ_max, k = ${k}`);
      // The top eigenvector is v_j ∝ (−1)^j·sin(jπ/(k+1)); |last component| follows from its norm √((k+1)/2).
      close(Math.abs(lastComponent), k === 1 ? 1 : Math.sin(Math.PI / (k + 1)) / Math.sqrt((k + 1) / 2), 1e-8, `|v_k|, k = ${k}`);
    }
  });
});

describe('matrixMoments (WebAssembly): mean, variance and Frobenius norm per matrix, in float64', () => {
  it('against sums taken here in float64, for matrices with a large mean (cancellation) and the float32 input as given', () => {
    const rng = new Rng(9, 'moments');
    const [count, size] = [3, 777];
    const data = Float32Array.from({ length: count * size }, (_, k) => 1000 * Math.floor(k / size) + rng.normal());
    const got = matrixMoments(data, count, size);
    for (let k = 0; k < count; k++) {
      const x = Array.from(data.subarray(k * size, (k + 1) * size));
      const mean = x.reduce((a, b) => a + b, 0) / size;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / size;
      close(got.mean[k], Math.fround(mean), 1e-7, `mean ${k}`);
      close(got.variance[k], Math.fround(variance), 1e-6, `variance ${k}`);
      close(got.frobenius[k], Math.fround(Math.hypot(...x)), 1e-6, `Frobenius ${k}`);
    }
  });
  // A second, larger call after a small one grows the module's memory; a third, small one reuses it.
  it('calls of growing and shrinking size give the same numbers', () => {
    const small = Float32Array.from({ length: 8 }, (_, k) => k);
    const first = matrixMoments(small, 2, 4);
    matrixMoments(new Float32Array(3_000_000).fill(1), 1, 3_000_000);
    assert.deepEqual(matrixMoments(small, 2, 4), first);
  });
});

describe('largestSingularValue: σ₁ from the Gram matrix, against the float64 SVD', () => {
  it('random, rectangular, with zero columns or rows, rank one, zero, 1×1', () => {
    const rng = new Rng(5, 'largest-singular');
    const cases: { name: string; rows: number; cols: number; data: Float64Array }[] = [];
    const gaussian = (rows: number, cols: number) => Float64Array.from({ length: rows * cols }, () => rng.normal());
    for (const [rows, cols] of [[1, 1], [2, 2], [3, 7], [7, 3], [40, 40], [100, 100], [60, 25]]) {
      cases.push({ name: `Gaussian ${rows}×${cols}`, rows, cols, data: gaussian(rows, cols) });
    }
    // A ReLU Jacobian Wᵀ·diag(act'): every other column zero; and its transpose (zero rows).
    const relu = gaussian(50, 50).map((x, k) => (k % 50) % 2 ? 0 : x);
    cases.push({ name: 'zero columns (ReLU-like)', rows: 50, cols: 50, data: relu });
    cases.push({ name: 'zero rows', rows: 50, cols: 50, data: Float64Array.from({ length: 2500 }, (_, k) => relu[(k % 50) * 50 + Math.floor(k / 50)]) });
    const u = gaussian(30, 1);
    const w = gaussian(1, 20);
    cases.push({ name: 'rank one u·wᵀ', rows: 30, cols: 20, data: Float64Array.from({ length: 600 }, (_, k) => u[Math.floor(k / 20)] * w[k % 20]) });
    // Columns already orthogonal and one x already on e₁ during the reduction: a diagonal matrix.
    cases.push({ name: 'diagonal', rows: 6, cols: 6, data: Float64Array.from({ length: 36 }, (_, k) => (k % 7 === 0 ? k / 7 - 2.5 : 0)) });
    for (const c of cases) close(largestSingularValue(c.data, 0, c.rows, c.cols), denseSpectralNorm(c.data, 0, c.rows, c.cols), 1e-12, c.name);
    assert.equal(largestSingularValue(new Float64Array(12), 0, 3, 4), 0, 'the zero matrix');
  });
});

describe('estimateFlops: the backend work `auto` chooses by counts matrix-free spectra', () => {
  const flops = (units: number, diagnostics: string[], spectra?: 'auto' | 'dense' | 'matrix-free') => {
    const text = JSON.stringify({ cell: 'seed', units, inputDim: 2, timeSteps: 8, batchSize: 2, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics });
    const spec = parseRunConfig(text, '/tmp/work.jacobian.json');
    const graph = buildNetwork(spec).graph;
    return estimateFlops(graph, spec, resolvePairs(graph, spec), 'structured', spectra);
  };
  it('adds N·products·(J·v + Gram–Schmidt) above DENSE_MAX_N, nothing where the spectra are dense', () => {
    const n = 2 * DENSE_MAX_N;
    const extra = flops(n, ['varTimesFanIn', 'spectralNorm', 'spectralRadius']) - flops(n, ['varTimesFanIn']);
    // 16 matrices, 70 + 150 products of 2n² + 4·max(40, n/10)·n each.
    assert.equal(extra, 16 * 220 * (2 * n * n + 4 * Math.max(40, n / 10) * n));
    assert.equal(flops(n, ['varTimesFanIn', 'spectralNorm', 'spectralRadius'], 'dense'), flops(n, ['varTimesFanIn']));
    assert.equal(flops(DENSE_MAX_N, ['varTimesFanIn', 'spectralNorm']), flops(DENSE_MAX_N, ['varTimesFanIn']));
    assert.ok(flops(DENSE_MAX_N, ['varTimesFanIn', 'spectralNorm'], 'matrix-free') > flops(DENSE_MAX_N, ['varTimesFanIn']));
  });
});

forEachBackend('matrix-free spectral norm and radius on every built-in cell, against float64 dense', () => {
  // units > DENSE_MAX_N, so the matrix-free path runs; the kept Jacobians are decomposed by ml-matrix.
  const units = DENSE_MAX_N + 16;
  const cases: { name: string; config: Record<string, unknown>; pairs: [string, string][] }[] = [
    { name: 'seed relu', config: { cell: 'seed', activation: 'relu' }, pairs: [['h@t', 'h@t-1'], ['c@t', 'c@t-1'], ['h@T', 'h@0']] },
    { name: 'seed tanh', config: { cell: 'seed', activation: 'tanh' }, pairs: [['h@t', 'h@t-1']] },
    { name: 'simple_rnn', config: { cell: 'simple_rnn' }, pairs: [['h@t', 'h@t-1'], ['h@t', 'x@t']] },
    { name: 'lstm', config: { cell: 'lstm' }, pairs: [['h@t', 'h@t-1'], ['c@t', 'c@t-1'], ['c@t', 'h@t-1']] },
    { name: 'gru', config: { cell: 'gru' }, pairs: [['h@t', 'h@t-1'], ['h@t', 'x@t']] },
    { name: 'seed relu by autodiff (dense operator)', config: { cell: 'seed', activation: 'relu', method: 'autodiff' }, pairs: [['h@t', 'h@t-1']] },
  ];
  for (const c of cases) {
    it(`${c.name}: ρ and ‖J‖₂ within ${REL} of dense float64`, async () => {
      const config = {
        units, inputDim: 3, timeSteps: 3, batchSize: 2, seed: 11, ...c.config,
        jacobians: c.pairs.map(([of, wrt]) => ({ of, wrt })),
        diagnostics: ['spectralNorm', 'spectralRadius'],
      };
      const r = await analyzeText(JSON.stringify(config), '/tmp/spectra.jacobian.json', { keepJacobiansMB: Infinity });
      r.report.jacobians.forEach((pair, p) => {
        const [out, inn] = [pair.outDim, pair.inDim];
        const data = r.arrays.pairs[p].jacobians!;
        assert.equal(pair.spectra?.method, Math.min(out, inn) > DENSE_MAX_N ? 'matrix-free' : 'dense', `${pair.of} wrt ${pair.wrt}: ${pair.spectra?.reason}`);
        pair.steps.forEach((s, k) => {
          for (let b = 0; b < 2; b++) {
            const offset = (k * 2 + b) * out * inn;
            const where = `${pair.of} wrt ${pair.wrt} t=${s.t} b=${b}`;
            close(s.spectralNorm![b], denseSpectralNorm(data, offset, out, inn), REL, `‖J‖₂ ${where}`);
            if (out === inn) close(s.spectralRadius![b], denseSpectralRadius(data, offset, out), REL, `ρ ${where}`);
            else assert.equal(s.spectralRadius, undefined, 'no spectral radius for a rectangular Jacobian');
          }
        });
      });
    });
  }
});

/** Hard matrices (row-major, n×n) built in float64, run as one batch through the operator. */
function hardCases(n: number): { name: string; data: Float64Array; rho?: number; norm?: number }[] {
  const rng = new Rng(3, 'test:hard-spectra');
  const random = (scale: number) => Float64Array.from({ length: n * n }, () => scale * rng.normal());
  const diagOf = (d: number[]) => {
    const a = new Float64Array(n * n);
    d.forEach((v, i) => (a[i * n + i] = v));
    return a;
  };
  const spread = (k: number, lim: number) => Array.from({ length: k }, (_, i) => -lim + (2 * lim * i) / Math.max(k - 1, 1));
  // A random orthogonal Q (Gram–Schmidt in float64) keeps normal matrices normal but not diagonal.
  const q = random(1);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += q[r * n + i] * q[r * n + j];
      for (let r = 0; r < n; r++) q[r * n + j] -= dot * q[r * n + i];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += q[r * n + j] ** 2;
    for (let r = 0; r < n; r++) q[r * n + j] /= Math.sqrt(norm);
  }
  const conjugate = (a: Float64Array) => {
    const qa = new Float64Array(n * n);
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) qa[i * n + j] += q[i * n + k] * a[k * n + j];
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) out[i * n + j] += qa[i * n + k] * q[j * n + k];
    return out;
  };
  const rotation = (r: number, th: number) => {
    const a = diagOf([0, 0, ...spread(n - 2, 0.6)]);
    [a[0], a[1], a[n], a[n + 1]] = [r * Math.cos(th), -r * Math.sin(th), r * Math.sin(th), r * Math.cos(th)];
    return a;
  };
  // u·wᵀ with u a unit vector and w = λ·u + p, p ⊥ u a unit vector: its one nonzero eigenvalue is λ, with
  // condition number ‖w‖/|λ| (u and w are its right and left eigenvectors).
  const unit = (x: Float64Array) => x.map((v) => v / Math.hypot(...x));
  const u = unit(Float64Array.from({ length: n }, () => rng.normal()));
  const r = Float64Array.from({ length: n }, () => rng.normal());
  const ru = r.reduce((s, x, i) => s + x * u[i], 0);
  const p = unit(r.map((x, i) => x - ru * u[i]));
  const rankOne = (lambda: number) => {
    const w = u.map((x, i) => lambda * x + p[i]);
    return Float64Array.from({ length: n * n }, (_, k) => u[Math.floor(k / n)] * w[k % n]);
  };
  const jordan = diagOf([0.9, 0.9, 0.9, 0.9, ...spread(n - 4, 0.5)]);
  for (let i = 0; i < 3; i++) jordan[i * n + i + 1] = 1;
  const nonNormal = diagOf([0.8, ...spread(n - 1, 0.5)]);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) nonNormal[i * n + j] = 5 * rng.normal();
  return [
    { name: 'a dominant complex pair 0.95·e^{±0.7i}', data: conjugate(rotation(0.95, 0.7)), rho: 0.95 },
    { name: '|λ₁| = |λ₂|: 0.9 and −0.9', data: conjugate(diagOf([0.9, -0.9, ...spread(n - 2, 0.7)])), rho: 0.9 },
    { name: '|λ₁| ≈ |λ₂|: 0.9 and 0.8999', data: conjugate(diagOf([0.9, 0.8999, ...spread(n - 2, 0.7)])), rho: 0.9 },
    { name: 'the zero matrix', data: new Float64Array(n * n), rho: 0, norm: 0 },
    { name: 'a nilpotent matrix (u·pᵀ, pᵀu = 0)', data: rankOne(0), rho: 0 },
    { name: 'the identity', data: diagOf(Array(n).fill(1)), rho: 1, norm: 1 },
    { name: 'a Jordan block 0.9 of size 4', data: jordan, rho: 0.9 },
    { name: 'rank one with eigenvalue 0.7 (κ ≈ 1.7)', data: rankOne(0.7), rho: 0.7 },
    { name: 'strongly non-normal (triangular, off-diagonal 5·N(0,1))', data: nonNormal, rho: 0.8 },
    { name: 'a Gaussian random matrix / √n', data: random(1 / Math.sqrt(n)) },
  ];
}

forEachBackend('matrix-free spectra of hard matrices: right, or handed to the dense method', () => {
  // n larger than the Krylov dimension, so that restarts happen.
  const n = 72;
  const cases = hardCases(n);
  const data = new Float32Array(cases.length * n * n);
  cases.forEach((c, i) => data.set(c.data, i * n * n));

  it('spectral radius: within 1e-4 of the closed form / dense float64, or a dense fallback', () => {
    const t = tf();
    const measured = t.tidy(() => {
      const op = operatorOf({ kind: 'dense', m: t.tensor3d(data, [cases.length, n, n]) }, cases.length);
      const dense = (d: Float32Array, offset: number, r: number) => denseSpectralRadius(d, offset, r);
      return withDenseFallback(op, spectralRadii(op, DEFAULT_KRYLOV), dense) as unknown as TensorContainer;
    }) as unknown as PerMatrix;
    cases.forEach((c, i) => {
      const dense = denseSpectralRadius(data, i * n * n, n);
      const norm = denseSpectralNorm(data, i * n * n, n, n);
      const got = measured.values[i];
      const how = measured.dense[i] ? 'dense fallback' : `${measured.products[i]} products`;
      // Defective eigenvalues (Jordan, nilpotent) are perturbed by ~(ε·‖J‖)^(1/k) in any method: the closed form
      // is held to that, the dense value to 1e-4.
      if (c.rho === 0) assert.ok(got <= 1e-3 * Math.max(norm, 1e-30) || got === 0, `${c.name}: ρ ${got} (${how})`);
      else if (c.name.startsWith('a Jordan')) close(got, c.rho!, 2e-3, `${c.name} (${how})`);
      else close(got, c.rho ?? dense, REL, `${c.name} (${how})`);
      if (measured.dense[i]) assert.equal(got, dense, `${c.name}: the fallback is the dense value`);
    });
    // The well-conditioned cases converge matrix-free.
    // (A dense identity may fall back: the κ of a multiple eigenvalue is not defined by one pair of vectors.)
    for (const name of ['a dominant complex pair', '|λ₁| = |λ₂|', 'rank one with', 'a Gaussian random']) {
      const i = cases.findIndex((c) => c.name.startsWith(name));
      assert.equal(measured.dense[i], 0, `${cases[i].name} fell back to the dense method`);
    }
  });

  it('spectral norm: within 1e-6 of dense float64 SVD, matrix-free on all of them', () => {
    const t = tf();
    const measured = t.tidy(() => {
      const op = operatorOf({ kind: 'dense', m: t.tensor3d(data, [cases.length, n, n]) }, cases.length);
      const dense = (d: Float32Array, offset: number, r: number, c: number) => denseSpectralNorm(d, offset, r, c);
      return withDenseFallback(op, spectralNorms(op, DEFAULT_KRYLOV), dense) as unknown as TensorContainer;
    }) as unknown as PerMatrix;
    cases.forEach((c, i) => {
      const want = c.norm ?? denseSpectralNorm(data, i * n * n, n, n);
      if (want === 0) assert.equal(measured.values[i], 0, `${c.name} ${JSON.stringify([measured.products[i], measured.dense[i]])}`);
      else close(measured.values[i], want, 2e-6, `${c.name} (${measured.products[i]} products)`);
      assert.equal(measured.dense[i], 0, `${c.name} fell back to the dense method after ${measured.products[i]} products`);
    });
  });

  it('diagonal structure (zero, identity, diag(d)) gives max|d| exactly, with no products', () => {
    const t = tf();
    const d = Float32Array.from([0.5, -2, 1.5, 0.25, -0.75, 1]);
    const results = t.tidy(() =>
      [
        operatorOf({ kind: 'zero', out: 3, in: 3 }, 2),
        operatorOf({ kind: 'identity', n: 3 }, 2),
        operatorOf({ kind: 'diag', d: t.tensor2d(d, [2, 3]) }, 2),
      ].map((op) => [spectralNorms(op), spectralRadii(op)]) as unknown as TensorContainer,
    ) as unknown as ReturnType<typeof spectralNorms>[][];
    const want = [[0, 0], [1, 1], [2, 1]];
    results.forEach((pair, k) =>
      pair.forEach((r) => {
        assert.deepEqual(Array.from(r.values), want[k]);
        assert.deepEqual(Array.from(r.products), [0, 0]);
      }),
    );
  });

  it('factored Jacobians diag(r)·M·diag(c) give the values of their dense form, and never form it', async () => {
    const t = tf();
    const rng = new Rng(5, 'test:scaled');
    const rows = 3;
    const m = rng.fillNormal(n * n, 0, 1 / Math.sqrt(n));
    const row = rng.fillUniform(rows * n, 0, 1);
    const col = Float32Array.from(rng.fillUniform(rows * n, 0, 1), (x) => (x > 0.5 ? 1 : 0));
    const dense = new Float32Array(rows * n * n);
    for (let k = 0; k < rows; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dense[(k * n + i) * n + j] = row[k * n + i] * m[i * n + j] * col[k * n + j];
    let norms: ReturnType<typeof spectralNorms> | undefined;
    let radii: ReturnType<typeof spectralRadii> | undefined;
    let peak = 0;
    t.engine().startScope(); // tidy() cannot wait for profile()
    try {
      const op = operatorOf({ kind: 'scaled', m: t.tensor2d(m, [n, n]), row: t.tensor2d(row, [rows, n]), col: t.tensor2d(col, [rows, n]) }, rows);
      const v = t.ones([rows, n]) as Tensor2D;
      peak = (await t.profile(() => [op.apply(v), op.applyT(v)])).peakBytes;
      [norms, radii] = [spectralNorms(op), spectralRadii(op)];
    } finally {
      t.engine().endScope();
    }
    // A product holds [rows, n] blocks and the shared M; the dense stack would be [rows, n, n].
    assert.ok(peak < rows * n * n * 4, `peak ${peak} B during J·v and Jᵀ·u: the dense Jacobians were formed`);
    for (let k = 0; k < rows; k++) {
      close(norms!.values[k], denseSpectralNorm(dense, k * n * n, n, n), 2e-6, `‖J‖₂ row ${k}`);
      if (radii!.converged[k]) close(radii!.values[k], denseSpectralRadius(dense, k * n * n, n), REL, `ρ row ${k}`);
    }
  });
});

forEachBackend('‖J‖₂ of factored Jacobians through the Gram operator JᵀJ', () => {
  it('diag(r)·M, M·diag(c), M alone and a shared M: within 2e-6 of dense float64, in at most 0.7 of the products of Golub–Kahan', () => {
    const t = tf();
    const [rows, out, inn] = [3, 90, 70];
    const rng = new Rng(9, 'test:gram');
    const m = rng.fillNormal(out * inn, 0, 1 / Math.sqrt(inn));
    const row = rng.fillUniform(rows * out, 0, 1);
    // ReLU-like columns: about half are zero.
    const col = Float32Array.from(rng.fillUniform(rows * inn, 0, 1), (x) => (x > 0.5 ? 1 : 0));
    const cases: { name: string; row?: Float32Array; col?: Float32Array; shared?: boolean }[] = [
      { name: 'M·diag(c)', col }, { name: 'diag(r)·M', row }, { name: 'M', }, { name: 'shared M', shared: true },
    ];
    for (const c of cases) {
      const dense = new Float32Array(rows * out * inn);
      for (let k = 0; k < rows; k++) {
        for (let i = 0; i < out; i++) {
          for (let j = 0; j < inn; j++) dense[(k * out + i) * inn + j] = (c.row ? c.row[k * out + i] : 1) * m[i * inn + j] * (c.col ? c.col[k * inn + j] : 1);
        }
      }
      const [viaGram, viaJ, hadGram] = t.tidy(() => {
        const mt = t.tensor2d(m, [out, inn]);
        const op = c.shared
          ? operatorOf({ kind: 'shared', m: mt }, rows)
          : operatorOf({ kind: 'scaled', m: mt, row: c.row && t.tensor2d(c.row, [rows, out]), col: c.col && t.tensor2d(c.col, [rows, inn]) }, rows);
        const golubKahan = operatorOf({ kind: 'dense', m: t.tensor3d(dense, [rows, out, inn]) }, rows);
        return [spectralNorms(op), spectralNorms(golubKahan), op.gram !== undefined] as unknown as TensorContainer;
      }) as unknown as [ReturnType<typeof spectralNorms>, ReturnType<typeof spectralNorms>, boolean];
      assert.ok(hadGram, `${c.name}: no Gram operator`);
      for (let k = 0; k < rows; k++) {
        assert.equal(viaGram.converged[k], 1, `${c.name} row ${k} did not converge`);
        close(viaGram.values[k], denseSpectralNorm(dense, k * out * inn, out, inn), 2e-6, `${c.name} row ${k} (${viaGram.products[k]} products)`);
        assert.ok(viaGram.products[k] <= 0.7 * viaJ.products[k], `${c.name} row ${k}: ${viaGram.products[k]} Gram products against ${viaJ.products[k]} of Golub–Kahan`);
      }
    }
    // Both scalings differ per row: no fixed middle factor, so no Gram operator.
    const both = t.tidy(() => operatorOf({ kind: 'scaled', m: t.tensor2d(m, [out, inn]), row: t.tensor2d(row, [rows, out]), col: t.tensor2d(col, [rows, inn]) }, rows).gram === undefined);
    assert.ok(both, 'diag(r)·M·diag(c) must not have a Gram operator');
  });
});

forEachBackend('whole spectra on demand: one kept Jacobian, the same numbers as a run that lists them', () => {
  it('spectrumAt(result, pair, step, b) equals singularValues / eigenvalues computed for every matrix', async () => {
    const config = { cell: 'lstm', units: 12, inputDim: 3, timeSteps: 3, batchSize: 2, seed: 4, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }, { of: 'h@t', wrt: 'x@t' }] };
    const all = await analyzeText(JSON.stringify({ ...config, diagnostics: ['singularValues', 'eigenvalues'] }), '/tmp/at.jacobian.json', { keepJacobiansMB: Infinity });
    const lean = await analyzeText(JSON.stringify({ ...config, diagnostics: ['spectralNorm'] }), '/tmp/at.jacobian.json', { keepJacobiansMB: Infinity });
    assert.equal(lean.arrays.pairs[0].singularValues, undefined, 'whole spectra are not computed unless listed');
    all.report.jacobians.forEach((pair, p) => {
      const k = Math.min(pair.outDim, pair.inDim);
      for (let step = 0; step < 3; step++) {
        for (let b = 0; b < 2; b++) {
          const s = spectrumAt(lean, p, step, b);
          const at = step * 2 + b;
          assert.deepEqual(Float32Array.from(s.singularValues!), all.arrays.pairs[p].singularValues!.subarray(at * k, (at + 1) * k));
          if (pair.outDim === pair.inDim) assert.deepEqual(Float32Array.from(s.eigenRe!), all.arrays.pairs[p].eigenvaluesRe!.subarray(at * k, (at + 1) * k));
          else assert.equal(s.eigenRe, undefined);
        }
      }
    });
    const dropped = await analyzeText(JSON.stringify({ ...config, diagnostics: ['spectralNorm'] }), '/tmp/at.jacobian.json', { keepJacobiansMB: 0 });
    assert.throws(() => spectrumAt(dropped, 0, 0, 0), /were not kept/);
  });
});
