// The CLI as a user runs it: a whole process, its exit code, its output, and the files it leaves.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { encodeNpy } from '../../src/engine/params/npy';
import { repoRoot } from './helpers/repo';

const root = repoRoot();
const cli = path.join(root, 'dist/cli.js');

function runCli(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'jl-cli-'));
}

const seedConfig = (extra: Record<string, unknown>) =>
  JSON.stringify({ cell: 'seed', units: 8, inputDim: 2, timeSteps: 3, batchSize: 2, seed: 1, ...extra }, null, 2);

describe('CLI: the seed example reproduces the article', () => {
  for (const [file, target, tol] of [
    ['examples/seed-relu.jacobian.json', 0.5, 0.1],
    ['examples/seed-linear.jacobian.json', 1.0, 0.15],
  ] as const) {
    it(`${file}: varTimesFanIn per step within ${target} ± ${tol}`, () => {
      const dir = tempDir();
      const out = path.join(dir, 'report.json');
      const r = runCli(['analyze', file, '--json', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /varTimesFanIn/);
      assert.match(r.stdout, /backend (tensorflow|wasm|cpu)/);
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.equal(report.schemaVersion, 1);
      const steps = report.jacobians[0].steps;
      assert.equal(steps.length, 4);
      for (const s of steps) {
        assert.ok(Math.abs(s.varTimesFanIn[0] - target) <= tol, `step ${s.t}: ${s.varTimesFanIn[0]}`);
        for (const key of ['spectralRadius', 'spectralNorm', 'frobenius', 'mean']) assert.equal(s[key].length, 1, key);
      }
      assert.ok(Math.abs(report.jacobians[0].expected.varTimesFanIn - target) <= tol);
    });
  }

  it('--save writes every file the manifest names, with the shapes it states', () => {
    const dir = tempDir();
    const save = path.join(dir, 'run');
    const r = runCli(['analyze', 'examples/seed-relu.jacobian.json', '--save', save]);
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(save, 'manifest.json'), 'utf8'));
    const names = manifest.files.map((f: { tensor?: string; kind: string }) => f.tensor ?? f.kind);
    for (const n of ['linear_rec/kernel', 'linear_rec/bias', 'linear_in/kernel', 'h', 'c', 'x', 'o', 'jacobian']) assert.ok(names.includes(n), n);
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(save, f.file));
      const count = f.shape.reduce((a: number, b: number) => a * b, 1);
      // float32 data after a 64-byte-aligned header
      assert.equal((bytes.length - count * 4) % 64, 0, f.file);
    }
    const jac = manifest.files.find((f: { kind: string }) => f.kind === 'jacobian');
    assert.deepEqual(jac.shape, [4, 1, 100, 100]);
    assert.deepEqual(jac.steps, [1, 2, 3, 4]);
    assert.deepEqual(manifest.files.find((f: { tensor?: string }) => f.tensor === 'h').shape, [5, 1, 100]);
    // Saving again over a previous save replaces it; nothing stays behind in the parent folder.
    assert.equal(runCli(['analyze', 'examples/seed-relu.jacobian.json', '--save', save]).code, 0);
    assert.deepEqual(fs.readdirSync(dir), ['run']);
  });
});

