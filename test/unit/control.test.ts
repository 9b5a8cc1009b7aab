// Control (LSC, flossing): the gradient of ρ through the eigenproblem against central differences — in
// float64 on matrices, and through the whole engine (rollout → structured Jacobians → ρ) against a float64
// reference of the loss, on every backend.
import { strict as assert } from 'node:assert';
import { parseConfig } from '../../src/engine';
import { tf, type Tensor } from '../../src/engine/backend/tf';
import { denseCotangent, denseEigenvectors, eigenvectorsAt, normCotangent, radiusCotangent, type DominantEigenpair } from '../../src/engine/control/dominant';
import { controlLoss } from '../../src/engine/control/loss';
import { krylovSteps } from '../../src/engine/control/measureOp';
import { controlProblem, stabilizeKinds, stepData } from '../../src/engine/control/problem';
import { forEachBackend } from './helpers/backends';
import { measureOf, referenceLoss, referenceLyapunov, type RefProblem } from './reference/control';
import { flossObjective } from '../../src/engine/control/floss';
import { combineSides, krylovEigenvectors, LSC_REPORT_KRYLOV, LSC_STEP_KRYLOV, upperHalf } from '../../src/engine/control/krylov';
import type { FlossSpec } from '../../src/engine/control/config';
import { mat } from './reference/float64';
import { randomVector } from './helpers/random';

describe('control: dominant eigenpair and its cotangent (float64)', () => {
  for (const n of [2, 5, 12, 40]) {
    it(`left/right eigenvectors and dρ against central differences, n = ${n}`, () => {
      for (let trial = 0; trial < 5; trial++) {
        const a = randomVector(n * n, 100 * n + trial);
        const pair = denseEigenvectors.dominant(a, 0, n);
        const rho = Math.hypot(pair.re, pair.im);
        assert.ok(Math.abs(rho - measureOf(mat(n, n, a), 'radius')) <= 1e-10 * rho, 'ρ equals ml-matrix');
        const cotangent = denseCotangent(radiusCotangent(pair, n));
        const e = randomVector(n * n, 7 + trial);
        const h = 1e-6;
        const fd = (measureOf(mat(n, n, a.map((x, i) => x + h * e[i])), 'radius') - measureOf(mat(n, n, a.map((x, i) => x - h * e[i])), 'radius')) / (2 * h);
        const analytic = cotangent.reduce((s, g, i) => s + g * e[i], 0);
        assert.ok(Math.abs(fd - analytic) <= 1e-6 * Math.max(1, Math.abs(fd)), `dρ ${analytic} vs finite differences ${fd}`);
      }
    });
  }
  it('σ_max and its cotangent a·bᵀ against central differences (non-square)', () => {
    const [out, inn] = [7, 4];
    const a = randomVector(out * inn, 3);
    const measured = normCotangent(a, 0, out, inn);
    const [value, cotangent] = [measured.value, denseCotangent(measured)];
    assert.ok(Math.abs(value - measureOf(mat(out, inn, a), 'norm')) <= 1e-9 * value);
    const e = randomVector(out * inn, 4);
    const h = 1e-6;
    const fd = (measureOf(mat(out, inn, a.map((x, i) => x + h * e[i])), 'norm') - measureOf(mat(out, inn, a.map((x, i) => x - h * e[i])), 'norm')) / (2 * h);
    const analytic = cotangent.reduce((s, g, i) => s + g * e[i], 0);
    assert.ok(Math.abs(fd - analytic) <= 1e-6 * Math.max(1, Math.abs(fd)), `dσ ${analytic} vs ${fd}`);
  });
});

interface GradCase {
  name: string;
  config: Record<string, unknown>;
  measure: 'radius' | 'norm';
  input: boolean;
  eigenvectors?: 'dense' | 'krylov';
}

