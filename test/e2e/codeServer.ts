/**
 * Harness for end-to-end tests against a real VS Code: code-server 4.100.3
 * (VS Code 1.100.3 on Node 20), installed by `bash scripts/setup-code-server.sh`,
 * driven with playwright-core in Debian's Chromium. See test/e2e/README.md.
 *
 * Every wait here waits for a condition (a selector, an HTTP answer, a text),
 * never for a fixed time; every process started here is killed by stop()/close()
 * and, as a last resort, when the Node process exits.
 */
import { chromium, Browser, BrowserContext, Page, Frame } from 'playwright-core';
import * as cp from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const CODE_SERVER_VERSION = '4.100.3';
export const CHROMIUM_PATH = process.env.RNN_JACOBIAN_CHROMIUM ?? '/usr/bin/chromium';
const SETUP_HINT = 'bash scripts/setup-code-server.sh';

/** Where setup-code-server.sh installs (same variable and default as the script). */
export function cacheDir(): string {
  const root = process.env.RNN_JACOBIAN_CACHE || path.join(os.homedir(), '.cache', 'rnn-jacobian-lab');
  return path.join(root, `code-server-${CODE_SERVER_VERSION}`);
}

function loud(msg: string): Error {
  const bar = '*'.repeat(78);
  return new Error(`\n${bar}\n${msg}\n${bar}`);
}

/**
 * Path of the code-server launcher. Throws (never skips) when the install is
 * missing or incomplete, so a test run without VS Code fails visibly.
 */
export function codeServerBin(): string {
  const dir = cacheDir();
  const bin = path.join(dir, 'bin', 'code-server');
  const marker = path.join(dir, '.install-complete');
  if (!fs.existsSync(marker) || !fs.existsSync(bin)) {
    throw loud(
      `code-server ${CODE_SERVER_VERSION} is not installed (no ${fs.existsSync(bin) ? marker : bin}).\n` +
        `Run:  ${SETUP_HINT}\n(RNN_JACOBIAN_CACHE=${process.env.RNN_JACOBIAN_CACHE ?? '<unset>'})`,
    );
  }
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw loud(`Chromium is missing at ${CHROMIUM_PATH}. Run:  ${SETUP_HINT}`);
  }
  return bin;
}

/** A fresh temporary folder (for user-data-dirs, extension dirs, workspaces). */
export function makeTempDir(prefix = 'jl-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Installs a .vsix with code-server's own CLI, the way a user would, into an
 * isolated extensions dir. Throws with the CLI's output if it did not succeed.
 */
export function installVsix(vsixPath: string, extensionsDir: string, userDataDir: string): string {
  const bin = codeServerBin();
  if (!fs.existsSync(vsixPath)) throw loud(`VSIX not found: ${vsixPath}`);
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(userDataDir, { recursive: true });
  const r = cp.spawnSync(
    bin,
    ['--install-extension', path.resolve(vsixPath), '--force', '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir],
    { encoding: 'utf8', timeout: 120_000, env: cleanEnv({}) },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) {
    throw loud(`installing ${vsixPath} failed (exit ${r.status}, ${r.error ? r.error.message : 'no spawn error'}):\n${out}`);
  }
  return out;
}

/** Settings that make a test window quiet and deterministic (no network, no tips, no auto-closing). */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'json.schemaDownload.enable': false,
  'npm.autoDetect': 'off',
  'typescript.disableAutomaticTypeAcquisition': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'files.autoSave': 'off',
  'editor.codeLens': true,
  'editor.minimap.enabled': false,
  // Typed text lands as typed: no auto-closing, no auto-indent, no suggestions.
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoClosingComments': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.formatOnPaste': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.parameterHints.enabled': false,
  'editor.hover.enabled': false,
};

/** Path of the user settings.json inside a code-server user-data-dir. */
export function settingsPath(userDataDir: string): string {
  return path.join(userDataDir, 'User', 'settings.json');
}

/**
 * (Re)writes User/settings.json = DEFAULT_SETTINGS + overrides. Read when the
 * window loads: code-server does NOT apply later edits of this file live (seen
 * with 4.100.3), so after changing it on a running server call reloadWindow().
 */
export function writeUserSettings(userDataDir: string, overrides: Record<string, unknown> = {}): void {
  const p = settingsPath(userDataDir);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, JSON.stringify({ ...DEFAULT_SETTINGS, ...overrides }, null, 2));
}

