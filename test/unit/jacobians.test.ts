// Every built-in cell's Jacobians against closed forms computed independently in float64, on every
// backend; against central finite differences; and the structured method against autodiff.
import { strict as assert } from 'node:assert';
import { analyzeText, type RunResult } from '../../src/engine';
import { forEachBackend } from './helpers/backends';
import { assertClose, maxAbs } from './helpers/close';
import { engineReader } from './helpers/network';
import { refCell, type Named, type Params, type RefCell } from './reference/cells';
import { tf, type Tensor2D } from '../../src/engine/backend/tf';
import { toDense, type SJ } from '../../src/engine/graph/structuredJacobian';
import { denseOnHost } from '../../src/engine/run/hostDense';
import { randomVector } from './helpers/random';
import { blocks, finiteDifference, identityMat, mat, matMul, subMatrix, type Mat, type Vec } from './reference/float64';

interface Case {
  name: string;
  config: Record<string, unknown>;
  /** Pairs as [of, wrt]; each is checked against the reference. */
  pairs: [string, string][];
}

const base = { units: 6, inputDim: 3, timeSteps: 4, batchSize: 2, seed: 7, diagnostics: ['mean', 'varTimesFanIn', 'frobenius'] };
const jac = (pairs: [string, string][]) => pairs.map(([of, wrt]) => ({ of, wrt }));

const SEED_PAIRS: [string, string][] = [
  ['h@t', 'h@t-1'], ['c@t', 'h@t-1'], ['c@t', 'c@t-1'], ['o@t', 'x@t'], ['o@t', 'c@t'], ['o@t', 'h@t-1'], ['h@T', 'h@0'], ['c@T', 'h@0'],
];
const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'hard_sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'gelu'];

export const CASES: Case[] = [
  ...ACTIVATIONS.map((activation) => ({
    name: `seed ${activation}`,
    config: { ...base, cell: 'seed', activation, initializers: { bias: 'random_normal' } },
    pairs: activation === 'relu' ? SEED_PAIRS : ([['h@t', 'h@t-1'], ['h@T', 'h@0']] as [string, string][]),
  })),
  {
    name: 'simple_rnn tanh',
    config: { ...base, cell: 'simple_rnn', activation: 'tanh', initializers: { bias: 'random_normal' } },
    pairs: [['h@t', 'h@t-1'], ['h@t', 'x@t'], ['h@T', 'h@0'], ['h@t', 'h@t-2']],
  },
  {
    name: 'lstm tanh/sigmoid',
    config: { ...base, cell: 'lstm', initializers: { bias: 'random_normal' } },
    pairs: [['h@t', 'h@t-1'], ['c@t', 'h@t-1'], ['c@t', 'c@t-1'], ['h@t', 'c@t-1'], ['h@t', 'x@t'], ['c@t', 'x@t'], ['h@T', 'h@0'], ['h@T', 'c@0']],
  },
  {
    name: 'lstm relu/hard_sigmoid',
    config: { ...base, cell: 'lstm', activation: 'relu', recurrentActivation: 'hard_sigmoid', initializers: { bias: 'random_normal' } },
    pairs: [['h@t', 'h@t-1'], ['h@T', 'h@0']],
  },
  {
    name: 'gru tanh/sigmoid',
    config: { ...base, cell: 'gru', initializers: { bias: 'random_normal' } },
    pairs: [['h@t', 'h@t-1'], ['h@t', 'x@t'], ['h@T', 'h@0']],
  },
];

async function run(c: Case, method: 'structured' | 'autodiff' = 'structured'): Promise<RunResult> {
  const text = JSON.stringify({ ...c.config, method, jacobians: jac(c.pairs) });
  return analyzeText(text, '/tmp/rnn-jacobian-lab-test.jacobian.json', { keepJacobiansMB: Infinity });
}

/** The engine's inputs, read back from its result, in float64. */
function engineInputs(r: RunResult, ref: RefCell) {
  const read = engineReader(r);
  const init = (b: number): Named => Object.fromEntries(ref.states.map((s) => [s, read.initial(s, b)]));
  return { params: read.params(), T: read.T, B: read.B, xs: read.xs, init };
}

