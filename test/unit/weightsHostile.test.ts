// Broken and hostile weights files: each a clear error at the `weights` key (JSON path and line:column), nothing
// from the file executed, nothing allocated from a size the file does not back. Then the binary readers fuzzed
// with mutated bytes of real fixtures (fast-check, seeded): every outcome is a result or a WeightsFileError.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { WeightsFileError } from '../../src/engine/params/formats/binary';
import { loadHdf5, withHdf5 } from '../../src/engine/params/formats/hdf5';
import { readStateDict } from '../../src/engine/params/formats/torch';
import { ZipArchive } from '../../src/engine/params/formats/zip';
import { runOnlyIssue } from './helpers/issues';
import { repoRoot } from './helpers/repo';
import { op, pickle, safetensors, safetensorsOf, stateDictPickle, tensorPickle, torchZip } from './helpers/weightFiles';

const MODELS = join(repoRoot(), 'test', 'fixtures', 'models');
type Json = Record<string, unknown>;

/** A simple_rnn run (units 4, inputDim 3) whose weights come from `weights`. */
const config = (weights: Json, extra: Json = {}): Json => ({ cell: 'simple_rnn', units: 4, inputDim: 3, timeSteps: 2, weights, ...extra });

/** nn.RNN(3, 4) weights as a state dict under "rnn.", values 0.01·i, with one entry replaced if asked. */
function rnnTensors(change: Record<string, { shape: number[]; data: Float32Array }> = {}) {
  const t = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.01 * i) });
  return { 'rnn.weight_ih_l0': t([4, 3]), 'rnn.weight_hh_l0': t([4, 4]), 'rnn.bias_ih_l0': t([4]), 'rnn.bias_hh_l0': t([4]), ...change };
}

