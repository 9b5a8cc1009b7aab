// Trained weights from PyTorch and Keras 3 files, made by the frameworks themselves (test/fixtures/models/
// make_framework_models.py): the loaded weights equal the framework's (in Keras's layout, mapped by numpy in
// the script), and the engine's states and Jacobians equal the framework's own rollout and autograd /
// GradientTape Jacobians, saved beside each model, to 1e-5·max|J| — on every backend.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText, type RunResult } from '../../src/engine';
import { decodeNpy, type NpyArray } from '../../src/engine/params/npy';
import { WeightsFileError } from '../../src/engine/params/formats/binary';
import type { LayerSummary } from '../../src/engine/params/formats/layer';
import { inspectWeightsFile } from '../../src/engine/params/weights';
import { forEachBackend } from './helpers/backends';
import { repoRoot } from './helpers/repo';

const MODELS = join(repoRoot(), 'test', 'fixtures', 'models');
const T = 5;
const B = 2;

interface Meta {
  cell: 'simple_rnn' | 'lstm' | 'gru';
  units: number;
  inputDim: number;
  activation: string;
  weights: Record<string, string>;
}

type Json = Record<string, unknown>;

const npy = (file: string): NpyArray => decodeNpy(readFileSync(file), file);

function fixture(framework: string, name: string): { dir: string; meta: Meta } {
  const dir = join(MODELS, framework, name);
  return { dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta };
}

/** Every pair the reference holds: J_<of>_<wrt>.npy at each step, and J_hT_h0.npy. */
function pairsOf(cell: Meta['cell']): { of: string; wrt: string; ref: string }[] {
  const out = [
    { of: 'h@t', wrt: 'h@t-1', ref: 'J_h_h' },
    { of: 'h@t', wrt: 'x@t', ref: 'J_h_x' },
    { of: 'h@T', wrt: 'h@0', ref: 'J_hT_h0' },
  ];
  if (cell === 'lstm') out.push({ of: 'c@t', wrt: 'c@t-1', ref: 'J_c_c' }, { of: 'c@t', wrt: 'h@t-1', ref: 'J_c_h' }, { of: 'h@t', wrt: 'c@t-1', ref: 'J_h_c' });
  return out;
}

/** A config replaying the fixture's reference: its inputs, initial states and weights (file made absolute). */
function replay(dir: string, meta: Meta, weights: Json, extra: Json = {}): Json {
  const ref = join(dir, 'reference');
  const states = meta.cell === 'lstm' ? { h: { file: join(ref, 'h0.npy') }, c: { file: join(ref, 'c0.npy') } } : { h: { file: join(ref, 'h0.npy') } };
  return {
    cell: meta.cell,
    units: meta.units,
    inputDim: meta.inputDim,
    activation: meta.activation,
    timeSteps: T,
    batchSize: B,
    weights,
    inputs: { file: join(ref, 'x.npy') },
    initialState: states,
    jacobians: pairsOf(meta.cell).map(({ of, wrt }) => ({ of, wrt })),
    diagnostics: ['mean', 'frobenius'],
    ...extra,
  };
}

function absoluteWeights(dir: string, weights: Record<string, string>, file?: string): Json {
  const key = 'torch' in weights ? 'torch' : 'keras';
  return { ...weights, [key]: join(dir, file ?? weights[key]!) };
}

async function run(config: Json): Promise<RunResult> {
  return analyzeText(JSON.stringify(config, null, 2), join(tmpdir(), 'frameworks.jacobian.json'), { keepJacobiansMB: Infinity });
}

function tensor(r: RunResult, name: string) {
  const t = r.arrays.tensors.find((x) => x.name === name);
  assert.ok(t, `no tensor ${name}`);
  return t;
}

function assertClose(label: string, engine: ArrayLike<number>, offset: number, ref: ArrayLike<number>, tol: number): void {
  let scale = 1e-12;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]!));
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(engine[offset + i]! - ref[i]!);
    assert.ok(e <= tol * scale, `${label}: entry ${i}: ${engine[offset + i]} vs ${ref[i]} (|Δ| ${e.toExponential(2)} > ${tol}·${scale.toExponential(2)})`);
  }
  assert.ok(engine.length >= offset + ref.length, `${label}: the engine has ${engine.length - offset} values, the reference ${ref.length}`);
}