/** Float64 rollout of one batch element: per step, the previous states and all tensors of the step. */
function referenceRollout(ref: RefCell, p: Params, init: Named, xs: (t: number) => Vec, T: number) {
  const steps: { prev: Named; x: Vec; out: Named }[] = [];
  let prev = init;
  for (let t = 1; t <= T; t++) {
    const out = ref.step(p, prev, xs(t));
    steps.push({ prev, x: xs(t), out });
    prev = Object.fromEntries(ref.states.map((s) => [s, out[s]]));
  }
  return steps;
}

/** Joint one-step transition of all states, as a block matrix over the concatenated states. */
function transition(ref: RefCell, j: Record<string, Mat>, n: number): Mat {
  const get = (a: string, b: string) => j[`${a}|${b}_prev`] ?? mat(n, n);
  if (ref.states.length === 1) return get('h', 'h');
  return blocks(get('h', 'h'), get('h', 'c'), get('c', 'h'), get('c', 'c'));
}

interface ParsedRef {
  name: string;
  time: 't' | 'T' | '0';
  back: number;
}
function parseRef(s: string): ParsedRef {
  const [name, time] = s.split('@');
  if (time === 'T') return { name, time: 'T', back: 0 };
  if (time === '0') return { name, time: '0', back: 0 };
  return { name, time: 't', back: time === 't' ? 0 : Number(time.slice(2)) };
}

/** Reference Jacobians of one pair for one batch element, one matrix per step label, by closed forms. */
function referencePair(ref: RefCell, steps: { prev: Named; x: Vec; out: Named }[], p: Params, of: string, wrt: string, n: number): Map<number, Mat> {
  const o = parseRef(of);
  const w = parseRef(wrt);
  const T = steps.length;
  const result = new Map<number, Mat>();
  const isState = (name: string) => ref.states.includes(name);
  const stateIndex = (name: string) => ref.states.indexOf(name);
  const stepJ = (t: number) => ref.jacobians(p, steps[t - 1].prev, steps[t - 1].x, steps[t - 1].out);
  const pick = (m: Mat, ofName: string, wrtName: string) =>
    ref.states.length === 1 ? m : subMatrix(m, stateIndex(ofName) * n, n, stateIndex(wrtName) * n, n);
  const labels = o.time === 't' || w.time === 't' ? [...Array(T).keys()].map((k) => k + 1) : [T];
  for (const t of labels) {
    const end = o.time === 'T' ? T : o.time === '0' ? 0 : t - o.back;
    const at = w.time === 'T' ? T : w.time === '0' ? 0 : t - w.back;
    if (isState(w.name) && isState(o.name) && end > at && at >= 0 && end <= T) {
      // Chain the joint transitions of steps at+1..end.
      let m = identityMat(n * ref.states.length);
      for (let s = at + 1; s <= end; s++) m = matMul(transition(ref, stepJ(s), n), m);
      result.set(t, pick(m, o.name, w.name));
    } else if (end === at && end >= 1 && end <= T) {
      result.set(t, stepJ(end)[`${o.name}|${w.name}`]);
    } else if (isState(w.name) && end === at + 1 && end >= 1 && end <= T) {
      result.set(t, stepJ(end)[`${o.name}|${w.name}_prev`]);
    }
  }
  return result;
}

