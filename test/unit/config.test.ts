// Config validation: every error kind located at the exact key or value, several errors at once,
// defaults per cell, the examples, and the locator the engine uses for errors found later.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import schema from '../../schemas/jacobian-config.schema.json';
import type { SourceIssue } from '../../src/engine/errors';
import { ConfigLocator, LineIndex, formatPath, parsePath } from '../../src/engine/config/positions';
import { CELL_DEFAULTS, DEFAULTS, DEFAULT_DATA_SOURCE, initialStateSource, parseConfig as parseConfigWith, type ConfigDeps } from '../../src/engine/config/validate';
import { ENGINE_CONFIG_DEPS } from '../../src/engine/runConfig';
import type { DataSource, RunSpec } from '../../src/engine/config/spec';
import { repoRoot } from './helpers/repo';
import { lineColumn, theOnlyIssue, userIssues } from './helpers/issues';

const VALID =
  '{"cell":"seed","units":100,"inputDim":2,"activation":"relu","initializers":{"kernel":"glorot_uniform","recurrentKernel":"glorot_uniform","bias":"zeros"},"seed":42,"timeSteps":4,"batchSize":1,"inputs":{"distribution":"normal"},"initialState":{"distribution":"normal"},"jacobians":[{"of":"h@t","wrt":"h@t-1"}],"diagnostics":["varTimesFanIn","spectralRadius","spectralNorm"]}';

const SEED_TENSORS = new Set(['h', 'c', 'x', 'o', 'z']);
const tensorNames = (cell: string) => (cell === 'seed' ? SEED_TENSORS : undefined);

/** The whole pipeline with the engine's custom cells and file access; tensor names only when given. */
function parseConfig(text: string, file: string, deps: ConfigDeps = {}) {
  return parseConfigWith(text, file, { ...ENGINE_CONFIG_DEPS, tensorNames: undefined, ...deps });
}


/** A pretty-printed config, so that errors land on lines other than the first. */
function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function withValid(changes: Record<string, unknown>, remove: string[] = []): Record<string, unknown> {
  const config: Record<string, unknown> = { ...(JSON.parse(VALID) as Record<string, unknown>), ...changes };
  for (const key of remove) delete config[key];
  return config;
}

function issuesOf(text: string, file = '/tmp/config.jacobian.json', withNames = true): SourceIssue[] {
  return userIssues(() => parseConfig(text, file, withNames ? { tensorNames } : {}), 'config');
}

function onlyIssue(text: string, file?: string): SourceIssue {
  return theOnlyIssue(issuesOf(text, file));
}

/** Asserts that an issue underlines exactly `snippet`, the `occurrence`-th time it appears in `text`. */
function assertAt(issue: SourceIssue, text: string, snippet: string, occurrence = 0): void {
  let offset = -1;
  for (let i = 0; i <= occurrence; i++) offset = text.indexOf(snippet, offset + 1);
  assert.ok(offset >= 0, `${snippet} not in text`);
  assert.equal(text.slice(issue.offset, issue.offset + issue.length), snippet);
  assert.equal(issue.offset, offset);
  assert.deepEqual({ line: issue.line, column: issue.column }, lineColumn(text, offset));
}

