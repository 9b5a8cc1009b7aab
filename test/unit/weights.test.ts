// Trained weights: real Keras models converted by tensorflowjs_converter (test/fixtures/models, made by
// make_models.py) load into the built-in and custom cells; the loaded weights equal Keras's own (its
// numpy arrays, saved beside the model), the rollout equals Keras's own cell step by step, and the
// Jacobians equal the float64 closed forms. Every mismatch is a located error at the `weights` key.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { zipSync } from 'fflate';
import { join } from 'node:path';
import { analyzeText, type RunResult } from '../../src/engine';
import { UserError, type SourceIssue } from '../../src/engine/errors';
import { parseRunConfig as parseConfig } from '../../src/engine/runConfig';
import { decodeNpy, decodeNpz, encodeNpy, type NpyArray } from '../../src/engine/params/npy';
import { weightsFiles } from '../../src/engine/params/weights';
import { forEachBackend } from './helpers/backends';
import { refCell, type Named, type Params, type RefCell } from './reference/cells';
import { blocks, identityMat, mat, matMul, subMatrix, type Mat } from './reference/float64';
import { repoRoot } from './helpers/repo';
import { npyWithDescr } from './helpers/npy';
import { assertClose } from './helpers/close';
import { runIssues, runOnlyIssue } from './helpers/issues';


const MODELS = join(repoRoot(), 'test', 'fixtures', 'models');
const UNITS = 4;
const INPUT_DIM = 3;
const T = 5;
const B = 2;

type Json = Record<string, unknown>;

const npy = (file: string): NpyArray => decodeNpy(readFileSync(file), file);
/** Keras's weights as numpy saved them from `layer.weights` (read by our .npz decoder, not by tfjs). */
const kerasWeights = (model: string): Map<string, NpyArray> => decodeNpz(readFileSync(join(MODELS, model, 'weights.npz')), model);

/** A config that replays make_models.py's reference rollout: its inputs and initial states. */
function replay(model: string, cell: string, extra: Json = {}): Json {
  const ref = join(MODELS, model, 'reference');
  const states = cell === 'lstm' ? { h: { file: join(ref, 'h0.npy') }, c: { file: join(ref, 'c0.npy') } } : { h: { file: join(ref, 'h0.npy') } };
  return {
    cell,
    units: UNITS,
    inputDim: INPUT_DIM,
    timeSteps: T,
    batchSize: B,
    weights: { model: join(MODELS, model, 'model.json'), layer: model.startsWith('gru') ? 'gru' : model === 'simple_rnn' ? 'rnn' : 'lstm' },
    inputs: { file: join(ref, 'x.npy') },
    initialState: states,
    diagnostics: ['mean', 'varTimesFanIn', 'frobenius'],
    ...extra,
  };
}

async function run(config: Json): Promise<RunResult> {
  return analyzeText(JSON.stringify(config, null, 2), join(tmpdir(), 'weights-test.jacobian.json'), { keepJacobiansMB: Infinity });
}

const tensor = (r: RunResult, name: string) => {
  const t = r.arrays.tensors.find((x) => x.name === name);
  assert.ok(t, `no tensor ${name}`);
  return t;
};

/** The loaded parameters are Keras's arrays, bit for bit. */
function assertKerasWeights(r: RunResult, model: string): void {
  const keras = kerasWeights(model);
  assert.ok(keras.size >= 2);
  for (const [name, arr] of keras) {
    const t = tensor(r, name);
    assert.deepEqual(t.shape, arr.shape, `${name} shape`);
    assert.deepEqual([...t.data], [...arr.data], `${name} values`);
  }
}

