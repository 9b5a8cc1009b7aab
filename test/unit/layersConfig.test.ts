// `layers` in a config: a stacked network validated by the four stages (schema, names qualified by layer,
// unique layer names, defaults per layer's cell), every problem located; and the example runs end to end.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { analyze, analyzeFile, parseConfig, UserError } from '../../src/engine';
import { repoRoot } from './helpers/repo';
import { TEST_CONFIG } from './helpers/network';

function issuesOf(config: Record<string, unknown>): { path: string; message: string }[] {
  try {
    parseConfig(JSON.stringify(config), TEST_CONFIG);
  } catch (e) {
    if (e instanceof UserError) return e.issues.map((i) => ({ path: i.path, message: i.message }));
    throw e;
  }
  return [];
}

const TWO = { layers: [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3, name: 'top', activation: 'relu' }], inputDim: 2, timeSteps: 3 };

describe('config: layers', () => {
  it('each layer gets its own cell defaults and name; lyapunov settings are kept; the first layer is the top-level cell', () => {
    const spec = parseConfig(JSON.stringify({ ...TWO, diagnostics: ['lyapunov'], lyapunov: { exponents: 3, every: 2 }, jacobians: [{ of: 'top.h@t', wrt: 'l0.(h,c)@t-1' }, { of: 'state@t', wrt: 'state@t-1' }] }), TEST_CONFIG);
    assert.deepEqual(spec.layers!.map((l) => [l.name, l.cell, l.units, l.activation, l.initializers.recurrentKernel.name, l.path]), [
      ['l0', 'lstm', 4, 'tanh', 'orthogonal', 'layers[0]'],
      ['top', 'gru', 3, 'relu', 'orthogonal', 'layers[1]'],
    ]);
    assert.deepEqual([spec.cell, spec.units, spec.inputDim], ['lstm', 4, 2]);
    assert.deepEqual(spec.lyapunov, { exponents: 3, every: 2 });
  });

  it('problems are located: cell beside layers, a custom layer, an unknown layer tensor, a shared name, no inputDim', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...TWO, cell: 'lstm' }, 'cell', /not allowed|must not|unexpected/i],
      [{ ...TWO, layers: [{ cell: 'custom', units: 3 }] }, 'layers[0].cell', /seed|simple_rnn|lstm|gru/],
      [{ ...TWO, jacobians: [{ of: 'l2.h@t', wrt: 'l0.h@t-1' }] }, 'jacobians[0].of', /unknown tensor "l2.h" in the network/],
      [{ ...TWO, jacobians: [{ of: 'l0.(h,q)@t', wrt: 'l0.h@t-1' }] }, 'jacobians[0].of', /unknown tensor "l0.q"/],
      [{ ...TWO, layers: [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3, name: 'l0' }] }, 'layers[1].name', /also layer 0's/],
      [{ layers: TWO.layers }, 'inputDim', /missing required key "inputDim"/],
    ];
    for (const [config, path, pattern] of cases) {
      const issues = issuesOf(config);
      const hit = issues.find((i) => i.path === path);
      assert.ok(hit && pattern.test(hit.message), `${JSON.stringify(config)}: expected ${pattern} at ${path}, got ${JSON.stringify(issues)}`);
    }
  });

  it('a layer from a trained Keras model takes its Keras name and its weights; the layer above draws its own', async () => {
    const model = join(repoRoot(), 'test/fixtures/models/lstm/model.json');
    const config = { layers: [{ cell: 'lstm', units: 4, weights: { model, layer: 'lstm' } }, { cell: 'gru', units: 3 }], inputDim: 3, timeSteps: 2, jacobians: [{ of: 'l1.h@t', wrt: 'lstm.h@t' }] };
    const spec = parseConfig(JSON.stringify(config), TEST_CONFIG);
    assert.deepEqual(spec.layers!.map((l) => l.name), ['lstm', 'l1']);
    const { readFileSync } = await import('node:fs');
    const { decodeNpz } = await import('../../src/engine/params/npy');
    const keras = decodeNpz(readFileSync(join(repoRoot(), 'test/fixtures/models/lstm/weights.npz')), 'weights.npz');
    const r = await analyze(spec);
    const saved = r.arrays.tensors.find((t) => t.name === 'lstm/recurrent_kernel')!;
    assert.deepEqual([...saved.data], [...keras.get('recurrent_kernel')!.data], 'the loaded recurrent kernel, under its per-layer Keras name');
    assert.ok(r.arrays.tensors.some((t) => t.name === 'l1/kernel'));
  });

  it('a single layer is qualified too (l0.h), as its config names it', async () => {
    const config = { layers: [{ cell: 'gru', units: 3 }], inputDim: 2, timeSteps: 2, jacobians: [{ of: 'l0.h@t', wrt: 'l0.h@t-1' }] };
    const r = await analyze(parseConfig(JSON.stringify(config), TEST_CONFIG));
    assert.deepEqual([r.report.jacobians[0].of, r.report.jacobians[0].outDim], ['l0.h@t', 3]);
    assert.ok(r.arrays.tensors.some((t) => t.name === 'l0/recurrent_kernel'));
  });

  it('examples/two-layer.jacobian.json runs: every pair, the series and the layers in the report', async function () {
    this.timeout(300000);
    const r = await analyzeFile(join(repoRoot(), 'examples/two-layer.jacobian.json'), { keepJacobiansMB: 0 });
    assert.deepEqual(r.report.layers!.map((l) => `${l.name}:${l.cell}:${l.units}:${l.inputDim}`), ['l0:lstm:32:8', 'l1:gru:24:32']);
    const byPair = new Map(r.report.jacobians.map((p) => [`${p.of} wrt ${p.wrt}`, p]));
    assert.equal(byPair.get('state@t wrt state@t-1')!.outDim, 32 + 32 + 24);
    assert.ok(byPair.get('state@t wrt state@t-1')!.lyapunov!.exponents.length === 16);
    assert.ok(Number.isFinite(byPair.get('l0.(h,c)@t wrt l0.(h,c)@t-1')!.gradient!.rate.spectral));
    assert.ok(byPair.get('l1.h@t wrt l0.h@t')!.expected, 'a depth pair has a prediction');
  });
});
