// Series diagnostics: the gradient-propagation curve against explicit float64 products of the dense
// Jacobians (norms by SVD), the Lyapunov spectrum of a diagonal and of an orthogonal map exactly, and on a
// real network the sum of all exponents against the mean ln|det J_t| — on every backend.
import { strict as assert } from 'node:assert';
import { LuDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { analyze, parseConfig } from '../../src/engine';
import { LyapunovAccumulator } from '../../src/engine/series/lyapunov';
import { slope } from '../../src/engine/series/propagation';
import { Rng } from '../../src/engine/params/rng';
import { forEachBackend } from './helpers/backends';
import { networkSpec, TEST_CONFIG } from './helpers/network';

const RUN = { inputDim: 3, timeSteps: 12, batchSize: 2, seed: 5, initializers: { bias: 'random_normal' } };

function matrixAt(data: Float32Array, offset: number, D: number): Matrix {
  return Matrix.from1DArray(D, D, Float64Array.from(data.subarray(offset, offset + D * D)));
}

/** Feeds the same [D, D] map (per batch element) to an accumulator for T steps. */
function lyapunovOf(maps: Matrix[], k: number, T: number, transient: number, every = 1) {
  const D = maps[0].rows;
  const acc = new LyapunovAccumulator(maps.length, D, { exponents: k, every, transient }, T);
  const data = new Float32Array(maps.length * D * D);
  maps.forEach((m, b) => data.set(Float32Array.from(m.to1DArray()), b * D * D));
  for (let t = 1; t <= T; t++) acc.push(t, data);
  return acc.result();
}

// The accumulator runs in float64 on the host, the same on every backend.
describe('Lyapunov exponents of maps with known spectra', () => {
  it('a diagonal map: the sorted ln|d_i| (top k and all), to 1e-6', () => {
    const d = [0.6, 1.5, -0.25, 1.2, 0.4, -0.9];
    const map = Matrix.diag(d);
    const expected = d.map((x) => Math.log(Math.abs(x))).sort((a, b) => b - a);
    for (const [k, every] of [[6, 1], [3, 1], [6, 4]]) {
      const r = lyapunovOf([map, map], k, 400, 40, every);
      assert.equal(r.exponents.length, k);
      r.exponents.forEach((l, i) => assert.ok(Math.abs(l - expected[i]) < 1e-6, `k=${k} every=${every} λ${i + 1} = ${l}, expected ${expected[i]}`));
      assert.ok(r.spread.every((s) => s < 1e-7));
      assert.equal(r.steps, 360);
      assert.ok(r.convergence.t.length > 1 && r.convergence.exponents.at(-1)!.every((l, i) => l === r.exponents[i]));
    }
  });

  it('an orthogonal map: every exponent 0, to 1e-6', () => {
    const rng = new Rng(3, 'test:orthogonal');
    const g = new Matrix(8, 8);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) g.set(i, j, rng.normal());
    const q = new QrDecomposition(g).orthogonalMatrix;
    const r = lyapunovOf([q], 8, 300, 10);
    r.exponents.forEach((l) => assert.ok(Math.abs(l) < 1e-6, `λ = ${l}`));
  });

  it('a map that annihilates a direction: the zero pivot is counted and clamped, not −∞ or NaN', () => {
    const r = lyapunovOf([Matrix.diag([2, 0, 0.5])], 3, 50, 5);
    assert.ok(Math.abs(r.exponents[0] - Math.log(2)) < 1e-6 && Math.abs(r.exponents[1] - Math.log(0.5)) < 1e-6);
    assert.ok(r.zeroPivots > 0 && Number.isFinite(r.exponents[2]) && r.exponents[2] < -600);
  });
});