forEachBackend('Jacobians equal float64 closed forms', () => {
  for (const c of CASES) {
    it(`${c.name}: every pair, every step, every batch element`, async () => {
      const r = await run(c);
      const cfg = c.config as { cell: string; activation?: string; recurrentActivation?: string };
      const ref = refCell(cfg.cell, cfg.activation ?? (cfg.cell === 'seed' ? 'relu' : 'tanh'), cfg.recurrentActivation ?? 'sigmoid');
      const { params, T, B, xs, init } = engineInputs(r, ref);
      const n = r.report.units;
      for (let b = 0; b < B; b++) {
        const steps = referenceRollout(ref, params, init(b), (t) => xs(t, b), T);
        // The trajectory itself first: a Jacobian is only as right as the point it is taken at.
        const h = r.arrays.tensors.find((t) => t.name === 'h')!;
        for (let t = 1; t <= T; t++) {
          assertClose(`h@${t} (batch ${b})`, h.data, (t * B + b) * n, mat(1, n, steps[t - 1].out.h));
        }
        r.report.jacobians.forEach((pair, i) => {
          const expected = referencePair(ref, steps, params, pair.of, pair.wrt, n);
          assert.deepEqual(pair.steps.map((s) => s.t), [...expected.keys()], `${pair.of} wrt ${pair.wrt}: step labels`);
          pair.steps.forEach((s, k) => {
            const m = expected.get(s.t)!;
            const size = pair.outDim * pair.inDim;
            const offset = (k * B + b) * size;
            assertClose(`${c.name} ${pair.of} wrt ${pair.wrt} at t=${s.t}, batch ${b}`, r.arrays.pairs[i].jacobians!, offset, m);
            // Diagnostics from the same matrix, in float64.
            let mean = 0;
            for (const v of m.data) mean += v;
            mean /= size;
            let v2 = 0;
            for (const v of m.data) v2 += (v - mean) ** 2;
            const varTimesFanIn = (v2 / size) * pair.inDim;
            const scale = Math.max(Math.abs(varTimesFanIn), 1e-6);
            assert.ok(Math.abs(s.varTimesFanIn[b] - varTimesFanIn) <= 1e-4 * scale, `${pair.of} wrt ${pair.wrt} t=${s.t}: varTimesFanIn ${s.varTimesFanIn[b]} vs ${varTimesFanIn}`);
            const frob = Math.sqrt(m.data.reduce((a, x) => a + x * x, 0));
            assert.ok(Math.abs(s.frobenius[b] - frob) <= 1e-5 * Math.max(frob, 1e-6), `frobenius ${s.frobenius[b]} vs ${frob}`);
          });
        });
      }
    });
  }
});

forEachBackend('Jacobians equal central finite differences (small case)', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['seed', { ...base, cell: 'seed', activation: 'tanh', timeSteps: 3 }],
    ['lstm', { ...base, cell: 'lstm', timeSteps: 3, initializers: { bias: 'random_normal' } }],
    ['gru', { ...base, cell: 'gru', timeSteps: 3, initializers: { bias: 'random_normal' } }],
  ];
  for (const [cell, config] of cases) {
    it(`${cell}: h@t wrt h@t-1, h@t wrt x@t and h@T wrt h@0`, async () => {
      const pairs: [string, string][] = [['h@t', 'h@t-1'], ['h@t', 'x@t'], ['h@T', 'h@0']];
      const r = await run({ name: cell, config, pairs });
      const ref = refCell(cell, (config.activation as string) ?? 'tanh', 'sigmoid');
      const { params, T, B, xs, init } = engineInputs(r, ref);
      const n = r.report.units;
      for (let b = 0; b < B; b++) {
        const steps = referenceRollout(ref, params, init(b), (t) => xs(t, b), T);
        const oneStep = (t: number, override: { state?: Vec; x?: Vec }) => {
          const prev = { ...steps[t - 1].prev, ...(override.state ? { h: override.state } : {}) };
          return ref.step(params, prev, override.x ?? steps[t - 1].x).h;
        };
        for (let t = 1; t <= T; t++) {
          const k = t - 1;
          const fdState = finiteDifference((v) => oneStep(t, { state: v }), steps[k].prev.h);
          assertClose(`${cell} FD h@${t} wrt h@${t - 1}`, r.arrays.pairs[0].jacobians!, (k * B + b) * n * n, fdState);
          const fdInput = finiteDifference((v) => oneStep(t, { x: v }), steps[k].x);
          assertClose(`${cell} FD h@${t} wrt x@${t}`, r.arrays.pairs[1].jacobians!, (k * B + b) * n * r.report.inputDim, fdInput);
        }
        const whole = finiteDifference((h0) => {
          let prev: Named = { ...init(b), h: h0 };
          let out: Named = {};
          for (let t = 1; t <= T; t++) {
            out = ref.step(params, prev, xs(t, b));
            prev = Object.fromEntries(ref.states.map((s) => [s, out[s]]));
          }
          return out.h;
        }, init(b).h);
        assertClose(`${cell} FD h@T wrt h@0`, r.arrays.pairs[2].jacobians!, b * n * n, whole);
      }
    });
  }
});

