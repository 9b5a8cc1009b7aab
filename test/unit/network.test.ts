// Stacked networks and joint states: every pair kind (time, depth, input, joint state, whole network, long
// windows) against float64 closed forms assembled by the chain rule, the whole-network transition against
// central finite differences, and structured against autodiff — on every backend.
import { strict as assert } from 'node:assert';
import { analyze, type RunResult } from '../../src/engine';
import { forEachBackend } from './helpers/backends';
import { assertClose, maxAbs } from './helpers/close';
import { engineNetwork, networkSpec, type LayerConfig } from './helpers/network';
import { finiteDifference, type Mat } from './reference/float64';
import { netJacobians, netProduct, netRollout, netStep, pickStates, stateNames, type NetStep, type RefLayer } from './reference/network';

interface Pair {
  of: string;
  wrt: string;
  /** The reference at step label t (T for fixed pairs). */
  expected: (layers: RefLayer[], steps: NetStep[], t: number) => Mat;
}

const at = (steps: NetStep[], t: number) => steps[t - 1];
const transitionPick = (rows: string[] | null, cols: string[] | null): Pair['expected'] => (layers, steps, t) =>
  pickStates(layers, netJacobians(layers, at(steps, t)).transition, at(steps, t), rows, cols);

const COMMON: Pair[] = [
  { of: 'l1.h@t', wrt: 'l1.h@t-1', expected: transitionPick(['l1.h'], ['l1.h']) },
  { of: 'l1.h@t', wrt: 'l0.h@t', expected: (_l, steps, t) => at(steps, t).layerJ[1]['h|x'] },
  { of: 'l0.h@t', wrt: 'x@t', expected: (_l, steps, t) => at(steps, t).layerJ[0]['h|x'] },
  { of: 'l1.h@t', wrt: 'x@t', expected: (l, steps, t) => pickStates(l, netJacobians(l, at(steps, t)).input, at(steps, t), ['l1.h'], null) },
  { of: 'l1.h@t', wrt: 'l0.h@t-1', expected: transitionPick(['l1.h'], ['l0.h']) },
  { of: 'state@t', wrt: 'state@t-1', expected: transitionPick(null, null) },
  { of: 'state@T', wrt: 'state@0', expected: (l, steps) => netProduct(l, steps, 0, steps.length) },
  { of: 'l1.h@T', wrt: 'l0.h@0', expected: (l, steps) => pickStates(l, netProduct(l, steps, 0, steps.length), steps[0], ['l1.h'], ['l0.h']) },
];

const CASES: { name: string; layers: LayerConfig[]; pairs: Pair[] }[] = [
  {
    name: 'lstm→lstm',
    layers: [{ cell: 'lstm', units: 5 }, { cell: 'lstm', units: 4 }],
    pairs: [
      ...COMMON,
      { of: 'l0.(h,c)@t', wrt: 'l0.(h,c)@t-1', expected: transitionPick(['l0.h', 'l0.c'], ['l0.h', 'l0.c']) },
      { of: 'l1.(c,h)@t', wrt: '(l0.c,l1.h)@t-1', expected: transitionPick(['l1.c', 'l1.h'], ['l0.c', 'l1.h']) },
      { of: 'l1.state@t', wrt: 'l1.state@t-2', expected: (l, steps, t) => pickStates(l, netProduct(l, steps, t - 2, t), steps[0], ['l1.h', 'l1.c'], ['l1.h', 'l1.c']) },
    ],
  },
  {
    name: 'gru→simple_rnn',
    layers: [{ cell: 'gru', units: 4 }, { cell: 'simple_rnn', units: 5 }],
    pairs: COMMON,
  },
  {
    name: 'simple_rnn→gru→lstm (relu, hard_sigmoid)',
    layers: [{ cell: 'simple_rnn', units: 3, activation: 'relu' }, { cell: 'gru', units: 4 }, { cell: 'lstm', units: 3, recurrentActivation: 'hard_sigmoid' }],
    pairs: [...COMMON, { of: 'l2.(h,c)@t', wrt: 'l0.h@t-1', expected: transitionPick(['l2.h', 'l2.c'], ['l0.h']) }],
  },
];

const RUN = { inputDim: 3, timeSteps: 4, batchSize: 2, seed: 11, diagnostics: ['mean', 'varTimesFanIn', 'frobenius'], initializers: { bias: 'random_normal' } };

function labels(pair: Pair, T: number): number[] {
  return pair.of.endsWith('@t') || pair.wrt.includes('@t') ? [...Array(T).keys()].map((k) => k + 1).filter((t) => !pair.wrt.endsWith('@t-2') || t >= 2) : [T];
}

async function run(c: (typeof CASES)[number], method: 'structured' | 'autodiff'): Promise<RunResult> {
  const spec = { ...networkSpec(RUN, c.layers, c.pairs.map((p) => [p.of, p.wrt])), method };
  return analyze(spec, { keepJacobiansMB: Infinity });
}

forEachBackend('stacked networks: Jacobians equal float64 closed forms', () => {
  for (const c of CASES) {
    it(`${c.name}: time, depth, input, joint-state and whole-network pairs`, async () => {
      const r = await run(c, 'structured');
      assert.deepEqual(r.report.layers?.map((l) => l.name), c.layers.map((_, i) => `l${i}`));
      const { refs, T, B, xs, init } = engineNetwork(r, c.layers);
      for (let b = 0; b < B; b++) {
        const steps = netRollout(refs, init(b), (t) => xs(t, b), T);
        const top = `l${c.layers.length - 1}.h`;
        const h = r.arrays.tensors.find((x) => x.name === top)!;
        const n = h.shape[2];
        for (let t = 1; t <= T; t++) assertClose(`${top}@${t}`, h.data, (t * B + b) * n, { rows: 1, cols: n, data: steps[t - 1].out[top] });
        c.pairs.forEach((pair, i) => {
          const rep = r.report.jacobians[i];
          assert.deepEqual(rep.steps.map((s) => s.t), labels(pair, T), `${pair.of} wrt ${pair.wrt}: step labels`);
          rep.steps.forEach((s, k) => {
            const m = pair.expected(refs, steps, s.t);
            assert.deepEqual([rep.outDim, rep.inDim], [m.rows, m.cols], `${pair.of} wrt ${pair.wrt}: shape`);
            assertClose(`${c.name} ${pair.of} wrt ${pair.wrt} t=${s.t} b=${b}`, r.arrays.pairs[i].jacobians!, (k * B + b) * m.rows * m.cols, m);
          });
        });
      }
    });
  }
});

