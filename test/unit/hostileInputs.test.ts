// Inputs built to drive a parser off a cliff get one located answer, fast: equations nested 50 000 deep,
// operator chains as long as a string allows, and the same through the whole config pipeline.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { decodeNpy, decodeNpz, encodeNpy, NpyFormatError, readNpyFile, readNpzFile } from '../../src/engine/params/npy';
import { MAX_EXPRESSION_DEPTH, parseDimension, parseExpression, ExprError } from '../../src/engine/cells/custom/parse';
import { parseRunConfig, readConfigFile } from '../../src/engine/runConfig';
import { analyzeText } from '../../src/engine/run/analyze';
import { buildCell } from '../../src/engine/cells';
import { estimateMemory, plannedMemory } from '../../src/engine/run/memory';
import { resolvePairs } from '../../src/engine/run/pairs';
import { UserError } from '../../src/engine/errors';
import { assertLocatedIn, theOnlyIssue, userIssues } from './helpers/issues';
import { npyWithHeader } from './helpers/npy';

function exprError(text: string, parse: (t: string) => unknown = parseExpression): ExprError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ExprError, `expected an ExprError, got ${String(error)}`);
    return error;
  }
  assert.fail(`parsed ${text.slice(0, 40)}...`);
}

function customConfig(equation: string): string {
  const config = { cell: 'custom', custom: { params: { U: { shape: [2, 2] } }, states: { h: { size: 2 } }, equations: { h: equation } } };
  return JSON.stringify(config, null, 2);
}

describe('hostile equations', () => {
  it('50 000 nested parentheses: refused at the first level too deep', () => {
    const n = 50_000;
    const error = exprError('('.repeat(n) + 'h_prev' + ')'.repeat(n));
    assert.match(error.message, new RegExp(`nested more than ${MAX_EXPRESSION_DEPTH} levels`));
    assert.equal(error.column, MAX_EXPRESSION_DEPTH);
  });

  it('50 000 signs, nested calls and nested sizes are refused the same way', () => {
    assert.match(exprError('-'.repeat(50_000) + 'h_prev').message, /nested more than/);
    assert.match(exprError('tanh('.repeat(50_000) + 'h_prev' + ')'.repeat(50_000)).message, /nested more than/);
    assert.match(exprError('('.repeat(50_000) + 'units' + ')'.repeat(50_000), parseDimension).message, /nested more than/);
  });

  it('a chain of 30 000 additions is refused as too tall, at the operation that exceeds the bound', () => {
    const error = exprError(Array(30_000).fill('h_prev').join(' + '));
    assert.match(error.message, new RegExp(`more than ${MAX_EXPRESSION_DEPTH} operations chained`));
    assert.equal(error.column, 0);
  });

  it('an equation just inside the bounds still parses', () => {
    const depth = MAX_EXPRESSION_DEPTH - 1;
    assert.doesNotThrow(() => parseExpression('('.repeat(depth) + 'h_prev' + ')'.repeat(depth)));
    assert.doesNotThrow(() => parseExpression(Array(MAX_EXPRESSION_DEPTH - 1).fill('h_prev').join('+')));
  });

  it('through the config: one issue located inside the equation string (30 000 deep; 50 000 is a string too long)', () => {
    const tooLong = customConfig('('.repeat(50_000) + 'h_prev' + ')'.repeat(50_000));
    assert.match(theOnlyIssue(userIssues(() => parseRunConfig(tooLong, '/tmp/deep.jacobian.json'))).message, /a string of 100006 characters/);
    const n = 30_000;
    const text = customConfig('('.repeat(n) + 'h_prev' + ')'.repeat(n));
    const issue = theOnlyIssue(userIssues(() => parseRunConfig(text, '/tmp/deep.jacobian.json'), 'config'));
    assert.equal(issue.path, 'custom.equations.h');
    assertLocatedIn(issue, text);
    assert.equal(text[issue.offset], '(');
  });
});

function npyProblem(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof NpyFormatError, `expected an NpyFormatError, got ${error instanceof Error ? error.stack : String(error)}`);
    return error.problem;
  }
  assert.fail('expected an NpyFormatError, but nothing was thrown');
}

