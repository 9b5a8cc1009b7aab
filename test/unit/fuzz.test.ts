// Property-based fuzzing (fast-check) of everything that reads user input: generated and mutated configs,
// equation strings, and mutated .npy/.npz bytes. Each input either passes or is refused with user errors that
// each carry a JSON path and an in-range line:column; nothing else is thrown, and no input takes more than
// MAX_CASE_MS (a bound, not a benchmark: the slowest case is printed). One seed drives every property and is
// printed first; RNN_JACOBIAN_FUZZ_SEED=<seed> replays a run exactly.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExprError, parseExpression } from '../../src/engine/cells/custom/parse';
import { UserError } from '../../src/engine/errors';
import { decodeNpy, decodeNpz, NpyFormatError } from '../../src/engine/params/npy';
import { analyzeText } from '../../src/engine/run/analyze';
import { parseRunConfig } from '../../src/engine/runConfig';
import { forEachBackend } from './helpers/backends';
import { assertLocatedIn } from './helpers/issues';
import { repoRoot } from './helpers/repo';

const SEED = process.env.RNN_JACOBIAN_FUZZ_SEED !== undefined ? Number(process.env.RNN_JACOBIAN_FUZZ_SEED) : Date.now() % 2 ** 31;
const MAX_CASE_MS = 2000;
const RUNS = { generatedConfigs: 4000, mutatedConfigs: 4000, equations: 2500, equationConfigs: 1000, npy: 1500, computed: 6 };
const FILE = '/tmp/fuzz/config.jacobian.json';
/** Inputs fuzzing once broke, replayed on every run: autodiff threw on a one-unit cell (tfjs oneHot needs depth ≥ 2) and on z@t wrt z@t. */
const FOUND_BY_FUZZING: [Record<string, unknown>][] = [
  [{ cell: 'lstm', units: 1, inputDim: 2, timeSteps: 1, batchSize: 1, jacobians: [{ of: 'h@T', wrt: 'h@0' }, { of: 'h@t', wrt: 'x@t' }], method: 'autodiff' }],
  [{ cell: 'simple_rnn', units: 3, inputDim: 2, timeSteps: 3, batchSize: 1, jacobians: [{ of: 'h@t', wrt: 'h@t-2' }, { of: 'z@t-1', wrt: 'z@t-1' }], method: 'autodiff' }],
];

/** The slowest case of each property, reported after the suite. */
const slowest = new Map<string, { ms: number; input: string }>();

/** Runs `body` on one input, fails when it takes longer than MAX_CASE_MS, and records the slowest. */
function timed<T>(property: string, input: string, body: () => T): T {
  const started = performance.now();
  const result = body();
  const ms = performance.now() - started;
  if (ms > (slowest.get(property)?.ms ?? -1)) slowest.set(property, { ms, input: input.length > 200 ? `${input.slice(0, 200)}...` : input });
  assert.ok(ms <= MAX_CASE_MS, `${property}: one input took ${ms.toFixed(0)} ms (bound ${MAX_CASE_MS} ms)`);
  return result;
}

/** A config is accepted, or refused with located user errors; anything else fails the property. */
function validatesOrLocates(text: string): void {
  try {
    parseRunConfig(text, FILE);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    assert.ok(error.issues.length > 0, 'a UserError without issues');
    for (const issue of error.issues) {
      assert.equal(issue.file, FILE);
      assertLocatedIn(issue, text);
    }
  }
}

const check = <T>(arbitrary: fc.Arbitrary<T>, runs: number, predicate: (value: T) => void) =>
  fc.assert(fc.property(arbitrary, predicate), { seed: SEED, numRuns: runs, endOnFailure: true });

// ------------------------------------------------------------------------------------------------
// Generators. Values are drawn mostly from what the schema knows, with wrong types, limits and
// absurd sizes mixed in, so that most configs reach the later stages instead of failing on the first key.

const weird = fc.oneof(
  fc.constantFrom(null, true, -1, 0, 1.5, 1e21, 2 ** 53, -0, 1e300, '', ' ', '__proto__', 'constructor', '\u0000', 'h@t'),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const size = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(1e9, 2 ** 31, 1e15) }, { weight: 1, arbitrary: weird });
