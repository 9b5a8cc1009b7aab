// Dev-only (never in the VSIX: .vscodeignore ships dist/webview/** and media/** only, and this file
// is bundled elsewhere). Builds preview pages that load the REAL panel — the HTML from panelHtml(),
// dist/webview/main.js and media/panel.css — and feed it a REAL engine run (the CLI's --json report
// and --save arrays), with VS Code-like theme variables; optionally screenshots them with
// playwright-core in Debian's Chromium.
//
//   node scripts/build.mjs          (or just the webview: npx esbuild webview/main.ts --bundle --format=iife
//                                     --platform=browser --target=es2022 --outfile=dist/webview/main.js)
//   node dist/cli.js analyze examples/seed-relu.jacobian.json --json /tmp/r.json --save /tmp/r
//   npx esbuild webview/dev/preview.ts --bundle --platform=node --format=cjs \
//       --external:playwright-core --outfile=test-results/webview-preview/preview.cjs
//   node test-results/webview-preview/preview.cjs --report /tmp/r.json --save /tmp/r --screenshot
//
// Scenarios: result (the run), stale (the run, then an `invalid` message), running (the run, then
// progress). The page's acquireVsCodeApi records what the panel posts in window.__posted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as vscode from 'vscode';
import type { Report } from '../../src/engine/run/report';
import { makeNonce, panelHtml } from '../../src/extension/panelHtml';

interface Args {
  report: string;
  save: string;
  out: string;
  screenshot: boolean;
  root: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const k = argv.indexOf(`--${name}`);
    return k >= 0 ? argv[k + 1] : undefined;
  };
  const report = get('report');
  const save = get('save');
  if (!report || !save) {
    console.error('usage: preview --report REPORT.json --save SAVE_DIR [--out DIR] [--root REPO] [--screenshot]');
    process.exit(2);
  }
  return {
    report: path.resolve(report),
    save: path.resolve(save),
    out: path.resolve(get('out') ?? 'test-results/webview-preview'),
    root: path.resolve(get('root') ?? '.'),
    screenshot: argv.includes('--screenshot'),
  };
}