forEachBackend('series diagnostics of a network run', () => {
  const layers = [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3 }];

  it('gradient propagation equals explicit products of the dense Jacobians (norms by SVD, float64)', async () => {
    const spec = { ...networkSpec(RUN, layers, [['state@t', 'state@t-1'], ['l0.(h,c)@t', 'l0.(h,c)@t-1']]), diagnostics: ['mean' as const, 'gradientPropagation' as const] };
    const r = await analyze(spec, { keepJacobiansMB: Infinity });
    const { timeSteps: T, batchSize: B } = r.report;
    r.report.jacobians.forEach((pair, i) => {
      const D = pair.outDim;
      const g = pair.gradient!;
      assert.deepEqual(g.t, [...Array(T).keys()].map((k) => T - 1 - k));
      for (let b = 0; b < B; b++) {
        let p = Matrix.eye(D);
        for (let t = T; t >= 1; t--) {
          p = p.mmul(matrixAt(r.arrays.pairs[i].jacobians!, ((t - 1) * B + b) * D * D, D));
          const k = T - t;
          const sigma = new SingularValueDecomposition(p, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal[0];
          const fro = Math.sqrt(p.to1DArray().reduce((a, x) => a + x * x, 0));
          assert.ok(Math.abs(g.logSpectral[b][k] - Math.log(sigma)) < 1e-4, `${pair.of}: ln‖∂s_T/∂s_${t - 1}‖₂ ${g.logSpectral[b][k]} vs ${Math.log(sigma)}`);
          assert.ok(Math.abs(g.logFrobenius[b][k] - Math.log(fro)) < 1e-4, `${pair.of}: ln‖·‖_F ${g.logFrobenius[b][k]} vs ${Math.log(fro)}`);
        }
      }
      const meanLog = g.t.map((_, k) => g.logSpectral.reduce((a, c) => a + c[k], 0) / B);
      assert.ok(Math.abs(g.rate.spectral - slope(g.t.map((t) => T - t), meanLog)) < 1e-12);
    });
  });

  it('the sum of all Lyapunov exponents equals the mean ln|det J_t| over the counted steps', async () => {
    const spec = { ...networkSpec({ ...RUN, timeSteps: 30 }, layers, [['state@t', 'state@t-1']]), diagnostics: ['mean' as const, 'lyapunov' as const], lyapunov: { transient: 5, every: 3 } };
    const r = await analyze(spec, { keepJacobiansMB: Infinity });
    const pair = r.report.jacobians[0];
    const ly = pair.lyapunov!;
    const { batchSize: B } = r.report;
    const D = pair.outDim;
    assert.equal(ly.exponents.length, D);
    assert.equal(ly.steps, 24, 'blocks of 3 after a transient of 5: steps 7..30');
    for (let b = 0; b < B; b++) {
      let logDet = 0;
      for (let t = 7; t <= 30; t++) logDet += Math.log(Math.abs(new LuDecomposition(matrixAt(r.arrays.pairs[0].jacobians!, ((t - 1) * B + b) * D * D, D)).determinant));
      const sum = ly.perBatch[b].reduce((a, x) => a + x, 0);
      assert.ok(Math.abs(sum - logDet / 24) < 1e-4 * Math.max(1, Math.abs(logDet / 24)), `batch ${b}: Σλ ${sum} vs mean ln|det| ${logDet / 24}`);
    }
  });

  it('a linear cell with an orthogonal recurrent kernel has every exponent 0; identity·0.5 has every exponent ln 0.5', async () => {
    for (const [init, expected] of [[{ name: 'orthogonal' }, 0], [{ name: 'identity', gain: 0.5 }, Math.log(0.5)]] as const) {
      const base = parseConfig(JSON.stringify({ cell: 'simple_rnn', units: 5, inputDim: 2, activation: 'linear', timeSteps: 40, initializers: { recurrentKernel: init }, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }] }), TEST_CONFIG);
      const r = await analyze({ ...base, diagnostics: ['lyapunov'] });
      r.report.jacobians[0].lyapunov!.exponents.forEach((l) => assert.ok(Math.abs(l - expected) < 1e-5, `${init.name}: λ = ${l}, expected ${expected}`));
    }
  });
});