forEachBackend('structured and autodiff agree', () => {
  for (const c of CASES.filter((x) => !x.name.startsWith('seed') || x.name === 'seed relu' || x.name === 'seed gelu')) {
    it(`${c.name}: to 1e-5·max|J| for every pair kind`, async () => {
      const s = await run(c, 'structured');
      const a = await run(c, 'autodiff');
      assert.equal(s.report.method, 'structured');
      assert.equal(a.report.method, 'autodiff');
      s.arrays.pairs.forEach((p, i) => {
        const label = `${c.name} ${s.report.jacobians[i].of} wrt ${s.report.jacobians[i].wrt}`;
        const scale = Math.max(maxAbs(p.jacobians!), 1e-12);
        let worst = 0;
        p.jacobians!.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - a.arrays.pairs[i].jacobians![k]))));
        assert.ok(worst <= 1e-5 * scale, `${label}: max difference ${worst.toExponential(3)} > 1e-5·${scale.toExponential(3)}`);
      });
    });
  }
});

describe('the backends agree with each other', () => {
  it('every pair of every built-in cell, to 1e-5·max|J|, on every backend that loads', async function () {
    const { switchBackendForTests } = await import('../../src/engine/backend/backend');
    const byBackend = new Map<string, RunResult[]>();
    const cases = CASES.filter((c) => ['seed relu', 'simple_rnn tanh', 'lstm tanh/sigmoid', 'gru tanh/sigmoid'].includes(c.name));
    for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
      if (!(await switchBackendForTests(backend))) continue;
      const results: RunResult[] = [];
      for (const c of cases) results.push(await run(c));
      byBackend.set(backend, results);
    }
    const [first, ...others] = [...byBackend.entries()];
    assert.ok(others.length >= 1, `only ${first[0]} loaded; nothing to compare`);
    for (const [name, results] of others) {
      results.forEach((r, ci) => {
        r.arrays.pairs.forEach((p, pi) => {
          const ref = first[1][ci].arrays.pairs[pi].jacobians!;
          const scale = Math.max(maxAbs(ref), 1e-12);
          let worst = 0;
          p.jacobians!.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - ref[k]))));
          assert.ok(worst <= 1e-5 * scale, `${cases[ci].name} pair ${pi}: ${name} vs ${first[0]} differ by ${worst.toExponential(3)}`);
        });
      });
    }
  });
});

forEachBackend('statistics reduced from the structure equal those of the whole matrices', () => {
  for (const c of CASES.filter((x) => ['seed relu', 'seed tanh', 'simple_rnn tanh', 'lstm tanh/sigmoid', 'gru tanh/sigmoid'].includes(x.name))) {
    it(`${c.name}: mean, varTimesFanIn and Frobenius norm without materialising J`, async () => {
      const text = JSON.stringify({ ...c.config, units: 24, jacobians: jac(c.pairs) });
      const whole = await analyzeText(text, '/tmp/rnn-jacobian-lab-test.jacobian.json', { keepJacobiansMB: Infinity });
      const factored = await analyzeText(text, '/tmp/rnn-jacobian-lab-test.jacobian.json', { keepJacobiansMB: 0 });
      assert.equal(factored.arrays.pairs[0].jacobians, undefined, 'no whole Jacobians were kept');
      whole.report.jacobians.forEach((pair, i) => {
        pair.steps.forEach((s, k) => {
          const f = factored.report.jacobians[i].steps[k];
          for (const key of ['mean', 'varTimesFanIn', 'frobenius'] as const) {
            s[key].forEach((v, b) => {
              const scale = key === 'mean' ? Math.max(Math.sqrt(s.varTimesFanIn[b] / pair.inDim), 1e-12) : Math.max(Math.abs(v), 1e-12);
              assert.ok(Math.abs(f[key][b] - v) <= 1e-4 * scale, `${pair.of} wrt ${pair.wrt} t=${s.t} b=${b} ${key}: ${f[key][b]} vs ${v}`);
            });
          }
        });
      });
    });
  }
});