/** A float32 little-endian C-order .npy file: its shape and data bytes. */
function readNpy(file: string): { shape: number[]; bytes: Buffer } {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${file}: expected <f4, C order: ${header}`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { shape, bytes: buf.subarray(start + headerLen) };
}

interface ManifestEntry {
  file: string;
  kind: string;
}

/** The pair arrays of the save, base64-encoded, in report order. */
function loadPairs(save: string, report: Report): Record<string, string>[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(save, 'manifest.json'), 'utf8')) as { files: ManifestEntry[] };
  const keyOf: Record<string, string> = {
    jacobian: 'jacobians', singularValues: 'singularValues', eigenvaluesRe: 'eigenvaluesRe', eigenvaluesIm: 'eigenvaluesIm',
  };
  return report.jacobians.map((_, i) => {
    const out: Record<string, string> = {};
    for (const f of manifest.files) {
      const key = keyOf[f.kind];
      const m = /^jacobians\/(\d+)[./]/.exec(f.file);
      if (!key || !m || Number(m[1]) !== i) continue;
      out[key] = readNpy(path.join(save, f.file)).bytes.toString('base64');
    }
    return out;
  });
}

const THEMES: Record<string, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      'font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      'font-size': '13px',
      'font-weight': 'normal',
      'editor-font-family': '"Droid Sans Mono", "DejaVu Sans Mono", monospace',
      'editor-background': '#1f1f1f',
      foreground: '#cccccc',
      descriptionForeground: '#9d9d9d',
      'panel-border': '#2b2b2b',
      'widget-border': '#313131',
      focusBorder: '#0078d4',
      'button-background': '#0078d4',
      'button-foreground': '#ffffff',
      'button-hoverBackground': '#026ec1',
      'button-border': '#ffffff12',
      'button-secondaryBackground': '#313131',
      'button-secondaryForeground': '#cccccc',
      'button-secondaryHoverBackground': '#3c3c3c',
      'dropdown-background': '#313131',
      'dropdown-border': '#3c3c3c',
      'dropdown-foreground': '#cccccc',
      'dropdown-listBackground': '#1f1f1f',
      'checkbox-background': '#313131',
      'checkbox-border': '#3c3c3c',
      'checkbox-foreground': '#cccccc',
      'input-background': '#313131',
      'input-foreground': '#cccccc',
      errorForeground: '#f85149',
      'editorWarning-foreground': '#cca700',
      'inputValidation-errorBackground': '#5a1d1d',
      'inputValidation-errorBorder': '#be1100',
      'inputValidation-warningBackground': '#352a05',
      'inputValidation-warningBorder': '#b89500',
      'charts-foreground': '#cccccc',
      'charts-lines': '#cccccc80',
      'charts-red': '#f14c4c',
      'charts-blue': '#3794ff',
      'charts-yellow': '#cca700',
      'charts-orange': '#d18616',
      'charts-green': '#89d185',
      'charts-purple': '#b180d7',
      'list-hoverBackground': '#2a2d2e',
      'list-activeSelectionBackground': '#04395e',
      'list-inactiveSelectionBackground': '#37373d',
      'editorHoverWidget-background': '#202020',
      'editorHoverWidget-border': '#454545',
      'widget-shadow': '#0000005c',
      'scrollbarSlider-background': '#79797966',
      'progressBar-background': '#0078d4',
      'badge-background': '#616161',
      'badge-foreground': '#f8f8f8',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      'font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      'font-size': '13px',
      'font-weight': 'normal',
      'editor-font-family': '"Droid Sans Mono", "DejaVu Sans Mono", monospace',
      'editor-background': '#ffffff',
      foreground: '#3b3b3b',
      descriptionForeground: '#3b3b3b',
      'panel-border': '#e5e5e5',
      'widget-border': '#e5e5e5',
      focusBorder: '#005fb8',
      'button-background': '#005fb8',
      'button-foreground': '#ffffff',
      'button-hoverBackground': '#0258a8',
      'button-border': '#0000001a',
      'button-secondaryBackground': '#e5e5e5',
      'button-secondaryForeground': '#3b3b3b',
      'button-secondaryHoverBackground': '#cccccc',
      'dropdown-background': '#ffffff',
      'dropdown-border': '#cecece',
      'dropdown-foreground': '#3b3b3b',
      'dropdown-listBackground': '#ffffff',
      'checkbox-background': '#f8f8f8',
      'checkbox-border': '#cecece',
      'checkbox-foreground': '#3b3b3b',
      'input-background': '#ffffff',
      'input-foreground': '#3b3b3b',
      errorForeground: '#f85149',
      'editorWarning-foreground': '#bf8803',
      'inputValidation-errorBackground': '#f2dede',
      'inputValidation-errorBorder': '#be1100',
      'inputValidation-warningBackground': '#f6f5d2',
      'inputValidation-warningBorder': '#b89500',
      'charts-foreground': '#616161',
      'charts-lines': '#61616180',
      'charts-red': '#e51400',
      'charts-blue': '#1a85ff',
      'charts-yellow': '#bf8803',
      'charts-orange': '#d18616',
      'charts-green': '#388a34',
      'charts-purple': '#652d90',
      'list-hoverBackground': '#f2f2f2',
      'list-activeSelectionBackground': '#e8e8e8',
      'list-inactiveSelectionBackground': '#e4e6f1',
      'editorHoverWidget-background': '#f8f8f8',
      'editorHoverWidget-border': '#c8c8c8',
      'widget-shadow': '#00000029',
      'scrollbarSlider-background': '#64646466',
      'progressBar-background': '#005fb8',
      'badge-background': '#cccccc',
      'badge-foreground': '#3b3b3b',
    },
  },
  hc: {
    bodyClass: 'vscode-high-contrast',
    vars: {
      'font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      'font-size': '13px',
      'font-weight': 'normal',
      'editor-font-family': '"Droid Sans Mono", "DejaVu Sans Mono", monospace',
      'editor-background': '#000000',
      foreground: '#ffffff',
      descriptionForeground: '#ffffff',
      'panel-border': '#6fc3df',
      contrastBorder: '#6fc3df',
      contrastActiveBorder: '#f38518',
      focusBorder: '#f38518',
      'button-background': '#000000',
      'button-foreground': '#ffffff',
      'button-border': '#6fc3df',
      'button-secondaryBackground': '#000000',
      'button-secondaryForeground': '#ffffff',
      'dropdown-background': '#000000',
      'dropdown-border': '#6fc3df',
      'dropdown-foreground': '#ffffff',
      'dropdown-listBackground': '#000000',
      'checkbox-background': '#000000',
      'checkbox-border': '#6fc3df',
      'checkbox-foreground': '#ffffff',
      errorForeground: '#f48771',
      'editorWarning-foreground': '#ffd370',
      'inputValidation-errorBackground': '#000000',
      'inputValidation-errorBorder': '#6fc3df',
      'inputValidation-warningBackground': '#000000',
      'inputValidation-warningBorder': '#6fc3df',
      'charts-foreground': '#ffffff',
      'charts-lines': '#ffffff80',
      'charts-red': '#f14c4c',
      'charts-blue': '#3794ff',
      'charts-yellow': '#cca700',
      'charts-orange': '#d18616',
      'charts-green': '#89d185',
      'charts-purple': '#b180d7',
      'editorHoverWidget-background': '#0c141f',
      'editorHoverWidget-border': '#6fc3df',
      'scrollbarSlider-background': '#6fc3df99',
      'progressBar-background': '#6fc3df',
    },
  },
};

/** The page's stand-in for the VS Code host: acquireVsCodeApi, theme variables, and the messages. */
const HOST_JS = String.raw`
(() => {
  const P = window.__JL_PREVIEW__;
  const q = new URLSearchParams(location.search);
  const theme = P.themes[q.get('theme') || 'dark'];
  const scenario = q.get('scenario') || 'result';
  for (const [k, v] of Object.entries(theme.vars)) document.documentElement.style.setProperty('--vscode-' + k, v);
  const applyBody = () => {
    document.body.className = theme.bodyClass;
    document.body.dataset.vscodeThemeKind = theme.bodyClass;
  };
  if (document.body) applyBody(); else document.addEventListener('DOMContentLoaded', applyBody);
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__posted = [];
  // A saved selection, as VS Code would hand back after a reload (?pair=&step=&batch=).
  let state = q.has('pair') || q.has('step') || q.has('batch')
    ? { file: P.file, pairIndex: Number(q.get('pair') || 0), stepIndex: Number(q.get('step') || 0), batchIndex: Number(q.get('batch') || 0) }
    : undefined;
  const b64 = (s) => {
    const bin = atob(s);
    const u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return new Float32Array(u.buffer);
  };
  const send = (m) => window.postMessage(m, '*');
  window.__send = send;
  window.__setTheme = (name) => {
    const t = P.themes[name];
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty('--vscode-' + k, v);
    document.body.className = t.bodyClass;
  };
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      window.__posted.push(m);
      if (m.type !== 'ready') return;
      if (scenario === 'first-run') {
        send({ type: 'running', file: P.file, progress: { stage: 'rollout', step: 3, total: 24 } });
        window.__scenarioDone = true;
        return;
      }
      const pairs = P.pairs.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, b64(v)])));
      const t0 = performance.now();
      send({ type: 'result', file: P.file, report: P.report, pairs });
      setTimeout(() => {
        window.__firstRenderMs = performance.now() - t0;
        if (scenario === 'stale') {
          send({ type: 'invalid', file: P.file, issues: [
            { file: P.file, path: 'units', message: 'units must be an integer ≥ 1, got -3', line: 4, column: 12, offset: 60, length: 2 },
            { file: P.file, path: 'jacobians[0].wrt', message: '"h@t+1" looks forward in time: write NAME@t, NAME@t-K, NAME@N or NAME@T', line: 23, column: 14, offset: 480, length: 7 },
          ] });
        } else if (scenario === 'running') {
          send({ type: 'running', file: P.file, progress: { stage: 'jacobians', step: 9, total: 24 } });
        } else if (scenario === 'failed') {
          send({ type: 'failed', file: P.file, message: 'wasm backend ran out of memory while computing 24 Jacobians of 1024×1024' });
        }
        window.__scenarioDone = true;
      }, 50);
    },
    getState: () => state,
    setState: (s) => { state = s; },
  });
})();
`;

function fakeUri(p: string): vscode.Uri {
  const u = {
    scheme: 'file',
    path: p,
    with: (change: { path?: string }) => fakeUri(change.path ?? p),
    toString: () => pathToFileURL(p).href,
  };
  return u as unknown as vscode.Uri;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const report = JSON.parse(fs.readFileSync(args.report, 'utf8')) as Report;
  const pairs = loadPairs(args.save, report);
  fs.mkdirSync(args.out, { recursive: true });
  const data = { file: report.config, report, pairs, themes: THEMES };
  fs.writeFileSync(path.join(args.out, 'preview-data.js'), `window.__JL_PREVIEW__ = ${JSON.stringify(data)};\n`);
  fs.writeFileSync(path.join(args.out, 'preview-host.js'), HOST_JS);

  const nonce = makeNonce();
  const webview = { cspSource: 'file:', asWebviewUri: (u: vscode.Uri) => u } as unknown as vscode.Webview;
  let html = panelHtml(webview, fakeUri(args.root), nonce);
  const pre = ['preview-data.js', 'preview-host.js']
    .map((f) => `<script nonce="${nonce}" src="${pathToFileURL(path.join(args.out, f)).href}"></script>\n`)
    .join('');
  html = html.replace('<script nonce=', `${pre}<script nonce=`);
  const page = path.join(args.out, 'preview.html');
  fs.writeFileSync(page, html);
  console.log(`wrote ${page} (open with ?theme=dark|light|hc&scenario=result|stale|running|failed)`);
  if (args.screenshot) {
    screenshots(page, args.out).catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
  }
}

async function screenshots(page: string, out: string): Promise<void> {
  // playwright-core is a dev dependency, resolved at run time (kept external by the bundler).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const shots: [string, string, string][] = [
    ['dark', 'result', 'panel-dark.png'],
    ['light', 'result', 'panel-light.png'],
    ['hc', 'result', 'panel-hc.png'],
    ['dark', 'stale', 'panel-dark-stale.png'],
    ['light', 'running', 'panel-light-running.png'],
    ['dark', 'result&pair=1&step=3&batch=2', 'panel-dark-pair1.png'],
    ['light', 'result&pair=2', 'panel-light-pair2.png'],
    ['dark', 'first-run', 'panel-dark-first-run.png'],
  ];
  let failures = 0;
  for (const [theme, scenario, name] of shots) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    const p = await ctx.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    await p.goto(`${pathToFileURL(page).href}?theme=${theme}&scenario=${scenario}`);
    if (!scenario.startsWith('first-')) await p.waitForSelector('[data-testid="step-row"]', { timeout: 20000 });
    await p.waitForFunction(() => (window as unknown as { __scenarioDone?: boolean }).__scenarioDone === true);
    await p.waitForTimeout(400);
    if (name === 'panel-dark.png') {
      // Hover a heatmap cell so the tooltip and crosshair are in the picture.
      const box = await p.locator('[data-testid="heatmap"]').boundingBox();
      if (box) await p.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.42);
      await p.waitForTimeout(200);
    }
    await p.screenshot({ path: path.join(out, name) });
    await p.screenshot({ path: path.join(out, name.replace('.png', '-full.png')), fullPage: true });
    const info = await p.evaluate(() => {
      const w = window as unknown as { __csp: string[]; __posted: { type: string }[]; __firstRenderMs: number };
      return {
        csp: w.__csp,
        posted: w.__posted.map((m) => m.type),
        firstRenderMs: w.__firstRenderMs,
        status: document.querySelector('[data-testid="status"]')?.textContent,
        stale: !(document.querySelector('[data-testid="stale"]') as HTMLElement | null)?.hidden,
        rows: document.querySelectorAll('[data-testid="step-row"]').length,
        firstRow: Array.from(document.querySelectorAll('[data-testid="step-row"]:first-child td')).map((td) => `${(td as HTMLElement).dataset.col}=${td.textContent}`).join(' '),
      };
    });
    console.log(`${name}: ${JSON.stringify(info)}`);
    if (info.csp.length) failures++;
    for (const e of errors) console.log(`  ${e}`);
    failures += errors.filter((e) => e.startsWith('pageerror')).length;
    await ctx.close();
  }
  await browser.close();
  if (failures) process.exitCode = 1;
}

main();