/** Merges a patch into the existing User/settings.json (applies after reloadWindow(), as above). */
export function updateUserSettings(userDataDir: string, patch: Record<string, unknown>): void {
  const p = settingsPath(userDataDir);
  const cur = fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>) : { ...DEFAULT_SETTINGS };
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, JSON.stringify({ ...cur, ...patch }, null, 2));
}

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it just before code-server binds). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The environment for code-server: ours + extras, minus variables that would
 * make it talk to an enclosing VS Code or ask for a password.
 */
function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k.startsWith('ELECTRON_') || k === 'PASSWORD' || k === 'HASHED_PASSWORD' || k === 'PORT') {
      delete env[k];
    }
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** All descendants of pid (from /proc), children first-level last: used to kill the whole tree. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces/parens, so cut after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      /* the process ended meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills pid, its process group and every descendant (terminals run in their own sessions). */
function killTree(pid: number, signal: NodeJS.Signals): void {
  const all = [...descendants(pid), pid];
  try {
    process.kill(-pid, signal);
  } catch {
    /* no such group */
  }
  for (const p of all) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
}

// code-server runs in its own process group (so a terminal's Ctrl+C would not
// reach it): kill what is still running when this Node process ends, however
// it ends. (playwright-core closes the Chromium it launched by itself.)
const liveServers = new Set<number>();
process.on('exit', () => {
  for (const pid of liveServers) killTree(pid, 'SIGKILL'); // synchronous kills only
});
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(sig, () => {
    for (const pid of liveServers) killTree(pid, 'SIGKILL');
    process.exit(code);
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export interface StartOptions {
  /** Folder opened in the window. */
  workspaceDir: string;
  /** Extensions dir (where installVsix put the extension). */
  extensionsDir: string;
  /** User data dir (settings, logs, state). A fresh one per test keeps tests apart. */
  userDataDir: string;
  /** Overrides merged over DEFAULT_SETTINGS into User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server; the extension host inherits it. undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** How long to wait for code-server to answer HTTP (default 90 s; the first start on 2 cores is slow). */
  startTimeoutMs?: number;
  /** Extra code-server CLI arguments. */
  extraArgs?: string[];
}

export interface CodeServer {
  /** URL that opens workspaceDir in the workbench. */
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  /** Kills code-server and every process under it (extension host, pty host, terminals). */
  stop(): Promise<void>;
  /** code-server's stdout+stderr so far. */
  logs(): string;
  /** The extension host's and other VS Code log files in userDataDir/logs, concatenated (for failure reports). */
  vscodeLogs(): string;
}

/**
 * Starts code-server on a free 127.0.0.1 port with settings written first and
 * extra env passed through, and resolves once it answers /healthz. Rejects
 * (with the server's output) if it exits or does not answer in time.
 */
export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const bin = codeServerBin();
  fs.mkdirSync(opts.userDataDir, { recursive: true });
  fs.mkdirSync(opts.extensionsDir, { recursive: true });
  writeUserSettings(opts.userDataDir, opts.settings ?? {});
  const configFile = path.join(opts.userDataDir, 'code-server-config.yaml');
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');

  let out = '';
  // Retry only on a lost port race (another process grabbed the port between freePort() and bind).
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = [
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--config', configFile,
      '--extensions-dir', opts.extensionsDir,
      '--user-data-dir', opts.userDataDir,
      ...(opts.extraArgs ?? []),
      opts.workspaceDir,
    ];
    const child = cp.spawn(bin, args, {
      env: cleanEnv({ ...opts.env, CODE_SERVER_CONFIG: configFile }),
      detached: true, // own process group, so stop() can kill the whole group
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid === undefined) throw loud(`could not spawn ${bin}`);
    liveServers.add(pid);
    out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let exited: number | null | undefined;
    const exitPromise = new Promise<void>((resolve) =>
      child.on('exit', (code, sig) => {
        exited = code ?? (sig ? -1 : 0);
        liveServers.delete(pid);
        resolve();
      }),
    );

    const stop = async (): Promise<void> => {
      if (exited !== undefined && descendants(pid).length === 0) return;
      const tree = [...descendants(pid), pid];
      killTree(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const p of tree) if (alive(p)) killTree(p, 'SIGKILL');
      await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 2000))]);
      liveServers.delete(pid);
    };

    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(path.resolve(opts.workspaceDir))}`;
    const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
    let ok = false;
    while (Date.now() < deadline && exited === undefined) {
      if ((await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200) {
        ok = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 200)); // poll interval, not a fixed wait
    }
    if (ok) {
      return {
        url,
        port,
        pid,
        userDataDir: opts.userDataDir,
        stop,
        logs: () => out,
        vscodeLogs: () => readLogs(path.join(opts.userDataDir, 'logs')),
      };
    }
    await stop();
    if (exited !== undefined && /EADDRINUSE/.test(out) && attempt < 3) continue;
    throw loud(
      `code-server did not come up on port ${port} (${exited !== undefined ? `exited with ${exited}` : 'timed out'}).\n` +
        `command: ${bin} ${args.join(' ')}\noutput:\n${out}`,
    );
  }
}

function readLogs(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string): void => {
    let names: string[] = [];
    try {
      names = fs.readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = fs.statSync(p);
      if (st.isDirectory()) walk(p);
      else if (n.endsWith('.log')) parts.push(`==== ${p}\n${fs.readFileSync(p, 'utf8')}`);
    }
  };
  walk(dir);
  return parts.join('\n');
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Closes Chromium (all its processes). */
  close(): Promise<void>;
}

/**
 * Opens url in headless Debian Chromium (playwright's launch() gives each run a
 * fresh temporary profile, i.e. a fresh --user-data-dir) at 1400x900 and waits
 * until the workbench has rendered (.monaco-workbench and its status bar).
 */
export async function openBrowser(url: string, opts: { timeoutMs?: number; colorScheme?: 'dark' | 'light' } = {}): Promise<OpenBrowser> {
  codeServerBin(); // loud error early if the install is missing
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const close = async (): Promise<void> => {
    await browser.close().catch(() => undefined);
  };
  try {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      colorScheme: opts.colorScheme ?? 'dark',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: opts.timeoutMs ?? 90_000 });
    await waitForWorkbench(page, opts.timeoutMs ?? 90_000);
    return { browser, context, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Waits until the workbench is up: its root, status bar and editor area are
 * visible AND the color theme from settings has been applied. The root shows a
 * default light "vs" look for ~2 s before the theme (a `vscode-theme-*` class)
 * arrives; a screenshot taken before that shows the wrong theme.
 */
export async function waitForWorkbench(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.editor').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.waitForFunction(
    () => /\bvscode-theme-/.test(document.querySelector('.monaco-workbench')?.className ?? ''),
    undefined,
    { timeout: timeoutMs },
  );
}

/**
 * Reloads the page and waits for the workbench again; picks up settings.json
 * edits. Note the browser caches the last theme, so right after the reload the
 * old theme's class shows until settings are read: wait for the class you expect.
 */
export async function reloadWindow(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.reload({ waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await waitForWorkbench(page, timeoutMs);
}

/** The quick input (Quick Open / command palette) widget. */
function quickInput(page: Page) {
  return page.locator('.quick-input-widget');
}

/**
 * Opens a workspace file through Quick Open (Ctrl+P), like a user: types the
 * path, picks the row whose path matches, and waits until its tab is active.
 */
export async function openFile(page: Page, relativePath: string, timeoutMs = 30_000): Promise<void> {
  const base = path.posix.basename(relativePath);
  await focusWorkbench(page);
  await page.keyboard.press('Control+P');
  const input = quickInput(page).locator('input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(relativePath);
  // File search runs ripgrep on the server; wait for a row naming the file.
  const row = quickInput(page)
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: base }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs });
  await page
    .locator('.tabs-container .tab.active .label-name', { hasText: base })
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.editor-group-container.active .monaco-editor').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/** Makes sure key presses go to the workbench (not to a webview iframe that took the focus). */
export async function focusWorkbench(page: Page): Promise<void> {
  await page.bringToFront();
  const focusedInWebview = await page.evaluate(() => document.activeElement?.tagName === 'IFRAME');
  if (focusedInWebview) {
    await page.locator('.part.statusbar').click({ position: { x: 1, y: 1 } }).catch(() => undefined);
  }
}

/**
 * Runs a command from the palette (F1) by its title as shown there, e.g.
 * "View: Focus Problems (Errors, Warnings, Infos)". Picks the row whose label
 * is exactly the title (so a longer title with the same prefix is not run).
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await focusWorkbench(page);
    await page.keyboard.press('F1');
    try {
      await pickQuickItem(page, title, `>${title}`, attempt < 3 ? Math.min(timeoutMs, 10_000) : timeoutMs);
      return;
    } catch (error) {
      // The palette closes when the focus moves while it opens (a panel revealed by a run that just ended, a
      // notification): open it again, twice at most. A palette still open means something else went wrong.
      if (attempt >= 3 || (await quickInput(page).isVisible())) throw error;
    }
  }
}

/**
 * In an open quick input (palette, quick pick of a command or extension),
 * types `filter` (default: the label) and clicks the row whose label is
 * exactly `label`; waits until the quick input has closed.
 */
export async function pickQuickItem(page: Page, label: string, filter = label, timeoutMs = 30_000, waitClosed = true): Promise<void> {
  const input = quickInput(page).locator('input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(filter, { timeout: timeoutMs });
  const row = quickInput(page)
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  if (waitClosed) await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs });
}

/**
 * Accepts VS Code's own file dialog (code-server has no native one: showSaveDialog and showOpenDialog open the
 * "simple" dialog, a quick input holding a path). Waits for it to hold `expectedPath` (the default the extension
 * asked for, so a wrong default fails here), then presses Enter; waits until it has closed. A folder dialog
 * shows the folder with a trailing separator.
 */
export async function acceptFileDialog(page: Page, expectedPath: string, timeoutMs = 30_000): Promise<void> {
  const input = quickInput(page).locator('input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  let value = '';
  for (;;) {
    value = await input.inputValue();
    if (value.replace(/\/+$/, '') === expectedPath.replace(/\/+$/, '')) break;
    if (Date.now() > deadline) throw new Error(`the file dialog holds "${value}", expected "${expectedPath}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await input.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden', timeout: timeoutMs });
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds the webview frame whose document contains `selector`. Webviews are
 * nested iframes (index.html → active-frame), so this polls page.frames() until
 * one matches or the time is up (then throws, listing the frames seen).
 */
