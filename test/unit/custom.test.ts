// Custom cells written as equations in the config: parity with the built-in cells they spell out (the
// seed cell and Keras's LSTM, same seed, same numbers), a cell no built-in has against an independent
// float64 step and finite differences, and every expression error located at its column.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText, type RunResult } from '../../src/engine';
import type { SourceIssue } from '../../src/engine/errors';
import { parseRunConfig as parseConfig } from '../../src/engine/runConfig';
import { parseExpression, ExprError } from '../../src/engine/cells/custom/parse';
import { forEachBackend } from './helpers/backends';
import { lineColumn, theOnlyIssue, userIssues } from './helpers/issues';
import { ACT, finiteDifference, mat, vecKernel, type Mat, type Vec } from './reference/float64';
import { repoRoot } from './helpers/repo';
import { assertClose } from './helpers/close';


type Json = Record<string, unknown>;

function example(name: string): Json {
  return JSON.parse(readFileSync(join(repoRoot(), 'examples', name), 'utf8')) as Json;
}

async function run(config: Json): Promise<RunResult> {
  return analyzeText(JSON.stringify(config), join(repoRoot(), 'examples', 'parity-test.jacobian.json'), { keepJacobiansMB: Infinity });
}

/** Bitwise equality of two float32 arrays (NaN equal to NaN), with the first difference in the message. */
function assertBitwise(label: string, a: Float32Array | undefined, b: Float32Array | undefined): void {
  assert.ok(a && b, `${label}: missing array`);
  assert.equal(a.length, b.length, `${label}: lengths`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${label}: differ at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

/** Everything a run computed, custom against built-in: params (by weight name), trajectory, Jacobians, stats. */
function assertIdentical(custom: RunResult, builtin: RunResult, tensors: string[]): void {
  for (const name of tensors) {
    const c = custom.arrays.tensors.find((t) => t.name === name);
    const b = builtin.arrays.tensors.find((t) => t.name === name);
    assert.ok(c && b, `tensor ${name} in both runs`);
    assert.deepEqual(c.shape, b.shape, `${name} shape`);
    assertBitwise(`tensor ${name}`, c.data, b.data);
  }
  assert.equal(custom.report.jacobians.length, builtin.report.jacobians.length);
  custom.report.jacobians.forEach((pc, i) => {
    const pb = builtin.report.jacobians[i];
    const label = `${pc.of} wrt ${pc.wrt}`;
    assert.deepEqual([pc.outDim, pc.inDim], [pb.outDim, pb.inDim], label);
    // Statistics are deepEqual'd: the same float64 numbers, not merely close ones.
    assert.deepEqual(pc.steps, pb.steps, `${label}: statistics`);
    const ac = custom.arrays.pairs[i];
    const ab = builtin.arrays.pairs[i];
    assertBitwise(`${label} Jacobians`, ac.jacobians, ab.jacobians);
    if (ab.singularValues) assertBitwise(`${label} singular values`, ac.singularValues, ab.singularValues);
    if (ab.eigenvaluesRe) assertBitwise(`${label} eigenvalues`, ac.eigenvaluesRe, ab.eigenvaluesRe);
  });
}

/** The built-in seed config the seed-as-equations example spells out. */
function seedBuiltin(custom: Json): Json {
  const { custom: _block, $schema: _s, ...rest } = custom;
  void _block;
  void _s;
  return { ...rest, cell: 'seed', activation: 'relu', initializers: { kernel: 'glorot_uniform', recurrentKernel: 'glorot_uniform', bias: 'zeros' } };
}

function lstmBuiltin(custom: Json): Json {
  const { custom: _block, $schema: _s, ...rest } = custom;
  void _block;
  void _s;
  return { ...rest, cell: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid', initializers: { kernel: 'glorot_uniform', recurrentKernel: 'orthogonal', bias: 'zeros' } };
}

forEachBackend('custom cells: parity with the built-in cells they write out', () => {
  it('seed-as-equations.jacobian.json equals cell "seed" bit for bit (params, trajectory, every Jacobian and statistic)', async () => {
    const custom = example('seed-as-equations.jacobian.json');
    const c = await run(custom);
    const b = await run(seedBuiltin(custom));
    assert.equal(c.report.cell, 'custom');
    assert.equal(b.report.cell, 'seed');
    assert.equal(c.report.jacobians.length, 5);
    assertIdentical(c, b, ['linear_rec/kernel', 'linear_rec/bias', 'linear_in/kernel', 'h', 'c', 'x', 'o']);
  });

  it('the seed as equations with a random bias and tanh, by autodiff too, equals cell "seed"', async () => {
    const custom = example('seed-as-equations.jacobian.json');
    const block = structuredClone(custom.custom) as { params: Record<string, Json>; equations: Record<string, string> };
    block.params.b_h.initializer = 'random_normal';
    block.equations.h = 'tanh(h_prev) @ W_h + b_h';
    for (const method of ['structured', 'autodiff']) {
      const small = { ...custom, custom: block, units: 12, timeSteps: 3, batchSize: 2, seed: 5, method };
      const c = await run(small);
      const b = await run({ ...seedBuiltin(small), activation: 'tanh', initializers: { kernel: 'glorot_uniform', recurrentKernel: 'glorot_uniform', bias: 'random_normal' } });
      assert.equal(c.report.method, method);
      assertIdentical(c, b, ['linear_rec/kernel', 'linear_rec/bias', 'linear_in/kernel', 'h', 'c', 'o']);
    }
  });

  it('lstm-as-equations.jacobian.json equals cell "lstm" bit for bit (unit_forget_bias through segments)', async () => {
    const custom = example('lstm-as-equations.jacobian.json');
    const c = await run(custom);
    const b = await run(lstmBuiltin(custom));
    assertIdentical(c, b, ['kernel', 'recurrent_kernel', 'bias', 'h', 'c', 'x']);
    // The forget-gate quarter of the bias is Keras's unit_forget_bias ones; the rest the zeros initializer.
    const bias = c.arrays.tensors.find((t) => t.name === 'bias')!.data;
    const u = 64;
    assert.deepEqual([...bias.subarray(u, 2 * u)], new Array(u).fill(1));
    assert.deepEqual([...bias.subarray(0, u)], new Array(u).fill(0));
  });

  it('the LSTM as equations with random bias segments (one stream, pieces in order) equals cell "lstm"', async () => {
    const custom = example('lstm-as-equations.jacobian.json');
    const block = structuredClone(custom.custom) as { params: Record<string, { segments: Json[] }> };
    block.params.b.segments[0].initializer = 'random_normal';
    block.params.b.segments[2].initializer = 'random_normal';
    const small = { ...custom, custom: block, units: 5, inputDim: 3, timeSteps: 4, batchSize: 2, seed: 11 };
    const c = await run(small);
    const b = await run({ ...lstmBuiltin(small), initializers: { kernel: 'glorot_uniform', recurrentKernel: 'orthogonal', bias: 'random_normal' } });
    assertIdentical(c, b, ['kernel', 'recurrent_kernel', 'bias', 'h', 'c']);
    const bias = c.arrays.tensors.find((t) => t.name === 'bias')!.data;
    assert.ok(bias.subarray(0, 5).some((v) => v !== 0), 'the input-gate segment is drawn, not zero');
  });
});

// ---------------------------------------------------------------------------------------------------
// A cell no built-in has, against a float64 step written independently of the graph and the ops.

const GATED = {
  cell: 'custom',
  units: 4,
  inputDim: 3,
  custom: {
    params: {
      W: { shape: ['inputDim+units', '2*units'], initializer: { name: 'random_normal', stddev: 0.6 } },
      B: { shape: [2, '2*units'], initializer: { name: 'random_normal', stddev: 0.3 } },
      V: { shape: ['units', 2], initializer: { name: 'random_normal', stddev: 0.5 } },
    },
    states: { h: { size: 'units' }, m: { size: 2, initial: { distribution: 'uniform', minval: -0.5, maxval: 0.5 } } },
    inputs: { x: 'inputDim' },
    outputs: ['y'],
    equations: {
      y: '-softplus(h) + 2 * h_prev - concat(m, m)',
      h: '(1 - z) * h_prev + z * n - 0.5 * h_prev * z',
      n: 'tanh(a[units:])',
      z: 'sigmoid(a[:units])',
      a: 'concat(x, h_prev) @ W + row(B, 1)',
      m: 'swish(h @ V) - m_prev * 0.5',
    },
  },
  seed: 3,
  timeSteps: 3,
  batchSize: 2,
  jacobians: [
    { of: 'h@t', wrt: 'h@t-1' },
    { of: 'y@t', wrt: 'x@t' },
    { of: 'm@t', wrt: 'h@t-1' },
    { of: 'z@t', wrt: 'x@t' },
  ],
  diagnostics: ['mean', 'frobenius'],
};

function gatedStep(p: Record<string, Mat>, hPrev: Vec, mPrev: Vec, x: Vec): { h: Vec; m: Vec; y: Vec; z: Vec } {
  const u = hPrev.length;
  const xh = Float64Array.from([...x, ...hPrev]);
  const a = vecKernel(xh, p.W).map((v, j) => v + p.B.data[p.B.cols + j]);
  const z = a.slice(0, u).map(ACT.sigmoid.f);
  const n = a.slice(u).map(ACT.tanh.f);
  const h = hPrev.map((hp, i) => (1 - z[i]) * hp + z[i] * n[i] - 0.5 * hp * z[i]);
  const m = vecKernel(h, p.V).map((v, j) => ACT.swish.f(v) - mPrev[j] * 0.5);
  const y = h.map((v, i) => -Math.log1p(Math.exp(v)) + 2 * hPrev[i] - m[i % 2]);
  return { h, m, y, z };
}

forEachBackend('custom cells: a cell with concat, slices, row, constants and unary minus against float64', () => {
  for (const method of ['structured', 'autodiff'] as const) {
    it(`trajectory and Jacobians (${method}) equal the float64 step and its finite differences`, async () => {
      const r = await analyzeText(JSON.stringify({ ...GATED, method }), '/tmp/gated.jacobian.json', { keepJacobiansMB: Infinity });
      const get = (name: string) => r.arrays.tensors.find((t) => t.name === name)!;
      const p: Record<string, Mat> = {};
      for (const name of ['W', 'B', 'V']) {
        const t = get(name);
        p[name] = mat(t.shape[0], t.shape[1], t.data);
      }
      const { timeSteps: T, batchSize: B } = r.report;
      const u = 4;
      const [h, m, x, y] = ['h', 'm', 'x', 'y'].map(get);
      for (let b = 0; b < B; b++) {
        let hPrev: Vec = Float64Array.from(h.data.subarray(b * u, (b + 1) * u));
        let mPrev: Vec = Float64Array.from(m.data.subarray(b * 2, (b + 1) * 2));
        for (let t = 1; t <= T; t++) {
          const xt = Float64Array.from(x.data.subarray(((t - 1) * B + b) * 3, ((t - 1) * B + b + 1) * 3));
          const out = gatedStep(p, hPrev, mPrev, xt);
          assertClose(`h@${t}`, h.data, (t * B + b) * u, mat(1, u, out.h));
          assertClose(`m@${t}`, m.data, (t * B + b) * 2, mat(1, 2, out.m));
          assertClose(`y@${t}`, y.data, ((t - 1) * B + b) * u, mat(1, u, out.y));
          const k = t - 1;
          const [hh, yx, mh, zx] = r.arrays.pairs.map((pair) => pair.jacobians!);
          const hp = hPrev;
          const mp = mPrev;
          assertClose(`∂h@${t}/∂h@${t - 1}`, hh, (k * B + b) * u * u, finiteDifference((v) => gatedStep(p, v, mp, xt).h, hp));
          assertClose(`∂y@${t}/∂x@${t}`, yx, (k * B + b) * u * 3, finiteDifference((v) => gatedStep(p, hp, mp, v).y, xt));
          assertClose(`∂m@${t}/∂h@${t - 1}`, mh, (k * B + b) * 2 * u, finiteDifference((v) => gatedStep(p, v, mp, xt).m, hp));
          assertClose(`∂z@${t}/∂x@${t}`, zx, (k * B + b) * u * 3, finiteDifference((v) => gatedStep(p, hp, mp, v).z, xt));
          hPrev = out.h;
          mPrev = out.m;
        }
      }
      // The state m started from its own `initial` distribution: uniform on [-0.5, 0.5].
      assert.ok([...m.data.subarray(0, 2 * B)].every((v) => v >= -0.5 && v <= 0.5 && v !== 0));
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Errors, each located at its column inside the expression string.

const BASE = {
  cell: 'custom',
  units: 8,
  inputDim: 3,
  custom: {
    params: {
      W_h: { shape: ['units', 'units'], name: 'linear_rec/kernel' },
      b_h: { shape: ['units'] },
      W_o: { shape: ['inputDim', 'units'] },
    },
    states: { h: { size: 'units' }, c: { size: 'units' } },
    inputs: { x: 'inputDim' },
    outputs: ['o'],
    equations: {
      h: 'relu(h_prev) @ W_h + b_h',
      c: 'c_prev - h_prev + h',
      o: 'sigmoid(x @ W_o + c)',
    },
  },
};

interface Block {
  params: Record<string, Json>;
  states: Record<string, Json>;
  inputs: Record<string, unknown>;
  outputs: string[];
  equations: Record<string, string>;
}

function withCustom(change: (block: Block) => void, top: Json = {}): string {
  const config = structuredClone({ ...BASE, ...top }) as Json;
  change(config.custom as Block);
  return JSON.stringify(config, null, 2) + '\n';
}

function issuesOf(text: string): SourceIssue[] {
  return userIssues(() => parseConfig(text, '/tmp/custom-errors.jacobian.json'));
}

function onlyIssue(text: string): SourceIssue {
  return theOnlyIssue(issuesOf(text));
}

/**
 * Asserts that the issue underlines `snippet` inside the JSON string `expression` (found in the text
 * as `"expression"`): offset = the string's opening quote + 1 + the snippet's column in the expression.
 */
function assertInExpression(issue: SourceIssue, text: string, expression: string, snippet: string, occurrence = 0): void {
  const quoted = text.indexOf(JSON.stringify(expression));
  assert.ok(quoted >= 0, `${expression} not in the text`);
  let column = -1;
  for (let i = 0; i <= occurrence; i++) column = expression.indexOf(snippet, column + 1);
  assert.ok(column >= 0, `${snippet} not in ${expression}`);
  const offset = quoted + 1 + column;
  assert.equal(text.slice(issue.offset, issue.offset + issue.length), snippet, `underlined: ${issue.message}`);
  assert.equal(issue.offset, offset);
  assert.deepEqual({ line: issue.line, column: issue.column }, lineColumn(text, offset));
}

/** Asserts that the issue underlines the key `"key"` (its `occurrence`-th appearance). */
function assertAtKey(issue: SourceIssue, text: string, key: string, occurrence = 0): void {
  let offset = -1;
  for (let i = 0; i <= occurrence; i++) offset = text.indexOf(JSON.stringify(key) + ':', offset + 1);
  assert.ok(offset >= 0);
  assert.equal(issue.offset, offset, issue.message);
  assert.equal(issue.length, JSON.stringify(key).length);
}

describe('custom cells: the base config of the error cases is valid', () => {
  it('parses, with units and inputDim given, and names its tensors for of/wrt', () => {
    const spec = parseConfig(withCustom(() => {}), '/tmp/ok.jacobian.json');
    assert.equal(spec.cell, 'custom');
    assert.deepEqual(spec.custom!.params.map((p) => [p.key, p.name, p.shape.join('x'), p.initializer.name]), [
      ['W_h', 'linear_rec/kernel', '8x8', 'glorot_uniform'],
      ['b_h', 'b_h', '8', 'zeros'],
      ['W_o', 'W_o', '3x8', 'glorot_uniform'],
    ]);
  });

  it('takes units and inputDim from the first state and input when absent', () => {
    const text = withCustom((c) => {
      c.states = { h: { size: 5 }, c: { size: 'units' } };
      c.inputs = { x: 2 };
    });
    const config = JSON.parse(text) as Json;
    delete config.units;
    delete config.inputDim;
    const spec = parseConfig(JSON.stringify(config), '/tmp/derive.jacobian.json');
    assert.deepEqual([spec.units, spec.inputDim], [5, 2]);
    assert.deepEqual(spec.custom!.states, [{ name: 'h', size: 5 }, { name: 'c', size: 5 }]);
  });
});

describe('custom cells: expression errors point to the column', () => {
  it('unknown name, with did-you-mean', () => {
    const text = withCustom((c) => (c.equations.h = 'relu(h_prv) @ W_h + b_h'));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'custom.equations.h');
    assert.match(issue.message, /unknown name "h_prv"; did you mean "h_prev"\?/);
    assertInExpression(issue, text, 'relu(h_prv) @ W_h + b_h', 'h_prv');
  });

  it('unknown function, with did-you-mean', () => {
    const text = withCustom((c) => (c.equations.h = 'rleu(h_prev) @ W_h + b_h'));
    const issue = onlyIssue(text);
    assert.match(issue.message, /unknown function "rleu"; did you mean "relu"\?/);
    assertInExpression(issue, text, 'rleu(h_prev) @ W_h + b_h', 'rleu');
  });

  it('shape mismatch in +, naming both shapes, at the operator', () => {
    const text = withCustom((c) => {
      c.params.b_x = { shape: ['inputDim'] };
      c.equations.h = 'relu(h_prev) @ W_h + b_x';
    });
    const issue = onlyIssue(text);
    assert.match(issue.message, /shape mismatch in "\+": "relu\(h_prev\) @ W_h" is \[8\] but "b_x" is \[3\] \(a parameter\)/);
    assertInExpression(issue, text, 'relu(h_prev) @ W_h + b_x', '+');
  });

  it('shape mismatch in @, naming both shapes, at the operator', () => {
    const text = withCustom((c) => (c.equations.o = 'sigmoid(h_prev @ W_o + c)'));
    const issue = onlyIssue(text);
    assert.match(issue.message, /shape mismatch in "@": "h_prev" is \[8\] but "W_o" is \[3, 8\] \(a parameter\)/);
    assertInExpression(issue, text, 'sigmoid(h_prev @ W_o + c)', '@');
  });

  it('a cycle through equations, named, at the reference that closes it', () => {
    const text = withCustom((c) => {
      c.equations.o = 'sigmoid(x @ W_o + c) * p';
      c.equations.p = 'o * 2';
    });
    const issue = onlyIssue(text);
    assert.match(issue.message, /cycle o → p → o/);
    assertInExpression(issue, text, 'o * 2', 'o');
  });

  it('an equation reading itself, with a hint to NAME_prev', () => {
    const text = withCustom((c) => (c.equations.h = 'relu(h) @ W_h + b_h'));
    const issue = onlyIssue(text);
    assert.match(issue.message, /"h" reads itself; a state's previous value is written h_prev/);
    assertInExpression(issue, text, 'relu(h) @ W_h + b_h', 'h');
  });

  it('a state without an update, at the state key', () => {
    const text = withCustom((c) => delete c.equations.c);
    const issues = issuesOf(text);
    const issue = issues.find((i) => /has no update/.test(i.message))!;
    assert.ok(issue, issues.map((i) => i.message).join('\n'));
    assert.match(issue.message, /state "c" has no update/);
    assertAtKey(issue, text, 'c');
    // o read the missing state's new value: said so at its column.
    const read = issues.find((i) => i.path === 'custom.equations.o')!;
    assert.match(read.message, /state "c" has no equation/);
    assertInExpression(read, text, 'sigmoid(x @ W_o + c)', 'c');
  });

  it('a state updated to the wrong size, with both sizes', () => {
    const text = withCustom((c) => (c.equations.h = 'x @ W_o[0:3]'));
    const issues = issuesOf(text);
    assert.ok(issues.some((i) => /slice takes features of a vector|a slice \[a:b\] takes features of a vector/.test(i.message)));
    const text2 = withCustom((c) => {
      c.params.W_s = { shape: ['units', 'inputDim'] };
      c.equations.h = 'h_prev @ W_s';
    });
    const issue = issuesOf(text2).find((i) => i.path === 'custom.equations.h')!;
    assert.match(issue.message, /state "h" has size 8 \(\[8\]\) but its equation gives \[3\]/);
    assertInExpression(issue, text2, 'h_prev @ W_s', 'h_prev @ W_s');
  });

  it('syntax: an unclosed parenthesis and an unsupported operator', () => {
    const text = withCustom((c) => (c.equations.h = 'relu(h_prev @ W_h + b_h'));
    const issue = onlyIssue(text);
    assert.match(issue.message, /expected "," or "\)", but the expression ends/);
    assertInExpression(issue, text, 'relu(h_prev @ W_h + b_h', 'h', 2);
    const text2 = withCustom((c) => (c.equations.c = 'c_prev / 2'));
    const issue2 = onlyIssue(text2);
    assert.match(issue2.message, /division is not in the op set/);
    assertInExpression(issue2, text2, 'c_prev / 2', '/');
  });

  it('a slice outside the vector, at its brackets', () => {
    const text = withCustom((c) => (c.equations.c = 'c_prev[0:units] - h_prev[2:units+1] + h'));
    const issue = onlyIssue(text);
    assert.match(issue.message, /slice \[2:9\] is outside "h_prev", which has 8 features/);
    assertInExpression(issue, text, 'c_prev[0:units] - h_prev[2:units+1] + h', '[2:units+1]');
  });

  it('a size that is not one, inside the shape string', () => {
    const text = withCustom((c) => (c.params.W_h.shape = ['unitz', 'units']));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'custom.params.W_h.shape[0]');
    assert.match(issue.message, /"unitz" is neither; did you mean "units"\?/);
    assertInExpression(issue, text, 'unitz', 'unitz');
  });

  it('an unknown output, with did-you-mean, at the output', () => {
    const text = withCustom((c) => (c.outputs = ['oo']));
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'custom.outputs[0]');
    assert.match(issue.message, /unknown output "oo".*did you mean "o"\?/);
    assert.equal(text.slice(issue.offset, issue.offset + issue.length), '"oo"');
  });

  it('a name used twice (a parameter named like an input), at the parameter\'s key', () => {
    const text = withCustom((c) => (c.params.x = { shape: ['units'] }));
    const issue = onlyIssue(text);
    assert.match(issue.message, /"x" is already an input/);
    assertAtKey(issue, text, 'x', 0);
  });

  it('of/wrt name the custom cell\'s own tensors (intermediates included), with did-you-mean', () => {
    const ok = withCustom((c) => (c.equations.pre = 'x @ W_o + c'), { jacobians: [{ of: 'pre@t', wrt: 'h@t-1' }] });
    assert.equal(parseConfig(ok, '/tmp/ok.jacobian.json').jacobians[0].of, 'pre@t');
    const text = withCustom(() => {}, { jacobians: [{ of: 'oo@t', wrt: 'h@t-1' }] });
    const issue = onlyIssue(text);
    assert.match(issue.message, /unknown tensor "oo" in cell custom; its tensors are (\w+, ){3}\w+; did you mean "o"\?/);
    assert.deepEqual(new Set(/its tensors are ([^;]*);/.exec(issue.message)![1].split(', ')), new Set(['h', 'c', 'x', 'o']));
  });

  it('keys that belong to built-in cells are refused for a custom cell, and the custom block for a built-in one', () => {
    const text = withCustom(() => {}, { activation: 'tanh' });
    const issue = onlyIssue(text);
    assert.match(issue.message, /"activation" does not apply to a custom cell/);
    const builtin = JSON.stringify({ cell: 'seed', units: 4, inputDim: 2, custom: BASE.custom });
    assert.match(onlyIssue(builtin).message, /"custom" holds the equations of a custom cell; it applies only with "cell": "custom"/);
    const missing = JSON.stringify({ cell: 'custom', units: 4 });
    assert.match(onlyIssue(missing).message, /missing required key "custom"/);
  });

  it('a size "units" in a config without units, at the size', () => {
    const config = JSON.parse(withCustom(() => {})) as Json;
    delete config.units;
    const text = JSON.stringify(config, null, 2);
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'custom.states.h.size');
    assert.match(issue.message, /units is not set in this config; give "units" or write a number/);
  });

  it('segments must add up to the vector they initialise', () => {
    const text = withCustom((c) => {
      c.params.b_h.segments = [{ size: 'units', initializer: 'zeros' }, { size: 2, initializer: 'ones' }];
    });
    const issue = onlyIssue(text);
    assert.match(issue.message, /the segments' sizes add up to 10 \(8 \+ 2\), but "b_h" has 8 entries/);
  });
});

describe('custom cells: the expression parser', () => {
  it('gives * and @ one precedence, left to right, below unary minus and above + -', () => {
    const e = parseExpression('-a * x @ W + b');
    assert.equal(e.kind, 'binary');
    if (e.kind !== 'binary') return;
    assert.equal(e.op, '+');
    assert.equal(e.left.kind === 'binary' && e.left.op, '@');
    const mul = e.left.kind === 'binary' ? e.left.left : undefined;
    assert.equal(mul?.kind === 'binary' && mul.op, '*');
    assert.equal(mul?.kind === 'binary' && mul.left.kind, 'neg');
  });

  it('reports the column of an unexpected token', () => {
    assert.throws(() => parseExpression('a b'), (e: unknown) => e instanceof ExprError && e.column === 2 && /operator is missing/.test(e.message));
    assert.throws(() => parseExpression('x[1]'), (e: unknown) => e instanceof ExprError && e.column === 3);
    assert.throws(() => parseExpression('x ** 2'), (e: unknown) => e instanceof ExprError && e.column === 2 && e.length === 2);
  });
});

describe('custom cells: initial states', () => {
  it('initialState by name may name only the cell\'s states; other states take custom.states.NAME.initial', () => {
    const text = withCustom((c) => (c.states = { h: { size: 'units' }, c: { size: 'units' }, n: { size: 2 } }), { initialState: { n: { distribution: 'zeros' } } });
    const issue = onlyIssue(text.replace('"c": "c_prev - h_prev + h"', '"c": "c_prev - h_prev + h",\n      "n": "n_prev"'));
    assert.match(issue.message, /give a custom state its own initial value as custom.states.n.initial/);
    const noC = withCustom((c) => {
      c.states = { h: { size: 'units' } };
      c.equations = { h: 'relu(h_prev) @ W_h + b_h' };
      c.outputs = [];
    }, { initialState: { c: { distribution: 'zeros' } } });
    assert.match(onlyIssue(noC).message, /the custom cell has no state "c"; its states are h/);
  });

  it('a state\'s own initial wins over initialState; the others keep the shared source', () => {
    const text = withCustom((c) => (c.states.c = { size: 'units', initial: { distribution: 'constant', value: 2 } }), { initialState: { distribution: 'uniform' } });
    const spec = parseConfig(text, '/tmp/init.jacobian.json');
    const byName = spec.initialState as Record<string, { kind: string; distribution?: string; value?: number }>;
    assert.equal(byName.h.distribution, 'uniform');
    assert.deepEqual([byName.c.distribution, byName.c.value], ['constant', 2]);
  });
});