const oneOf = (values: readonly string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: weird });
const CELLS = ['seed', 'simple_rnn', 'lstm', 'gru', 'custom'];
const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear', 'tahn'];
const INITIALIZERS = ['glorot_uniform', 'orthogonal', 'zeros', 'constant', 'random_uniform', 'identity'];
const NAMES = ['h', 'c', 'x', 'o', 'z', 'hh', 'f', 'pre'];
const TIMES = ['t', 't-1', 't-2', '0', '1', 'T', 'T-1', 't+1', 't-99999999999999999999', '999999999999', ''];

const tensorRef = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...TIMES)).map(([n, t]) => `${n}@${t}`) },
  { weight: 1, arbitrary: weird },
);
const source = fc.oneof(
  fc.record({ distribution: oneOf(['normal', 'uniform', 'zeros', 'constant']), mean: weird, stddev: size, minval: weird, maxval: weird, value: weird }, { requiredKeys: ['distribution'] }),
  fc.record({ file: fc.constantFrom('x.npy', '/dev/zero', '/nonexistent/x.npy', '.', '') }),
  weird,
);
const initializer = fc.oneof(oneOf(INITIALIZERS), fc.record({ name: oneOf(INITIALIZERS), gain: weird, value: weird, minval: weird, maxval: weird }, { requiredKeys: ['name'] }));
const equation = fc
  .array(fc.constantFrom('h_prev', 'c_prev', 'x', 'W', 'U', 'b', '+', '-', '*', '@', '(', ')', '[', ']', ':', ',', 'tanh', 'sigmoid(', 'concat(', 'row(', '1', '0.5', 'units', 'inputDim', ' ', '/', '**', '.', '$', '0:2'), { maxLength: 30 })
  .map((tokens) => tokens.join(''));
const customBlock = fc.record(
  {
    params: fc.dictionary(fc.constantFrom('W', 'U', 'b', 'bad name'), fc.record({ shape: fc.array(fc.oneof(size, fc.constantFrom('units', 'inputDim', '4*units', 'units+')), { maxLength: 3 }), initializer }, { requiredKeys: ['shape'] })),
    states: fc.dictionary(fc.constantFrom('h', 'c', 'q'), fc.record({ size: fc.oneof(size, fc.constantFrom('units', '2*units')), initial: source }, { requiredKeys: ['size'] }), { minKeys: 1 }),
    inputs: fc.dictionary(fc.constantFrom('x', 'u'), fc.oneof(size, fc.constantFrom('inputDim'))),
    outputs: fc.array(fc.constantFrom('o', 'h', 'zz'), { maxLength: 2 }),
    equations: fc.dictionary(fc.constantFrom('h', 'c', 'o'), fc.oneof(equation, fc.constantFrom('tanh(x @ W + h_prev @ U + b)', 'h_prev', 'sigmoid(h)'))),
  },
  { requiredKeys: ['states', 'equations'] },
);
const config = fc.record(
  {
    cell: oneOf(CELLS),
    units: size,
    inputDim: size,
    custom: customBlock,
    activation: oneOf(ACTIVATIONS),
    recurrentActivation: oneOf(ACTIVATIONS),
    useBias: fc.oneof(fc.boolean(), weird),
    initializers: fc.record({ kernel: initializer, recurrentKernel: initializer, bias: initializer, gate: initializer }, { requiredKeys: [] }),
    seed: fc.oneof(fc.integer({ min: 0, max: 100 }), weird),
    timeSteps: size,
    batchSize: size,
    inputs: source,
    initialState: fc.oneof(source, fc.record({ h: source, c: source, q: source }, { requiredKeys: [] })),
    jacobians: fc.array(fc.oneof(fc.record({ of: tensorRef, wrt: tensorRef }), weird), { maxLength: 4 }),
    diagnostics: fc.array(oneOf(['mean', 'varTimesFanIn', 'frobenius', 'spectralNorm', 'spectralRadius', 'singularValues', 'eigenvalues']), { maxLength: 4 }),
    method: oneOf(['structured', 'autodiff']),
    maxMemoryMB: fc.oneof(size, fc.constantFrom(1, 64, 4096)),
    weights: fc.oneof(fc.record({ npz: fc.constantFrom('w.npz', '/dev/null') }), fc.record({ model: fc.constant('m.json'), layer: weird }, { requiredKeys: ['model'] }), weird),
    unknownKey: weird,
  },
  { requiredKeys: ['cell'] },
);
/** Deep, long and wide values past the syntax stage's bounds, drawn rarely. */
const hostileValue = fc.oneof(
  fc.integer({ min: 1, max: 120 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.integer({ min: 4000, max: 4200 }).map((n) => `[${Array(n).fill('{"of":"h@t","wrt":"h@t-1"}').join(',')}]`),
);
const configText = fc.oneof(
  { weight: 200, arbitrary: fc.tuple(config, fc.constantFrom(0, 2, '\t')).map(([value, indent]) => JSON.stringify(value, null, indent)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('units', 'jacobians', 'custom', 'initialState'), hostileValue).map(([key, value]) => `{"cell": "seed", "inputDim": 2, "${key}": ${value}}`) },
);

/** Edits of a text: delete, insert, replace or duplicate a span, at positions scaled to the text's length. */
type Edit = { kind: 'delete' | 'insert' | 'replace' | 'duplicate'; at: number; length: number; text: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'replace', 'duplicate'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 0, max: 12 }),
  text: fc.oneof(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\\u12', '"units": 1e999', 'NaN', '//', '/*', '\u2028', '\uFEFF', '\r\n', '-', '0'), fc.string({ maxLength: 6 })),
});
function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = Math.floor(e.at * out.length);
    if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
    else if (e.kind === 'insert') out = out.slice(0, at) + e.text + out.slice(at);
    else if (e.kind === 'replace') out = out.slice(0, at) + e.text + out.slice(at + e.length);
    else out = out.slice(0, at) + out.slice(at, at + e.length) + out.slice(at);
  }
  return out;
}