export async function findWebviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      if (f === page.mainFrame() || f.isDetached()) continue;
      try {
        if (await f.$(selector)) return f;
      } catch {
        /* frame navigated or detached while we looked */
      }
    }
    if (Date.now() > deadline) {
      const urls = page.frames().map((f) => `  ${f.url()}`).join('\n');
      throw loud(`no webview frame contains ${selector} after ${timeoutMs} ms; frames:\n${urls}`);
    }
    await page.waitForTimeout(100); // poll interval
  }
}

/**
 * Opens the Problems panel (via its command) and returns its visible text.
 * With `waitFor`, polls until the text matches (diagnostics arrive async).
 */
export async function problemsText(page: Page, waitFor?: RegExp, timeoutMs = 30_000): Promise<string> {
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)', timeoutMs);
  const panel = page.locator('.markers-panel');
  await panel.waitFor({ state: 'visible', timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await panel.innerText();
    if (!waitFor || waitFor.test(text)) return text;
    if (Date.now() > deadline) throw loud(`Problems panel never matched ${waitFor}; it shows:\n${text}`);
    await page.waitForTimeout(100); // poll interval
  }
}

/** Error / warning counts from the status bar's problems item (cheap, no panel needed). */
export async function problemCounts(page: Page): Promise<{ errors: number; warnings: number }> {
  const label = (await page.locator('#status\\.problems a, #status\\.problems').first().getAttribute('aria-label')) ?? '';
  // VS Code 1.100 labels the item "No Problems" when there are none.
  if (/^\s*No Problems\b/i.test(label)) return { errors: 0, warnings: 0 };
  const num = (re: RegExp): number => Number(re.exec(label)?.[1] ?? 'NaN');
  return { errors: num(/Errors?:\s*(\d+)/i), warnings: num(/Warnings?:\s*(\d+)/i) };
}