describe('CLI: bad input gives one located message, exit 2, no stack, no files', () => {
  interface BadCase {
    name: string;
    /** Returns the config path (relative to cwd or absolute). */
    setup: (dir: string) => string;
    expect: RegExp;
  }
  const example = (name: string) => () => path.join(root, 'examples/invalid', name);
  const cases: BadCase[] = [
    { name: 'malformed JSON', setup: example('malformed.jacobian.json'), expect: /:\d+:\d+: .*(comma|brace|Expected)/i },
    { name: 'an unknown cell', setup: example('unknown-cell.jacobian.json'), expect: /:\d+:\d+: cell: unknown cell "foo"/ },
    { name: 'negative units', setup: example('negative-units.jacobian.json'), expect: /:\d+:\d+: units: must be ≥ 1, got -5/ },
    { name: 'a string where a number belongs', setup: example('string-units.jacobian.json'), expect: /:\d+:\d+: units: expected an integer, got the string "100"/ },
    { name: 'an unknown tensor name', setup: example('unknown-tensor.jacobian.json'), expect: /:\d+:\d+: jacobians\[0\]\.of: unknown tensor "q"/ },
    { name: 'a missing .npy', setup: example('missing-npy.jacobian.json'), expect: /:\d+:\d+: inputs\.file: file not found: .*does-not-exist\.npy/ },
    { name: '100000 units', setup: example('huge-units.jacobian.json'), expect: /:\d+:\d+: units: this run would need about [\d.]+ GB/ },
    {
      name: 'a truncated .npy',
      setup: (dir) => {
        const full = encodeNpy([3, 2, 2], new Float32Array(12).fill(0.5));
        fs.writeFileSync(path.join(dir, 'x.npy'), full.subarray(0, full.length - 20));
        fs.writeFileSync(path.join(dir, 'bad.jacobian.json'), seedConfig({ inputs: { file: 'x.npy' } }));
        return path.join(dir, 'bad.jacobian.json');
      },
      expect: /:\d+:\d+: inputs\.file: .*x\.npy.*truncated/,
    },
    {
      name: 'NaN in an input file',
      setup: (dir) => {
        const data = new Float32Array(12).fill(0.5);
        data[7] = NaN;
        fs.writeFileSync(path.join(dir, 'x.npy'), encodeNpy([3, 2, 2], data));
        fs.writeFileSync(path.join(dir, 'bad.jacobian.json'), seedConfig({ inputs: { file: 'x.npy' } }));
        return path.join(dir, 'bad.jacobian.json');
      },
      expect: /:\d+:\d+: inputs\.file: .*x\.npy: entry \[1, 1, 1\] is NaN/,
    },
    {
      // HDF5 prints its error stack (HDF5-DIAG…) to stderr unless told otherwise; its innermost line is the cause.
      name: 'a truncated Keras .h5',
      setup: (dir) => {
        const h5 = fs.readFileSync(path.join(root, 'test/fixtures/models/hostile/not_keras.h5'));
        fs.writeFileSync(path.join(dir, 'cut.h5'), h5.subarray(0, 300));
        fs.writeFileSync(path.join(dir, 'bad.jacobian.json'), seedConfig({ cell: 'gru', weights: { keras: 'cut.h5' } }));
        return path.join(dir, 'bad.jacobian.json');
      },
      expect: /:\d+:\d+: weights\.keras: .*cut\.h5: cannot be read as HDF5 \(truncated file: eof = 300, .*from HDF5's H5F__super_read\)/,
    },
    {
      name: 'a .keras whose HDF5 weights are corrupt',
      setup: (dir) => {
        const members = unzipSync(fs.readFileSync(path.join(root, 'test/fixtures/models/keras3/gru/model.keras')));
        const h5 = members['model.weights.h5'];
        for (let i = 96; i < h5.length; i += 3) h5[i] ^= 0x5a;
        fs.writeFileSync(path.join(dir, 'bad.keras'), zipSync(members));
        fs.writeFileSync(path.join(dir, 'bad.jacobian.json'), seedConfig({ cell: 'gru', weights: { keras: 'bad.keras' } }));
        return path.join(dir, 'bad.jacobian.json');
      },
      expect: /:\d+:\d+: weights\.keras: .*bad\.keras: cannot be read as HDF5 \([^()]+, from HDF5's \w+\); is it a Keras file\?$/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const dir = tempDir();
      const config = c.setup(dir);
      const json = path.join(dir, 'out', 'report.json');
      const save = path.join(dir, 'out', 'saved');
      const before = fs.readdirSync(dir).sort();
      const r = runCli(['analyze', config, '--json', json, '--save', save]);
      assert.equal(r.code, 2, `exit code ${r.code}; stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one message expected, got:\n${r.stderr}`);
      assert.match(lines[0], /^error: /);
      assert.ok(lines[0].includes(path.basename(config)), `the message names the config file: ${lines[0]}`);
      assert.match(lines[0], c.expect);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stderr, /HDF5-DIAG/, 'no HDF5 error stack');
      assert.equal(r.stdout, '');
      assert.deepEqual(fs.readdirSync(dir).sort(), before, 'no files left behind');
    });
  }

  it('an unknown --backend is a usage error (exit 2)', () => {
    const r = runCli(['analyze', 'examples/seed-relu.jacobian.json', '--backend', 'gpu']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--backend must be/);
  });
});

describe('CLI: --spectra chooses how spectralNorm and spectralRadius are computed', () => {
  it('matrix-free and dense give the same values (1e-4), the table and --json say which ran', () => {
    const dir = tempDir();
    const config = path.join(dir, 'c.jacobian.json');
    fs.writeFileSync(config, seedConfig({ units: 24, diagnostics: ['varTimesFanIn', 'spectralRadius', 'spectralNorm'] }));
    const reports = (['matrix-free', 'dense'] as const).map((how) => {
      const json = path.join(dir, `${how}.json`);
      const r = runCli(['analyze', config, '--spectra', how, '--json', json]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`spectra ${how}`), 'the table says how the spectra were computed');
      const report = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.equal(report.jacobians[0].spectra.method, how);
      return report;
    });
    const [free, dense] = reports.map((r) => r.jacobians[0].steps);
    assert.ok(reports[0].jacobians[0].spectra.spectralRadius.products.min > 0, 'matrix-free reports its products');
    free.forEach((s: Record<string, number[]>, k: number) => {
      for (const key of ['spectralNorm', 'spectralRadius']) {
        s[key].forEach((x, b) => assert.ok(Math.abs(x - dense[k][key][b]) <= 1e-4 * dense[k][key][b], `${key} t=${s.t} b=${b}: ${x} vs ${dense[k][key][b]}`));
      }
    });
  });

  it('an unknown --spectra is a usage error (exit 2)', () => {
    const r = runCli(['analyze', 'examples/seed-relu.jacobian.json', '--spectra', 'fast']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--spectra must be auto, matrix-free or dense/);
  });
});