function examples(): string[] {
  const dirs = [join(repoRoot(), 'examples'), join(repoRoot(), 'examples/invalid')];
  return dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.jacobian.json')).map((f) => readFileSync(join(dir, f), 'utf8')));
}

// ------------------------------------------------------------------------------------------------

describe(`fuzz (seed ${SEED}; replay with RNN_JACOBIAN_FUZZ_SEED=${SEED})`, function () {
  this.timeout(120_000);
  before(() => console.log(`    fuzz seed ${SEED}: replay with RNN_JACOBIAN_FUZZ_SEED=${SEED}`));
  after(() => {
    for (const [property, { ms, input }] of slowest) console.log(`    slowest ${property}: ${ms.toFixed(1)} ms (bound ${MAX_CASE_MS} ms) on ${JSON.stringify(input.slice(0, 80))}`);
  });

  it(`${RUNS.generatedConfigs} generated configs: accepted, or refused with located user errors`, () => {
    check(configText, RUNS.generatedConfigs, (text) => timed('generated config', text, () => validatesOrLocates(text)));
  });

  it(`${RUNS.mutatedConfigs} mutated example configs: the same`, () => {
    const texts = examples();
    const mutated = fc.tuple(fc.constantFrom(...texts), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([text, edits]) => applyEdits(text, edits));
    check(mutated, RUNS.mutatedConfigs, (text) => timed('mutated config', text, () => validatesOrLocates(text)));
  });

  it(`${RUNS.equations} equation strings: parsed, or an ExprError inside the string`, () => {
    const text = fc.oneof(equation, fc.string({ maxLength: 40 }), fc.tuple(equation, fc.array(edit, { maxLength: 3 })).map(([e, edits]) => applyEdits(e, edits)));
    check(text, RUNS.equations, (expression) =>
      timed('equation', expression, () => {
        try {
          parseExpression(expression);
        } catch (error) {
          if (!(error instanceof ExprError)) throw error;
          assert.ok(error.column >= 0 && error.length >= 0 && error.column + error.length <= Math.max(1, expression.length), `${error.message} at ${error.column}+${error.length}`);
        }
      }),
    );
  });

  it(`${RUNS.equationConfigs} custom cells with generated equations, through the whole config`, () => {
    const custom = fc.tuple(equation, equation).map(([h, o]) =>
      JSON.stringify({ cell: 'custom', custom: { params: { W: { shape: ['inputDim', 'units'] }, U: { shape: ['units', 'units'] } }, states: { h: { size: 3 } }, inputs: { x: 2 }, outputs: ['o'], equations: { h, o } } }, null, 2),
    );
    check(custom, RUNS.equationConfigs, (text) => timed('equation config', text, () => validatesOrLocates(text)));
  });

  it(`${RUNS.npy} mutated .npy and .npz files: decoded, or an NpyFormatError`, () => {
    const dir = join(repoRoot(), 'test/fixtures/npy');
    const files = readdirSync(dir).filter((f) => f.endsWith('.npy') || f.endsWith('.npz'));
    const byteEdit = fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      kind: fc.constantFrom('flip', 'cut', 'set32', 'insert'),
      value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xffffffff, 0x7fffffff, 2 ** 16)),
    });
    const mutated = fc.tuple(fc.constantFrom(...files), fc.array(byteEdit, { minLength: 1, maxLength: 3 })).map(([name, edits]) => {
      let bytes = new Uint8Array(readFileSync(join(dir, name)));
      for (const e of edits) {
        const at = Math.floor(e.at * bytes.length);
        if (e.kind === 'flip') bytes[at] = e.value & 0xff;
        else if (e.kind === 'cut') bytes = bytes.slice(0, at);
        else if (e.kind === 'insert') bytes = Uint8Array.from([...bytes.slice(0, at), e.value & 0xff, ...bytes.slice(at)]);
        else if (at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(at, e.value, true);
      }
      return { name, bytes };
    });
    check(mutated, RUNS.npy, ({ name, bytes }) =>
      timed('npy/npz bytes', name, () => {
        try {
          if (name.endsWith('.npz')) decodeNpz(bytes, name, 64 * 2 ** 20);
          else decodeNpy(bytes, name, 64 * 2 ** 20);
        } catch (error) {
          if (!(error instanceof NpyFormatError)) throw error;
        }
      }),
    );
  });

  forEachBackend('fuzz: a few generated small configs run end to end', () => {
    it(`${RUNS.computed} runs: a report, or located user errors`, async () => {
      const small = fc.record({
        cell: fc.constantFrom('seed', 'simple_rnn', 'lstm', 'gru'),
        units: fc.integer({ min: 1, max: 4 }),
        inputDim: fc.integer({ min: 1, max: 3 }),
        timeSteps: fc.integer({ min: 1, max: 3 }),
        batchSize: fc.integer({ min: 1, max: 2 }),
        jacobians: fc.uniqueArray(
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom({ of: 'h@t', wrt: 'h@t-1' }, { of: 'h@T', wrt: 'h@0' }, { of: 'h@t', wrt: 'x@t' }, { of: 'h@t', wrt: 'h@t-2' }) },
            { weight: 1, arbitrary: fc.record({ of: tensorRef, wrt: tensorRef }) },
          ),
          { minLength: 1, maxLength: 2, selector: (r) => JSON.stringify(r) },
        ),
        method: fc.constantFrom('structured', 'autodiff'),
      });
      await fc.assert(
        fc.asyncProperty(small, async (value) => {
          const text = JSON.stringify(value, null, 2);
          const started = performance.now();
          try {
            const result = await analyzeText(text, FILE, { backend: 'auto' });
            assert.equal(result.report.jacobians.length, value.jacobians.length);
          } catch (error) {
            if (!(error instanceof UserError)) throw error;
            for (const issue of error.issues) assertLocatedIn(issue, text);
          }
          const ms = performance.now() - started;
          if (ms > (slowest.get('computed run')?.ms ?? -1)) slowest.set('computed run', { ms, input: text });
          assert.ok(ms <= MAX_CASE_MS, `a run took ${ms.toFixed(0)} ms`);
        }),
        { seed: SEED, numRuns: RUNS.computed, endOnFailure: true, examples: FOUND_BY_FUZZING },
      );
    });

    it('autodiff equals structured where fuzzing found autodiff throwing (one output unit; of = wrt)', async () => {
      for (const [value] of FOUND_BY_FUZZING) {
        const text = (method: string) => JSON.stringify({ ...value, method });
        const [structured, autodiff] = [await analyzeText(text('structured'), FILE), await analyzeText(text('autodiff'), FILE)];
        structured.report.jacobians.forEach((pair, i) => {
          pair.steps.forEach((step, s) => {
            const other = autodiff.report.jacobians[i].steps[s];
            for (const key of ['mean', 'frobenius'] as const) {
              step[key].forEach((v, b) => assert.ok(Math.abs(v - other[key][b]) <= 1e-5 * (1 + Math.abs(v)), `${pair.of} wrt ${pair.wrt} step ${step.t} ${key}: ${v} vs ${other[key][b]}`));
            }
          });
        });
      }
    });
  });
});