forEachBackend('chunks of structured Jacobians that stay factored are sized by what one occurrence took', () => {
  const chunksOf = async (text: string, keepJacobiansMB: number) => {
    let chunks = 0;
    const result = await analyzeText(text, '/tmp/rnn-jacobian-lab-test.jacobian.json', {
      keepJacobiansMB,
      chunkMB: 0.25,
      onProgress: (p) => void (p.stage === 'jacobians' && chunks++),
    });
    return { chunks, result };
  };
  it('seed relu: factored, so fewer and larger chunks than whole matrices allow, with the same statistics', async () => {
    const text = JSON.stringify({ cell: 'seed', units: 64, inputDim: 2, activation: 'relu', timeSteps: 20, batchSize: 2, seed: 3, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: ['varTimesFanIn', 'frobenius'] });
    const whole = await chunksOf(text, Infinity);
    const factored = await chunksOf(text, 0);
    // Whole matrices: 2 × 64² floats, six times over, per occurrence against a 256 KB budget: one per chunk.
    assert.equal(whole.chunks, 20);
    assert.ok(factored.chunks > 0 && factored.chunks <= 5, `factored: ${factored.chunks} chunks`);
    whole.result.report.jacobians[0].steps.forEach((s, k) => {
      const f = factored.result.report.jacobians[0].steps[k];
      for (const key of ['varTimesFanIn', 'frobenius'] as const) s[key].forEach((v, b) => assert.ok(Math.abs(f[key][b] - v) <= 1e-4 * Math.abs(v), `t=${s.t} b=${b} ${key}`));
    });
  });
  it('sums that would cancel (a mean as large as the spread): the statistics come from dense slices, equal to whole matrices', async () => {
    // An all-ones recurrent kernel: J = 1·diag(relu′) has entries 0 and 1, mean ≈ ½, so E[J²] − E[J]² cancels. The
    // chunk, sized by the factors, holds more matrices than the budget allows dense: they are densified a slice at a time.
    const config = { cell: 'seed', units: 64, inputDim: 2, activation: 'relu', timeSteps: 6, batchSize: 4, seed: 3, initializers: { recurrentKernel: 'ones' }, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: ['varTimesFanIn', 'frobenius', 'mean'] };
    const text = JSON.stringify(config);
    const whole = await chunksOf(text, Infinity);
    const factored = await chunksOf(text, 0);
    assert.ok(factored.chunks < whole.chunks, `factored ${factored.chunks} chunks, whole ${whole.chunks}`);
    whole.result.report.jacobians[0].steps.forEach((s, k) => {
      const f = factored.result.report.jacobians[0].steps[k];
      for (const key of ['varTimesFanIn', 'frobenius', 'mean'] as const) s[key].forEach((v, b) => assert.ok(Math.abs(f[key][b] - v) <= 1e-6 * Math.max(Math.abs(v), 1e-12), `t=${s.t} b=${b} ${key}: ${f[key][b]} vs ${v}`));
    });
  });
  it('lstm: its ∂h/∂h_{t-1} is dense, so the chunks stay those of whole matrices', async () => {
    const text = JSON.stringify({ cell: 'lstm', units: 64, inputDim: 2, timeSteps: 20, batchSize: 2, seed: 3, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: ['varTimesFanIn'] });
    assert.equal((await chunksOf(text, 0)).chunks, (await chunksOf(text, Infinity)).chunks);
  });
});

forEachBackend('whole Jacobians densified on the host (cpu) are those of the tensor path', (backend) => {
  it('diag(r)·M·diag(c) with either, both or no factor, and a shared M: the same float32 bits as toDense', () => tf().tidy(() => {
    const t = tf();
    const [rows, out, inn] = [3, 5, 4];
    const tensor = (shape: number[], seed: number) => t.tensor(Float32Array.from(randomVector(shape.reduce((a, b) => a * b), seed)), shape);
    const m = tensor([out, inn], 1) as Tensor2D;
    const row = tensor([rows, out], 2) as Tensor2D;
    const col = tensor([rows, inn], 3) as Tensor2D;
    const forms: [string, SJ][] = [
      ['row and col', { kind: 'scaled', m, row, col }],
      ['row', { kind: 'scaled', m, row }],
      ['col', { kind: 'scaled', m, col }],
      ['neither', { kind: 'scaled', m }],
      ['shared', { kind: 'shared', m }],
    ];
    for (const [name, j] of forms) {
      const host = denseOnHost(j, rows);
      if (backend !== 'cpu') {
        assert.equal(host, undefined, `${name}: tensor ops serve on ${backend}`);
        continue;
      }
      const expected = toDense(j, rows).dataSync();
      assert.ok(host, `${name}: densified on the host`);
      assert.deepEqual(Array.from(host), Array.from(expected), `${name}: host and tensor paths differ`);
    }
    assert.equal(denseOnHost({ kind: 'diag', d: row }, rows), undefined, 'other forms keep the tensor path');
  }));
});
