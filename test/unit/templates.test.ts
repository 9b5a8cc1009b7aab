// "New Jacobian Config…": every template is a valid config that runs clean on every backend; the built-in
// cells' templates are exactly the examples in examples/ (so the walkthrough's seed is the README's seed);
// the "from a trained model" template takes cell, units, inputDim and the `weights` block from the model, checked
// against what the framework saved: a tfjs model's weights.npz (read by our own decoder, not by tfjs), and for
// PyTorch and Keras 3 files the meta.json make_framework_models.py wrote from the framework's own module.
import { strict as assert } from 'node:assert';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { analyzeText, type RunResult } from '../../src/engine';
import { TEMPLATES, templateConfig, templateText, trainedProblem, type TemplateId, type TemplateOptions } from '../../src/engine/config/templates';
import { UserError } from '../../src/engine/errors';
import { inspectModel, isModelFileName, MODEL_FILES, type ModelInspection, type RecurrentLayer } from '../../src/engine/params/inspect';
import { WEIGHT_FORMATS } from '../../src/engine/params/formats/registry';
import { decodeNpz } from '../../src/engine/params/npy';
import { forEachBackend } from './helpers/backends';
import { frameworkFixture, frameworkFixtureNames, MODELS } from './helpers/frameworkModels';
import { repoRoot } from './helpers/repo';

const EXAMPLE_SCHEMA = '../schemas/jacobian-config.schema.json';
const TRAINED = ['lstm', 'gru', 'simple_rnn'];

/** A model file under test/fixtures/models, with what its maker says it is (tfjs models: their own name). */
interface TrainedFixture {
  /** Relative to test/fixtures/models. */
  file: string;
  cell: RecurrentLayer['cell'];
  /** The `weights` block the maker loads it with, its file relative to the model's folder. */
  weights?: Record<string, string>;
  units?: number;
  inputDim?: number;
  layers?: number;
}

/** Every committed model file: the tfjs model.json files, and every PyTorch and Keras 3 file of every fixture. */
function trainedFixtures(): TrainedFixture[] {
  const tfjs = TRAINED.map((name) => ({ file: `${name}/model.json`, cell: name as RecurrentLayer['cell'] }));
  const framework = ['torch', 'keras3'].flatMap((fw) =>
    frameworkFixtureNames(fw).flatMap((name) => {
      const { dir, meta } = frameworkFixture(fw, name);
      const key = fw === 'torch' ? 'torch' : 'keras';
      const files = fw === 'torch' ? [meta.weights[key]!] : ['model.keras', 'model.weights.h5', 'model.h5'].filter((f) => existsSync(join(dir, f)));
      return files.map((f) => ({
        file: `${fw}/${name}/${f}`, cell: meta.cell, units: meta.units, inputDim: meta.inputDim,
        weights: { ...meta.weights, [key]: f }, ...(meta.layers ? { layers: meta.layers } : {}),
      }));
    }),
  );
  return [...tfjs, ...framework];
}

async function onlyLayer(file: string): Promise<{ layer: RecurrentLayer; configKey: ModelInspection['configKey'] }> {
  const inspection = await inspectModel(join(MODELS, file));
  assert.equal(inspection.layers.length, 1, `${file}: ${JSON.stringify(inspection.layers)}`);
  return { layer: inspection.layers[0], configKey: inspection.configKey };
}

