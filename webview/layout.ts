// The panel's DOM skeleton, built once. Returns the elements the wiring in main.ts updates.
// No inline style attributes anywhere: the CSP has no 'unsafe-inline' for styles.
import { makeButton, makeCheckbox, makeDropdown, makeProgressRing } from './toolkit';
import type { Slot } from './views/panelView';

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
  /** Puts a panel view's card (webview/views) into its slot, after the cards already there. */
  mount: Record<Slot, (card: HTMLElement) => void>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
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

  // ── content: the controls, then the views' slots ──
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

  // The panel views (webview/views) mount their cards in these slots: the heatmap beside the four charts, the
  // deep-network views (depth × time grid, gradient propagation, Lyapunov) below, then the per-step table (last in
  // the content).
  const grid = el('div', 'grid');
  const charts = el('div', 'charts');
  grid.append(charts);
  const deep = el('div', 'charts deep-views');
  deep.dataset.testid = 'deep-views';
  content.append(controls, expected, grid, deep);
  const mount: Elements['mount'] = {
    matrix: (c) => grid.insertBefore(c, charts),
    charts: (c) => charts.append(c),
    deep: (c) => deep.append(c),
    table: (c) => content.append(c),
    // Below the analysis, whatever config that shows (a control run's view stands on its own).
    control: (c) => root.append(c),
  };

  root.replaceChildren(progressBar, top, statusLine, issues, empty, content);
  return {
    root, progressBar, fileName, meta, backend, rerun, exportPng, exportCsv, exportJson, exportNpy,
    ring, status, stale, issues, note, empty, content, pair, batch, step, stepLabel, prevStep, nextStep, shared, expected, mount,
  };
}