describe('config: valid', () => {
  it('accepts the reference example and keeps every given value', () => {
    const spec = parseConfig(VALID, 'relative/seed.jacobian.json', { tensorNames });
    assert.equal(spec.configFile, resolve('relative/seed.jacobian.json'));
    assert.equal(spec.cell, 'seed');
    assert.equal(spec.units, 100);
    assert.equal(spec.inputDim, 2);
    assert.equal(spec.activation, 'relu');
    assert.deepEqual(spec.initializers, {
      kernel: { name: 'glorot_uniform' },
      recurrentKernel: { name: 'glorot_uniform' },
      bias: { name: 'zeros' },
    });
    assert.equal(spec.seed, 42);
    assert.equal(spec.timeSteps, 4);
    assert.equal(spec.batchSize, 1);
    assert.deepEqual(spec.inputs, DEFAULT_DATA_SOURCE);
    assert.deepEqual(spec.initialState, DEFAULT_DATA_SOURCE);
    assert.deepEqual(spec.jacobians, [{ of: 'h@t', wrt: 'h@t-1', path: 'jacobians[0]' }]);
    assert.deepEqual(spec.diagnostics, ['varTimesFanIn', 'spectralRadius', 'spectralNorm']);
    assert.equal(spec.locator.file, spec.configFile);
  });

  it('does not refuse 100000 units: the memory estimate does, later', () => {
    const spec = parseConfig(pretty(withValid({ units: 100000 })), '/tmp/huge.jacobian.json');
    assert.equal(spec.units, 100000);
  });

  it('accepts initializer objects and passes their arguments on', () => {
    const spec = parseConfig(
      pretty(
        withValid({
          initializers: { kernel: { name: 'random_normal', stddev: 0.1 }, recurrentKernel: { name: 'orthogonal', gain: 2 } },
        }),
      ),
      '/tmp/c.jacobian.json',
    );
    assert.deepEqual(spec.initializers.kernel, { name: 'random_normal', stddev: 0.1 });
    assert.deepEqual(spec.initializers.recurrentKernel, { name: 'orthogonal', gain: 2 });
    assert.deepEqual(spec.initializers.bias, { name: 'zeros' });
  });

  it('accepts an initial state keyed by state name and defaults the states left out', () => {
    const spec = parseConfig(
      pretty({ cell: 'lstm', units: 4, inputDim: 2, initialState: { c: { distribution: 'constant', value: 0.5 } } }),
      '/tmp/c.jacobian.json',
    );
    assert.deepEqual(spec.initialState, { c: { ...DEFAULT_DATA_SOURCE, distribution: 'constant', value: 0.5 } });
    assert.deepEqual(initialStateSource(spec.initialState, 'h'), DEFAULT_DATA_SOURCE);
    assert.equal(initialStateSource(spec.initialState, 'c').kind, 'distribution');
  });

  it('accepts tensor references with spaces, T and step numbers', () => {
    const spec = parseConfig(
      pretty(withValid({ jacobians: [{ of: 'h@T', wrt: 'h@0' }, { of: 'o@t', wrt: 'x@ t - 2' }] })),
      '/tmp/c.jacobian.json',
      { tensorNames },
    );
    assert.deepEqual(
      spec.jacobians.map((j) => j.path),
      ['jacobians[0]', 'jacobians[1]'],
    );
  });

  it('parses every example in examples/ (and no invalid one)', () => {
    const dir = join(repoRoot(), 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.jacobian.json'));
    assert.ok(files.length >= 7, `only ${files.length} examples`);
    for (const name of files) {
      const file = join(dir, name);
      const spec = parseConfig(readFileSync(file, 'utf8'), file);
      assert.ok(spec.jacobians.length >= 1, name);
    }
  });

  it('reads the seed-pairs and lstm examples as described', () => {
    const dir = join(repoRoot(), 'examples');
    const pairs = parseConfig(readFileSync(join(dir, 'seed-pairs.jacobian.json'), 'utf8'), join(dir, 'seed-pairs.jacobian.json'), { tensorNames });
    assert.deepEqual(
      pairs.jacobians.map((j) => `${j.of}/${j.wrt}`),
      ['h@t/h@t-1', 'c@t/h@t-1', 'o@t/x@t', 'o@t/c@t', 'h@T/h@0'],
    );
    assert.equal(pairs.diagnostics.length, 7);
    const lstm = parseConfig(readFileSync(join(dir, 'lstm.jacobian.json'), 'utf8'), join(dir, 'lstm.jacobian.json'));
    assert.deepEqual([lstm.units, lstm.inputDim, lstm.timeSteps, lstm.batchSize], [64, 8, 20, 2]);
    assert.equal(lstm.jacobians.length, 4);
    const relu = JSON.parse(readFileSync(join(dir, 'seed-relu.jacobian.json'), 'utf8')) as Record<string, unknown>;
    const { $schema, ...rest } = relu;
    assert.equal($schema, '../schemas/jacobian-config.schema.json');
    assert.deepEqual(rest, JSON.parse(VALID));
  });
});

describe('config: defaults', () => {
  const minimal = (cell: string) => parseConfig(pretty({ cell, units: 8, inputDim: 3 }), '/tmp/m.jacobian.json');

  function assertCommonDefaults(spec: RunSpec): void {
    assert.equal(spec.useBias, true);
    assert.equal(spec.seed, 0);
    assert.equal(spec.timeSteps, 10);
    assert.equal(spec.batchSize, 1);
    assert.deepEqual(spec.inputs, { kind: 'distribution', distribution: 'normal', mean: 0, stddev: 1, minval: -1, maxval: 1, value: 0 });
    assert.deepEqual(spec.initialState, spec.inputs);
    assert.deepEqual(spec.jacobians, [{ of: 'h@t', wrt: 'h@t-1', path: 'jacobians[0]' }]);
    assert.deepEqual(spec.diagnostics, ['mean', 'varTimesFanIn', 'frobenius', 'spectralNorm', 'spectralRadius']);
    assert.equal(spec.method, 'structured');
    assert.equal(spec.maxMemoryMB, 4096);
  }

  it('seed: relu, glorot_uniform for both Dense kernels, zero bias', () => {
    const spec = minimal('seed');
    assert.equal(spec.activation, 'relu');
    assert.deepEqual(spec.initializers, {
      kernel: { name: 'glorot_uniform' },
      recurrentKernel: { name: 'glorot_uniform' },
      bias: { name: 'zeros' },
    });
    assertCommonDefaults(spec);
  });

  for (const cell of ['simple_rnn', 'lstm', 'gru']) {
    it(`${cell}: tanh, sigmoid gates, Keras's glorot_uniform / orthogonal / zeros`, () => {
      const spec = minimal(cell);
      assert.equal(spec.activation, 'tanh');
      assert.equal(spec.recurrentActivation, 'sigmoid');
      assert.deepEqual(spec.initializers, {
        kernel: { name: 'glorot_uniform' },
        recurrentKernel: { name: 'orthogonal' },
        bias: { name: 'zeros' },
      });
      assertCommonDefaults(spec);
    });
  }

  it('fills distribution arguments left out and resolves files against the config folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-config-'));
    try {
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data', 'x.npy'), '');
      const spec = parseConfig(
        pretty({ cell: 'gru', units: 2, inputDim: 2, inputs: { file: 'data/x.npy' }, initialState: { distribution: 'uniform', maxval: 3 } }),
        join(dir, 'c.jacobian.json'),
      );
      assert.deepEqual(spec.inputs, { kind: 'file', file: join(dir, 'data', 'x.npy'), configPath: 'inputs.file' });
      assert.deepEqual(spec.initialState, { kind: 'distribution', distribution: 'uniform', mean: 0, stddev: 1, minval: -1, maxval: 3, value: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('states the same defaults in the schema (for the editor) as in validate.ts', () => {
    const props = schema.properties;
    assert.equal(props.useBias.default, DEFAULTS.useBias);
    assert.equal(props.seed.default, DEFAULTS.seed);
    assert.equal(props.timeSteps.default, DEFAULTS.timeSteps);
    assert.equal(props.batchSize.default, DEFAULTS.batchSize);
    assert.deepEqual(props.jacobians.default, DEFAULTS.jacobians);
    assert.deepEqual(props.diagnostics.default, DEFAULTS.diagnostics);
    assert.equal(props.method.default, DEFAULTS.method);
    assert.equal(props.maxMemoryMB.default, DEFAULTS.maxMemoryMB);
    assert.equal(props.recurrentActivation.default, CELL_DEFAULTS.lstm.recurrentActivation);
    assert.equal(props.initializers.properties.kernel.default, CELL_DEFAULTS.seed.initializers.kernel);
    assert.equal(props.initializers.properties.bias.default, CELL_DEFAULTS.seed.initializers.bias);
    const distribution = schema.definitions.distributionSource.properties;
    const source = DEFAULT_DATA_SOURCE as Extract<DataSource, { kind: 'distribution' }>;
    for (const key of ['distribution', 'mean', 'stddev', 'minval', 'maxval', 'value'] as const) {
      assert.equal(distribution[key].default, source[key], key);
    }
    for (const rule of schema.allOf) {
      const cell = rule.if.properties.cell.const as keyof typeof CELL_DEFAULTS;
      assert.equal(rule.then.properties.activation.default, CELL_DEFAULTS[cell].activation, cell);
      assert.equal(rule.then.properties.initializers.properties.recurrentKernel.default, CELL_DEFAULTS[cell].initializers.recurrentKernel, cell);
    }
    // "auto" is no cell of its own: it becomes the weights file's cell before validation (params/formats/autoCell.ts).
    assert.deepEqual(schema.properties.cell.enum, [...Object.keys(CELL_DEFAULTS), 'auto']);
  });
});

describe('config: errors', () => {
  it('malformed JSON: a missing comma, at the next key', () => {
    const text = '{\n  "cell": "seed",\n  "units": 100\n  "inputDim": 2\n}\n';
    const issue = onlyIssue(text);
    assert.equal(issue.message, 'Expected a comma or closing brace');
    // A syntax error carries the path of the last value read before it: the comma is missing after units.
    assert.equal(issue.path, 'units');
    assertAt(issue, text, '"inputDim"');
    assert.deepEqual([issue.line, issue.column], [4, 3]);
  });

  it('malformed JSON: trailing commas and comments are refused', () => {
    const trailing = '{\n  "cell": "seed",\n}';
    const t = onlyIssue(trailing);
    assert.match(t.message, /^Trailing comma/);
    assertAt(t, trailing, ',');
    const commented = '{\n  // the cell\n  "cell": "seed", "units": 1, "inputDim": 1\n}';
    const c = onlyIssue(commented);
    assert.match(c.message, /Comments are not allowed/);
    assertAt(c, commented, '// the cell');
  });

  it('malformed JSON: unquoted keys and an empty file', () => {
    const text = '{ cell: "seed" }';
    const issue = onlyIssue(text);
    assert.match(issue.message, /double quotes/);
    assertAt(issue, text, 'cell');
    const empty = onlyIssue('');
    assert.deepEqual([empty.line, empty.column, empty.offset], [1, 1, 0]);
  });

  it('a string where a number belongs', () => {
    const text = pretty(withValid({ units: '100' }));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'units');
    assert.equal(issue.message, 'expected an integer, got the string "100"');
    assertAt(issue, text, '"100"');
    assert.equal(issue.line, 3);
  });

  it('negative units', () => {
    const text = pretty(withValid({ units: -5 }));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'units');
    assert.equal(issue.message, 'must be ≥ 1, got -5');
    assertAt(issue, text, '-5');
  });

  it('a fraction where an integer belongs', () => {
    const text = pretty(withValid({ timeSteps: 2.5 }));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'timeSteps');
    assert.equal(issue.message, 'must be an integer, got 2.5');
    assertAt(issue, text, '2.5');
  });

  it('unknown cell', () => {
    const text = pretty(withValid({ cell: 'foo' }));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'cell');
    assert.equal(issue.message, 'unknown cell "foo"; expected one of seed, simple_rnn, lstm, gru, custom, auto');
    assertAt(issue, text, '"foo"');
  });

  it('unknown key with a suggestion, underlined at the key', () => {
    const text = pretty(withValid({ unitz: 100 }, ['units']));
    const issues = issuesOf(text);
    const unknown = issues.find((i) => i.path === 'unitz');
    assert.ok(unknown);
    assert.equal(unknown.message, 'unknown key "unitz"; did you mean "units"?');
    assertAt(unknown, text, '"unitz"');
    const missing = issues.find((i) => i.path === 'units');
    assert.ok(missing);
    assert.equal(missing.message, 'missing required key "units"');
    assert.deepEqual([missing.line, missing.column, missing.length], [1, 1, 1]);
  });

  it('neither "cell" nor "layers": one located issue naming both (it was an internal error; found by the fuzz test)', () => {
    for (const extra of [{}, { stabilize: { target: 0.5 } }, { 'cell//': 'lstm' }]) {
      const text = pretty({ units: 8, inputDim: 2, ...extra });
      const issues = issuesOf(text);
      const missing = issues.find((i) => /"cell" or "layers"/.test(i.message));
      assert.ok(missing, `an issue for the missing cell/layers among ${JSON.stringify(issues.map((i) => i.message))}`);
      assert.equal(missing.message, 'missing key "cell" or "layers": one of them is required');
      assert.deepEqual([missing.line, missing.column], [1, 1]);
      assert.ok(!issues.some((i) => /missing required key "(cell|layers)"/.test(i.message)), 'not one issue per alternative');
    }
  });

  it('unknown nested key with a suggestion, and one without', () => {
    const text = pretty(withValid({ initializers: { kernal: 'zeros' }, inputs: { distribution: 'normal', frobnicate: 1 } }));
    const issues = issuesOf(text);
    assert.equal(issues.length, 2);
    assert.equal(issues[0].path, 'initializers.kernal');
    assert.equal(issues[0].message, 'unknown key "kernal"; did you mean "kernel"?');
    assertAt(issues[0], text, '"kernal"');
    assert.equal(issues[1].path, 'inputs.frobnicate');
    assert.match(issues[1].message, /^unknown key "frobnicate"; allowed keys here: distribution, mean, stddev, minval, maxval, value$/);
  });

  it('unknown tensor name, underlined inside the string', () => {
    const text = pretty(withValid({ jacobians: [{ of: 'h@t', wrt: 'h@t-1' }, { of: 'q@t', wrt: 'h@t-1' }] }));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'jacobians[1].of');
    assert.equal(issue.message, 'unknown tensor "q" in cell seed; its tensors are h, c, x, o, z');
    const value = text.indexOf('"q@t"');
    assert.equal(issue.offset, value + 1);
    assert.equal(issue.length, 1);
    assert.deepEqual({ line: issue.line, column: issue.column }, lineColumn(text, value + 1));
  });

  it('tensor names are not checked without a tensorNames function', () => {
    const text = pretty(withValid({ jacobians: [{ of: 'q@t', wrt: 'h@t-1' }] }));
    assert.doesNotThrow(() => parseConfig(text, '/tmp/c.jacobian.json'));
  });

  it('tensor reference syntax, at the column parseTensorRef names', () => {
    const text = pretty(withValid({ jacobians: [{ of: 'h@t+1', wrt: 'h' }] }));
    const [of, wrt] = issuesOf(text);
    assert.equal(of.path, 'jacobians[0].of');
    assert.match(of.message, /"t\+1" is not a time/);
    assert.equal(of.offset, text.indexOf('"h@t+1"') + 1 + 2);
    assert.equal(text.slice(of.offset, of.offset + of.length), 't+1');
    assert.equal(wrt.path, 'jacobians[0].wrt');
    assert.match(wrt.message, /has no time/);
    assertAt(wrt, text, '"h"');
  });

  it('missing .npy files, resolved against the config folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-config-'));
    try {
      writeFileSync(join(dir, 'h0.npy'), '');
      const text = pretty(
        withValid({ inputs: { file: 'inputs.npy' }, initialState: { h: { file: 'h0.npy' }, c: { file: '/nonexistent/c0.npy' } } }),
      );
      const issues = issuesOf(text, join(dir, 'c.jacobian.json'));
      assert.equal(issues.length, 2);
      assert.equal(issues[0].path, 'inputs.file');
      assert.equal(issues[0].message, `file not found: ${join(dir, 'inputs.npy')}`);
      assertAt(issues[0], text, '"inputs.npy"');
      assert.equal(issues[1].path, 'initialState.c.file');
      assert.equal(issues[1].message, 'file not found: /nonexistent/c0.npy');
      assertAt(issues[1], text, '"/nonexistent/c0.npy"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every error at once, in document order', () => {
    const text = pretty({
      cell: 'seed',
      units: '100',
      inputDim: -5,
      activation: 'rleu',
      recurrentActivation: 'sigmoid',
      initializers: { kernel: 3, bias: { name: 'glorot_uniform', gain: 2 } },
      inputs: { distribution: 'uniform', stddev: 2 },
      initialState: 'normal',
      jacobians: [{ of: 'q@t', wrt: 'h@t-1' }],
      diagnostics: ['mean', 'mean'],
      method: 'fast',
    });
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['units', 'expected an integer, got the string "100"'],
        ['inputDim', 'must be ≥ 1, got -5'],
        [
          'activation',
          'unknown activation "rleu"; expected one of linear, relu, sigmoid, hard_sigmoid, tanh, elu, selu, softplus, softsign, swish, gelu; did you mean "relu"?',
        ],
        ['recurrentActivation', 'recurrentActivation is the gate activation of lstm and gru; cell seed has no gates'],
        ['initializers.kernel', 'expected an initializer name or an object {"name": ...}, got the number 3'],
        ['initializers.bias.gain', '"gain" does not apply to initializer glorot_uniform; glorot_uniform takes no arguments'],
        ['inputs.stddev', '"stddev" does not apply to distribution uniform; uniform takes minval, maxval'],
        [
          'initialState',
          'expected a distribution {"distribution": ...}, a data file {"file": ...} or an object keyed by state name (h, c), got the string "normal"',
        ],
        ['jacobians[0].of', 'unknown tensor "q" in cell seed; its tensors are h, c, x, o, z'],
        ['diagnostics[1]', '"mean" is listed twice (also at diagnostics[0])'],
        ['method', 'unknown method "fast"; expected one of structured, autodiff'],
      ],
    );
    for (const issue of issues) {
      assert.deepEqual({ line: issue.line, column: issue.column }, lineColumn(text, issue.offset), issue.path);
    }
    assertAt(issues[3], text, '"recurrentActivation"');
    assertAt(issues[5], text, '"gain"');
  });

  it('recurrentActivation is allowed for lstm and gru only', () => {
    for (const cell of ['lstm', 'gru']) {
      const spec = parseConfig(pretty({ cell, units: 2, inputDim: 2, recurrentActivation: 'hard_sigmoid' }), '/tmp/c.jacobian.json');
      assert.equal(spec.recurrentActivation, 'hard_sigmoid');
    }
    const issue = onlyIssue(pretty({ cell: 'simple_rnn', units: 2, inputDim: 2, recurrentActivation: 'sigmoid' }));
    assert.equal(issue.path, 'recurrentActivation');
    assert.match(issue.message, /cell simple_rnn has no gates/);
  });

  it('state c for a cell without one', () => {
    const text = pretty({ cell: 'gru', units: 2, inputDim: 2, initialState: { c: { distribution: 'zeros' } } });
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'initialState.c');
    assert.equal(issue.message, 'cell gru has no state "c"; its only state is h');
    assertAt(issue, text, '"c"');
  });

  it('a file source takes no distribution keys; bounds must be ordered', () => {
    const text = pretty(withValid({ inputs: { file: '/nonexistent.npy', mean: 0 }, initialState: { distribution: 'uniform', minval: 2 } }));
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['inputs.file', 'file not found: /nonexistent.npy'],
        ['inputs.mean', 'unknown key "mean"; allowed keys here: file'],
        ['initialState.minval', 'minval (2) must be less than maxval (1, the default)'],
      ],
    );
  });

  it('duplicate keys and empty Jacobian lists', () => {
    const text = '{"cell": "seed", "units": 1, "inputDim": 1, "units": 2, "jacobians": []}';
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['units', 'duplicate key "units"'],
        ['jacobians', 'must not be empty'],
      ],
    );
    assertAt(issues[0], text, '"units"', 1);
  });

  it('counts lines and columns across CRLF line ends', () => {
    const text = '{\r\n  "cell": "seed",\r\n  "units": -1,\r\n  "inputDim": 1\r\n}\r\n';
    const issue = onlyIssue(text);
    assert.deepEqual([issue.line, issue.column, issue.offset, issue.length], [3, 12, text.indexOf('-1'), 2]);
  });

  it('ignores a byte-order mark and keeps offsets', () => {
    const text = '\uFEFF{"cell": "seed", "units": 0, "inputDim": 1}';
    const issue = onlyIssue(text);
    assert.equal(issue.message, 'must be ≥ 1, got 0');
    assertAt(issue, text, '0');
  });

  it('a __proto__ key is an unknown key, not a prototype', () => {
    const text = '{"cell": "seed", "units": 1, "inputDim": 1, "__proto__": {"units": -1}}';
    const issue = onlyIssue(text);
    assert.equal(issue.path, '__proto__');
    assert.match(issue.message, /^unknown key "__proto__"/);
  });

  it('a root that is not an object', () => {
    const issue = onlyIssue('[1, 2]');
    assert.equal(issue.path, '');
    assert.equal(issue.message, 'expected an object, got an array');
  });

  it('every invalid example fails with its own error, and huge-units does not', () => {
    const dir = join(repoRoot(), 'examples', 'invalid');
    const expected: Record<string, [string, RegExp]> = {
      'malformed.jacobian.json': ['units', /^Expected a comma or closing brace$/],
      'unknown-cell.jacobian.json': ['cell', /^unknown cell "foo"/],
      'negative-units.jacobian.json': ['units', /^must be ≥ 1, got -5$/],
      'string-units.jacobian.json': ['units', /^expected an integer, got the string "100"$/],
      'unknown-tensor.jacobian.json': ['jacobians[0].of', /^unknown tensor "q" in cell seed/],
      'missing-npy.jacobian.json': ['inputs.file', /^file not found: .*does-not-exist\.npy$/],
      'unknown-key.jacobian.json': ['unitz', /^unknown key "unitz"; did you mean "units"\?$/],
    };
    for (const [name, [path, message]] of Object.entries(expected)) {
      const file = join(dir, name);
      const issues = issuesOf(readFileSync(file, 'utf8'), file);
      const issue = issues.find((i) => i.path === path);
      assert.ok(issue, `${name}: no issue at "${path}" in ${JSON.stringify(issues)}`);
      assert.match(issue.message, message, name);
      assert.equal(issue.file, file);
    }
    const huge = join(dir, 'huge-units.jacobian.json');
    assert.equal(parseConfig(readFileSync(huge, 'utf8'), huge, { tensorNames }).units, 100000);
  });
});