describe('trained weights: broken and hostile files are clear errors at the weights key', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rjl-hostile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  };

  /** The run fails with one issue at `path`, located on a line of the config, whose message matches. */
  async function refused(weights: Json, path: string, message: RegExp, extra: Json = {}): Promise<void> {
    const { issue } = await runOnlyIssue(config(weights, extra));
    assert.equal(issue.path, path, issue.message);
    assert.ok(issue.line > 1 && issue.column > 1, `located: ${issue.line}:${issue.column}`);
    assert.match(issue.message, message);
  }

  it('a pickle calling os.system through GLOBAL + REDUCE: refused by name, and nothing runs', async () => {
    const canary = join(dir, 'pwned');
    const evil = pickle(op.proto(2), op.global('os', 'system'), op.mark, op.unicode(`touch ${canary}`), op.tuple, op.reduce, op.stop);
    const file = write('evil.pt', torchZip(evil, {}));
    await refused({ torch: file }, 'weights.torch', /names the Python global os\.system, which is not allowed.*Nothing from the file was run/);
    assert.ok(!existsSync(canary), 'the command did not run');
  });

  it('the same through STACK_GLOBAL (protocol 4), and builtins.eval hidden inside a tensor', async () => {
    const viaStack = pickle(op.proto(4), op.shortUnicode('os'), op.shortUnicode('system'), op.stackGlobal, op.mark, op.shortUnicode('id'), op.tuple, op.reduce, op.stop);
    await refused({ torch: write('stack.pt', torchZip(viaStack, {})) }, 'weights.torch', /os\.system, which is not allowed/);
    const inside = stateDictPickle([['rnn.weight_ih_l0', [...op.global('builtins', 'eval'), ...op.mark, ...op.unicode('1'), ...op.tuple, ...op.reduce]]]);
    await refused({ torch: write('inside.pt', torchZip(inside, {})) }, 'weights.torch', /builtins\.eval, which is not allowed/);
  });

  it('object-building opcodes (NEWOBJ, INST, BUILD on an object) are refused by name', async () => {
    const newobj = pickle(op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple, [0x81], op.stop);
    await refused({ torch: write('newobj.pt', torchZip(newobj, {})) }, 'weights.torch', /opcode NEWOBJ is not allowed/);
    const inst = pickle(op.proto(2), op.mark, [0x69, ...Buffer.from('os\nsystem\n')], op.stop);
    await refused({ torch: write('inst.pt', torchZip(inst, {})) }, 'weights.torch', /opcode INST is not allowed/);
  });

  it('a whole pickled module (torch.save(model)) asks for the state dict', async () => {
    const model = pickle(op.proto(2), op.global('__main__', 'Net'), op.emptyTuple, op.reduce, op.stop);
    await refused({ torch: write('model.pt', torchZip(model, {})) }, 'weights.torch', /__main__\.Net, which is not allowed/);
  });

  it('a truncated zip (.pt and .keras)', async () => {
    const pt = readFileSync(join(MODELS, 'torch', 'lstm', 'model.pt'));
    await refused({ torch: write('cut.pt', pt.subarray(0, Math.floor(pt.length * 0.6))) }, 'weights.torch', /not a zip archive, or a truncated one|truncated/);
    const keras = readFileSync(join(MODELS, 'keras3', 'gru', 'model.keras'));
    await refused({ keras: write('cut.keras', keras.subarray(0, keras.length - 30)) }, 'weights.keras', /truncated|not a zip archive|Keras/, { cell: 'gru' });
  });

  it('a tensor reaching past its storage, a storage shorter than it declares, an expanded view larger than its storage', async () => {
    const beyond = stateDictPickle([['rnn.weight_ih_l0', tensorPickle('0', 4, 0, [4, 3], [3, 1])]]);
    await refused({ torch: write('beyond.pt', torchZip(beyond, { 0: new Float32Array(4) })) }, 'weights.torch', /reaches element 11, past the end of storage 0 \(4 elements\): the storage is shorter than its tensor/);
    const short = stateDictPickle([['rnn.weight_ih_l0', tensorPickle('0', 12, 0, [4, 3], [3, 1])]]);
    await refused({ torch: write('short.pt', torchZip(short, { 0: new Float32Array(4) })) }, 'weights.torch', /storage 0 declares 12 float32 elements \(48 bytes\), but archive\/data\/0 holds 16 bytes/);
    const expanded = stateDictPickle([['rnn.weight_ih_l0', tensorPickle('0', 1, 0, [200, 200], [0, 0])]]);
    await refused({ torch: write('expanded.pt', torchZip(expanded, { 0: new Float32Array(1) })) }, 'weights.torch', /has 40000 elements but its storage 0 only 1/);
  });

  it('safetensors: a header pointing outside the file, a header length beyond it, a shape its bytes do not hold', async () => {
    const outside = safetensors({ w: { dtype: 'F32', shape: [4, 3], data_offsets: [0, 48] } }, new Uint8Array(16));
    await refused({ torch: write('outside.safetensors', outside) }, 'weights.torch', /tensor "w" \(data_offsets \[0, 48\]\).*lies outside the file/);
    const header = new Uint8Array(64);
    new DataView(header.buffer).setBigUint64(0, 2n ** 40n, true);
    header[8] = 0x7b;
    await refused({ torch: write('huge.safetensors', header) }, 'weights.torch', /safetensors header.*lies outside the file/);
    const huge = safetensors({ w: { dtype: 'F32', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 16] } }, new Uint8Array(16));
    await refused({ torch: write('shape.safetensors', huge) }, 'weights.torch', /but 4503599627370496 float32 elements take/);
  });

  it('an HDF5 file that is not a Keras one', async () => {
    await refused({ keras: join(MODELS, 'hostile', 'not_keras.h5') }, 'weights.keras', /is an HDF5 file but not a Keras one.*measurements/);
  });

  it('the HDF5 copy h5wasm opens lies in a private temporary folder, removed afterwards (its node build opens real paths)', async () => {
    const h5 = await loadHdf5();
    const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('rnn-jacobian-h5-'));
    const before = ours();
    const seen = withHdf5(h5, readFileSync(join(MODELS, 'hostile', 'not_keras.h5')), (root) => {
      const copies = ours().filter((n) => !before.includes(n)).flatMap((d) => readdirSync(join(tmpdir(), d)));
      return { keys: root.keys(), copies, inRoot: readdirSync('/').filter((n) => n.startsWith('weights-')) };
    });
    assert.deepEqual(seen, { keys: ['measurements'], copies: ['weights.h5'], inRoot: [] });
    assert.deepEqual(ours(), before, 'the folder is removed');
  });

  it('a Keras 3 layer with hard_sigmoid (relu6(x + 3)/6 there, Keras 2\'s 0.2·x + 0.5 here) is refused, not silently changed', async () => {
    const original = readFileSync(join(MODELS, 'keras3', 'gru', 'model.keras'));
    const zip = new ZipArchive(original, (p) => assert.fail(p));
    const files = Object.fromEntries([...zip.members.values()].map((m) => [m.name, zip.read(m).slice()]));
    const configText = Buffer.from(files['config.json']!).toString('utf8');
    assert.match(configText, /"recurrent_activation": "sigmoid"/);
    files['config.json'] = Buffer.from(configText.replace('"recurrent_activation": "sigmoid"', '"recurrent_activation": "hard_sigmoid"'));
    const file = write('hard.keras', zipSync(files));
    await refused({ keras: file, layer: 'rec_gru' }, 'weights.layer', /recurrent_activation hard_sigmoid, which Keras 3 computes as relu6\(x \+ 3\)\/6/, { cell: 'gru', recurrentActivation: 'hard_sigmoid' });
  });

  it('NaN weights: the entry named', async () => {
    const bias = new Float32Array(4);
    bias[2] = NaN;
    const file = write('nan.safetensors', safetensorsOf(rnnTensors({ 'rnn.bias_hh_l0': { shape: [4], data: bias } })));
    await refused({ torch: file }, 'weights.torch', /"bias" \(rnn\.bias_ih_l0 \+ rnn\.bias_hh_l0\): entry \[2\] is NaN/);
  });

  it('bidirectional and proj_size are refused by name; num_layers > 1 without layerIndex says how to load the stack', async () => {
    const t = rnnTensors();
    const reverse = { ...t, 'rnn.weight_ih_l0_reverse': t['rnn.weight_ih_l0'], 'rnn.weight_hh_l0_reverse': t['rnn.weight_hh_l0'] };
    await refused({ torch: write('bi.safetensors', safetensorsOf(reverse)) }, 'weights.torch', /nn\.RNN at "rnn\." is bidirectional \(bidirectional=True\)/);
    const stacked = { ...t, 'rnn.weight_ih_l1': t['rnn.weight_hh_l0'], 'rnn.weight_hh_l1': t['rnn.weight_hh_l0'] };
    await refused({ torch: write('deep.safetensors', safetensorsOf(stacked)) }, 'weights.torch', /num_layers = 2: load each of its layers into a layer of a stacked network, "layers": \[\{ "cell": …, "units": …, "weights": \{ "torch": …, "prefix": "rnn\.", "layerIndex": 0 \} \}, … up to "layerIndex": 1\]/);
    const f = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const proj = { 'rnn.weight_ih_l0': f([16, 3]), 'rnn.weight_hh_l0': f([16, 2]), 'rnn.weight_hr_l0': f([2, 4]) };
    await refused({ torch: write('proj.safetensors', safetensorsOf(proj)) }, 'weights.torch', /has proj_size > 0/, { cell: 'lstm' });
  });

  it('a Keras Bidirectional layer is refused by name', async () => {
    await refused({ keras: join(MODELS, 'hostile', 'bidirectional.keras') }, 'weights.keras', /layer "forward_enc" is one direction of the Bidirectional layer "bi"/, { cell: 'lstm', units: 2 });
  });

  it('a module that is not the configured cell, and a prefix that is not there (did you mean)', async () => {
    const file = write('rnn.safetensors', safetensorsOf(rnnTensors()));
    await refused({ torch: file }, 'weights.torch', /layer "rnn" \(nn\.RNN\) maps to cell "simple_rnn", but this config's cell is "lstm"/, { cell: 'lstm' });
    await refused({ torch: file, prefix: 'rn.' }, 'weights.prefix', /has no recurrent module at prefix "rn\."; its recurrent modules are rnn\. \(nn\.RNN\); did you mean "rnn\."\?/);
  });

  it('"cell": "auto" with a broken file: the error at the file key, when the config is read', async () => {
    const evil = pickle(op.proto(2), op.global('os', 'system'), op.stop);
    await refused({ torch: write('auto.pt', torchZip(evil, {})) }, 'weights.torch', /os\.system, which is not allowed/, { cell: 'auto', units: undefined, inputDim: undefined });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzzing: mutated bytes of real files.

/** A few byte changes and perhaps a cut, applied to a copy. */
const mutation = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
});

function mutate(bytes: Uint8Array, m: { edits: [number, number][]; cut?: number }): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (const [at, value] of m.edits) out[at % out.length] = value;
  return m.cut === undefined ? out : out.subarray(0, m.cut % (out.length + 1));
}