/** Weights, states and Jacobians against the framework's own, saved beside the model. */
function assertMatchesFramework(r: RunResult, dir: string, meta: Meta): void {
  const ref = join(dir, 'reference');
  for (const name of ['kernel', 'recurrent_kernel', 'bias']) {
    const want = npy(join(ref, `${name}.npy`));
    const got = tensor(r, name);
    assert.deepEqual(got.shape, want.shape, `${name} shape`);
    assert.deepEqual([...got.data], [...want.data], `${name}: the loaded weights are the framework's, bit for bit`);
  }
  const size = B * meta.units;
  for (const s of meta.cell === 'lstm' ? ['h', 'c'] : ['h']) {
    const engine = tensor(r, s);
    assert.deepEqual([...engine.data.subarray(0, size)], [...npy(join(ref, `${s}0.npy`)).data], `${s}@0`);
    assertClose(`${s}@1..${T} vs the framework`, engine.data, size, npy(join(ref, `${s}.npy`)).data, 1e-5);
  }
  pairsOf(meta.cell).forEach((pair, i) => {
    const want = npy(join(ref, `${pair.ref}.npy`));
    const got = r.arrays.pairs[i]!.jacobians!;
    assert.equal(got.length, want.data.length, `${pair.of} wrt ${pair.wrt}: size`);
    assertClose(`${pair.of} wrt ${pair.wrt} vs the framework's autograd`, got, 0, want.data, 1e-5);
  });
}

/** The one-layer models (lstm_2layers has its own test). */
const frameworkModels = (framework: string) => readdirSync(join(MODELS, framework)).filter((n) => !('layers' in fixture(framework, n).meta)).sort();

/** nn.LSTM(num_layers=2) as a stacked network: each layer from its layerIndex, against PyTorch's own module. */
async function assertStackedTorch(): Promise<void> {
  const { dir, meta } = fixture('torch', 'lstm_2layers');
  const ref = join(dir, 'reference');
  const layer = (index: number) => ({ cell: 'lstm', units: meta.units, weights: { ...absoluteWeights(dir, meta.weights), layerIndex: index } });
  const pairs = [
    { of: 'l0.h@t', wrt: 'l0.h@t-1', ref: 'J_l0h_l0h' },
    { of: 'l1.h@t', wrt: 'l1.h@t-1', ref: 'J_l1h_l1h' },
    { of: 'l1.h@t', wrt: 'l0.h@t', ref: 'J_l1h_l0h' },
    { of: 'l1.h@T', wrt: 'l0.h@0', ref: 'J_l1hT_l0h0' },
  ];
  const states = ['l0.h', 'l0.c', 'l1.h', 'l1.c'];
  const r = await run({
    layers: [layer(0), layer(1)],
    inputDim: meta.inputDim,
    timeSteps: T,
    batchSize: B,
    inputs: { file: join(ref, 'x.npy') },
    initialState: { distribution: 'zeros' },
    jacobians: pairs.map(({ of, wrt }) => ({ of, wrt })),
    diagnostics: ['mean'],
  });
  const size = B * meta.units;
  for (const s of states) assertClose(`${s}@1..${T} vs PyTorch`, tensor(r, s).data, size, npy(join(ref, `${s}.npy`)).data, 1e-5);
  pairs.forEach((pair, i) => assertClose(`${pair.of} wrt ${pair.wrt} vs PyTorch's autograd`, r.arrays.pairs[i]!.jacobians!, 0, npy(join(ref, `${pair.ref}.npy`)).data, 1e-5));
}

