// End-to-end tests of the packaged extension (rnn-jacobian-lab.vsix, built by `npm run package`) in a real VS Code:
// code-server 4.100.3 (VS Code 1.100.3), driven by playwright-core in Debian's Chromium through the harness in
// ./codeServer.ts. Two sessions, one after the other:
//   1. the extension-host suite (test/host, bundled to dist/test/host/) runs inside code-server's extension host
//      through the extension's RNN_JACOBIAN_TEST_SUITE hook and reports to a JSON file;
//   2. the user's path: CodeLens → panel numbers, save → rerun, invalid → Problems + stale, Cancel → no engine
//      process left, and screenshots of the panel in a dark and a light theme (into test-results/).
//
//   npm run test:e2e                         # package, then both sessions
//   node dist/test/e2e/e2e.js [--host-only | --ui-only | --onboarding-only]   (session 3, test/e2e/onboarding.ts: the first run)
//
// Prints a mocha-like summary ending with `N passed, N failed`, and exits non-zero on any failure, including a
// missing code-server (bash scripts/setup-code-server.sh) or VSIX: nothing is skipped silently.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { applyEdits, modify, type JSONPath } from 'jsonc-parser/lib/esm/main';
import { repoRoot } from '../unit/helpers/repo';
import {
  acceptFileDialog,
  clickCodeLens,
  editorTypeAndSave,
  findWebviewFrame,
  launchVsCode,
  makeTempDir,
  openFile,
  problemsText,
  reloadWindow,
  runCommand,
  screenshot,
  setTheme,
  waitForCodeLens,
  type VsCodeSession,
} from './codeServer';
import { deepNetworkViews } from './deepNetwork';
import { loadTests } from './load';
import { onboardingSession } from './onboarding';
import { spectrumOnDemand } from './spectrumOnDemand';
import { stabilizeFromPalette } from './control';

/** dist/test/e2e/e2e.js → the repository root. */
const REPO_ROOT = repoRoot();
const VSIX = join(REPO_ROOT, 'rnn-jacobian-lab.vsix');
const HOST_SUITE = join(REPO_ROOT, 'dist', 'test', 'host', 'index.js');
const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const SEED_RELU = 'examples/seed-relu.jacobian.json';
const TFJS_NODE = join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
/** The host suite runs ~8 engine runs and two cancelled long ones; generous for a loaded 2-core machine. */
const HOST_SUITE_TIMEOUT_MS = 15 * 60_000;
/** A first run pays for loading tfjs and the wasm backend in a fresh engine process. */
const RUN_TIMEOUT_MS = 180_000;

// ── a small mocha-like runner ──────────────────────────────────────────────────────────────────────────────────
interface Outcome {
  title: string;
  error?: string;
}
const outcomes: Outcome[] = [];

async function test(title: string, body: () => Promise<void>): Promise<boolean> {
  const t0 = Date.now();
  try {
    await body();
    outcomes.push({ title });
    console.log(`    ✔ ${title} (${Date.now() - t0} ms)`);
    return true;
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    outcomes.push({ title, error: text });
    console.log(`    ${outcomes.filter((o) => o.error).length}) ${title} (${Date.now() - t0} ms)`);
    return false;
  }
}

