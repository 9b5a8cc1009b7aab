// The extension's engine client (src/extension/engineClient.ts) with the real engine process (dist/engineWorker.js)
// under plain Node: one warm process serves consecutive runs; Cancel ends the run's process within 1 s and a
// fresh one replaces it, never two at once; a killed process is restarted; both sides drop malformed messages.
// The same behaviour inside VS Code is the host suite's (test/host) business.
import { strict as assert } from 'node:assert';
import { fork, spawnSync, type Serializable } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, type EngineCrash, type EngineLog } from '../../src/extension/engineClient';
import { isEngineToHost, type EngineToHost } from '../../src/protocol/messages';
import { assertClose } from './helpers/close';
import { alive, engineChildren } from './helpers/processes';
import { repoRoot } from './helpers/repo';
import { denseEigenvalues, denseSingularValues, eigenvalueMismatch } from './reference/spectra';

const WORKER = join(repoRoot(), 'dist', 'engineWorker.js');
const seed = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cell: 'seed', units: 8, inputDim: 2, timeSteps: 3, batchSize: 1, seed: 5, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], ...extra });
/** Minutes of work on any backend, within the default memory limit (the Jacobians are not kept). */
const LONG = seed({ units: 512, timeSteps: 4000, diagnostics: ['varTimesFanIn', 'spectralNorm'] });
const OPTIONS = { backend: 'cpu', keepJacobiansMB: 0 } as const;



async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

class RecordingLog implements EngineLog {
  readonly lines: string[] = [];
  info = (line: string) => void this.lines.push(`info ${line}`);
  warn = (line: string) => void this.lines.push(`warn ${line}`);
  error = (line: string) => void this.lines.push(`error ${line}`);
}

