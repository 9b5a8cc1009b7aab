// The panel's DOM skeleton, built once. Returns the elements the wiring in main.ts updates.
// No inline style attributes anywhere: the CSP has no 'unsafe-inline' for styles.
import { makeButton, makeCheckbox, makeDropdown, makeProgressRing } from './toolkit';

export interface Elements {
  root: HTMLElement;
  progressBar: HTMLElement;
  fileName: HTMLElement;
  meta: HTMLElement;
  backend: HTMLElement;
  rerun: HTMLElement;
  exportPng: HTMLElement;
  exportCsv: HTMLElement;
  exportJson: HTMLElement;
  exportNpy: HTMLElement;
  ring: HTMLElement;
  status: HTMLElement;
  stale: HTMLElement;
  issues: HTMLElement;
  note: HTMLElement;
  empty: HTMLElement;
  content: HTMLElement;
  pair: HTMLElement;
  batch: HTMLElement;
  step: HTMLInputElement;
  stepLabel: HTMLElement;
  prevStep: HTMLElement;
  nextStep: HTMLElement;
  shared: HTMLElement;
  expected: HTMLElement;
  heatTitle: HTMLElement;
  heatHost: HTMLElement;
  readout: HTMLElement;
  varianceHost: HTMLElement;
  spectralHost: HTMLElement;
  singularHost: HTMLElement;
  singularTitle: HTMLElement;
  singularScale: HTMLElement;
  eigenHost: HTMLElement;
  eigenTitle: HTMLElement;
  tableHost: HTMLElement;
  /** Where the store-driven views (webview/views) mount their cards. */
  deepHost: HTMLElement;
  tableTitle: HTMLElement;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function card(title: string, extra?: HTMLElement): { card: HTMLElement; title: HTMLElement; body: HTMLElement } {
  const c = el('article', 'card');
  const head = el('header', 'card-head');
  const h = el('h2', 'card-title', title);
  head.append(h);
  if (extra) head.append(extra);
  const body = el('div', 'card-body');
  c.append(head, body);
  return { card: c, title: h, body };
}

function field(label: string, control: HTMLElement, id: string, labelFor = id): HTMLElement {
  const f = el('div', 'field');
  const l = el('label', 'field-label', label);
  l.htmlFor = labelFor;
  control.id = id;
  f.append(l, control);
  return f;
}

export function buildLayout(
  root: HTMLElement,
  handlers: {
    pair(value: string): void;
    batch(value: string): void;
    shared(checked: boolean): void;
  },
): Elements {
  root.classList.add('app');

  // ── header: what was run, and the actions ──
  const progressBar = el('div', 'progress-bar');
  progressBar.hidden = true;
  const top = el('header', 'top');
  const id = el('div', 'identity');
  const h1 = el('h1', 'title');
  const fileName = el('span', 'file', 'RNN Jacobian Lab');
  h1.append(fileName);
  const meta = el('div', 'meta');
  const backend = el('span', 'value');
  backend.dataset.testid = 'backend';
  id.append(h1, meta);
  const actions = el('div', 'actions');
  const rerun = makeButton('Rerun', { appearance: 'primary', title: 'Run the analysis again', testid: 'rerun' });
  const exportGroup = el('div', 'export-group');
  exportGroup.setAttribute('role', 'group');
  exportGroup.setAttribute('aria-label', 'Export');
  const exportLabel = el('span', 'export-label', 'Export');
  const exportPng = makeButton('PNG', { appearance: 'secondary', title: 'Export the heatmap as PNG', testid: 'export-png' });
  const exportCsv = makeButton('CSV', { appearance: 'secondary', title: 'Export the per-step table as CSV', testid: 'export-csv' });
  const exportJson = makeButton('JSON', { appearance: 'secondary', title: 'Export the report as JSON', testid: 'export-json' });
  const exportNpy = makeButton('.npy', { appearance: 'secondary', title: 'Export all arrays as .npy files', testid: 'export-npy' });
  exportGroup.append(exportLabel, exportPng, exportCsv, exportJson, exportNpy);
  actions.append(exportGroup, rerun);
  top.append(id, actions);

  // ── status line ──
  const statusLine = el('div', 'status-line');
  const ring = makeProgressRing();
  ring.classList.add('ring');
  ring.hidden = true;
  const status = el('span', 'status', 'Waiting for a result…');
  status.dataset.testid = 'status';
  status.dataset.state = 'idle';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const stale = el('span', 'stale-badge', 'STALE');
  stale.dataset.testid = 'stale';
  stale.title = 'The config changed and is not valid (or the run failed): this is the last good result.';
  stale.hidden = true;
  const note = el('span', 'note');
  statusLine.append(ring, stale, status, note);
  const issues = el('ul', 'issues');
  issues.dataset.testid = 'issues';
  issues.hidden = true;

  const empty = el('div', 'empty', 'No result yet. Save a *.jacobian.json file or run “Analyze RNN Jacobian” on it.');

  // ── content: controls, heatmap, charts, table ──
  const content = el('section', 'content');
  content.hidden = true;
  const controls = el('div', 'controls');
  const pair = makeDropdown('pair', handlers.pair);
  pair.classList.add('pair-dropdown');
  const batch = makeDropdown('batch', handlers.batch);
  const step = el('input', 'step-slider');
  step.type = 'range';
  step.min = '0';
  step.max = '0';
  step.step = '1';
  step.value = '0';
  const stepBox = el('div', 'step-box');
  const prevStep = makeButton('‹', { appearance: 'icon', title: 'Previous step' });
  const nextStep = makeButton('›', { appearance: 'icon', title: 'Next step' });
  const stepLabel = el('output', 'step-label');
  stepBox.append(prevStep, step, nextStep, stepLabel);
  const shared = makeCheckbox('Shared colour limits across steps', handlers.shared);
  shared.classList.add('shared');
  controls.append(field('Jacobian', pair, 'pair'), field('Batch element', batch, 'batch'), field('Step', stepBox, 'step-box', 'step'), shared);
  step.id = 'step';

  const expected = el('div', 'expected');

  const grid = el('div', 'grid');
  const heat = card('Jacobian');
  heat.card.classList.add('heatmap-card');
  const heatHost = el('div', 'heatmap-host');
  const readout = el('div', 'readout');
  heat.body.append(heatHost, readout);

  const charts = el('div', 'charts');
  const variance = card('Variance · var(J)·fan_in per step');
  const spectral = card('Spectrum · ρ(J) and ‖J‖₂ per step');
  const singularScale = makeButton('log y', { appearance: 'secondary', title: 'Switch the y axis between log and linear' });
  singularScale.classList.add('small');
  const singular = card('Singular values', singularScale);
  const eigen = card('Eigenvalues');
  for (const c of [variance, spectral, singular, eigen]) {
    c.card.classList.add('chart-card');
    c.body.classList.add('chart-host');
  }
  eigen.body.classList.add('square');
  charts.append(variance.card, spectral.card, singular.card, eigen.card);
  grid.append(heat.card, charts);

  const table = card('Per-step statistics');
  table.card.classList.add('table-card');
  table.body.classList.add('table-host');
  // The deep-network views (depth × time grid, gradient propagation, Lyapunov): components mount themselves here.
  const deep = el('div', 'charts deep-views');
  deep.dataset.testid = 'deep-views';
  content.append(controls, expected, grid, deep, table.card);

  root.replaceChildren(progressBar, top, statusLine, issues, empty, content);
  return {
    root, progressBar, fileName, meta, backend, rerun, exportPng, exportCsv, exportJson, exportNpy,
    ring, status, stale, issues, note, empty, content, pair, batch, step, stepLabel, prevStep, nextStep, shared, expected,
    heatTitle: heat.title, heatHost, readout,
    varianceHost: variance.body, spectralHost: spectral.body, singularHost: singular.body, singularTitle: singular.title, singularScale,
    eigenHost: eigen.body, eigenTitle: eigen.title,
    tableHost: table.body, tableTitle: table.title, deepHost: deep,
  };
}
