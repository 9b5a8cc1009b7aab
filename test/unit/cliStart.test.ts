// dist/cli.js compiles the CLI bundle with V8's code cache (src/cli/start.ts): the first run writes the cache, the
// next ones use it, and the output is the same; an unwritable cache folder only means no cache.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