/** A zip member's declared uncompressed size, rewritten in both its local and central headers. */
function declareSize(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50) view.setUint32(i + 22, size, true);
    if (signature === 0x02014b50) view.setUint32(i + 24, size, true);
  }
  return out;
}

describe('hostile .npy and .npz files', () => {
  it('a header claiming 10¹⁰ elements is checked against the bytes the file holds, before any allocation', () => {
    const bytes = npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", new Uint8Array(16));
    assert.equal(npyProblem(() => decodeNpy(bytes, 'big.npy')), 'truncated: the header promises 4·10000000000 = 40000000000 bytes of data but the file holds 16');
  });

  it('data that is all there but whose float32 copy exceeds the memory limit is refused', () => {
    const bytes = npyWithHeader("{'descr': '|i1', 'fortran_order': False, 'shape': (4096,), }", new Uint8Array(4096));
    assert.match(npyProblem(() => decodeNpy(bytes, 'i1.npy', 8192)), /^4096 values need 16\.0 KiB as float32, more than the 8\.0 KiB allowed/);
  });

  it('a header nested 60 000 deep is refused as malformed, without recursing', () => {
    const bytes = npyWithHeader('('.repeat(60_000) + ')'.repeat(60_000), new Uint8Array(0), 2);
    assert.match(npyProblem(() => decodeNpy(bytes, 'deep.npy')), /^malformed \.npy header \(nested more than 8 levels/);
  });

  it('a zip bomb is refused by the sizes its members declare, before inflating', () => {
    const bomb = zipSync({ 'a.npy': [new Uint8Array(8 * 2 ** 20), { level: 9 }] });
    assert.ok(bomb.length < 64 * 1024);
    assert.match(npyProblem(() => decodeNpz(bomb, 'bomb.npz', 2 ** 20)), /^array 'a': the arrays declare 8\.0 MiB uncompressed so far, more than the 1\.0 MiB allowed/);
    // Declaring more than deflate can expand to is a lie, whatever the limit.
    const liar = declareSize(zipSync({ 'a.npy': encodeNpy([2], new Float32Array(2)) }), 2 ** 31);
    assert.match(npyProblem(() => decodeNpz(liar, 'liar.npz')), /more than deflate can expand: the archive is corrupt or hostile$/);
  });

  it('every member is checked before the first is inflated: a corrupt first member does not get inflated when the second is too large', () => {
    const zip = zipSync({ 'a.npy': [new Uint8Array(2 ** 20), { level: 9 }], 'b.npy': [new Uint8Array(2 ** 20), { level: 9 }] });
    const view = new DataView(zip.buffer);
    const dataStart = 30 + view.getUint16(26, true) + view.getUint16(28, true); // a.npy's local header is first
    zip.fill(0xff, dataStart, dataStart + 64); // inflating a.npy would now fail
    assert.match(npyProblem(() => decodeNpz(zip, 'two.npz', 1.5 * 2 ** 20)), /^array 'b': the arrays declare 2\.0 MiB uncompressed so far/);
  });

  it('a member that inflates to more than it declares is cut at the declared size and then refused as truncated', () => {
    const member = encodeNpy([64], new Float32Array(64));
    const small = declareSize(zipSync({ 'a.npy': [member, { level: 9 }] }), 200);
    assert.match(npyProblem(() => decodeNpz(small, 's.npz')), /^array 'a': truncated/);
  });

  describe('only regular files are read', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('a character device and a FIFO are refused without blocking', () => {
      assert.equal(npyProblem(() => readNpyFile('/dev/zero')), 'cannot be read: not a regular file (a character device)');
      const fifo = join(dir, 'fifo.npy');
      execFileSync('mkfifo', [fifo]);
      assert.equal(npyProblem(() => readNpzFile(fifo)), 'cannot be read: not a regular file (a FIFO)');
    });

    it('a config that is a device, a FIFO or a folder: one issue at 1:1 of that path, read without blocking', () => {
      const fifo = join(dir, 'config-fifo.jacobian.json');
      execFileSync('mkfifo', [fifo]);
      for (const [file, kind] of [['/dev/zero', 'a character device'], [fifo, 'a FIFO'], [dir, 'a folder']]) {
        const issue = theOnlyIssue(userIssues(() => readConfigFile(file), 'config'));
        assert.deepEqual([issue.file, issue.line, issue.column, issue.message], [file, 1, 1, `cannot read config: not a regular file (${kind})`]);
      }
    });

    it('a file larger than the limit is refused by its size on disk', () => {
      const file = join(dir, 'big.npy');
      writeFileSync(file, encodeNpy([1024], new Float32Array(1024)));
      assert.match(npyProblem(() => readNpyFile(file, 1024)), /^cannot be read: 4\.\d KiB, more than the 1\.0 KiB allowed$/);
    });
  });
});