/** The engine's states after each step equal Keras's own cell, run step by step by make_models.py. */
function assertKerasTrajectory(r: RunResult, model: string, states: string[]): void {
  for (const s of states) {
    const keras = npy(join(MODELS, model, 'reference', `${s}.npy`)); // [T, B, u]
    const initial = npy(join(MODELS, model, 'reference', `${s}0.npy`)); // [B, u]
    const engine = tensor(r, s); // [T+1, B, u]
    assert.deepEqual(engine.shape, [T + 1, B, UNITS]);
    assert.deepEqual([...engine.data.subarray(0, B * UNITS)], [...initial.data], `${s}@0 is the file's`);
    // float32 both sides, summed in other orders: equal to a few ulps of the values.
    assertClose(`${s}@1..${T} vs Keras`, engine.data, B * UNITS, keras.data, 1e-5);
  }
}

/** Every Jacobian against the float64 closed forms of reference/cells.ts, at the engine's weights and inputs. */
function assertReferenceJacobians(r: RunResult, ref: RefCell): void {
  const params: Params = {};
  for (const t of r.arrays.tensors.filter((x) => x.kind === 'param')) params[t.name] = mat(t.shape[0], t.shape.length > 1 ? t.shape[1] : 1, t.data);
  const x = tensor(r, 'x');
  const n = UNITS;
  for (let b = 0; b < B; b++) {
    let prev: Named = Object.fromEntries(ref.states.map((s) => [s, Float64Array.from(tensor(r, s).data.subarray(b * n, (b + 1) * n))]));
    const steps: { prev: Named; out: Named; j: Record<string, Mat> }[] = [];
    for (let t = 1; t <= T; t++) {
      const xt = Float64Array.from(x.data.subarray(((t - 1) * B + b) * INPUT_DIM, ((t - 1) * B + b + 1) * INPUT_DIM));
      const out = ref.step(params, prev, xt);
      steps.push({ prev, out, j: ref.jacobians(params, prev, xt, out) });
      prev = Object.fromEntries(ref.states.map((s) => [s, out[s]]));
    }
    const transition = (j: Record<string, Mat>): Mat => {
      const get = (a: string, c: string) => j[`${a}|${c}_prev`] ?? mat(n, n);
      return ref.states.length === 1 ? get('h', 'h') : blocks(get('h', 'h'), get('h', 'c'), get('c', 'h'), get('c', 'c'));
    };
    r.report.jacobians.forEach((pair, i) => {
      const J = r.arrays.pairs[i].jacobians!;
      const size = pair.outDim * pair.inDim;
      const [of, ofTime] = pair.of.split('@');
      const [wrt, wrtTime] = pair.wrt.split('@');
      if (ofTime === 'T' && wrtTime === '0') {
        let m = identityMat(n * ref.states.length);
        for (const s of steps) m = matMul(transition(s.j), m);
        const at = (s: string) => ref.states.indexOf(s) * n;
        const block = ref.states.length === 1 ? m : subMatrix(m, at(of), n, at(wrt), n);
        assertClose(`${pair.of} wrt ${pair.wrt} (batch ${b})`, J, b * size, block.data, 1e-4);
        return;
      }
      const key = wrtTime === 't-1' ? `${of}|${wrt}_prev` : `${of}|${wrt}`;
      pair.steps.forEach((s, k) => assertClose(`${pair.of} wrt ${pair.wrt} at t=${s.t} (batch ${b})`, J, (k * B + b) * size, steps[s.t - 1].j[key].data, 1e-5));
    });
  }
}

const LSTM_PAIRS = [
  { of: 'h@t', wrt: 'h@t-1' },
  { of: 'c@t', wrt: 'h@t-1' },
  { of: 'c@t', wrt: 'c@t-1' },
  { of: 'h@t', wrt: 'x@t' },
  { of: 'h@T', wrt: 'h@0' },
];
const H_PAIRS = [
  { of: 'h@t', wrt: 'h@t-1' },
  { of: 'h@t', wrt: 'x@t' },
  { of: 'h@T', wrt: 'h@0' },
];