const base = { units: 5, inputDim: 3, timeSteps: 3, batchSize: 2, seed: 11, initializers: { bias: 'random_normal' } };
const GRAD_CASES: GradCase[] = [
  { name: 'seed relu, ρ', config: { ...base, cell: 'seed' }, measure: 'radius', input: false },
  { name: 'simple_rnn tanh, ρ and the input σ_max', config: { ...base, cell: 'simple_rnn' }, measure: 'radius', input: true },
  { name: 'lstm, joint (h, c) ρ', config: { ...base, cell: 'lstm' }, measure: 'radius', input: false },
  { name: 'lstm, joint (h, c) σ_max', config: { ...base, cell: 'lstm' }, measure: 'norm', input: false },
  { name: 'gru, ρ', config: { ...base, cell: 'gru' }, measure: 'radius', input: false },
  // Joint (h, c) 96 × 96: at the Krylov source's minimum size, so its Ritz vectors carry the gradient.
  { name: 'lstm n 48, joint (h, c) ρ, Krylov eigenvectors', config: { ...base, units: 48, cell: 'lstm' }, measure: 'radius', input: false, eigenvectors: 'krylov' },
];

forEachBackend('control: gradient of the LSC loss through the engine against float64 central differences', () => {
  for (const c of GRAD_CASES) {
    it(c.name, () => {
      const spec = parseConfig(JSON.stringify(c.config), '/tmp/rnn-jacobian-lab-control.jacobian.json');
      const problem = controlProblem(spec, { paramPaths: [], statesPath: 'stabilize.states' });
      const kinds = stabilizeKinds(problem, { target: 0.5, measure: c.measure, input: c.input, timeSteps: spec.timeSteps });
      const data = stepData(problem, 123, spec.batchSize, spec.timeSteps);
      const t = tf();
      const names = problem.graph.params.map((p) => p.name);
      const vars = problem.graph.params.map((p) => t.tidy(() => t.variable(t.tensor(problem.initial.get(p.name)!, p.shape))));
      const params = new Map<string, Tensor>(names.map((n, i) => [n, vars[i]]));
      const values: Float32Array[] = [];
      const [calls, fallbacks] = [krylovSteps.calls, krylovSteps.fallbacks];
      // variableGrads leaves out parameters the loss does not reach (the seed's input kernel): their gradient is 0.
      const { value, grads } = t.variableGrads(() => controlLoss(problem.graph, kinds, { ...data, params }, spec.timeSteps, spec.batchSize, { values }, true, c.eigenvectors ?? 'dense'), vars);
      const engineLoss = value.dataSync()[0];
      if (c.eigenvectors === 'krylov') {
        assert.ok(krylovSteps.calls > calls && krylovSteps.fallbacks - fallbacks < (krylovSteps.calls - calls) / 2, `Arnoldi answered for most matrices (${krylovSteps.fallbacks - fallbacks} of ${krylovSteps.calls - calls} fell back)`);
      }
      const gradients = vars.map((v) => (grads[v.name] ? Float64Array.from(grads[v.name].dataSync()) : new Float64Array(v.size)));

      const ref: RefProblem = {
        cell: problem.graph.cell,
        activation: spec.activation,
        recurrentActivation: spec.recurrentActivation,
        shapes: Object.fromEntries(problem.graph.params.map((p) => [p.name, [p.shape[0], p.shape[1] ?? 1]])),
        initial: Object.fromEntries(data.initialStates),
        inputs: data.inputs.get('x')!,
        T: spec.timeSteps,
        B: spec.batchSize,
        kinds: kinds.map((k) => ({ rows: k.rows, cols: k.cols, measure: k.measure, target: k.target })),
      };
      const theta = Object.fromEntries(names.map((n) => [n, Float64Array.from(problem.initial.get(n)!)]));
      const refLoss = referenceLoss(ref, theta);
      assert.ok(Math.abs(engineLoss - refLoss) <= 1e-4 * Math.max(1, refLoss), `loss ${engineLoss} vs float64 ${refLoss}`);
      for (let trial = 0; trial < 2; trial++) {
        const dir = names.map((n, i) => randomVector(theta[n].length, 31 * i + trial));
        const at = (h: number) => Object.fromEntries(names.map((n, i) => [n, theta[n].map((x, k) => x + h * dir[i][k])]));
        const h = 1e-6;
        const fd = (referenceLoss(ref, at(h)) - referenceLoss(ref, at(-h))) / (2 * h);
        const analytic = gradients.reduce((s, g, i) => s + g.reduce((a, x, k) => a + x * dir[i][k], 0), 0);
        assert.ok(Math.abs(analytic - fd) <= 2e-3 * Math.max(0.1, Math.abs(fd)), `directional derivative ${analytic} vs float64 central differences ${fd}`);
      }
      t.dispose([value, ...Object.values(grads), ...vars]);
    });
  }
});