describe('sizes a config states are checked against maxMemoryMB before anything proportional exists', () => {
  async function memoryIssue(config: Record<string, unknown>) {
    const text = JSON.stringify({ cell: 'lstm', units: 1024, inputDim: 8, ...config }, null, 2);
    const started = performance.now();
    const error = await analyzeText(text, '/tmp/huge.jacobian.json', { backend: 'auto' }).then(
      () => assert.fail('the run was not refused'),
      (e: unknown) => e,
    );
    const ms = performance.now() - started;
    assert.ok(error instanceof UserError, `expected a UserError, got ${error instanceof Error ? error.stack : String(error)}`);
    assert.equal(error.kind, 'memory');
    const issue = theOnlyIssue(error.issues);
    assertLocatedIn(issue, text);
    return { issue, text, ms };
  }

  it('timeSteps 10⁹ (units 1024, batch 64): refused at timeSteps with what it needs and the limit', async () => {
    const { issue, text, ms } = await memoryIssue({ timeSteps: 1_000_000_000, batchSize: 64 });
    assert.equal(issue.path, 'timeSteps');
    assert.equal(text.slice(issue.offset, issue.offset + issue.length), '1000000000');
    assert.match(issue.message, /^this run would need about [\d.]+ (GB|TB) \(trajectory .*\), more than maxMemoryMB = 4096 MB allows/);
    // Nothing proportional to 10⁹ steps was built: a per-step list would take tens of seconds and the heap.
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  });

  it('plannedMemory bounds the steps from the times alone and agrees with the exact estimate on everything else', () => {
    const text = JSON.stringify({ cell: 'gru', units: 16, inputDim: 4, timeSteps: 50, batchSize: 2, jacobians: [{ of: 'h@t', wrt: 'h@t-3' }, { of: 'h@T', wrt: 'h@0' }], diagnostics: ['mean', 'spectralNorm'] });
    const spec = parseRunConfig(text, '/tmp/plan.jacobian.json');
    const graph = buildCell(spec);
    const planned = new Map(plannedMemory(graph, spec, 'structured').map((p) => [p.what, p.bytes]));
    const exact = new Map(estimateMemory(graph, spec, resolvePairs(graph, spec), false, 2 ** 20, 'structured').map((p) => [p.what, p.bytes]));
    // h@t wrt h@t-3 has 48 steps in a 50-step run (t = 3..50; h@0 is the initial state); planned before resolving, it counts 50.
    assert.ok(planned.has('per-step records of h@t wrt h@t-3 (50 steps)') && exact.has('per-step records of h@t wrt h@t-3 (48 steps)'));
    assert.equal(planned.get('per-step records of h@T wrt h@0 (1 step)'), exact.get('per-step records of h@T wrt h@0 (1 step)'));
    assert.ok(planned.get('per-step records of h@T wrt h@0 (1 step)')! > 0);
    for (const what of ['parameters', 'trajectory (every tensor at every step)', 'spectra of h@T wrt h@0']) assert.equal(planned.get(what), exact.get(what), what);
    // Spectra: 16 singular values per step and sequence, plus one decomposition's float64 work.
    // spectralNorm keeps no whole singular values (only the singularValues diagnostic does): one decomposition's work.
    assert.equal(exact.get('spectra of h@T wrt h@0'), 4 * 16 * 16 * 8);
  });

  it('per-step records count: 2·10⁶ steps of a 1-unit cell fit as a trajectory but not as records', async () => {
    const { issue } = await memoryIssue({ cell: 'simple_rnn', units: 1, inputDim: 1, timeSteps: 2_000_000, batchSize: 64, maxMemoryMB: 4096 });
    assert.equal(issue.path, 'timeSteps');
    assert.match(issue.message, /per-step records of h@t wrt h@t-1 \(2000000 steps\)/);
  });
});