describe('series diagnostics in the CLI table, --json and --save', () => {
  it('the table shows the rate and the exponents; --save writes their arrays with a manifest entry each', async () => {
    const { saveRun } = await import('../../src/engine');
    const { formatReport } = await import('../../src/cli/table');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const spec = { ...networkSpec({ ...RUN, timeSteps: 20 }, [{ cell: 'simple_rnn', units: 3 }, { cell: 'lstm', units: 2 }], [['state@t', 'state@t-1']]), diagnostics: ['gradientPropagation' as const, 'lyapunov' as const] };
    const r = await analyze(spec);
    const table = formatReport(r.report);
    const l = r.report.jacobians[0].lyapunov!;
    assert.ok(table.includes(`λ_max ${l.exponents[0].toFixed(4)}`), table);
    assert.ok(table.includes(`rate ${r.report.jacobians[0].gradient!.rate.spectral.toFixed(4)} ln/step`), table);
    const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-series-'));
    try {
      const manifest = saveRun(r, join(dir, 'save'));
      const kinds = manifest.files.map((f) => `${f.kind}:${f.shape.join('x')}`);
      for (const k of ['gradientPropagation:2x20', 'lyapunov:2x7', `lyapunovConvergence:${l.convergence.t.length}x7`]) assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
      assert.ok(manifest.files.some((f) => f.file === 'params/l1.recurrent_kernel.npy'), 'per-layer Keras names');
      const written = JSON.parse(readFileSync(join(dir, 'save', 'manifest.json'), 'utf8'));
      assert.deepEqual(written.layers.map((x: { cell: string }) => x.cell), ['simple_rnn', 'lstm']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('thin Householder QR (series/qr.ts) against ml-matrix', () => {
  it('Q orthonormal, Q·R = A, |R_jj| equal to ml-matrix\'s, a zero column kept orthonormal', async () => {
    const { thinQr } = await import('../../src/engine/series/qr');
    const rng = new Rng(8, 'test:qr');
    for (const [D, k, zeroCol] of [[7, 7, -1], [12, 5, -1], [9, 4, 2]]) {
      const a = Float64Array.from({ length: D * k }, (_, i) => (i % k === zeroCol ? 0 : rng.normal()));
      const { q, rAbsDiag } = thinQr(a, D, k);
      const Q = Matrix.from1DArray(D, k, q);
      const qtq = Q.transpose().mmul(Q);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) assert.ok(Math.abs(qtq.get(i, j) - (i === j ? 1 : 0)) < 1e-12, `QᵀQ[${i},${j}] = ${qtq.get(i, j)}`);
      const ref = new QrDecomposition(Matrix.from1DArray(D, k, a)).upperTriangularMatrix;
      for (let j = 0; j < k; j++) assert.ok(Math.abs(rAbsDiag[j] - Math.abs(ref.get(j, j))) < 1e-12, `|R_${j}${j}|`);
      // A = Q·R with R = Qᵀ·A upper triangular.
      const R = Q.transpose().mmul(Matrix.from1DArray(D, k, a));
      const back = Q.mmul(R);
      for (let i = 0; i < D * k; i++) assert.ok(Math.abs(back.to1DArray()[i] - a[i]) < 1e-12);
      for (let i = 1; i < k; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(R.get(i, j)) < 1e-12, 'R is upper triangular');
    }
  });
});

describe('Lyapunov theory overlays', () => {
  it('digamma at known points; Newman at large n tends to ½ln(nσ²)', async () => {
    const { digamma, newmanExponents } = await import('../../src/engine/series/theory');
    const gamma = 0.5772156649015329;
    for (const [x, v] of [[1, -gamma], [0.5, -gamma - 2 * Math.log(2)], [10, 2.251752589066721], [2.5, 0.7031566406452432]]) {
      assert.ok(Math.abs(digamma(x) - v) < 1e-12, `ψ(${x}) = ${digamma(x)}, expected ${v}`);
    }
    const [l1] = newmanExponents(1e6, 1e-6, 1);
    assert.ok(Math.abs(l1 - 0) < 1e-5, `λ1 = ${l1}`);
  });

  it('Newman matches Benettin on products of i.i.d. Gaussian matrices (n = 6, 3000 steps, ±0.03)', async () => {
    const { newmanExponents } = await import('../../src/engine/series/theory');
    const n = 6;
    const sigma2 = 0.3;
    const rng = new Rng(21, 'test:newman');
    const T = 3000;
    const acc = new LyapunovAccumulator(1, n, { exponents: n, every: 1, transient: 20 }, T);
    for (let t = 1; t <= T; t++) acc.push(t, Float32Array.from({ length: n * n }, () => rng.normal() * Math.sqrt(sigma2)));
    const got = acc.result().exponents;
    newmanExponents(n, sigma2, n).forEach((l, i) => assert.ok(Math.abs(got[i] - l) < 0.03, `λ${i + 1}: ${got[i]} vs Newman ${l}`));
  });

  it('mean field: λ_max = ln g below the transition without drive; the report carries both overlays for a tanh SimpleRNN', async () => {
    const { meanFieldLambdaMax } = await import('../../src/engine/series/theory');
    for (const g of [0.3, 0.5, 0.9]) assert.ok(Math.abs(meanFieldLambdaMax(g, 0).lambdaMax - Math.log(g)) < 1e-9);
    const chaotic = meanFieldLambdaMax(3, 0);
    assert.ok(chaotic.delta > 1 && chaotic.lambdaMax > 0, JSON.stringify(chaotic));
    const base = parseConfig(JSON.stringify({ cell: 'simple_rnn', units: 8, inputDim: 2, timeSteps: 30, initializers: { recurrentKernel: { name: 'random_normal', stddev: 0.5 } }, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }] }), TEST_CONFIG);
    const r = await analyze({ ...base, diagnostics: ['varTimesFanIn', 'lyapunov'] });
    const th = r.report.jacobians[0].lyapunov!.theory!;
    assert.equal(th.newman.exponents.length, 8);
    assert.ok(Math.abs(th.meanField!.gain - Math.sqrt(8 * 0.25)) < 1e-9, `gain ${th.meanField!.gain}`);
    assert.ok(th.meanField!.driveVariance > 0);
  });
});

describe('series diagnostics in the memory estimate', () => {
  it('the running product (B·D²) and the Lyapunov directions (B·D·k) are counted for a state transition pair only', async () => {
    const { buildNetwork } = await import('../../src/engine/network/network');
    const { resolvePairs } = await import('../../src/engine/run/pairs');
    const { estimateMemory } = await import('../../src/engine/run/memory');
    const spec = { ...networkSpec({ ...RUN, batchSize: 3 }, [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3 }], [['state@t', 'state@t-1'], ['l1.h@t', 'x@t']]), diagnostics: ['gradientPropagation' as const, 'lyapunov' as const], lyapunov: { exponents: 5 } };
    const graph = buildNetwork(spec).graph;
    const parts = estimateMemory(graph, spec, resolvePairs(graph, spec), false, 2 ** 20, 'structured');
    const D = 11;
    assert.equal(parts.find((p) => p.what.startsWith('gradient propagation products for state@t'))!.bytes, 4 * 3 * D * D * 4);
    assert.equal(parts.find((p) => p.what.startsWith('Lyapunov directions for state@t'))!.bytes, 3 * 3 * D * 5 * 8);
    assert.ok(!parts.some((p) => p.what.includes('l1.h@t wrt x@t') && /gradient|Lyapunov/.test(p.what)));
  });
});

describe('series diagnostics report progress', () => {
  it('every streamed step of each series advances the "jacobians" stage, which ends at its total', async () => {
    const spec = { ...networkSpec({ ...RUN, timeSteps: 7 }, [{ cell: 'gru', units: 3 }], [['l0.h@t', 'l0.h@t-1']]), diagnostics: ['gradientPropagation' as const, 'lyapunov' as const] };
    const seen: { step: number; total: number }[] = [];
    await analyze(spec, { onProgress: (p) => p.stage === 'jacobians' && seen.push({ step: p.step, total: p.total }) });
    // 7 transition Jacobians (in chunks), then 7 steps of each series.
    assert.ok(seen.every((p) => p.total === 21), JSON.stringify(seen));
    assert.deepEqual(seen.slice(-14).map((p) => p.step), [...Array(14).keys()].map((k) => k + 8));
  });
});