forEachBackend('trained weights from PyTorch and Keras 3 files: the frameworks\' own states and Jacobians', () => {
  for (const name of frameworkModels('torch')) {
    it(`PyTorch ${name}`, async () => {
      const { dir, meta } = fixture('torch', name);
      assertMatchesFramework(await run(replay(dir, meta, absoluteWeights(dir, meta.weights))), dir, meta);
    });
  }
  for (const name of frameworkModels('keras3')) {
    it(`Keras 3 ${name} (.keras)`, async () => {
      const { dir, meta } = fixture('keras3', name);
      assertMatchesFramework(await run(replay(dir, meta, absoluteWeights(dir, meta.weights))), dir, meta);
    });
  }
  for (const file of ['model.weights.h5', 'model.h5']) {
    it(`Keras 3 lstm (${file})`, async () => {
      const { dir, meta } = fixture('keras3', 'lstm');
      assertMatchesFramework(await run(replay(dir, meta, absoluteWeights(dir, meta.weights, file))), dir, meta);
    });
  }
  it('PyTorch nn.LSTM(num_layers=2): each layer into a layer of a stacked network ("layerIndex"), states and Jacobians PyTorch\'s', assertStackedTorch);
  it('"cell": "auto" takes cell, units and inputDim from the file (PyTorch GRU, Keras 3 LSTM)', async () => {
    for (const [framework, name] of [['torch', 'gru'], ['keras3', 'lstm']] as const) {
      const { dir, meta } = fixture(framework, name);
      const config = replay(dir, meta, absoluteWeights(dir, meta.weights), { cell: 'auto' });
      delete config.units;
      delete config.inputDim;
      delete config.activation;
      const r = await run(config);
      assert.equal(r.report.cell, meta.cell);
      assert.equal(r.report.units, meta.units);
      assert.equal(r.report.inputDim, meta.inputDim);
      assertMatchesFramework(r, dir, meta);
    }
  });
});

describe('trained weights: inspectWeightsFile (for "New Jacobian Config… from a trained model") and the examples', () => {
  const cases: [string, string, string, Partial<LayerSummary>][] = [
    ['torch/lstm/model.pt', 'torch', 'torch', { name: 'encoder.rnn', className: 'nn.LSTM', cell: 'lstm', units: 4, inputDim: 3 }],
    ['torch/gru_cell/model.safetensors', 'safetensors', 'torch', { name: 'cell', className: 'nn.GRUCell', cell: 'gru', units: 4, inputDim: 3 }],
    ['keras3/gru/model.keras', 'keras', 'keras', { name: 'rec_gru', className: 'GRU', cell: 'gru', units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true }],
    ['keras3/lstm/model.weights.h5', 'keras-h5', 'keras', { name: 'rec_lstm', className: 'LSTM', cell: 'lstm', units: 4, inputDim: 3 }],
    ['keras3/lstm/model.h5', 'keras-h5', 'keras', { name: 'rec_lstm', className: 'LSTM', cell: 'lstm', units: 4, inputDim: 3 }],
    ['lstm/model.json', 'tfjs', 'model', { name: 'lstm', className: 'LSTM', cell: 'lstm', units: 4, inputDim: 3 }],
  ];
  for (const [file, format, configKey, layer] of cases) {
    it(`${file}: ${format}, loaded with "${configKey}", one recurrent layer`, async () => {
      const summary = await inspectWeightsFile(join(MODELS, file));
      assert.equal(summary.format, format);
      assert.equal(summary.configKey, configKey);
      assert.equal(summary.layers.length, 1);
      for (const [key, value] of Object.entries(layer)) assert.equal(summary.layers[0]![key as keyof LayerSummary], value, key);
    });
  }

  it('a file of no known format is a WeightsFileError naming it', async () => {
    await assert.rejects(inspectWeightsFile(join(MODELS, 'make_framework_models.py')), (e: Error) => e instanceof WeightsFileError && /is not a weights file of a known format/.test(e.message));
  });

  for (const [example, cell] of [['torch-lstm-trained', 'lstm'], ['keras-gru-trained', 'gru']]) {
    it(`examples/${example}.jacobian.json runs on its trained model`, async () => {
      const file = join(repoRoot(), 'examples', `${example}.jacobian.json`);
      const r = await analyzeText(readFileSync(file, 'utf8'), file);
      assert.equal(r.report.cell, cell);
      assert.equal(r.report.units, 8);
      assert.equal(r.report.jacobians.length, 3);
    });
  }
});
