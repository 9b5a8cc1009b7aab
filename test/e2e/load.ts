// The extension under load and at the edges of the disk, in code-server (called from e2e.ts's user-path session,
// after the seed config has run once, so that the engine is warm):
//   1. save → panel: the time from a save of the seed config to the panel showing its new result, printed
//      (a timing line, not an assertion: speed is the benchmarks' business);
//   2. a save storm: 50 saves in about 5 s cycling through a valid, an invalid and a too-large config; the panel
//      and Problems end on the last text's result, at most one engine process exists at any moment, and the logs
//      have no unhandled rejection;
//   3. Export into a read-only folder and onto a full disk (tmpfs mounts; the e2e runs as root): a clear message
//      and nothing half-written.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { applyEdits, modify, type JSONPath } from 'jsonc-parser/lib/esm/main';
import { loadavg } from 'node:os';
import { acceptFileDialog, clickCodeLens, findWebviewFrame, openFile, problemsText, runCommand, type VsCodeSession } from './codeServer';

/** What the e2e runner lends these tests: its test/expect/poll, the session, and the seed config in the workspace. */
export interface LoadContext {
  test(title: string, body: () => Promise<void>): Promise<boolean>;
  expect(condition: unknown, message: string): asserts condition;
  poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs?: number): Promise<T>;
  focusTextEditor(page: Page, fileName: string): Promise<void>;
  varTimesFanInColumn(frame: Frame): Promise<number[]>;
  session: VsCodeSession;
  workspace: string;
  /** Workspace-relative path of the seed config, and its original text. */
  seedPath: string;
  seedText: string;
}

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function edit(text: string, path: JSONPath, value: unknown): string {
  return applyEdits(text, modify(text, path, value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** When the panel last received a result (webview/main.ts stamps Date.now() on <body>), 0 if never. */
async function resultStamp(page: Page): Promise<number> {
  return (await resultStamps(page)).arrived;
}

/** When the last result arrived in the panel and when its views had drawn it (both epoch ms, 0 if never). */
async function resultStamps(page: Page): Promise<{ arrived: number; rendered: number }> {
  const frame = await findWebviewFrame(page, '[data-testid="step-row"]', 5_000);
  return frame.evaluate(() => ({ arrived: Number(document.body.dataset.resultAt ?? '0'), rendered: Number(document.body.dataset.renderedAt ?? '0') }));
}

/** The varTimesFanIn per step the CLI computes for `text` (the reference for what the panel must show). */
function cliColumn(workspace: string, text: string): number[] {
  const dir = join(workspace, '.e2e-cli');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'last.jacobian.json');
  const out = join(dir, 'last.json');
  writeFileSync(config, text);
  const r = spawnSync(process.execPath, [CLI, 'analyze', config, '--json', out, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the CLI failed on the storm's last text: ${r.stderr}`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { jacobians: { steps: { varTimesFanIn: number[] }[] }[] };
  rmSync(dir, { recursive: true, force: true });
  return report.jacobians[0].steps.map((s) => s.varTimesFanIn[0]);
}

/**
 * Samples the number of engine processes every 20 ms from a separate shell (not this event loop, which drives
 * the browser) until stop() returns the largest count seen.
 */
function sampleEngineProcesses(extensionsDir: string): { stop(): Promise<number> } {
  const pattern = `${extensionsDir}.*dist/engineWorker\\.js`;
  // The loop ends by itself when this process is gone (kill -0 on its parent), and is unref'd: a failing test that
  // never calls stop() cannot keep the runner (and the e2e lock) alive.
  const sampler = spawn('bash', ['-c', 'while kill -0 $PPID 2>/dev/null; do pgrep -fc -- "$0"; sleep 0.02; done', pattern], { stdio: ['ignore', 'pipe', 'ignore'] });
  sampler.unref();
  (sampler.stdout as unknown as { unref?: () => void }).unref?.();
  let most = 0;
  let buffered = '';
  sampler.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) most = Math.max(most, Number(line) || 0);
  });
  const exited = new Promise((r) => sampler.once('exit', r));
  return {
    /** Ends the sampling (again: a no-op) and returns the most processes seen. */
    stop: async () => {
      sampler.kill();
      await exited;
      return most;
    },
  };
}

function mount(dir: string, options: string): void {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot mount a tmpfs (${options}) at ${dir}: ${r.stderr.trim() || r.error?.message}; the e2e runs as root`);
}

/**
 * Puts the keyboard focus into the seed config's editor: quick open brings its editor to the front of a visible
 * group wherever the earlier tests (a maximised group, a revived panel) left it.
 */
async function focusConfigEditor(ctx: LoadContext): Promise<void> {
  const page = ctx.session.page;
  const tab = page.locator('.tabs-container .tab .label-name', { hasText: basename(ctx.seedPath) }).filter({ visible: true });
  // A maximised panel group (the screenshots maximise it; a reload can restore that) hides the config's group.
  if ((await tab.count()) === 0) await runCommand(page, 'View: Toggle Maximize Editor Group');
  if ((await tab.count()) === 0) await openFile(page, ctx.seedPath);
  else await tab.first().click();
  await ctx.focusTextEditor(page, basename(ctx.seedPath));
}

export async function loadTests(ctx: LoadContext): Promise<void> {
  const { test, poll, session, workspace, seedPath, seedText } = ctx;
  const { page, extensionsDir } = session;
  const seedFile = join(workspace, seedPath);

  /**
   * Replaces the focused editor's text and presses Ctrl+S; returns the time of the key press. Keys only, no click
   * (the caller focuses the editor once): a save costs three browser calls, so that 50 fit in about 5 s.
   */
  async function typeAndSave(text: string, settleMs = 0): Promise<number> {
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
    if (settleMs > 0) await sleep(settleMs);
    const at = Date.now();
    await page.keyboard.press('Control+S');
    return at;
  }

  /**
   * Six saves of the seed config, alternating linear/relu, each `settleMs` after its edit; prints the median save →
   * panel time (key press to the panel having drawn the new result) and where it goes: the key press reaching the
   * browser's keydown handlers, → the extension host's will-save event, → the run sent to the engine (log lines
   * with ms timestamps), → its result logged by the host, → arrived in the webview, → drawn.
   */
  async function measureSaves(settleMs: number): Promise<void> {
    await focusConfigEditor(ctx);
    // A capture listener on the workbench window stamps each Ctrl+S keydown as the browser dispatches it.
    await page.evaluate(() => {
      const w = window as unknown as { rnnJacobianSaveKeyAt?: number; rnnJacobianSaveKeyHook?: boolean };
      if (w.rnnJacobianSaveKeyHook) return;
      w.rnnJacobianSaveKeyHook = true;
      window.addEventListener('keydown', (e) => {
        if (e.ctrlKey && e.key.toLowerCase() === 's') w.rnnJacobianSaveKeyAt = Date.now();
      }, true);
    });
    const latencies: number[] = [];
    const renders: number[] = [];
    const savedAts: number[] = [];
    const keydowns: number[] = [];
    // Every earlier run's result line has been written once the panel shows the last result and a moment passed.
    await sleep(1000);
    const resultsBefore = session.server.vscodeLogs().split('\n').filter((l) => /\(save\): backend/.test(l)).length;
    for (let i = 0; i < 6; i++) {
      const linear = i % 2 === 0;
      const savedAt = await typeAndSave(edit(seedText, ['activation'], linear ? 'linear' : 'relu'), settleMs);
      const shown = await poll('the panel to show the saved config', async () => {
        const stamps = await resultStamps(page);
        if (stamps.rendered <= savedAt) return undefined;
        const column = await ctx.varTimesFanInColumn(await findWebviewFrame(page, '[data-testid="step-row"]', 5_000));
        return column.every((v) => Math.abs(v - (linear ? 1.0 : 0.5)) <= 0.15) ? stamps : undefined;
      }, 60_000, 10);
      // Shown = drawn: the views have rendered the new result.
      latencies.push(shown.rendered - savedAt);
      renders.push(shown.rendered - shown.arrived);
      savedAts.push(savedAt);
      keydowns.push(await page.evaluate(() => (window as unknown as { rnnJacobianSaveKeyAt?: number }).rnnJacobianSaveKeyAt ?? NaN));
    }
    const when = settleMs > 0 ? `${settleMs} ms after the edit` : 'right after the edit';
    console.log(`      (save → panel, warm, saved ${when}: median ${median(latencies)} ms over ${latencies.length} saves [${latencies.join(', ')}] ms; target ≤ 150 ms)`);
    // The log file is written behind the host: wait until it holds this series' results, then take them in order.
    const saveResults = (logs: string[]) => logs.map((l, i) => ({ l, i })).filter(({ l }) => /\(save\): backend/.test(l));
    const logs = await poll('the log to hold every save\'s result', async () => {
      const lines = session.server.vscodeLogs().split('\n');
      return saveResults(lines).length >= resultsBefore + savedAts.length ? lines : undefined;
    }, 10_000, 100);
    const stamp = (line: string | undefined) => (line ? Date.parse(line.slice(0, 23).replace(' ', 'T') + 'Z') : NaN);
    const doneLines = saveResults(logs).slice(resultsBefore, resultsBefore + savedAts.length);
    const parts = savedAts.map((savedAt, k) => {
      const { l: done, i: doneAt } = doneLines[k] ?? { l: undefined, i: -1 };
      const runId = /run (\d+) /.exec(done ?? '')?.[1];
      // Run ids start again after a window reload: the last "sent" line of this id before the result.
      const before = logs.slice(0, doneAt).reverse();
      const sentAt = before.findIndex((l) => new RegExp(`run ${runId}: engine pid`).test(l));
      const sent = before[sentAt];
      // The will-save event (runController.saveStarting) that started this run: the last one before it was sent.
      const willSave = before.slice(sentAt).find((l) => / will-save /.test(l));
      const arrived = savedAt + latencies[k] - renders[k];
      // The engine's own time for the run (the report's timings), the rest of "engine run" being the two messages.
      const total = /engine total ([\d.]+) (ms|s)/.exec(done ?? '');
      const inProcess = total ? Math.round(Number(total[1]) * (total[2] === 's' ? 1000 : 1)) : NaN;
      return [keydowns[k] - savedAt, stamp(willSave) - keydowns[k], stamp(sent) - stamp(willSave), stamp(done) - stamp(sent), inProcess, arrived - stamp(done), renders[k]];
    });
    const column = (i: number) => median(parts.map((p) => p[i]));
    console.log(`      (medians: key press → browser keydown ${column(0)} ms, → will-save event ${column(1)} ms, → run sent ${column(2)} ms, engine run ${column(3)} ms (of which the engine's own ${column(4)} ms), result → webview ${column(5)} ms, render ${column(6)} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  }

  await test('save → panel, warm: the time from a save to the updated panel (printed)', async () => {
    // As the storm below types: Ctrl+S at once after replacing the whole text.
    await measureSaves(0);
    // As a user saves: the edit has been drawn and processed (the editor, the language features) before the key.
    await measureSaves(300);
  });

  await test('a save storm (50 saves in ~5 s: valid, invalid, too large): the panel and Problems end on the last text, never two engine processes, no unhandled rejection', async () => {
    await focusConfigEditor(ctx);
    const kinds = ['valid', 'invalid', 'tooLarge'] as const;
    const texts = Array.from({ length: 50 }, (_, i) => {
      const kind = kinds[(i + 2) % 3];
      if (kind === 'valid') return edit(seedText, ['seed'], 1000 + i);
      if (kind === 'invalid') return edit(seedText, ['activation'], 'relux');
      // 50 000 units: refused by the memory estimate before anything is allocated.
      return edit(seedText, ['units'], 50_000);
    });
    const last = texts[texts.length - 1];
    ctx.expect(kinds[(texts.length - 1 + 2) % 3] === 'valid', 'the storm must end on a valid text');
    const sampler = sampleEngineProcesses(extensionsDir);
    try {
      await stormAndCheck(texts, last, sampler);
    } finally {
      await sampler.stop();
    }
  });

  async function stormAndCheck(texts: string[], last: string, sampler: { stop(): Promise<number> }): Promise<void> {
    const t0 = Date.now();
    let lastSavedAt = 0;
    for (let i = 0; i < texts.length; i++) {
      lastSavedAt = await typeAndSave(texts[i]);
      // About 100 ms per save: 50 in ~5 s.
      await sleep(Math.max(0, t0 + (i + 1) * 100 - Date.now()));
    }
    const stormMs = Date.now() - t0;
    await poll('the file on disk to hold the last text', async () => readFileSync(seedFile, 'utf8') === last || undefined, 30_000);
    const expected = cliColumn(workspace, last);
    const shown = await poll('the panel to show the last text\'s result', async () => {
      if ((await resultStamp(page)) <= lastSavedAt) return undefined;
      const frame = await findWebviewFrame(page, '[data-testid="step-row"]', 5_000);
      const column = await ctx.varTimesFanInColumn(frame);
      const stale = await frame.locator('[data-testid="stale"]').isVisible();
      const same = column.length === expected.length && column.every((v, k) => Math.abs(v - expected[k]) <= 1e-3 * Math.max(1, Math.abs(expected[k])));
      return same && !stale ? column : undefined;
    }, 120_000, 100);
    // Problems: the last text is valid, so no entry is left for the config.
    let problems = '';
    await poll('Problems to hold nothing for the seed config', async () => {
      problems = await problemsText(page);
      return problems.includes(basename(seedPath)) ? undefined : true;
    }, 30_000, 1000).catch((error: Error) => {
      throw new Error(`${error.message}; Problems shows:\n${problems}`);
    });
    await sleep(1000);
    const most = await sampler.stop();
    console.log(`      (50 saves in ${stormMs} ms; panel shows ${JSON.stringify(shown)}; at most ${most} engine process(es) at once)`);
    ctx.expect(most <= 1, `${most} engine processes existed at once during the storm`);
    ctx.expect(most === 1, 'the sampler never saw the engine process: is the pattern right?');
    const logs = session.server.vscodeLogs();
    const unhandled = logs.split('\n').filter((l) => /unhandled|rejected promise not handled/i.test(l));
    ctx.expect(unhandled.length === 0, `the logs hold unhandled rejections:\n${unhandled.slice(0, 10).join('\n')}`);
    const dropped = logs.split('\n').filter((l) => /dropped a malformed/.test(l));
    ctx.expect(dropped.length === 0, `messages between the processes were malformed:\n${dropped.slice(0, 10).join('\n')}`);
    await typeAndSave(seedText);
  }

  await test('Export into a read-only folder and onto a full disk: a clear message, nothing half-written', async () => {
    const cases = [
      { name: 'readonly', prepare: (dir: string) => spawnSync('mount', ['-o', 'remount,ro', dir]), message: /read-only \(EROFS\); nothing was written/ },
      // Fill the disk but a few KB: the report and the arrays do not fit.
      { name: 'full', prepare: (dir: string) => writeFileSync(join(dir, 'filler.bin'), Buffer.alloc(60 * 1024)), message: /disk is full \(no space left on device\) \(ENOSPC\); nothing was written/ },
    ];
    for (const c of cases) {
      const dir = join(workspace, `export-${c.name}`);
      mkdirSync(dir, { recursive: true });
      mount(dir, 'size=64k');
      try {
        const config = join(dir, `${c.name}.jacobian.json`);
        writeFileSync(config, seedText);
        c.prepare(dir);
        const before = readdirSync(dir).sort();
        await openFile(page, `export-${c.name}/${c.name}.jacobian.json`);
        const clickedAt = Date.now();
        await clickCodeLens(page, /Analyze RNN Jacobian/, 60_000, true);
        // Its result, not only its name: the export buttons are enabled by a result.
        await poll(`the panel to show the result of ${basename(config)}`, async () => {
          if ((await resultStamp(page)) <= clickedAt) return undefined;
          const frame = await findWebviewFrame(page, '[data-testid="step-row"]', 5_000);
          return (await frame.textContent('body'))?.includes(basename(config)) ? true : undefined;
        }, 120_000, 200);
        for (const [what, target] of [['json', join(dir, `${c.name}-report.json`)], ['npy', join(dir, `${c.name}-arrays`)]] as const) {
          const frame = await findWebviewFrame(page, '[data-testid="step-row"]');
          await frame.click(`[data-testid="export-${what}"]`);
          await acceptFileDialog(page, target);
          const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /export failed/ }).first();
          await toast.waitFor({ state: 'visible', timeout: 60_000 });
          const text = (await toast.innerText()).replace(/\s+/g, ' ');
          ctx.expect(c.message.test(text), `export ${what} (${c.name}): the message was "${text}"`);
          console.log(`      (${c.name} ${what}: "${text.slice(0, 160)}")`);
          await runCommand(page, 'Notifications: Clear All Notifications');
          const after = readdirSync(dir).sort();
          ctx.expect(JSON.stringify(after) === JSON.stringify(before), `export ${what} (${c.name}) left files: ${after.join(', ')} (before: ${before.join(', ')})`);
        }
      } finally {
        // Its editor closed before its folder goes, so that no editor of a vanished file is left behind.
        await ctx.focusTextEditor(page, `${c.name}.jacobian.json`).then(() => runCommand(page, 'View: Close Editor')).catch(() => undefined);
        spawnSync('umount', ['-l', dir]);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    await focusConfigEditor(ctx).catch(() => undefined);
  });
}