/** The lstm-as-equations example at the fixture's sizes. */
function customLstm(extra: Json = {}): Json {
  const example = JSON.parse(readFileSync(join(repoRoot(), 'examples', 'lstm-as-equations.jacobian.json'), 'utf8')) as Json;
  const { custom } = example;
  return { ...replay('lstm', 'lstm'), cell: 'custom', custom, ...extra };
}

forEachBackend('trained weights from a Keras model (tensorflowjs_converter)', () => {
  it('lstm: Keras\'s weights, Keras\'s own trajectory, and float64 Jacobians', async () => {
    const r = await run(replay('lstm', 'lstm', { jacobians: LSTM_PAIRS }));
    assertKerasWeights(r, 'lstm');
    assertKerasTrajectory(r, 'lstm', ['h', 'c']);
    assertReferenceJacobians(r, refCell('lstm', 'tanh', 'sigmoid'));
  });

  it('gru (reset_after=True): Keras\'s weights, trajectory and float64 Jacobians', async () => {
    const r = await run(replay('gru', 'gru', { jacobians: H_PAIRS }));
    assertKerasWeights(r, 'gru');
    assertKerasTrajectory(r, 'gru', ['h']);
    assertReferenceJacobians(r, refCell('gru', 'tanh', 'sigmoid'));
  });

  it('simple_rnn: Keras\'s weights, trajectory and float64 Jacobians (layer found without "layer")', async () => {
    const config = replay('simple_rnn', 'simple_rnn', { jacobians: H_PAIRS });
    config.weights = { model: join(MODELS, 'simple_rnn', 'model.json') };
    const r = await run(config);
    assertKerasWeights(r, 'simple_rnn');
    assertKerasTrajectory(r, 'simple_rnn', ['h']);
    assertReferenceJacobians(r, refCell('simple_rnn', 'tanh', 'sigmoid'));
  });

  it('the LSTM written as equations takes the same weights (by weight name) and computes the same numbers', async () => {
    const c = await run(customLstm({ jacobians: LSTM_PAIRS }));
    const b = await run(replay('lstm', 'lstm', { jacobians: LSTM_PAIRS }));
    assertKerasWeights(c, 'lstm');
    assertKerasTrajectory(c, 'lstm', ['h', 'c']);
    for (const name of ['h', 'c']) assert.deepEqual([...tensor(c, name).data], [...tensor(b, name).data], name);
    c.arrays.pairs.forEach((p, i) => assert.deepEqual([...p.jacobians!], [...b.arrays.pairs[i].jacobians!], c.report.jacobians[i].of));
  });

  it('an .npz and one .npy per weight load the same numbers as the model', async () => {
    const fromModel = await run(replay('lstm', 'lstm'));
    const fromNpz = await run(replay('lstm', 'lstm', { weights: { npz: join(MODELS, 'lstm', 'weights.npz') } }));
    const files = Object.fromEntries(['kernel', 'recurrent_kernel', 'bias'].map((n) => [n, join(MODELS, 'lstm', 'npy', `${n}.npy`)]));
    const fromFiles = await run(replay('lstm', 'lstm', { weights: { files } }));
    for (const name of ['kernel', 'recurrent_kernel', 'bias', 'h', 'c']) {
      assert.deepEqual([...tensor(fromNpz, name).data], [...tensor(fromModel, name).data], `npz ${name}`);
      assert.deepEqual([...tensor(fromFiles, name).data], [...tensor(fromModel, name).data], `files ${name}`);
    }
  });

  it('files may give some weights only: the others keep their initializers', async () => {
    const partial = await run(replay('lstm', 'lstm', { weights: { files: { kernel: join(MODELS, 'lstm', 'npy', 'kernel.npy') } } }));
    const none = replay('lstm', 'lstm');
    delete none.weights;
    const initialised = await run(none);
    assert.deepEqual([...tensor(partial, 'kernel').data], [...kerasWeights('lstm').get('kernel')!.data]);
    assert.deepEqual([...tensor(partial, 'recurrent_kernel').data], [...tensor(initialised, 'recurrent_kernel').data]);
    assert.notDeepEqual([...tensor(partial, 'kernel').data], [...tensor(initialised, 'kernel').data]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Errors, located at the weights key.

/** The issue underlines exactly `value` (a JSON value as it appears in the text). */
function assertUnderlines(text: string, issue: SourceIssue, value: string): void {
  assert.equal(text.slice(issue.offset, issue.offset + issue.length), value, issue.message);
}

describe('trained weights: errors say what differs, at the weights key', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jl-weights-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('units, activation and recurrentActivation that differ from the layer, each named', async () => {
    const { text, issues } = await runIssues(replay('lstm', 'lstm', { units: 8, activation: 'relu', recurrentActivation: 'hard_sigmoid' }));
    const messages = issues.map((i) => i.message);
    assert.deepEqual(messages.length, 3, messages.join('\n'));
    assert.match(messages[0], /layer "lstm" \(LSTM\) has units 4, but the config says units 8/);
    assert.match(messages[1], /has activation tanh, but the config says activation relu/);
    assert.match(messages[2], /has recurrent_activation sigmoid, but the config says recurrentActivation hard_sigmoid/);
    for (const issue of issues) {
      assert.equal(issue.path, 'weights.layer');
      assertUnderlines(text, issue, '"lstm"');
    }
  });

  it('a layer of another cell, and a GRU with reset_after=False', async () => {
    const other = await runOnlyIssue(replay('lstm', 'gru'));
    assert.match(other.issue.message, /layer "lstm" \(LSTM\) maps to cell "lstm", but this config's cell is "gru"/);
    const before = await runOnlyIssue(replay('gru_reset_before', 'gru'));
    assert.match(before.issue.message, /has reset_after false, but the built-in gru is Keras's reset_after=True GRU/);
  });

  it('an unknown layer, with did-you-mean, at "layer"', async () => {
    const config = replay('lstm', 'lstm');
    config.weights = { model: join(MODELS, 'lstm', 'model.json'), layer: 'lstn' };
    const { text, issue } = await runOnlyIssue(config);
    assert.match(issue.message, /has no layer "lstn"; its layers are x \(InputLayer\), lstm \(LSTM\), head \(Dense\); did you mean "lstm"\?/);
    assertUnderlines(text, issue, '"lstn"');
  });

  it('an .npz whose arrays do not fit the cell: the shapes named', async () => {
    const config = replay('lstm', 'simple_rnn', { weights: { npz: join(MODELS, 'lstm', 'weights.npz') } });
    delete config.initialState;
    const { text, issues } = await runIssues(config);
    assert.equal(issues.length, 3);
    assert.match(issues[0].message, /"kernel" has shape \[3, 16\], but the cell's parameter kernel has shape \[3, 4\] \(cell simple_rnn with units 4, inputDim 3\)/);
    assertUnderlines(text, issues[0], JSON.stringify(join(MODELS, 'lstm', 'weights.npz')));
  });

  it('an .npz missing a weight: which one, and what it holds', async () => {
    const file = join(dir, 'partial.npz');
    // numpy.savez layout is a zip of .npy files; build one with fflate through our own encoder.
    const k = kerasWeights('lstm');
    writeFileSync(file, zipSync({ 'kernel.npy': encodeNpy(k.get('kernel')!.shape, k.get('kernel')!.data), 'recurent_kernel.npy': encodeNpy(k.get('recurrent_kernel')!.shape, k.get('recurrent_kernel')!.data) }, { level: 0 }));
    const { issue } = await runOnlyIssue(replay('lstm', 'lstm', { weights: { npz: file } }));
    assert.match(issue.message, /has no array for "recurrent_kernel", "bias"; it holds "kernel", "recurent_kernel"; did you mean "recurent_kernel"\?/);
    assert.equal(issue.path, 'weights.npz');
  });

  it('files: an unknown weight name at its key (did-you-mean), an integer dtype and a NaN at the file', async () => {
    const intFile = join(dir, 'int.npy');
    writeFileSync(intFile, npyWithDescr('<i4', [4, 16], new Uint8Array(4 * 16 * 4)));
    const nanFile = join(dir, 'nan.npy');
    const bias = new Float32Array(16);
    bias[5] = NaN;
    writeFileSync(nanFile, encodeNpy([16], bias));
    const config = replay('lstm', 'lstm', { weights: { files: { kernal: join(MODELS, 'lstm', 'npy', 'kernel.npy'), recurrent_kernel: intFile, bias: nanFile } } });
    const { text, issues } = await runIssues(config);
    assert.equal(issues.length, 3, issues.map((i) => i.message).join('\n'));
    const [unknown, dtype, nan] = issues;
    assert.match(unknown.message, /the cell has no parameter "kernal"; its parameters are "kernel", "recurrent_kernel", "bias"; did you mean "kernel"\?/);
    assertUnderlines(text, unknown, '"kernal"');
    assert.match(dtype.message, /"recurrent_kernel" has dtype int32; weights must be floating point/);
    assertUnderlines(text, dtype, JSON.stringify(intFile));
    assert.match(nan.message, /"bias": entry \[5\] is NaN/);
  });

  it('a truncated or missing .bin shard', async () => {
    const copy = join(dir, 'lstm');
    mkdirSync(copy);
    for (const f of ['model.json', 'group1-shard1of1.bin']) copyFileSync(join(MODELS, 'lstm', f), join(copy, f));
    truncateSync(join(copy, 'group1-shard1of1.bin'), 100);
    const config = replay('lstm', 'lstm');
    config.weights = { model: join(copy, 'model.json'), layer: 'lstm' };
    const truncated = await runOnlyIssue(config);
    assert.match(truncated.issue.message, /hold 100 bytes, but its weightsManifest needs 532/);
    assert.equal(truncated.issue.path, 'weights.model');
    rmSync(join(copy, 'group1-shard1of1.bin'));
    const missing = await runOnlyIssue(config);
    assert.match(missing.issue.message, /weight file .*group1-shard1of1\.bin \(named by .*model\.json\) not found/);
  });

  it('a weights file that does not exist is a config error when the config is read', () => {
    const text = JSON.stringify(replay('lstm', 'lstm', { weights: { model: join(dir, 'nope', 'model.json') } }), null, 2);
    try {
      parseConfig(text, join(dir, 'c.jacobian.json'));
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.equal(e.issues.length, 1);
      assert.equal(e.issues[0].path, 'weights.model');
      assert.match(e.issues[0].message, /file not found/);
    }
  });

  it('the README example lstm-trained.jacobian.json runs on the fixture model', async () => {
    const file = join(repoRoot(), 'examples', 'lstm-trained.jacobian.json');
    const r = await analyzeText(readFileSync(file, 'utf8'), file, { keepJacobiansMB: Infinity });
    assertKerasWeights(r, 'lstm');
    assert.equal(r.report.jacobians.length, 3);
  });
});

describe('trained weights: the files a config reads, for rerunning on a change', () => {
  it('lists model.json and its shards, the .npz, or each .npy', () => {
    const model = join(MODELS, 'lstm', 'model.json');
    const spec = parseConfig(JSON.stringify(replay('lstm', 'lstm')), join(tmpdir(), 'files.jacobian.json'));
    assert.deepEqual(weightsFiles(spec.weights), [model, join(MODELS, 'lstm', 'group1-shard1of1.bin')]);
    assert.deepEqual(weightsFiles({ kind: 'npz', file: '/a/w.npz', path: 'weights.npz' }), ['/a/w.npz']);
    assert.deepEqual(weightsFiles(undefined), []);
  });
});