/** Writes the template into a fresh folder (a model named relative to it) and runs it. */
async function runTemplate(id: TemplateId, model?: string): Promise<{ result: RunResult; config: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-template-'));
  try {
    const file = join(dir, TEMPLATES.find((t) => t.id === id)!.fileName);
    const options: TemplateOptions = { schema: EXAMPLE_SCHEMA };
    if (model) {
      const { layer, configKey } = await onlyLayer(model);
      options.model = { path: relative(dir, join(MODELS, model)), configKey, layers: [layer] };
    }
    const text = templateText(id, options);
    writeFileSync(file, text);
    return { result: await analyzeText(text, file, { keepJacobiansMB: 64 }), config: JSON.parse(text) as Record<string, unknown> };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** Every pair the config asked for is there, in order, with a finite varTimesFanIn at every step and batch element. */
function assertClean(result: RunResult, config: Record<string, unknown>): void {
  const asked = config.jacobians as { of: string; wrt: string }[];
  assert.deepEqual(result.report.jacobians.map((p) => `${p.of} wrt ${p.wrt}`), asked.map((p) => `${p.of} wrt ${p.wrt}`));
  for (const pair of result.report.jacobians) {
    assert.ok(pair.steps.length > 0, `${pair.of} wrt ${pair.wrt}: no steps`);
    for (const step of pair.steps) {
      assert.equal(step.varTimesFanIn.length, config.batchSize);
      for (const value of [...step.varTimesFanIn, ...(step.spectralRadius ?? []), ...(step.spectralNorm ?? [])]) {
        assert.ok(Number.isFinite(value), `${pair.of} wrt ${pair.wrt} step ${step.t}: ${value}`);
      }
    }
  }
}

describe('templates: the built-in cells are the examples', () => {
  for (const id of ['seed', 'lstm', 'gru', 'simple_rnn'] as const) {
    const info = TEMPLATES.find((t) => t.id === id)!;
    it(`${info.label} is examples/${info.fileName}`, () => {
      const example = readFileSync(join(repoRoot(), 'examples', info.fileName), 'utf8');
      assert.equal(templateText(id, { schema: EXAMPLE_SCHEMA }), example);
    });
  }
  it('every template has its own file name ending in .jacobian.json', () => {
    const names = TEMPLATES.map((t) => t.fileName);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[\w-]+\.jacobian\.json$/);
  });
});

describe('inspectModel: a trained model\'s recurrent layers, every format through the registry', () => {
  for (const model of TRAINED) {
    it(`tfjs ${model}: cell, units and inputDim agree with the shapes of Keras's own weights`, async () => {
      const { layer, configKey } = await onlyLayer(`${model}/model.json`);
      const weights = decodeNpz(readFileSync(join(MODELS, model, 'weights.npz')), model);
      const kernel = weights.get('kernel')!;
      const recurrent = weights.get('recurrent_kernel')!;
      const gates = { lstm: 4, gru: 3, simple_rnn: 1 }[layer.cell];
      assert.equal(configKey, 'model');
      assert.equal(layer.cell, model);
      assert.equal(layer.units, recurrent.shape[0]);
      assert.equal(layer.units * gates, recurrent.shape[1]);
      assert.equal(layer.inputDim, kernel.shape[0]);
      assert.equal(layer.unsupported, undefined);
      assert.equal(layer.useBias, weights.has('bias'));
    });
  }
  for (const fixture of trainedFixtures().filter((f) => f.weights)) {
    it(`${fixture.file}: cell, units, inputDim and the weights block are what the framework saved`, async () => {
      const { layer, configKey } = await onlyLayer(fixture.file);
      assert.equal(layer.unsupported, undefined);
      assert.deepEqual([layer.cell, layer.units, layer.inputDim, layer.numLayers], [fixture.cell, fixture.units, fixture.inputDim, fixture.layers]);
      const config = templateConfig('model', { schema: EXAMPLE_SCHEMA, model: { path: basename(fixture.file), configKey, layers: [layer] } });
      if (fixture.layers) {
        const layers = config.layers as { weights: unknown }[];
        assert.deepEqual(layers.map((l) => l.weights), layers.map((_, k) => ({ ...fixture.weights, layerIndex: k })));
      } else {
        assert.deepEqual(config.weights, fixture.weights);
      }
    });
  }
  it('a reset_after=False GRU is listed, with why it cannot be loaded, and gets no template', async () => {
    const { layer, configKey } = await onlyLayer('gru_reset_before/model.json');
    assert.match(layer.unsupported ?? '', /reset_after/);
    assert.throws(() => templateConfig('model', { schema: EXAMPLE_SCHEMA, model: { path: 'model.json', configKey, layers: [layer] } }), /reset_after/);
  });
  it('MODEL_FILES lists every extension of every registered format with layers', () => {
    for (const format of WEIGHT_FORMATS.filter((f) => f.read)) {
      for (const ext of format.extensions) {
        assert.ok(MODEL_FILES.extensions.includes(ext.slice(1)), `${format.id} ${ext}`);
        assert.ok(MODEL_FILES.glob.includes(ext.slice(1)), `${format.id} ${ext} in ${MODEL_FILES.glob}`);
      }
    }
    for (const ext of ['json', 'pt', 'pth', 'safetensors', 'keras', 'h5']) assert.ok(MODEL_FILES.extensions.includes(ext), ext);
    assert.ok(isModelFileName('/w/m/model.pt') && isModelFileName('/w/m/model.json') && !isModelFileName('/w/package.json') && !isModelFileName('/w/m/group1-shard1of1.bin'));
  });
  it('a file that is not a model is a UserError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-inspect-'));
    try {
      copyFileSync(join(MODELS, 'torch', 'gru', 'model.pt'), join(dir, 'truncated.pt'));
      writeFileSync(join(dir, 'truncated.pt'), readFileSync(join(dir, 'truncated.pt')).subarray(0, 200));
      const cases: [string, string | undefined, RegExp][] = [
        ['graph.json', JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }), /graph model/i],
        ['other.json', JSON.stringify({ name: 'not a model' }), /LayersModel|modelTopology/],
        ['broken.json', '{ "modelTopology": ', /JSON/],
        ['weights.bin', 'xx', /not a weights file of a known format/],
        ['noise.keras', 'PK not really a zip', /not a weights file of a known format|zip/i],
        ['truncated.pt', undefined, /zip|truncated|end of central directory|not a weights file/i],
      ];
      for (const [name, text, message] of cases) {
        const file = join(dir, name);
        if (text !== undefined) writeFileSync(file, text);
        await assert.rejects(inspectModel(file), (e: unknown) => e instanceof UserError && e.issues[0].file === file && message.test(e.issues[0].message) ? true : assert.fail(`${name}: ${String(e instanceof UserError ? e.issues[0].message : e)}`));
      }
      await assert.rejects(inspectModel(join(dir, 'missing.pt')), (e: unknown) => e instanceof UserError && /cannot open|no such file|not found/i.test(e.issues[0].message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The lstm fixture with a second LSTM layer "lstm_2" (4 → 4 units) stacked on it, its weights in a second shard:
 * a file holding several recurrent layers, which the template also writes as one network.
 */
function writeStackedTfjs(dir: string): string {
  cpSync(join(MODELS, 'lstm'), dir, { recursive: true });
  const file = join(dir, 'model.json');
  const model = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: { model_config: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } }; weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
  const layers = model.modelTopology.model_config.config.layers;
  const first = layers.findIndex((l) => l.class_name === 'LSTM');
  layers.splice(first + 1, 0, { class_name: 'LSTM', config: { ...layers[first].config, name: 'lstm_2', return_sequences: false } });
  const shapes: [string, number[]][] = [['kernel', [4, 16]], ['recurrent_kernel', [4, 16]], ['bias', [16]]];
  model.weightsManifest.push({ paths: ['group2-shard1of1.bin'], weights: shapes.map(([name, shape]) => ({ name: `lstm_2/lstm_cell/${name}`, shape, dtype: 'float32' })) });
  const count = shapes.reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  writeFileSync(join(dir, 'group2-shard1of1.bin'), Buffer.from(Float32Array.from({ length: count }, (_, i) => 0.3 * Math.sin(i + 1)).buffer));
  writeFileSync(file, JSON.stringify(model));
  return file;
}

describe('templates: a file with several recurrent layers', () => {
  it('lists them layer by layer, and writes them stacked as one network that runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-stacked-'));
    try {
      const inspection = await inspectModel(writeStackedTfjs(join(dir, 'model')));
      assert.deepEqual(inspection.layers.map((l) => [l.name, l.cell, l.units, l.inputDim]), [['lstm', 'lstm', 4, 3], ['lstm_2', 'lstm', 4, 4]]);
      assert.equal(trainedProblem(inspection.layers), undefined);
      const text = templateText('model', { schema: EXAMPLE_SCHEMA, model: { path: './model/model.json', configKey: 'model', layers: inspection.layers } });
      const config = JSON.parse(text) as { layers: { weights: unknown }[]; jacobians: unknown[]; batchSize: number };
      assert.deepEqual(config.layers.map((l) => l.weights), [{ model: './model/model.json', layer: 'lstm' }, { model: './model/model.json', layer: 'lstm_2' }]);
      const file = join(dir, 'stacked-trained.jacobian.json');
      writeFileSync(file, text);
      const result = await analyzeText(text, file, { keepJacobiansMB: 64 });
      assertClean(result, config);
      assert.equal(result.report.layers?.length, 2);
      // Layer 0 of the stack is the one-layer model: its time Jacobians are the single-layer template's.
      const single = await runTemplate('model', 'lstm/model.json');
      assert.deepEqual([...result.arrays.pairs[0]!.jacobians!], [...single.result.arrays.pairs[0]!.jacobians!]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('layers whose sizes do not chain are not stacked, and say why', async () => {
    const gru = (await onlyLayer('torch/gru/model.pt')).layer;
    const lstm = (await onlyLayer('lstm/model.json')).layer;
    assert.match(trainedProblem([gru, lstm]) ?? '', /takes inputs of size 3, but layer "rnn" before it has 4 units/);
    assert.throws(() => templateConfig('model', { schema: EXAMPLE_SCHEMA, model: { path: 'm', configKey: 'model', layers: [gru, lstm] } }), /do not stack/);
  });
});

forEachBackend('templates: every template runs clean', () => {
  for (const info of TEMPLATES.filter((t) => t.id !== 'model')) {
    it(`${info.label}`, async () => {
      const { result, config } = await runTemplate(info.id);
      assertClean(result, config);
      if (info.id === 'seed') {
        // The walkthrough says var·fan_in ≈ 0.5 for ReLU: the measurement sits on the run's own prediction.
        const pair = result.report.jacobians[0];
        for (const step of pair.steps) assert.ok(Math.abs(step.varTimesFanIn[0] - pair.expected!.varTimesFanIn) < 0.1, `step ${step.t}: ${step.varTimesFanIn[0]} vs ${pair.expected!.varTimesFanIn}`);
      }
    });
  }
  for (const fixture of trainedFixtures()) {
    it(`From a trained model… (${fixture.file})`, async () => {
      const { result, config } = await runTemplate('model', fixture.file);
      assertClean(result, config);
      const { layer } = await onlyLayer(fixture.file);
      if (fixture.layers) {
        assert.equal(result.report.layers?.length, fixture.layers);
      } else {
        assert.equal(result.report.cell, fixture.cell);
        assert.equal(result.report.units, layer.units);
      }
    });
  }
});