forEachBackend('control: flossing — Lyapunov exponents and their gradient through Gram–Schmidt against float64', () => {
  for (const [qrEvery, throughStates] of [[1, true], [3, true], [3, false]] as const) {
    it(`simple_rnn tanh, k = 3 of 5, QR every ${qrEvery} step(s), gradient ${throughStates ? 'through the states' : 'with the states as data'}`, () => {
      const config = { units: 5, inputDim: 2, timeSteps: 9, batchSize: 2, seed: 5, cell: 'simple_rnn', initializers: { recurrentKernel: { name: 'random_normal', stddev: 0.9 } } };
      const spec = parseConfig(JSON.stringify(config), '/tmp/rnn-jacobian-lab-floss.jacobian.json');
      const problem = controlProblem(spec, { paramPaths: [], statesPath: 'floss.states' });
      const block = { exponents: 3, target: 0.1, warmup: 2, qrEvery, throughStates, timeSteps: spec.timeSteps, batchSize: spec.batchSize } as FlossSpec;
      const objective = flossObjective(problem, block);
      const data = stepData(problem, 77, spec.batchSize, spec.timeSteps);
      const t = tf();
      const names = problem.graph.params.map((p) => p.name);
      const vars = problem.graph.params.map((p) => t.tidy(() => t.variable(t.tensor(problem.initial.get(p.name)!, p.shape))));
      const params = new Map<string, Tensor>(names.map((n, i) => [n, vars[i]]));
      const values: Float32Array[] = [];
      const { value, grads } = t.variableGrads(() => objective.loss({ ...data, params }, values), vars);
      const ref: RefProblem = {
        cell: 'simple_rnn', activation: spec.activation, recurrentActivation: spec.recurrentActivation,
        shapes: Object.fromEntries(problem.graph.params.map((p) => [p.name, [p.shape[0], p.shape[1] ?? 1]])),
        initial: Object.fromEntries(data.initialStates), inputs: data.inputs.get('x')!, T: spec.timeSteps, B: spec.batchSize,
        kinds: [{ rows: ['h'], cols: ['h'], measure: 'radius', target: 0 }],
      };
      const theta = Object.fromEntries(names.map((n) => [n, Float64Array.from(problem.initial.get(n)!)]));
      const lossAt = (th: Record<string, Float64Array>) => {
        const l = referenceLyapunov(ref, th, 3, 2, qrEvery, throughStates ? th : theta).flat();
        return l.reduce((s, x) => s + (x - 0.1) ** 2, 0) / l.length;
      };
      const lambdas = referenceLyapunov(ref, theta, 3, 2, qrEvery);
      for (let i = 0; i < 3; i++) {
        for (let b = 0; b < 2; b++) assert.ok(Math.abs(values[i][b] - lambdas[b][i]) <= 1e-4, `λ${i + 1}[${b}] ${values[i][b]} vs float64 ${lambdas[b][i]}`);
      }
      assert.ok(Math.abs(value.dataSync()[0] - lossAt(theta)) <= 1e-5 * Math.max(1, lossAt(theta)));
      const dir = names.map((_, i) => randomVector(theta[names[i]].length, 91 + i));
      const at = (h: number) => Object.fromEntries(names.map((n, i) => [n, theta[n].map((x, k) => x + h * dir[i][k])]));
      const fd = (lossAt(at(1e-6)) - lossAt(at(-1e-6))) / 2e-6;
      const analytic = vars.reduce((s, v, i) => s + (grads[v.name] ? (grads[v.name].dataSync() as Float32Array).reduce((a, x, k) => a + x * dir[i][k], 0) : 0), 0);
      assert.ok(Math.abs(analytic - fd) <= 2e-3 * Math.max(0.01, Math.abs(fd)), `directional derivative ${analytic} vs float64 central differences ${fd}`);
      t.dispose([value, ...Object.values(grads), ...vars]);
    });
  }
});

