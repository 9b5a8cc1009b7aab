// Webview entry (bundled by esbuild into dist/webview/main.js, IIFE). Wiring only: messages from the
// host come in, the selection (PanelState) goes out to setState, and the modules draw.
import type { Report, PairArrays } from '../src/engine/run/report';
import { isHostToWebview, type HostToWebview, type PanelState, type Progress } from '../src/protocol/messages';
import { describeRejected } from '../src/protocol/guards';
import { baseName, formatMs, formatNumber, normalizePairArrays, pairLabel } from './data';
import { buildLayout } from './layout';
import { clampState, restoreState, vscodeApi } from './state';
import { buildCsv } from './table';
import { readTheme, watchTheme } from './theme';
import { registerToolkit, setChecked, setDisabled, setDropdownChoices, setDropdownValue } from './toolkit';
import { Store } from './store';
import { SpectrumRequests } from './spectrumRequests';
import { PANEL_VIEWS } from './views/index';

/** The result on show, as the store holds it. */
interface Current {
  file: string;
  report: Report;
  pairs: PairArrays[];
}

registerToolkit();
const api = vscodeApi();
// The one store: the result on show and the selection. Everything below reads it; selection changes go
// through select()/setSelection(), which persist them (setState) and tell the subscribed views.
const store = new Store(restoreState(api.getState()));
const sel = (): PanelState => store.get().selection;
function currentResult(): Current | undefined {
  const s = store.get();
  return s.report && s.file !== undefined ? { file: s.file, report: s.report, pairs: s.pairs } : undefined;
}
let stale = false;

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const E = buildLayout(root, {
  pair: (v) => selectPair(Number(v)),
  batch: (v) => select({ batchIndex: Number(v) }),
  shared: (checked) => setSelection({ ...sel(), sharedLimits: checked }),
});

let theme = readTheme();
// Whole spectra the run's arrays lack are asked for the matrix on screen only, and cached per (run, pair, step, b).
const spectra = new SpectrumRequests((m) => api.postMessage(m));
const exportView = (view: string) => (dataUrl: string) => api.postMessage({ type: 'export', what: 'png', dataUrl, view });
// The panel views (webview/views/index.ts) are components over the one store: each owns its cards, mounted in the
// layout's slot for it, and redraws from the snapshot what a change touches.
const views = PANEL_VIEWS.map((declaration) => {
  const view = declaration.create({ theme, get: () => store.get(), select, setSelection, post: (m) => api.postMessage(m), exportPng: exportView, spectra });
  view.cards.forEach(E.mount[declaration.slot]);
  return view;
});
// Every view redraws from the store (what changed decides how much); the controls above them follow it here.
store.subscribe((s, before) => {
  views.forEach((v) => v.update(s, before));
  if (!s.report) return;
  const resultChanged = s.report !== before.report;
  if (resultChanged) renderResult(s.file ?? '', s.report, s.selection);
  if (resultChanged || s.selection.pairIndex !== before.selection.pairIndex) {
    renderPair();
    return;
  }
  const { stepIndex, batchIndex } = s.selection;
  if (stepIndex !== before.selection.stepIndex || batchIndex !== before.selection.batchIndex) {
    if (batchIndex !== before.selection.batchIndex) setDropdownValue(E.batch, String(batchIndex));
    renderSelection();
  }
});
watchTheme(() => {
  theme = readTheme();
  views.forEach((v) => v.setTheme(theme));
});

setChecked(E.shared, Boolean(sel().sharedLimits));
for (const b of [E.exportPng, E.exportCsv, E.exportJson, E.exportNpy]) setDisabled(b, true);

