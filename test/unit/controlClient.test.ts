// Control runs through the one protocol with the real engine process (dist/engineWorker.js) under plain Node:
// progress per step, a cooperative cancel that keeps the best weights so far, export (never over an existing
// folder unless forced), located errors of the block, and the before/after analyses, whose ρ — computed by
// `analyze` (its own spectra route) on the original and the written config — must equal the medians the
// control loop reported for the same weights and data.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../../src/engine/control/optimize';
import { EngineClient, type ControlRunRequest, type EngineLog } from '../../src/extension/engineClient';
import type { ControlStep, RunView } from '../../src/protocol/messages';
import { repoRoot } from './helpers/repo';

const WORKER = join(repoRoot(), 'dist', 'engineWorker.js');
const EXAMPLE = join(repoRoot(), 'examples', 'lsc-small-lstm.jacobian.json');

const quiet: EngineLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The median ρ over every step and batch element of the comparison's first pair (the controlled kind). */
function medianRho(view: RunView): number {
  return median(view.report.jacobians[0].steps.flatMap((s) => s.spectralRadius ?? []));
}

describe('control runs through the engine process (stabilize, floss)', function () {
  this.timeout(300_000);
  let client: EngineClient;
  let dir: string;

  beforeEach(() => {
    client = new EngineClient(WORKER, quiet, { warmBackend: () => 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'jl-control-'));
  });

  afterEach(async () => {
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(name: string, change: (c: Record<string, unknown>) => void): { file: string; text: string } {
    const data = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    delete data.$schema;
    change(data);
    const file = join(dir, `${name}.jacobian.json`);
    const text = JSON.stringify(data, null, 2);
    writeFileSync(file, text);
    return { file, text };
  }

  function start(kind: ControlRunRequest['kind'], c: { file: string; text: string }, steps: ControlStep[] = []) {
    const started: number[] = [];
    const run = client.control({ kind, ...c, backend: 'cpu', onStart: (q) => started.push(...q.map((x) => x.before)), onStep: (s) => steps.push(s) });
    return { run, started, steps };
  }

  it('LSC converges with a curve per step, exports once (again only when forced), and analyze agrees with its ρ before and after', async () => {
    const c = config('small', () => undefined);
    const { run, started, steps } = start('stabilize', c);
    const outcome = await run.outcome;
    assert.equal(outcome.kind, 'result', JSON.stringify(outcome));
    if (outcome.kind !== 'result') return;
    const s = outcome.summary;
    assert.equal(s.stop, 'converged');
    assert.deepEqual(steps.map((x) => x.step), Array.from({ length: s.steps }, (_, k) => k + 1), 'one progress message per step, in order');
    assert.deepEqual(started, s.quantities.map((q) => q.before), 'the start message carries the before values');
    assert.ok(Math.abs(s.quantities[0].after - 0.5) <= 0.03, `ρ after ${s.quantities[0].after}`);

    const out = join(dir, 'small.stabilized');
    const written = await client.exportControl(run.runId, out, false);
    assert.ok(written.ok, JSON.stringify(written));
    for (const f of ['weights.npz', 'manifest.json', 'small.stabilized.jacobian.json']) assert.ok(existsSync(join(out, f)), f);
    const refused = await client.exportControl(run.runId, out, false);
    assert.ok(!refused.ok && /already exists/.test(refused.message), JSON.stringify(refused));
    assert.ok((await client.exportControl(run.runId, out, true)).ok, 'a forced export replaces the folder');

    const compared = await client.compareControl(run.runId);
    assert.ok(compared.ok, compared.ok ? '' : compared.message);
    if (!compared.ok) return;
    assert.equal(compared.after.report.config, join(out, 'small.stabilized.jacobian.json'));
    for (const [view, expected] of [[compared.before, s.quantities[0].before], [compared.after, s.quantities[0].after]] as const) {
      const pair = view.report.jacobians[0];
      assert.equal(`${pair.of} wrt ${pair.wrt}`, '(h,c)@t wrt (h,c)@t-1');
      assert.ok(Math.abs(medianRho(view) - expected) <= 1e-4 * expected, `analyze's median ρ ${medianRho(view)} vs the loop's ${expected}`);
      assert.ok(pair.gradient, 'the gradient-propagation curve is there');
      assert.ok(view.pairs[0].eigenvaluesRe?.length, 'the eigenvalues are there');
    }
  });

  it('Cancel stops the loop after its step and the best weights so far are exported like a finished run', async () => {
    const c = config('long', (d) => (d.stabilize = { target: 0.5, learningRate: 0.0005, patience: 1000, maxSteps: 100000 }));
    const { run, steps } = start('stabilize', c);
    const deadline = Date.now() + 120_000;
    while (steps.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(steps.length >= 5, 'no progress');
    run.stop();
    const outcome = await run.outcome;
    assert.equal(outcome.kind, 'result');
    if (outcome.kind !== 'result') return;
    assert.equal(outcome.summary.stop, 'cancelled');
    assert.ok(outcome.summary.steps >= 5 && outcome.summary.steps < 100000, `${outcome.summary.steps} steps`);
    const out = join(dir, 'long.stabilized');
    assert.ok((await client.exportControl(run.runId, out, false)).ok);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { stop: string; steps: number };
    assert.deepEqual([manifest.stop, manifest.steps], ['cancelled', outcome.summary.steps]);
  });

  it('Cancel before the loop has started (the run still queued behind the warm-up) stops it before its first step', async () => {
    const c = config('early', (d) => (d.stabilize = { target: 0.5, patience: 1000, maxSteps: 100000 }));
    const { run, steps } = start('stabilize', c);
    run.stop();
    const outcome = await run.outcome;
    assert.ok(outcome.kind === 'result' && outcome.summary.stop === 'cancelled' && outcome.summary.steps === 0, JSON.stringify(outcome));
    assert.equal(steps.length, 0);
  });

  it('flossing reports λ_i per step, exports .flossed, and compares with the Lyapunov spectrum', async () => {
    const c = config('chaos', (d) => {
      delete d.stabilize;
      Object.assign(d, { cell: 'simple_rnn', units: 12, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], initializers: { recurrentKernel: { name: 'random_normal', stddev: 0.6 } } });
      d.floss = { exponents: 2, maxSteps: 4 };
    });
    const { run, steps } = start('floss', c);
    const outcome = await run.outcome;
    assert.equal(outcome.kind, 'result', JSON.stringify(outcome));
    if (outcome.kind !== 'result') return;
    assert.deepEqual(outcome.summary.quantities.map((q) => q.label), ['λ1', 'λ2']);
    assert.equal(steps.length, 4);
    assert.ok(steps.every((s) => s.medians.length === 2 && s.medians.every(Number.isFinite)));
    const out = join(dir, 'chaos.flossed');
    assert.ok((await client.exportControl(run.runId, out, false)).ok);
    assert.ok(existsSync(join(out, 'chaos.flossed.jacobian.json')));
    const compared = await client.compareControl(run.runId);
    assert.ok(compared.ok && compared.after.report.jacobians[0].lyapunov, 'the after view has the Lyapunov spectrum');
  });

  it('a bad block comes back as located issues, and nothing is held to export', async () => {
    const c = config('bad', (d) => (d.stabilize = { target: 'high', maxSteps: 0 }));
    const { run } = start('stabilize', c);
    const outcome = await run.outcome;
    assert.equal(outcome.kind, 'invalid', JSON.stringify(outcome));
    if (outcome.kind !== 'invalid') return;
    assert.deepEqual(outcome.issues.map((i) => i.path).sort(), ['stabilize.maxSteps', 'stabilize.target']);
    assert.ok(outcome.issues.every((i) => i.line > 1 && i.column > 1 && i.file === c.file));
    const nothing = await client.exportControl(run.runId, join(dir, 'bad.stabilized'), false);
    assert.ok(!nothing.ok && /no longer held/.test(nothing.message));
    assert.ok(!existsSync(join(dir, 'bad.stabilized')));
  });
});