forEachBackend('control: batched Krylov eigenvectors against the dense source', () => {
  // The reported values' accuracy and the optimisation steps' (looser: a step's loss is an estimate on random data).
  const accuracies = [
    { purpose: 'reports', options: LSC_REPORT_KRYLOV, cotangent: 1e-2 },
    { purpose: 'optimisation steps', options: LSC_STEP_KRYLOV, cotangent: 5e-2 },
  ];
  for (const { purpose, options, cotangent } of accuracies) {
    it(`${purpose} (tol ${options.tol}): converged float64 residuals, ρ within the tolerance, the dense cotangent; disc-like spectra, a dominant real eigenvalue, a near tie`, () => {
      const source = krylovEigenvectors(options);
      const n = 200;
      const M = 6;
      const data = new Float32Array(M * n * n);
      for (let b = 0; b < M; b++) {
        const a = randomVector(n * n, 900 + b).map((x) => (x * Math.sqrt(3)) / Math.sqrt(n));
        // b 1, 3: a dominant real eigenvalue (a bump on the diagonal); b 0, 2: a disc-like random spectrum; b 4, 5:
        // the random part shrunk below a real eigenvalue 1 and a complex pair of modulus 1 − 1e-4 (a near tie, which
        // the two sides may resolve differently).
        if (b % 2 && b < 4) a[0] += 1.5;
        if (b >= 4) {
          for (let i = 0; i < 3; i++) for (let k = 0; k < n; k++) a[i * n + k] = a[k * n + i] = 0;
          for (let i = 3; i < n * n; i++) a[i] *= 0.5;
          const [r, phi] = [1 - 1e-4, 0.7 + 0.3 * b];
          [a[0], a[n + 1], a[n + 2], a[2 * n + 1], a[2 * n + 2]] = [1, r * Math.cos(phi), -r * Math.sin(phi), r * Math.sin(phi), r * Math.cos(phi)];
        }
        data.set(a, b * n * n);
      }
      const t = tf();
      const j = t.tensor3d(data, [M, n, n]);
      const before = t.memory().numTensors;
      const pairs = source.dominantAll(j, data);
      assert.equal(t.memory().numTensors, before, 'no tensor left behind');
      j.dispose();
      assert.equal(source.calls, M);
      assert.equal(source.fallbacks, 0, 'Arnoldi converged for every matrix');
      const tol = options.tol;
      pairs.forEach((pair, b) => {
        const dense = radiusCotangent(denseEigenvectors.dominant(data, b * n * n, n), n);
        const krylov = radiusCotangent(pair, n);
        assert.ok(Math.abs(dense.value - krylov.value) <= tol * dense.value, `ρ ${krylov.value} vs dense ${dense.value} (matrix ${b})`);
        // ‖Jv − λv‖ and ‖uᴴJ − λuᴴ‖ in float64: eigenpairs, not just a good eigenvalue.
        assert.ok(residual(data, b, n, pair, false) <= 10 * tol * dense.value, `right residual ${residual(data, b, n, pair, false)} (matrix ${b})`);
        assert.ok(residual(data, b, n, pair, true) <= 10 * tol * dense.value, `left residual ${residual(data, b, n, pair, true)} (matrix ${b})`);
        // The near ties have two dominant eigenvectors, each a right answer: their cotangents differ by O(1).
        if (b >= 4) return;
        const [denseG, krylovG] = [denseCotangent(dense), denseCotangent(krylov)];
        const worst = denseG.reduce((m, g, i) => Math.max(m, Math.abs(g - krylovG[i])), 0);
        const scale = denseG.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
        assert.ok(worst <= cotangent * scale, `cotangent differs by ${worst} (scale ${scale}, matrix ${b})`);
      });
    });
  }
});

