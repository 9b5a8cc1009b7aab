// dist/cli.js compiles the CLI bundle with V8's code cache (src/cli/start.ts): the first run writes the cache, the
// next ones use it, and the output is the same; an unwritable cache folder only means no cache.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachBackend } from './helpers/backends';
import { repoRoot } from './helpers/repo';

describe('CLI start: the bundle compiled with V8\'s code cache', function () {
  this.timeout(120_000);
  const root = repoRoot();
  const run = (cache: string) =>
    spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'analyze', 'examples/seed-relu.jacobian.json', '--backend', 'cpu'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, RNN_JACOBIAN_CACHE: cache },
    });

  it('writes the cache on the first run and gives the same table with it', () => {
    const cache = mkdtempSync(join(tmpdir(), 'jl-v8-'));
    try {
      const first = run(cache);
      assert.equal(first.status, 0, first.stderr);
      const files = readdirSync(join(cache, 'v8'));
      assert.equal(files.length, 1, `cache folder holds ${files.join(', ')}`);
      assert.match(files[0], /^cli-\d+-\d+-v[\d.]+-\w+\.bin$/);
      const second = run(cache);
      assert.equal(second.status, 0, second.stderr);
      // The same table but for the run's duration.
      const numbers = (out: string) => out.replace(/ · [\d.]+ m?s\n/, '\n');
      assert.equal(numbers(second.stdout), numbers(first.stdout));
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('runs without a cache when its folder cannot be made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-v8-'));
    try {
      // A file where the cache folder's parent should be: mkdir fails, the run does not.
      writeFileSync(join(dir, 'blocked'), '');
      const r = run(join(dir, 'blocked'));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /varTimesFanIn/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The second thread starts through dist/threadStart.js, which compiles dist/threadWorker.js with the same cache, saved
// by the worker after its first job (a worker may be ended without an exit event). It runs on tensorflow only.
forEachBackend('the second thread\'s bundle compiled with V8\'s code cache', (backend) => {
  if (backend !== 'tensorflow') return;
  it('writes the thread\'s cache after its first job, and gives the same spectra with it', function () {
    this.timeout(180_000);
    const root = repoRoot();
    const dir = mkdtempSync(join(tmpdir(), 'jl-v8-thread-'));
    try {
      // 16 Jacobians of order 192: matrix-free spectra (n > DENSE_MAX_N), split between the two threads.
      const config = join(dir, 'split.jacobian.json');
      writeFileSync(config, JSON.stringify({ cell: 'seed', units: 192, inputDim: 2, activation: 'relu', seed: 3, timeSteps: 8, batchSize: 2, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: ['spectralRadius', 'spectralNorm'] }));
      const spectra = (n: number) => {
        const out = join(dir, `out${n}.json`);
        const r = spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'analyze', config, '--backend', 'tensorflow', '--spectra', 'matrix-free', '--quiet', '--json', out], {
          encoding: 'utf8', env: { ...process.env, RNN_JACOBIAN_CACHE: join(dir, 'cache') },
        });
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(readFileSync(out, 'utf8')) as { jacobians: { steps: unknown[] }[] };
        return JSON.stringify(report.jacobians[0].steps);
      };
      const first = spectra(1);
      const files = readdirSync(join(dir, 'cache', 'v8'));
      assert.ok(files.some((f) => /^thread-\d+-\d+-v[\d.]+-\w+\.bin$/.test(f)), `cache folder holds ${files.join(', ')}`);
      assert.equal(spectra(2), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