/** Reads every tensor: either all decode to their shape's size, or a WeightsFileError says why not. */
function readsOrRefuses(bytes: Uint8Array): void {
  try {
    for (const t of readStateDict(bytes, 'fuzz').values()) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      assert.equal(t.values().length, n);
    }
  } catch (e) {
    if (!(e instanceof WeightsFileError)) throw e;
  }
}

describe('trained weights: binary readers fuzzed with mutated files (fast-check, seeded)', () => {
  const pt = readFileSync(join(MODELS, 'torch', 'lstm', 'model.pt'));
  const st = readFileSync(join(MODELS, 'torch', 'gru_cell', 'model.safetensors'));
  const keras = readFileSync(join(MODELS, 'keras3', 'gru', 'model.keras'));

  it('torch.save zips: 1500 mutations', () => {
    fc.assert(fc.property(mutation, (m) => readsOrRefuses(mutate(pt, m))), { seed: 15, numRuns: 1500 });
  });

  it('torch.save zips with the pickle itself mutated (member rewritten, CRC valid): 1500 mutations', () => {
    const pkl = new ZipArchive(pt, (p) => assert.fail(p));
    const member = pkl.find('data.pkl')!;
    const original = pkl.read(member);
    const storages = Object.fromEntries(
      [...pkl.members.values()].filter((m) => /\/data\/\d+$/.test(m.name)).map((m) => [m.name.split('/').pop()!, new Float32Array(pkl.read(m).slice().buffer)]),
    );
    fc.assert(fc.property(mutation, (m) => readsOrRefuses(torchZip(mutate(original, m), storages))), { seed: 16, numRuns: 1500 });
  });

  it('safetensors: 1500 mutations', () => {
    fc.assert(fc.property(mutation, (m) => readsOrRefuses(mutate(st, m))), { seed: 17, numRuns: 1500 });
  });

  it('the zip reader on .keras archives: 1500 mutations', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        try {
          const zip = new ZipArchive(mutate(keras, m), (p) => {
            throw new WeightsFileError('fuzz', p);
          });
          for (const member of zip.members.values()) assert.equal(zip.read(member).length, member.size);
        } catch (e) {
          if (!(e instanceof WeightsFileError)) throw e;
        }
      }),
      { seed: 18, numRuns: 1500 },
    );
  });
});