describe('config: locator and positions', () => {
  const text = pretty(withValid({ initialState: { h: { distribution: 'zeros' } } }));
  const spec = parseConfig(text, '/tmp/loc.jacobian.json');

  it('locates any path validation produces', () => {
    const of = spec.locator.issueAt('jacobians[0].of', 'bad');
    assertAt(of, text, '"h@t"');
    assert.equal(of.path, 'jacobians[0].of');
    assert.equal(of.file, '/tmp/loc.jacobian.json');
    assert.equal(of.message, 'bad');
    assertAt(spec.locator.issueAt('initialState.h.distribution', 'x'), text, '"zeros"', 1);
    assertAt(spec.locator.issueAt('diagnostics[2]', 'x'), text, '"spectralNorm"');
  });

  it('falls back to the nearest existing ancestor, at its key', () => {
    const fallback = spec.locator.issueAt('initialState.h.file', 'shape mismatch');
    assert.equal(fallback.path, 'initialState.h.file');
    assertAt(fallback, text, '"h"');
    assertAt(spec.locator.issueAt('inputs.file', 'x'), text, '"inputs"');
    assertAt(spec.locator.issueAt('jacobians[3].of', 'x'), text, '"jacobians"');
    const root = spec.locator.issueAt('maxMemoryMB', 'x');
    assert.deepEqual([root.line, root.column, root.offset, root.length], [1, 1, 0, 1]);
  });

  it('formats and parses paths both ways', () => {
    for (const segments of [[], ['units'], ['jacobians', 0, 'of'], ['initialState', 'h', 'file'], ['a key', 3, 'x.y']]) {
      const path = formatPath(segments);
      assert.deepEqual(parsePath(path), segments, path);
    }
    assert.equal(formatPath(['jacobians', 0, 'of']), 'jacobians[0].of');
    assert.equal(formatPath(['a key', 3]), '["a key"][3]');
  });

  it('maps offsets to lines and columns', () => {
    const lines = new LineIndex('ab\ncd\r\nef\rg');
    assert.deepEqual(lines.position(0), { line: 1, column: 1 });
    assert.deepEqual(lines.position(4), { line: 2, column: 2 });
    assert.deepEqual(lines.position(7), { line: 3, column: 1 });
    assert.deepEqual(lines.position(10), { line: 4, column: 1 });
  });

  it('locates even in text that does not parse', () => {
    const locator = new ConfigLocator('/tmp/x.json', '{"a": ');
    const issue = locator.issueAt('a', 'x');
    assert.equal(issue.file, '/tmp/x.json');
    assert.equal(issue.line, 1);
  });
});