describe('control: two sides that converged to different eigenvalues of nearly equal modulus', () => {
  it('take the larger, with its own left and right eigenvectors; a side that did not converge goes to the dense route', () => {
    // Block diagonal: a real eigenvalue 1 and a complex pair of modulus 1 − 1e-4, the rest small and random.
    const n = 40;
    const a = randomVector(n * n, 77).map((x) => (0.3 * x) / Math.sqrt(n));
    for (let i = 0; i < 3; i++) for (let k = 0; k < n; k++) a[i * n + k] = a[k * n + i] = 0;
    const [r, phi] = [1 - 1e-4, 0.9];
    [a[0], a[n + 1], a[n + 2], a[2 * n + 1], a[2 * n + 2]] = [1, r * Math.cos(phi), -r * Math.sin(phi), r * Math.sin(phi), r * Math.cos(phi)];
    // Ritz pairs as each side would report them, their values within the tolerance 1e-4 of the eigenvalues: the right
    // side found the pair (λ₂, Im ≥ 0), the left side λ₁ = 1.
    const second = eigenvectorsAt(a, 0, n, r * Math.cos(phi), r * Math.sin(phi));
    const first = eigenvectorsAt(a, 0, n, 1, 0);
    const right = { re: second.re - 2e-5, im: second.im + 3e-5, vector: second.right };
    const left = { re: first.re + 5e-5, im: first.im, vector: first.left.map((x, i) => (i % 2 ? -x : x)) };
    const counts = { fallbacks: 0, ties: 0 };
    for (const [x, y] of [[right, left], [upperHalf({ ...left, vector: left.vector }), right]]) {
      const pair = combineSides(x, y, a, 0, n, 1e-4, counts);
      assert.ok(Math.hypot(pair.re - 1, pair.im) < 1e-10, `λ ${pair.re} + ${pair.im}i is the larger one, refined`);
      assert.ok(residual(Float32Array.from(a), 0, n, pair, false) < 1e-6 && residual(Float32Array.from(a), 0, n, pair, true) < 1e-6, 'its own eigenvectors');
    }
    assert.deepEqual(counts, { fallbacks: 0, ties: 2 });
    const dense = combineSides(undefined, left, a, 0, n, 1e-4, counts);
    assert.ok(Math.abs(Math.hypot(dense.re, dense.im) - 1) < 1e-12);
    assert.deepEqual(counts, { fallbacks: 1, ties: 2 });
  });
});

/** ‖Jx − λx‖ of a unit eigenvector (right: x = v; left: Jᵀū = λū, the conjugate of uᴴJ = λuᴴ), float64. */
function residual(data: Float32Array, b: number, n: number, pair: DominantEigenpair, left: boolean): number {
  const x = left ? pair.left.map((v, i) => (i % 2 ? -v : v)) : pair.right;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let [re, im] = [-(pair.re * x[2 * i] - pair.im * x[2 * i + 1]), -(pair.re * x[2 * i + 1] + pair.im * x[2 * i])];
    for (let k = 0; k < n; k++) {
      const a = left ? data[b * n * n + k * n + i] : data[b * n * n + i * n + k];
      [re, im] = [re + a * x[2 * k], im + a * x[2 * k + 1]];
    }
    sum += re * re + im * im;
  }
  return Math.sqrt(sum);
}
