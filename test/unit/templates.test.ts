// "New Jacobian Config…": every template is a valid config that runs clean on every backend; the built-in
// cells' templates are exactly the examples in examples/ (so the walkthrough's seed is the README's seed);
// the "from a trained model" template takes cell, units, inputDim and layer from the model, checked against
// the shapes of the layer's weights as numpy saved them (weights.npz, read by our own decoder, not by tfjs).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { analyzeText, type RunResult } from '../../src/engine';
import { TEMPLATES, templateConfig, templateText, type TemplateId, type TemplateOptions } from '../../src/engine/config/templates';
import { UserError } from '../../src/engine/errors';
import { inspectModel, type RecurrentLayer } from '../../src/engine/params/inspect';
import { decodeNpz } from '../../src/engine/params/npy';
import { forEachBackend } from './helpers/backends';
import { repoRoot } from './helpers/repo';

const MODELS = join(repoRoot(), 'test', 'fixtures', 'models');
const EXAMPLE_SCHEMA = '../schemas/jacobian-config.schema.json';
const TRAINED = ['lstm', 'gru', 'simple_rnn'];

function onlyLayer(model: string): RecurrentLayer {
  const inspection = inspectModel(join(MODELS, model, 'model.json'));
  assert.equal(inspection.layers.length, 1, `${model}: ${JSON.stringify(inspection.layers)}`);
  return inspection.layers[0];
}

/** Writes the template into a fresh folder (a model named relative to it) and runs it. */
async function runTemplate(id: TemplateId, model?: string): Promise<{ result: RunResult; config: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-template-'));
  try {
    const file = join(dir, TEMPLATES.find((t) => t.id === id)!.fileName);
    const options: TemplateOptions = { schema: EXAMPLE_SCHEMA };
    if (model) options.model = { path: relative(dir, join(MODELS, model, 'model.json')), layer: onlyLayer(model) };
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

describe('inspectModel: a trained model\'s recurrent layers', () => {
  for (const model of TRAINED) {
    it(`${model}: cell, units and inputDim agree with the shapes of Keras's own weights`, () => {
      const layer = onlyLayer(model);
      const weights = decodeNpz(readFileSync(join(MODELS, model, 'weights.npz')), model);
      const kernel = weights.get('kernel')!;
      const recurrent = weights.get('recurrent_kernel')!;
      const gates = { lstm: 4, gru: 3, simple_rnn: 1 }[layer.cell];
      assert.equal(layer.cell, model);
      assert.equal(layer.units, recurrent.shape[0]);
      assert.equal(layer.units * gates, recurrent.shape[1]);
      assert.equal(layer.inputDim, kernel.shape[0]);
      assert.equal(layer.unsupported, undefined);
      assert.equal(layer.useBias, weights.has('bias'));
    });
  }
  it('a reset_after=False GRU is listed, with why it cannot be loaded, and gets no template', () => {
    const layer = onlyLayer('gru_reset_before');
    assert.match(layer.unsupported ?? '', /reset_after=False/);
    assert.throws(() => templateConfig('model', { schema: EXAMPLE_SCHEMA, model: { path: 'model.json', layer } }), /reset_after=False/);
  });
  it('a file that is not a LayersModel is a UserError naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-inspect-'));
    try {
      const cases: [string, string, RegExp][] = [
        ['graph.json', JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }), /graph model has no layers/],
        ['other.json', JSON.stringify({ name: 'not a model' }), /not a TensorFlow\.js LayersModel/],
        ['broken.json', '{ "modelTopology": ', /not valid JSON/],
        ['weights.bin', 'xx', /not a model file this version reads/],
      ];
      for (const [name, text, message] of cases) {
        const file = join(dir, name);
        writeFileSync(file, text);
        assert.throws(() => inspectModel(file), (e: unknown) => e instanceof UserError && e.issues[0].file === file && message.test(e.issues[0].message));
      }
      assert.throws(() => inspectModel(join(dir, 'missing.json')), (e: unknown) => e instanceof UserError && /cannot open/.test(e.issues[0].message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
  for (const model of TRAINED) {
    it(`From a trained model… (${model})`, async () => {
      const { result, config } = await runTemplate('model', model);
      assertClean(result, config);
      assert.equal(result.report.cell, model);
      assert.equal(result.report.units, onlyLayer(model).units);
    });
  }
});