// ── user actions ──
// Dragging the slider fires many input events a frame; apply only the latest, once per frame.
let pendingStep: number | undefined;
E.step.addEventListener('input', () => {
  if (pendingStep === undefined) {
    requestAnimationFrame(() => {
      const k = pendingStep;
      pendingStep = undefined;
      if (k !== undefined) select({ stepIndex: k });
    });
  }
  pendingStep = Number(E.step.value);
});
E.prevStep.addEventListener('click', () => select({ stepIndex: Math.max(0, sel().stepIndex - 1) }));
E.nextStep.addEventListener('click', () => select({ stepIndex: sel().stepIndex + 1 }));
E.rerun.addEventListener('click', () => api.postMessage({ type: 'rerun' }));
E.exportPng.addEventListener('click', () => {
  const dataUrl = views.find((v) => v.png)?.png?.();
  if (dataUrl) api.postMessage({ type: 'export', what: 'png', dataUrl });
  else note('Nothing to export: this result has no whole Jacobians');
});
E.exportCsv.addEventListener('click', () => {
  const pair = currentResult()?.report.jacobians[sel().pairIndex];
  if (pair) api.postMessage({ type: 'export', what: 'csv', csv: buildCsv(pair) });
});
E.exportJson.addEventListener('click', () => api.postMessage({ type: 'export', what: 'json' }));
E.exportNpy.addEventListener('click', () => api.postMessage({ type: 'export', what: 'npy' }));
document.addEventListener('keydown', (e) => {
  if (!currentResult() || e.target instanceof HTMLInputElement || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === '[' || e.key === ',') select({ stepIndex: Math.max(0, sel().stepIndex - 1) });
  else if (e.key === ']' || e.key === '.') select({ stepIndex: sel().stepIndex + 1 });
});

// ── host messages ──
window.addEventListener('message', (event: MessageEvent) => {
  if (!isHostToWebview(event.data)) {
    // Checked, not trusted: a malformed message is logged and dropped instead of breaking the panel.
    console.warn(`RNN Jacobian Lab panel: dropped a malformed ${describeRejected(event.data)}`);
    return;
  }
  const msg: HostToWebview = event.data;
  // The panel switched to another config that has no result yet: never show A's result under B's name.
  const shown = currentResult();
  if (msg.type === 'control') {
    store.set({ control: msg.state });
    return;
  }
  if (msg.type === 'spectrum') {
    // Cached when it answers this run; drawn only when it is for the matrix on screen, else the matrix now on
    // screen is asked for (one request in flight at a time).
    if (spectra.receive(msg)) views.forEach((v) => v.spectrumArrived?.());
    return;
  }
  if (msg.type !== 'result' && msg.type !== 'exported' && shown && msg.file !== shown.file) clearResult(msg.file);
  else if (msg.type !== 'result' && msg.type !== 'exported' && !shown) showFileName(msg.file);
  switch (msg.type) {
    case 'running':
      setStatus('running', runningText(msg.progress), msg.progress);
      break;
    case 'result':
      spectra.setRun(msg.runId);
      showResult(msg.file, msg.report, msg.pairs.map(normalizePairArrays));
      break;
    case 'invalid':
      setStale(currentResult() !== undefined);
      setStatus('invalid', `Invalid config (${msg.issues.length} issue${msg.issues.length === 1 ? '' : 's'}) — ${baseName(msg.file)}`);
      showIssues(msg.issues.map((i) => ({ text: `${i.line}:${i.column} ${i.message}`, title: `${i.file}${i.path ? ` · ${i.path}` : ''}` })));
      break;
    case 'failed':
      setStale(currentResult() !== undefined);
      setStatus('failed', `Failed: ${msg.message}`);
      showIssues([]);
      break;
    case 'cancelled':
      setStatus('cancelled', 'Cancelled');
      break;
    case 'exported':
      note(`Exported ${msg.what.toUpperCase()} → ${msg.path}`);
      break;
  }
});

api.postMessage({ type: 'ready' });

// ── rendering ──
function showFileName(file: string): void {
  E.fileName.textContent = baseName(file);
  E.fileName.title = file;
  // Persist which config the panel shows, so that a reload revives this one.
  if (sel().file !== file) setSelection({ ...sel(), file, pairIndex: 0, stepIndex: 0, batchIndex: 0 });
}