describe('engine client: a warm engine process, replaced on cancel and crash', function () {
  this.timeout(120_000);
  let client: EngineClient;
  let log: RecordingLog;
  /** The most engine processes seen alive at once, sampled every 10 ms. */
  let most = 0;
  let sampler: NodeJS.Timeout;

  beforeEach(() => {
    log = new RecordingLog();
    client = new EngineClient(WORKER, log, { warmBackend: () => 'cpu' });
    most = 0;
    sampler = setInterval(() => (most = Math.max(most, engineChildren().length)), 10);
  });

  afterEach(async () => {
    clearInterval(sampler);
    await client.dispose();
    assert.deepEqual(engineChildren(), [], 'an engine process outlived dispose()');
  });

  it('serves consecutive runs from one process (same pid), warmed up before the first', async () => {
    client.start();
    await until('the warm-up', () => log.lines.some((l) => /warm in \d+ ms/.test(l)), 60_000);
    const pids: number[] = [];
    for (const units of [8, 9, 10]) {
      const run = await client.run({ file: 'a.jacobian.json', text: seed({ units }), options: OPTIONS });
      const outcome = await run.outcome;
      assert.equal(outcome.kind, 'result', JSON.stringify(outcome));
      if (outcome.kind === 'result') {
        assert.equal(outcome.result.report.units, units);
        pids.push(outcome.pid);
      }
    }
    assert.equal(new Set(pids).size, 1, `runs went to processes ${pids.join(', ')}`);
    assert.equal(client.pid, pids[0]);
    assert.equal(most, 1, `${most} engine processes at once`);
  });

  it('Cancel ends the run\'s process within 1 s and starts a fresh one; never two at once', async () => {
    const run = await client.run({ file: 'long.jacobian.json', text: LONG, options: OPTIONS });
    const pid = client.pid!;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(client.running, 'the long run ended before it could be cancelled');
    const t0 = Date.now();
    await run.cancel('user');
    await until(`pid ${pid} to exit`, () => !alive(pid), 1000);
    const goneMs = Date.now() - t0;
    assert.deepEqual(await run.outcome, { kind: 'cancelled', reason: 'user' });
    const fresh = await until('a fresh engine process', () => client.pid !== undefined && client.pid !== pid && client.pid, 5_000);
    assert.ok(alive(fresh));
    assert.ok(goneMs <= 1000, `${goneMs} ms`);
    const next = await (await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS })).outcome;
    assert.equal(next.kind === 'result' && next.pid, fresh, 'the next run did not use the fresh process');
    assert.equal(most, 1, `${most} engine processes at once`);
  });

  it('a killed engine is restarted in the background, its crash reported once, and the next run works', async () => {
    const crashes: EngineCrash[] = [];
    client.onDidCrash((c) => crashes.push(c));
    const first = await (await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS })).outcome;
    assert.equal(first.kind, 'result');
    const pid = client.pid!;
    process.kill(pid, 'SIGKILL');
    const fresh = await until('a restarted engine process', () => client.pid !== undefined && client.pid !== pid && client.pid, 10_000);
    assert.equal(crashes.length, 1);
    assert.deepEqual({ ...crashes[0] }, { pid, how: 'signal SIGKILL', duringRun: false });
    const next = await (await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS })).outcome;
    assert.equal(next.kind === 'result' && next.pid, fresh);
  });

  it('a process killed mid-run fails that run once, and is replaced', async () => {
    const crashes: EngineCrash[] = [];
    client.onDidCrash((c) => crashes.push(c));
    // Proven first (a run answered), so that its death is a crash to restart from, not a start-up failure.
    await (await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS })).outcome;
    const run = await client.run({ file: 'long.jacobian.json', text: LONG, options: OPTIONS });
    const pid = client.pid!;
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(pid, 'SIGKILL');
    const outcome = await run.outcome;
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.kind === 'failed' ? outcome.message : '', /exited unexpectedly \(signal SIGKILL\)/);
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0].duringRun, true);
    await until('a restarted engine process', () => client.pid !== undefined && client.pid !== pid, 10_000);
  });

  it('supersedes: a run started while one is going cancels it; the second runs on a fresh process', async () => {
    const first = await client.run({ file: 'long.jacobian.json', text: LONG, options: OPTIONS });
    await new Promise((r) => setTimeout(r, 500));
    const second = await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS });
    assert.deepEqual(await first.outcome, { kind: 'cancelled', reason: 'superseded' });
    assert.equal((await second.outcome).kind, 'result');
    assert.equal(most, 1, `${most} engine processes at once`);
  });

  it('Export .npy into a read-only folder or onto a full disk: a clear message, nothing half-written', async () => {
    const outcome = await (await client.run({ file: 'a.jacobian.json', text: seed({ units: 64, timeSteps: 8 }), options: { ...OPTIONS, keepJacobiansMB: 256 } })).outcome;
    assert.equal(outcome.kind, 'result');
    const runId = 1;
    await assert.rejects(client.save(runId + 1000, '/nowhere'), /no longer holds run 1001/);
    await withTmpfs('ro', async (dir) => {
      await assert.rejects(client.save(runId, join(dir, 'arrays')), /read-only \(EROFS\); nothing was written/);
    });
    // 64 KiB: the manifest fits, the 8 Jacobians of 64×64 float32 (128 KiB) do not.
    await withTmpfs('size=64k', async (dir) => {
      await assert.rejects(client.save(runId, join(dir, 'arrays')), /disk is full \(no space left on device\) \(ENOSPC\); nothing was written/);
      assert.deepEqual(readdirSync(dir), [], 'the failed export left files behind');
    });
    // The same process still holds the run and saves it where there is room.
    await withTmpfs('size=8m', async (dir) => {
      const files = await client.save(runId, join(dir, 'arrays'));
      assert.ok(files.includes('manifest.json') && files.some((f) => f.startsWith('jacobians/')), files.join(', '));
    });
  });

  it('a spectrum request returns the held run\'s dense float64 spectrum; another run, no kept Jacobians or a dead process answer why', async () => {
    const n = 20;
    const kept = await (await client.run({ file: 'a.jacobian.json', text: seed({ units: n, batchSize: 2 }), options: { ...OPTIONS, keepJacobiansMB: 256 } })).outcome;
    assert.ok(kept.kind === 'result');
    const runId = 1;
    const data = kept.result.pairs[0].jacobians!;
    for (const [step, b] of [[0, 1], [2, 0]]) {
      const outcome = await client.spectrum(runId, { pair: 0, step, b });
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
      const offset = (step * 2 + b) * n * n;
      const sigma = denseSingularValues(data, offset, n, n);
      assertClose(`σ at step ${step}, b ${b}`, outcome.spectrum.singularValues, 0, sigma, 1e-9);
      const want = denseEigenvalues(data, offset, n);
      const rho = Math.max(...want.map(([re, im]) => Math.hypot(re, im)));
      const mismatch = eigenvalueMismatch({ re: outcome.spectrum.eigenRe!, im: outcome.spectrum.eigenIm! }, want);
      assert.ok(mismatch <= 1e-6 * rho, `eigenvalues differ by up to ${mismatch} (ρ = ${rho})`);
    }
    assert.deepEqual(await client.spectrum(runId + 1000, { pair: 0, step: 0, b: 0 }), { ok: false, message: 'the engine process no longer holds run 1001' });
    const lean = await (await client.run({ file: 'a.jacobian.json', text: seed({ units: n }), options: OPTIONS })).outcome;
    assert.ok(lean.kind === 'result');
    const notKept = await client.spectrum(runId + 1, { pair: 0, step: 0, b: 0 });
    assert.ok(!notKept.ok && /were not kept \(over the keep limit\)/.test(notKept.message), JSON.stringify(notKept));
    // The process dies while the request is pending: the reply says so instead of never coming (unless the
    // process answered in the microseconds before the signal landed).
    const pending = client.spectrum(runId + 1, { pair: 0, step: 0, b: 0 });
    process.kill(client.pid!, 'SIGKILL');
    const died = await pending;
    assert.ok(!died.ok && /exited \(signal SIGKILL\) before computing the spectrum|were not kept/.test(died.message), JSON.stringify(died));
  });
});

