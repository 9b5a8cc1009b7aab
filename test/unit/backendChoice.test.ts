// `auto` picks the backend from the run's estimated work, counting the load of a backend not loaded yet, and says
// which and why. The policy is checked on its own (rankBackends), and as a user meets it: the CLI's stderr line.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BACKEND_COSTS, estimatedMs, rankBackends, type BackendName } from '../../src/engine/backend/backend';
import { repoRoot } from './helpers/repo';

const none = new Set<BackendName>();

describe('backend choice: auto by estimated work', () => {
  it('a fresh process: cpu for small work, wasm for medium, tensorflow only when its load pays', () => {
    assert.equal(rankBackends(1e6, none)[0], 'cpu');
    assert.equal(rankBackends(5e8, none)[0], 'wasm');
    assert.equal(rankBackends(5e10, none)[0], 'tensorflow');
  });

  it('the choice is the least estimated time, load included', () => {
    for (const flops of [1e5, 1e7, 1e8, 1e9, 3e9, 1e11]) {
      const [first, ...rest] = rankBackends(flops, none);
      for (const other of rest) assert.ok(estimatedMs(first, flops, none) <= estimatedMs(other, flops, none), `${flops}: ${first} before ${other}`);
    }
  });

  it('a backend already loaded costs nothing to load: a warm tensorflow process keeps tensorflow', () => {
    assert.equal(rankBackends(1e6, new Set(['tensorflow']))[0], 'tensorflow');
  });

  it('work unknown: the fastest rate first', () => {
    const ranked = rankBackends(Infinity, none);
    assert.deepEqual(ranked, [...ranked].sort((a, b) => BACKEND_COSTS[b].gflops - BACKEND_COSTS[a].gflops));
  });

  it('the CLI says which backend auto chose and why, on stderr (stdout stays the table)', function () {
    this.timeout(120_000);
    const root = repoRoot();
    const r = spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'analyze', 'examples/seed-relu.jacobian.json'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^backend cpu \(auto: ~[\d.]+ MFLOP of tensor work; estimated cpu \d+ ms incl\. load, wasm \d+ ms incl\. load, tensorflow \d+ ms incl\. load\)$/m);
    assert.doesNotMatch(r.stdout, /auto:/);
    const asked = spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'analyze', 'examples/seed-relu.jacobian.json', '--backend', 'wasm'], { cwd: root, encoding: 'utf8' });
    assert.match(asked.stderr, /^backend wasm: asked for$/m);
  });
});