function clearResult(file: string): void {
  setStale(false);
  E.content.hidden = true;
  E.empty.hidden = false;
  E.meta.replaceChildren();
  store.set({ file, report: undefined, pairs: [] });
  showFileName(file);
  spectra.setRun(undefined);
  for (const b of [E.exportPng, E.exportCsv, E.exportJson, E.exportNpy]) setDisabled(b, true);
}

function showResult(file: string, report: Report, pairs: PairArrays[]): void {
  // When the result arrived (epoch ms): the e2e measures save → panel with it.
  document.body.dataset.resultAt = String(Date.now());
  const selection = clampState(sel(), report, file);
  api.setState(selection);
  setStale(false);
  showIssues([]);
  setStatus('done', `Done in ${formatMs(report.timings.totalMs)} · ${report.jacobians.length} Jacobian${report.jacobians.length === 1 ? '' : 's'} · ${report.timeSteps} steps × batch ${report.batchSize}`);
  for (const b of [E.exportPng, E.exportCsv, E.exportJson, E.exportNpy]) setDisabled(b, false);
  E.empty.hidden = true;
  E.content.hidden = false;
  store.set({ file, report, pairs, selection });
  // When the views had drawn it (the store's listeners run synchronously): the e2e splits arrival and render.
  document.body.dataset.renderedAt = String(Date.now());
}

/** A new result: the header and the choices of pair and batch element. */
function renderResult(file: string, report: Report, selection: PanelState): void {
  renderHeader(file, report);
  setDropdownChoices(E.pair, report.jacobians.map((p, k) => ({ value: String(k), label: pairLabel(p) })), String(selection.pairIndex));
  setDropdownChoices(E.batch, Array.from({ length: report.batchSize }, (_, b) => ({ value: String(b), label: `b = ${b}` })), String(selection.batchIndex));
}

function renderHeader(file: string, r: Report): void {
  E.fileName.textContent = baseName(file || r.config);
  E.fileName.title = file || r.config;
  const t = r.timings;
  const items: [string, string | HTMLElement, string?][] = [
    r.layers ? ['layers', r.layers.map((l) => `${l.name} ${l.cell}(${l.units})`).join(' → ')] : ['cell', `${r.cell} · ${r.activation}`],
    ['units', String(r.units)],
    ['input', String(r.inputDim)],
    ['T', String(r.timeSteps)],
    ['batch', String(r.batchSize)],
    ['seed', String(r.seed)],
    ['backend', E.backend],
    ['method', r.method],
    ['time', formatMs(t.totalMs), `build ${formatMs(t.buildMs)} · rollout ${formatMs(t.rolloutMs)} · Jacobians ${formatMs(t.jacobianMs)} · diagnostics ${formatMs(t.diagnosticsMs)}`],
  ];
  E.backend.textContent = r.backend;
  E.meta.replaceChildren(...items.map(([k, v, title]) => {
    const chip = document.createElement('span');
    chip.className = 'chip';
    const key = document.createElement('span');
    key.className = 'key';
    key.textContent = k;
    const val = typeof v === 'string' ? Object.assign(document.createElement('span'), { className: 'value', textContent: v }) : v;
    chip.append(key, val);
    if (title) chip.title = title;
    return chip;
  }));
}