function fail(title: string, error: string): void {
  outcomes.push({ title, error });
  console.log(`    ${outcomes.filter((o) => o.error).length}) ${title}`);
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function summary(): number {
  const failures = outcomes.filter((o) => o.error);
  const passed = outcomes.length - failures.length;
  console.log(`\n  ${passed} passing`);
  if (failures.length) console.log(`  ${failures.length} failing`);
  failures.forEach((f, i) => console.log(`\n  ${i + 1}) ${f.title}:\n     ${f.error!.split('\n').join('\n     ')}`));
  console.log(`\n${passed} passed, ${failures.length} failed`);
  return failures.length;
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────────
function edit(text: string, path: JSONPath, value: unknown): string {
  return applyEdits(text, modify(text, path, value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error; // frames detach while the webview reloads; keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

/** Engine processes of the extension installed in `extensionsDir` (pgrep on their command line). */
function engineProcesses(extensionsDir: string): number[] {
  const pattern = `${extensionsDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*dist/engineWorker\\.js`;
  const result = spawnSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' });
  if (result.error) throw new Error(`pgrep could not run: ${result.error.message}`);
  // pgrep: 0 = found, 1 = none; anything else is its own error.
  if (result.status !== 0 && result.status !== 1) throw new Error(`pgrep failed (${result.status}): ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

/** The varTimesFanIn cells of the panel's per-step table, as numbers (empty when the table is not there). */
async function varTimesFanInColumn(frame: Frame): Promise<number[]> {
  const texts = await frame.$$eval('[data-testid="step-row"] [data-col="varTimesFanIn"]', (cells) => cells.map((c) => c.textContent ?? ''));
  return texts.map((t) => Number.parseFloat(t.replace(/[^\d.eE+-]+/g, ' ').trim().split(' ')[0]));
}

/** Polls the panel until its varTimesFanIn column satisfies `ok`; returns the column. */
async function waitForColumn(page: Page, what: string, ok: (values: number[]) => boolean, timeoutMs = RUN_TIMEOUT_MS): Promise<number[]> {
  let seen: number[] = [];
  try {
    return await poll(what, async () => {
      const frame = await findWebviewFrame(page, '[data-testid="step-row"]', 5_000);
      seen = await varTimesFanInColumn(frame);
      return seen.length > 0 && ok(seen) ? seen : undefined;
    }, timeoutMs, 250);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the panel's varTimesFanIn column was ${JSON.stringify(seen)}`);
  }
}

/** Clicks into the text editor showing `fileName`, wherever it is, so that key presses go to it. */
async function focusTextEditor(page: Page, fileName: string): Promise<void> {
  const group = page
    .locator('.editor-group-container')
    .filter({ has: page.locator('.tabs-container .tab.active .label-name', { hasText: fileName }) })
    .first();
  await group.locator('.monaco-editor .view-lines').first().click();
}

/** 1-based line of the first occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`"${needle}" is not in the text`);
  return text.slice(0, index).split('\n').length;
}

function workspaceWithExamples(): string {
  const workspace = makeTempDir('jl-e2e-ws-');
  cpSync(join(REPO_ROOT, 'examples'), join(workspace, 'examples'), { recursive: true });
  return workspace;
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

// ── session 1: the extension-host suite inside code-server ─────────────────────────────────────────────────────
async function hostSuite(): Promise<void> {
  console.log('\n  extension-host suite (test/host) inside code-server');
  if (!existsSync(HOST_SUITE)) {
    fail('host suite', `${HOST_SUITE} is missing: run \`node scripts/build.mjs\` first`);
    return;
  }
  const workspace = workspaceWithExamples();
  const resultDir = makeTempDir('jl-e2e-host-');
  const resultPath = join(resultDir, 'result.json');
  let session: VsCodeSession | undefined;
  try {
    session = await launchVsCode({
      vsixPath: VSIX,
      workspaceDir: workspace,
      env: { RNN_JACOBIAN_TEST_SUITE: HOST_SUITE, RNN_JACOBIAN_TEST_RESULT: resultPath },
    });
    const t0 = Date.now();
    // The extension activates on the workspace's configs, then runs the suite and writes the result.
    while (!existsSync(resultPath) && Date.now() - t0 < HOST_SUITE_TIMEOUT_MS) await sleep(500);
    if (!existsSync(resultPath)) {
      fail('host suite reports a result', `no result at ${resultPath} after ${HOST_SUITE_TIMEOUT_MS / 1000} s: the suite never reported.\n` +
        `extension host logs (tail):\n${tail(session.server.vscodeLogs())}`);
      return;
    }
    const report = JSON.parse(readFileSync(resultPath, 'utf8')) as {
      passed: number;
      failed: number;
      passes?: string[];
      failures: { title: string; error: string }[];
    };
    console.log(`    (the suite reported ${report.passed} passed, ${report.failed} failed after ${Math.round((Date.now() - t0) / 1000)} s)`);
    const passes = report.passes ?? Array.from({ length: report.passed }, (_, i) => `host test ${i + 1}`);
    for (const title of passes) {
      outcomes.push({ title: `host: ${title}` });
      console.log(`    ✔ host: ${title}`);
    }
    for (const failure of report.failures) fail(`host: ${failure.title}`, failure.error);
    if (report.failed > report.failures.length) fail('host suite', `${report.failed - report.failures.length} more failure(s) without details`);
    if (report.passed === 0 && report.failed === 0) fail('host suite', 'the suite ran no test');
    const extensionsDir = session.extensionsDir;
    await session.dispose();
    session = undefined;
    await test('no engine process outlives the host-suite window', async () => {
      const left = engineProcesses(extensionsDir);
      expect(left.length === 0, `engine processes left: ${left.join(', ')}`);
    });
  } catch (error) {
    fail('host suite', error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    await session?.dispose();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(resultDir, { recursive: true, force: true });
  }
}

// ── session 2: the user's path ─────────────────────────────────────────────────────────────────────────────────
async function userPath(): Promise<void> {
  console.log('\n  RNN Jacobian Lab in code-server (the user\'s path)');
  const workspace = workspaceWithExamples();
  const seedFile = join(workspace, SEED_RELU);
  const seedText = readFileSync(seedFile, 'utf8');
  let session: VsCodeSession | undefined;
  try {
    // The VSIX cannot carry tfjs-node (~700 MB of TensorFlow); the machine-scoped setting points the engine
    // process at the one scripts/setup-tfjs-node.sh built in this checkout.
    session = await launchVsCode({ vsixPath: VSIX, workspaceDir: workspace, settings: { 'rnnJacobian.tfjsNodePath': TFJS_NODE } });
    const { page, extensionsDir } = session;
    mkdirSync(RESULTS_DIR, { recursive: true });

    const panelShowsRelu = await test('CodeLens "▶ Analyze RNN Jacobian" opens the panel with varTimesFanIn 0.5 ± 0.1 per step', async () => {
      await openFile(page, SEED_RELU);
      await clickCodeLens(page, /Analyze RNN Jacobian/, 60_000);
      const column = await waitForColumn(page, 'the relu seed in the panel', (v) => v.every(Number.isFinite));
      expect(column.length === JSON.parse(seedText).timeSteps, `${column.length} step rows, expected ${JSON.parse(seedText).timeSteps}`);
      const off = column.filter((v) => Math.abs(v - 0.5) > 0.1);
      expect(off.length === 0, `varTimesFanIn per step ${JSON.stringify(column)}: not all within 0.5 ± 0.1`);
      await waitForCodeLens(page, /^varTimesFanIn \d/, 30_000);
    });

    await test('the engine process the extension starts runs on the tensorflow backend (tfjs-node)', async () => {
      const frame = await findWebviewFrame(page, '[data-testid="backend"]', 30_000);
      const backend = (await frame.textContent('[data-testid="backend"]'))?.trim() ?? '';
      expect(/tensorflow/.test(backend), `the panel says the backend is "${backend}"`);
    });

    if (panelShowsRelu) await spectrumOnDemand({ page, resultsDir: RESULTS_DIR, runTimeoutMs: RUN_TIMEOUT_MS, test, expect, poll });

    if (panelShowsRelu) {
      await test('screenshots of the panel in the dark and the light theme (test-results/)', async () => {
        // The panel alone in a tall window, so that the heatmap, the charts and the table all show.
        await page.locator('.tabs-container .tab', { hasText: /RNN Jacobian Lab: seed-relu/ }).first().click();
        await runCommand(page, 'View: Toggle Maximize Editor Group');
        await page.setViewportSize({ width: 1400, height: 1700 });
        for (const kind of ['dark', 'light'] as const) {
          await setTheme(page, kind);
          const frame = await findWebviewFrame(page, '[data-testid="step-row"]');
          await poll(`the panel to take the ${kind} theme`, async () =>
            (await frame.evaluate((k) => document.body.classList.contains(`vscode-${k}`), kind)) || undefined, 30_000);
          // Charts redraw on the theme change; two animation frames later they have painted.
          await frame.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
          await screenshot(page, join(RESULTS_DIR, `window-${kind}.png`));
          await (await frame.frameElement()).screenshot({ path: join(RESULTS_DIR, `panel-${kind}.png`) });
        }
        await setTheme(page, 'dark');
        await page.setViewportSize({ width: 1400, height: 900 });
        await runCommand(page, 'View: Toggle Maximize Editor Group');
      });
    }

    await test('change activation to linear and save: the panel shows ≈ 1.0 with no command run', async () => {
      await focusTextEditor(page, basename(SEED_RELU));
      await editorTypeAndSave(page, edit(seedText, ['activation'], 'linear'), seedFile);
      await waitForColumn(page, 'the linear seed in the panel', (v) => v.every((x) => Math.abs(x - 1.0) <= 0.15));
    });

    await test('make the config invalid: Problems shows the error on its line, and the panel marks the result stale', async () => {
      const invalidText = edit(seedText, ['activation'], 'relux');
      const expectedLine = lineOf(invalidText, '"relux"');
      await focusTextEditor(page, basename(SEED_RELU));
      await editorTypeAndSave(page, invalidText, seedFile);
      const problems = await problemsText(page, /relux/, RUN_TIMEOUT_MS);
      const after = problems.slice(problems.indexOf('relux'));
      const where = /Ln (\d+), Col (\d+)/.exec(after);
      expect(where, `no "[Ln, Col]" after the message in the Problems panel:\n${problems}`);
      expect(Number(where[1]) === expectedLine, `Problems puts the error on line ${where[1]}, the value "relux" is on line ${expectedLine}:\n${problems}`);
      await poll('the panel to show STALE', async () => {
        const frame = await findWebviewFrame(page, '[data-testid="stale"]', 5_000);
        return (await frame.locator('[data-testid="stale"]').isVisible()) || undefined;
      }, 30_000);
      const frame = await findWebviewFrame(page, '[data-testid="step-row"]');
      expect((await varTimesFanInColumn(frame)).length > 0, 'the last good result is gone from the panel');
      // Valid again: the stale mark goes.
      await focusTextEditor(page, basename(SEED_RELU));
      await editorTypeAndSave(page, seedText, seedFile);
      await poll('the stale mark to go', async () => {
        const f = await findWebviewFrame(page, '[data-testid="stale"]', 5_000);
        return (await f.locator('[data-testid="stale"]').isHidden()) || undefined;
      }, RUN_TIMEOUT_MS);
    });

    await test('after a window reload the panel is revived and shows the result again', async () => {
      await reloadWindow(page);
      await waitForColumn(page, 'the revived panel to show the relu seed', (v) => v.every((x) => Math.abs(x - 0.5) <= 0.1));
    });

    await test('Export PNG, CSV, JSON and .npy from the panel write the heatmap, the table, the report and the arrays', async () => {
      const folder = join(workspace, 'examples');
      const target = {
        png: join(folder, 'seed-relu-heatmap.png'),
        csv: join(folder, 'seed-relu-steps.csv'),
        json: join(folder, 'seed-relu-report.json'),
        npy: join(folder, 'seed-relu-arrays'),
      };
      for (const [what, path] of Object.entries(target)) {
        const frame = await findWebviewFrame(page, '[data-testid="step-row"]');
        await frame.click(`[data-testid="export-${what}"]`);
        await acceptFileDialog(page, path);
        await poll(`${basename(path)} to be written`, async () => existsSync(path) || undefined, 60_000);
      }
      const png = readFileSync(target.png);
      expect(png.subarray(1, 4).toString('latin1') === 'PNG', 'the PNG export is not a PNG file');
      const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      expect(width >= 100 && height >= 100, `the heatmap PNG is ${width}×${height}, smaller than the 100×100 Jacobian`);
      const report = JSON.parse(readFileSync(target.json, 'utf8')) as { schemaVersion: unknown; jacobians: { steps: { t: number; varTimesFanIn: number[] }[] }[] };
      expect(report.schemaVersion !== undefined, 'the JSON export has no schemaVersion');
      const reportVar = report.jacobians[0].steps.map((s) => s.varTimesFanIn[0]);
      expect(reportVar.length === 4 && reportVar.every((v) => Math.abs(v - 0.5) <= 0.1), `the JSON export's varTimesFanIn ${JSON.stringify(reportVar)}`);
      const [header, ...rows] = readFileSync(target.csv, 'utf8').trim().split('\n').map((l) => l.split(','));
      const column = header.indexOf('varTimesFanIn');
      expect(column >= 0 && rows.length === 4, `the CSV export has header ${header.join(',')} and ${rows.length} rows`);
      rows.forEach((r, k) => expect(Math.abs(Number(r[column]) - reportVar[k]) <= 1e-6, `CSV row ${k + 1}: ${r[column]} vs the report's ${reportVar[k]}`));
      const manifest = JSON.parse(readFileSync(join(target.npy, 'manifest.json'), 'utf8')) as { files: { file: string; kind: string; shape: number[] }[] };
      const missing = manifest.files.filter((f) => !existsSync(join(target.npy, f.file))).map((f) => f.file);
      expect(missing.length === 0, `the manifest names files that are not there: ${missing.join(', ')}`);
      const jacobian = manifest.files.find((f) => f.kind === 'jacobian');
      expect(jacobian && jacobian.shape.join('x') === '4x1x100x100', `the saved Jacobian has shape ${jacobian?.shape.join('x')}, expected 4x1x100x100`);
    });

    await loadTests({ test, expect, poll, focusTextEditor, varTimesFanInColumn, session, workspace, seedPath: SEED_RELU, seedText });

    // After the tests that save the seed config and read its panel: this one points the panel at another config.
    await deepNetworkViews({ page, resultsDir: RESULTS_DIR, runTimeoutMs: RUN_TIMEOUT_MS, test, expect, poll });
    await stabilizeFromPalette({ page, resultsDir: RESULTS_DIR, runTimeoutMs: RUN_TIMEOUT_MS, test, expect, poll, workspace });

    await test('start a long run and cancel it from the progress notification: its engine process gone after 1 s, one fresh one at most', async () => {
      // 2000 steps of 1024×1024 Jacobians and their spectra: minutes of work, within the memory limit
      // because the whole Jacobians are not kept.
      const longFile = join(workspace, 'examples', 'long.jacobian.json');
      writeFileSync(longFile, edit(edit(seedText, ['units'], 1024), ['timeSteps'], 2000));
      await openFile(page, 'examples/long.jacobian.json');
      await clickCodeLens(page, /Analyze RNN Jacobian/, 60_000, true);
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /analyzing long\.jacobian\.json/ }).first();
      await toast.waitFor({ state: 'visible', timeout: 60_000 });
      const before = await poll('an engine process', async () => {
        const pids = engineProcesses(extensionsDir);
        return pids.length ? pids : undefined;
      }, 60_000);
      // Into the computation, so that the kill lands mid-kernel rather than at start-up.
      await sleep(2000);
      const cancel = toast.locator('.monaco-button', { hasText: /^Cancel$/ }).first();
      await cancel.click();
      const clickedAt = Date.now();
      let goneAfter = -1;
      // The warm engine is replaced by a fresh process in the background: the cancelled one must be gone.
      const cancelledGone = () => !engineProcesses(extensionsDir).some((pid) => before.includes(pid));
      while (Date.now() - clickedAt < 1000) {
        if (cancelledGone()) {
          goneAfter = Date.now() - clickedAt;
          break;
        }
        await sleep(20);
      }
      await sleep(Math.max(0, 1000 - (Date.now() - clickedAt)));
      const left = engineProcesses(extensionsDir);
      expect(cancelledGone() && left.length <= 1, `1 s after Cancel, engine processes running: ${left.join(', ')} (the cancelled run's: ${before.join(', ')})`);
      console.log(`      (engine process ${before.join(', ')} gone ${goneAfter} ms after the click)`);
      await toast.waitFor({ state: 'hidden', timeout: 10_000 });
    });

    await test('an engine process killed mid-run: an error notification whose "Show Log" opens the RNN Jacobian Lab log', async () => {
      // What an out-of-memory kill looks like from the extension: the engine process vanishes mid-computation.
      // The cancelled run's panel may hold the focus: bring the config's editor to the front first.
      await openFile(page, 'examples/long.jacobian.json');
      await clickCodeLens(page, /Analyze RNN Jacobian/, 60_000, true);
      const pids = await poll('an engine process', async () => {
        const found = engineProcesses(extensionsDir);
        return found.length ? found : undefined;
      }, 60_000);
      await sleep(1500);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /long\.jacobian\.json failed: the engine process exited unexpectedly/ }).first();
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      await toast.locator('.monaco-button', { hasText: /^Show Log$/ }).first().click();
      // Only the extension's output channel holds this line (the toast is a notification, not the panel).
      await poll('the output panel to show the failed run from the RNN Jacobian Lab log', async () => {
        const text = await page.locator('.part.panel').innerText({ timeout: 5_000 });
        // Monaco renders spaces as no-break spaces: \s matches both.
        return /run\s\d+\slong\.jacobian\.json\s\(codelens\)\sfailed:\sthe\sengine\sprocess\sexited\sunexpectedly/.test(text) || undefined;
      }, 30_000);
    });
  } catch (error) {
    fail('user path session', error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    const extensionsDir = session?.extensionsDir;
    await session?.dispose();
    if (extensionsDir) {
      const left = engineProcesses(extensionsDir);
      if (left.length) fail('no engine process outlives the window', `left: ${left.join(', ')}`);
    }
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const hostOnly = process.argv.includes('--host-only');
  const uiOnly = process.argv.includes('--ui-only');
  console.log(`\n  RNN Jacobian Lab end-to-end (code-server 4.100.3, ${VSIX})`);
  if (!existsSync(VSIX)) {
    fail('the VSIX exists', `${VSIX} is missing: run \`npm run package\` first`);
  } else {
    const onboardingOnly = process.argv.includes('--onboarding-only');
    if (!uiOnly && !onboardingOnly) await hostSuite();
    if (!hostOnly && !onboardingOnly) await userPath();
    if (!hostOnly) {
      await onboardingSession({
        repoRoot: REPO_ROOT, vsix: VSIX, resultsDir: RESULTS_DIR, runTimeoutMs: RUN_TIMEOUT_MS,
        test, fail, expect, poll, varTimesFanInColumn, engineProcesses,
      });
    }
  }
  if (existsSync(RESULTS_DIR)) {
    const shots = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.png'));
    if (shots.length) console.log(`\n  screenshots: ${shots.map((f) => join(RESULTS_DIR, f)).join(', ')}`);
  }
  process.exitCode = summary() > 0 ? 1 : 0;
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