/** The active Monaco editor (the text editor of the active editor group). */
function activeEditor(page: Page) {
  return page.locator('.editor-group-container.active .monaco-editor').first();
}

/**
 * Replaces the whole text of the active editor: focus, Ctrl+A, then insert the
 * text in one piece (keyboard.insertText, i.e. like an IME/paste, so Monaco
 * neither auto-closes brackets/quotes nor auto-indents). Does not save.
 */
export async function replaceInEditor(page: Page, text: string): Promise<void> {
  const ed = activeEditor(page);
  await ed.waitFor({ state: 'visible' });
  await ed.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  if (text === '') await page.keyboard.press('Delete');
  else await page.keyboard.insertText(text);
}

/**
 * replaceInEditor + Ctrl+S, then waits until the tab is no longer dirty. If
 * `filePath` is given, also waits until the file on disk holds exactly `text`.
 */
export async function editorTypeAndSave(page: Page, text: string, filePath?: string, timeoutMs = 30_000): Promise<void> {
  await replaceInEditor(page, text);
  await page.keyboard.press('Control+S');
  await page.locator('.tabs-container .tab.active:not(.dirty)').first().waitFor({ state: 'visible', timeout: timeoutMs });
  if (filePath) {
    const deadline = Date.now() + timeoutMs;
    while (fs.readFileSync(filePath, 'utf8') !== text) {
      if (Date.now() > deadline) {
        throw loud(`after save, ${filePath} holds:\n${fs.readFileSync(filePath, 'utf8')}\nexpected:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * CodeLens items in Monaco are children of `.codelens-decoration`: an <a> per
 * lens with a command, a <span> for one without. By default all visible editors
 * are searched: opening a webview "beside" makes the webview's group the
 * active one, and the text editor is then no longer `.active`.
 */
function lensSelector(activeOnly: boolean, clickableOnly = true): string {
  const scope = `${activeOnly ? '.editor-group-container.active ' : ''}.monaco-editor .codelens-decoration`;
  return clickableOnly ? `${scope} > a` : `${scope} > a, ${scope} > span`;
}

/**
 * Texts of the CodeLens items in document order (active editor group only if
 * activeOnly). Lenses without a command render as plain spans, between "|"
 * separator spans; they are included, the separators are not.
 */
export async function codeLensTexts(page: Page, activeOnly = false): Promise<string[]> {
  const texts = await page.locator(lensSelector(activeOnly, false)).allInnerTexts();
  return texts.map((t) => t.replace(/\u00a0/g, ' ').trim()).filter((t) => t.length > 0 && t !== '|');
}

/** Waits for a CodeLens whose text matches `re` (lenses arrive after the extension activates); returns all lens texts then. */
export async function waitForCodeLens(page: Page, re: RegExp, timeoutMs = 30_000, activeOnly = false): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const texts = await codeLensTexts(page, activeOnly);
    if (texts.some((t) => re.test(t))) return texts;
    if (Date.now() > deadline) throw loud(`no CodeLens matching ${re} after ${timeoutMs} ms; lenses: ${JSON.stringify(texts)}`);
    await page.waitForTimeout(100); // poll interval
  }
}

/** Clicks the first clickable CodeLens whose text matches `re` (waiting for it to appear). */
export async function clickCodeLens(page: Page, re: RegExp, timeoutMs = 30_000, activeOnly = false): Promise<void> {
  await waitForCodeLens(page, re, timeoutMs, activeOnly);
  await page.locator(lensSelector(activeOnly)).filter({ hasText: re }).first().click();
}

/**
 * Switches the color theme live the way a user does ("Preferences: Color
 * Theme", pick the theme), since code-server ignores live edits of
 * settings.json, and waits until the workbench has repainted in it. The
 * workbench writes the choice to settings.json a moment later; pass
 * userDataDir to also wait for that (else a following updateUserSettings can
 * be overwritten by the late write).
 */
export async function setTheme(page: Page, kind: 'dark' | 'light', opts: { userDataDir?: string; timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const theme = kind === 'dark' ? 'Default Dark Modern' : 'Default Light Modern';
  const themeClass = kind === 'dark' ? 'vscode-theme-defaults-themes-dark_modern-json' : 'vscode-theme-defaults-themes-light_modern-json';
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  // The command reuses the same quick input widget for its picker, so do not wait for it to close;
  // wait for the picker's own placeholder instead.
  await pickQuickItem(page, 'Preferences: Color Theme', '>Preferences: Color Theme', timeoutMs, false);
  await quickInput(page).locator('input[placeholder*="Color Theme"]').waitFor({ state: 'visible', timeout: timeoutMs });
  // The picker labels the built-in themes "Light Modern" / "Dark Modern" (description: "Default ...").
  await pickQuickItem(page, theme.replace(/^Default /, ''), theme, timeoutMs);
  await page.waitForFunction(
    (c) => document.querySelector('.monaco-workbench')?.classList.contains(c) === true,
    themeClass,
    { timeout: timeoutMs },
  );
  if (opts.userDataDir) {
    const p = settingsPath(opts.userDataDir);
    const deadline = Date.now() + timeoutMs;
    const persisted = (): boolean => {
      try {
        const v = (JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>)['workbench.colorTheme'];
        // VS Code removes a setting equal to its default, and in the web build the default theme is Light Modern.
        return v === theme || (v === undefined && theme === 'Default Light Modern');
      } catch {
        return false; // mid-write
      }
    };
    while (!persisted()) {
      if (Date.now() > deadline) throw loud(`theme ${theme} was applied but never written to ${p}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Full-viewport PNG screenshot (creates the folder). */
export async function screenshot(page: Page, file: string): Promise<string> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await page.screenshot({ path: file });
  return file;
}

export interface VsCodeSession {
  server: CodeServer;
  browser: OpenBrowser;
  page: Page;
  workspaceDir: string;
  extensionsDir: string;
  userDataDir: string;
  /** Closes Chromium, stops code-server, removes the temp dirs this call made (not workspaceDir). */
  dispose(): Promise<void>;
}

/**
 * One call for a test's `before`: fresh temp extensions/user-data dirs, the
 * VSIX installed, code-server started with `settings`/`env`, Chromium open on
 * the workbench. On any failure everything started so far is stopped again.
 */
export async function launchVsCode(opts: {
  vsixPath: string;
  workspaceDir: string;
  settings?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  colorScheme?: 'dark' | 'light';
}): Promise<VsCodeSession> {
  const extensionsDir = makeTempDir('jl-e2e-exts-');
  const userDataDir = makeTempDir('jl-e2e-udd-');
  const cleanupDirs = (): void => {
    for (const d of [extensionsDir, userDataDir]) fs.rmSync(d, { recursive: true, force: true });
  };
  let server: CodeServer | undefined;
  try {
    installVsix(opts.vsixPath, extensionsDir, userDataDir);
    server = await startCodeServer({ workspaceDir: opts.workspaceDir, extensionsDir, userDataDir, settings: opts.settings, env: opts.env });
    const browser = await openBrowser(server.url, { colorScheme: opts.colorScheme });
    const srv = server;
    return {
      server: srv,
      browser,
      page: browser.page,
      workspaceDir: opts.workspaceDir,
      extensionsDir,
      userDataDir,
      dispose: async () => {
        await browser.close();
        await srv.stop();
        cleanupDirs();
      },
    };
  } catch (e) {
    const logs = server ? server.logs() : '';
    if (server) await server.stop();
    cleanupDirs();
    if (e instanceof Error && logs) e.message += `\n--- code-server output ---\n${logs}`;
    throw e;
  }
}