/** A fresh tmpfs mounted with `options` (root only: the read-only and full-disk cases need a real file system). */
async function withTmpfs(options: string, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jl-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs (${options}) at ${dir}: ${mounted.stderr.trim() || mounted.error?.message}; this test needs root`);
  }
  try {
    await body(dir);
  } finally {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('engine process: malformed messages are logged and dropped, never fatal', function () {
  this.timeout(60_000);

  it('the engine process drops junk and still answers a good run', async () => {
    const child = fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const received: EngineToHost[] = [];
    const bad: unknown[] = [];
    child.on('message', (m: unknown) => (isEngineToHost(m) ? received.push(m) : bad.push(m)));
    try {
      for (const junk of [42, null, 'run', [], { type: 'run' }, { type: 'run', runId: -1, file: 'x', text: '{}', options: {} }, { type: 'nope' }]) child.send(junk as Serializable);
      child.send({ type: 'run', runId: 7, file: 'a.jacobian.json', text: seed(), options: OPTIONS });
      const result = await until('the run\'s result', () => received.find((m) => m.type === 'result' || m.type === 'failed' || m.type === 'invalid'), 60_000);
      assert.equal(result.type, 'result');
      assert.equal(result.type === 'result' && result.runId, 7);
      const drops = received.filter((m) => m.type === 'log' && /dropped a malformed/.test(m.line));
      assert.equal(drops.length, 7, JSON.stringify(received.filter((m) => m.type === 'log')));
      assert.deepEqual(bad, [], 'the engine process sent something its own protocol rejects');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the client drops what a misbehaving process sends and matches replies to requests', async () => {
    // A stand-in engine that answers with junk, a reply to nobody, then the right reply: fault injection.
    const dir = mkdtempSync(join(tmpdir(), 'jl-client-'));
    const fake = join(dir, 'fakeWorker.js');
    writeFileSync(fake, `
      process.on('message', (m) => {
        if (m.type !== 'run') return;
        process.send({ type: 'result', runId: m.runId, result: { report: 'not a report', pairs: [] } });
        process.send({ type: 'invalid', runId: m.runId + 99, kind: 'config', issues: [] });
        process.send(12);
        process.send({ type: 'failed', runId: m.runId, message: 'the real answer' });
      });
      process.send({ type: 'ready', pid: process.pid });`);
    const log = new RecordingLog();
    const client = new EngineClient(fake, log);
    try {
      const outcome = await (await client.run({ file: 'a.jacobian.json', text: seed(), options: OPTIONS })).outcome;
      assert.deepEqual(outcome, { kind: 'failed', message: 'the real answer', stack: undefined });
      assert.equal(log.lines.filter((l) => /dropped a malformed/.test(l)).length, 2, log.lines.join('\n'));
      assert.equal(log.lines.filter((l) => /answers no pending request/.test(l)).length, 1, log.lines.join('\n'));
    } finally {
      await client.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