forEachBackend('stacked networks: the whole-network transition equals finite differences', () => {
  for (const c of CASES) {
    it(`${c.name}: state@t wrt state@t-1`, async () => {
      const r = await run({ ...c, pairs: [COMMON[5]] }, 'structured');
      const { refs, T, B, xs, init } = engineNetwork(r, c.layers);
      const names = stateNames(refs);
      for (let b = 0; b < B; b++) {
        const steps = netRollout(refs, init(b), (t) => xs(t, b), T);
        for (let t = 1; t <= T; t++) {
          const prev = steps[t - 1].prev;
          const dims = names.map((n) => prev[n].length);
          const flat = Float64Array.from(names.flatMap((n) => [...prev[n]]));
          const split = (v: Float64Array) => {
            let o = 0;
            return Object.fromEntries(names.map((n, k) => [n, v.slice(o, (o += dims[k]))]));
          };
          const fd = finiteDifference((v) => {
            const out = netStep(refs, split(v), steps[t - 1].x).out;
            return Float64Array.from(names.flatMap((n) => [...out[n]]));
          }, flat);
          const D = flat.length;
          assertClose(`${c.name} FD state@${t} wrt state@${t - 1} b=${b}`, r.arrays.pairs[0].jacobians!, ((t - 1) * B + b) * D * D, fd);
        }
      }
    });
  }
});

forEachBackend('stacked networks: structured and autodiff agree', () => {
  for (const c of CASES) {
    it(`${c.name}: every pair to 1e-5·max|J|`, async () => {
      const s = await run(c, 'structured');
      const a = await run(c, 'autodiff');
      s.arrays.pairs.forEach((p, i) => {
        const scale = Math.max(maxAbs(p.jacobians!), 1e-12);
        let worst = 0;
        p.jacobians!.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - a.arrays.pairs[i].jacobians![k]))));
        assert.ok(worst <= 1e-5 * scale, `${c.name} ${c.pairs[i].of} wrt ${c.pairs[i].wrt}: differ by ${worst.toExponential(3)}`);
      });
    });
  }
});

describe('stacked networks: names', () => {
  it('an unknown layer tensor, a tensor named twice and a mixed wrt are located config errors', async () => {
    const c = CASES[0];
    for (const [of, wrt, path, fragment] of [
      ['l2.h@t', 'l1.h@t-1', 'jacobians[0].of', 'unknown tensor "l2.h"'],
      ['l0.(h,h)@t', 'l0.h@t-1', 'jacobians[0].of', 'names a tensor twice'],
      ['l1.h@t', '(l0.h,l0.z)@t-1', 'jacobians[0].wrt', 'mixes states with other tensors'],
    ]) {
      const spec = networkSpec(RUN, c.layers, [[of, wrt]]);
      await assert.rejects(analyze(spec), (e: Error & { issues?: { path: string; message: string }[] }) => {
        assert.equal(e.issues?.[0].path, path);
        assert.ok(e.issues![0].message.includes(fragment), e.issues![0].message);
        return true;
      });
    }
  });
});

forEachBackend('one cell: joint states are the blocks of the single-state pairs', () => {
  it('lstm (h,c)@t wrt (h,c)@t-1 and state@t wrt state@t-1 = [[∂h/∂h, ∂h/∂c], [∂c/∂h, ∂c/∂c]]', async () => {
    const { parseConfig } = await import('../../src/engine');
    const base = parseConfig(JSON.stringify({ ...RUN, cell: 'lstm', units: 4 }), '/tmp/rnn-jacobian-lab-test.jacobian.json');
    const pairs = [['(h,c)@t', '(h,c)@t-1'], ['state@t', 'state@t-1'], ['h@t', 'h@t-1'], ['h@t', 'c@t-1'], ['c@t', 'h@t-1'], ['c@t', 'c@t-1']];
    const spec = { ...base, jacobians: pairs.map(([of, wrt], i) => ({ of, wrt, path: `jacobians[${i}]` })) };
    for (const method of ['structured', 'autodiff'] as const) {
      const r = await analyze({ ...spec, method }, { keepJacobiansMB: Infinity });
      const n = 4;
      const N = r.report.jacobians[2].steps.length * r.report.batchSize;
      for (let k = 0; k < N; k++) {
        const block = (i: number) => r.arrays.pairs[i].jacobians!.subarray(k * n * n, (k + 1) * n * n);
        const joint = new Float64Array(4 * n * n);
        [[2, 0, 0], [3, 0, n], [4, n, 0], [5, n, n]].forEach(([i, r0, c0]) => {
          const b = block(i);
          for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) joint[(r0 + a) * 2 * n + c0 + c] = b[a * n + c];
        });
        for (const i of [0, 1]) assertClose(`${method} ${pairs[i].join(' wrt ')} #${k}`, r.arrays.pairs[i].jacobians!, k * 4 * n * n, { rows: 2 * n, cols: 2 * n, data: joint });
      }
    }
  });
});