function renderPair(): void {
  const state = sel();
  const current = currentResult();
  if (!current) return;
  const pair = current.report.jacobians[state.pairIndex];
  if (!pair) return;
  const steps = pair.steps.length;
  E.step.max = String(Math.max(0, steps - 1));
  E.step.disabled = steps <= 1;
  const exp = pair.expected;
  E.expected.replaceChildren();
  if (exp) {
    const a = document.createElement('span');
    a.className = 'expected-value';
    a.textContent = `expected var(J)·fan_in = ${formatNumber(exp.varTimesFanIn, 4)}`;
    const f = document.createElement('span');
    f.className = 'formula';
    f.textContent = exp.formula;
    E.expected.append(a, f);
  } else {
    E.expected.textContent = 'No theoretical prediction for this Jacobian.';
  }
  if (pair.method !== current.report.method || pair.fallbackReason) {
    const m = document.createElement('span');
    m.className = 'fallback';
    m.textContent = `method: ${pair.method}${pair.fallbackReason ? ` (${pair.fallbackReason})` : ''}`;
    E.expected.append(m);
  }
  renderSelection();
}

function renderSelection(): void {
  const state = sel();
  const current = currentResult();
  if (!current) return;
  const pair = current.report.jacobians[state.pairIndex];
  if (!pair) return;
  const k = state.stepIndex;
  const t = pair.steps[k]?.t ?? k;
  E.step.value = String(k);
  E.stepLabel.textContent = `t = ${t}  (${k + 1} / ${pair.steps.length})`;
  setDisabled(E.prevStep, k <= 0);
  setDisabled(E.nextStep, k >= pair.steps.length - 1);
}

function selectPair(k: number): void {
  const current = currentResult();
  if (!current || !Number.isInteger(k) || k === sel().pairIndex) return;
  setSelection(clampState({ ...sel(), pairIndex: k }, current.report, current.file));
}

function select(change: Partial<Pick<PanelState, 'stepIndex' | 'batchIndex'>>): void {
  const current = currentResult();
  if (!current) return;
  const before = sel();
  const state = clampState({ ...before, ...change }, current.report, current.file);
  if (state.stepIndex === before.stepIndex && state.batchIndex === before.batchIndex) return;
  setSelection(state);
}

/** The one way the selection changes: into the store (its views redraw) and into VS Code's saved state. */
function setSelection(next: PanelState): void {
  api.setState(next);
  store.set({ selection: next });
}

// ── status ──
type StatusState = 'idle' | 'running' | 'done' | 'invalid' | 'failed' | 'cancelled';

function runningText(p: Progress | undefined): string {
  if (!p) return 'Running…';
  return p.total > 0 ? `Running · ${p.stage} ${p.step}/${p.total}` : `Running · ${p.stage}`;
}

function setStatus(s: StatusState, text: string, progress?: Progress): void {
  E.status.dataset.state = s;
  E.status.textContent = text;
  E.root.dataset.state = s;
  E.ring.hidden = s !== 'running';
  E.progressBar.hidden = s !== 'running';
  const frac = progress && progress.total > 0 ? Math.min(1, progress.step / progress.total) : undefined;
  E.progressBar.classList.toggle('indeterminate', frac === undefined);
  E.progressBar.style.setProperty('--progress', frac === undefined ? '0.3' : String(frac));
  setDisabled(E.rerun, s === 'running');
  if (s !== 'running') E.note.textContent = '';
  E.empty.textContent = s === 'running' ? 'Computing the first result…'
    : s === 'idle' ? 'No result yet. Save a *.jacobian.json file or run “Analyze RNN Jacobian” on it.'
    : 'No result to show for this config yet.';
}

function setStale(on: boolean): void {
  stale = on;
  E.stale.hidden = !stale;
  E.content.classList.toggle('is-stale', stale);
  E.content.setAttribute('aria-disabled', String(stale));
}

function showIssues(items: { text: string; title: string }[]): void {
  E.issues.replaceChildren(...items.map((i) => {
    const li = document.createElement('li');
    li.textContent = i.text;
    li.title = i.title;
    return li;
  }));
  E.issues.hidden = items.length === 0;
}

let noteTimer: ReturnType<typeof setTimeout> | undefined;
function note(text: string): void {
  E.note.textContent = text;
  if (noteTimer) clearTimeout(noteTimer);
  noteTimer = setTimeout(() => (E.note.textContent = ''), 8000);
}
