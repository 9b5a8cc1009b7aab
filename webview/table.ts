// The per-step table (a plain themed <table>: rows carry stable data-testid / data-col hooks) and
// its CSV export. stepRows and buildCsv are pure and unit-tested; renderTable touches the DOM.
import type { PairReport } from '../src/engine/run/report';
import { formatNumber, formatPlain, summarize } from './data';

export interface StepRow {
  k: number; // index into pair.steps
  t: number;
  varTimesFanIn: number; // mean over batch
  varTimesFanInMin: number;
  varTimesFanInMax: number;
  expected: number; // NaN when there is no prediction
  spectralRadius: number; // mean over batch; NaN when not computed
  spectralNorm: number;
  frobenius: number;
  mean: number;
}

export function stepRows(pair: PairReport): StepRow[] {
  const expected = pair.expected ? pair.expected.varTimesFanIn : NaN;
  return pair.steps.map((s, k) => {
    const v = summarize(s.varTimesFanIn);
    return {
      k,
      t: s.t,
      varTimesFanIn: v.mean,
      varTimesFanInMin: v.min,
      varTimesFanInMax: v.max,
      expected,
      spectralRadius: summarize(s.spectralRadius).mean,
      spectralNorm: summarize(s.spectralNorm).mean,
      frobenius: summarize(s.frobenius).mean,
      mean: summarize(s.mean).mean,
    };
  });
}

export const CSV_COLUMNS = [
  't', 'varTimesFanIn', 'varTimesFanIn_min', 'varTimesFanIn_max', 'expected',
  'spectralRadius', 'spectralNorm', 'frobenius', 'mean',
] as const;

/**
 * CSV of the per-step numbers of one pair: a header and one row per step; each statistic is its mean
 * over the batch (plus min/max of varTimesFanIn). Numbers are written at full precision; absent
 * statistics are empty fields. Lines end with \n.
 */
export function buildCsv(pair: PairReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of stepRows(pair)) {
    lines.push([
      String(r.t), formatPlain(r.varTimesFanIn), formatPlain(r.varTimesFanInMin), formatPlain(r.varTimesFanInMax),
      formatPlain(r.expected), formatPlain(r.spectralRadius), formatPlain(r.spectralNorm),
      formatPlain(r.frobenius), formatPlain(r.mean),
    ].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Relative deviation of the measured var·fan_in from the prediction, or NaN. */
export function deviation(r: StepRow): number {
  return Number.isFinite(r.expected) && r.expected !== 0 ? r.varTimesFanIn / r.expected - 1 : NaN;
}

interface Column {
  key: string;
  title: string;
  hint: string;
  cell(r: StepRow): string;
}

const COLUMNS: Column[] = [
  { key: 't', title: 't', hint: 'Time step of the rollout', cell: (r) => String(r.t) },
  { key: 'varTimesFanIn', title: 'var(J)·fan_in', hint: 'Variance of the entries times fan_in (in), mean over the batch', cell: (r) => formatNumber(r.varTimesFanIn) },
  { key: 'expected', title: 'expected', hint: 'Prediction from the initialisation and the activation', cell: (r) => formatNumber(Number.isFinite(r.expected) ? r.expected : null) },
  {
    key: 'deviation', title: 'Δ vs exp.', hint: 'var(J)·fan_in / expected − 1',
    cell: (r) => {
      const d = deviation(r);
      return Number.isFinite(d) ? `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}%` : '–';
    },
  },
  { key: 'spectralRadius', title: 'ρ(J)', hint: 'Spectral radius (largest |eigenvalue|), mean over the batch', cell: (r) => formatNumber(Number.isFinite(r.spectralRadius) ? r.spectralRadius : null) },
  { key: 'spectralNorm', title: '‖J‖₂', hint: 'Spectral norm (largest singular value), mean over the batch', cell: (r) => formatNumber(Number.isFinite(r.spectralNorm) ? r.spectralNorm : null) },
  { key: 'frobenius', title: '‖J‖_F', hint: 'Frobenius norm, mean over the batch', cell: (r) => formatNumber(r.frobenius) },
  { key: 'mean', title: 'mean(J)', hint: 'Mean of the entries, mean over the batch', cell: (r) => formatNumber(r.mean) },
];

/** A rendered per-step table; `select` moves the highlight without rebuilding the rows. */
export class StepTable {
  private rows: HTMLTableRowElement[] = [];
  private selected = -1;

  constructor(
    private readonly host: HTMLElement,
    private readonly onSelect: (k: number) => void,
  ) {}

  render(pair: PairReport): void {
    const table = document.createElement('table');
    table.className = 'steps';
    const thead = table.createTHead();
    const hr = thead.insertRow();
    for (const c of COLUMNS) {
      const th = document.createElement('th');
      th.textContent = c.title;
      th.title = c.hint;
      th.dataset.col = c.key;
      th.scope = 'col';
      hr.appendChild(th);
    }
    const body = table.createTBody();
    this.rows = [];
    for (const r of stepRows(pair)) {
      const tr = body.insertRow();
      tr.dataset.testid = 'step-row';
      tr.dataset.step = String(r.k);
      tr.tabIndex = -1;
      const dev = deviation(r);
      if (Number.isFinite(dev) && Math.abs(dev) > 0.1) tr.classList.add('off-expected');
      for (const c of COLUMNS) {
        const td = tr.insertCell();
        td.dataset.col = c.key;
        td.textContent = c.cell(r);
      }
      tr.addEventListener('click', () => this.onSelect(r.k));
      this.rows.push(tr);
    }
    this.host.replaceChildren(table);
    this.selected = -1;
  }

  select(k: number, scroll = true): void {
    if (k === this.selected) return;
    this.rows[this.selected]?.classList.remove('selected');
    this.rows[this.selected]?.removeAttribute('aria-selected');
    this.selected = k;
    const row = this.rows[k];
    if (!row) return;
    row.classList.add('selected');
    row.setAttribute('aria-selected', 'true');
    if (scroll) {
      // Scroll inside the table's own box only, never the page.
      const box = this.host;
      const top = row.offsetTop;
      const head = (box.querySelector('thead') as HTMLElement | null)?.offsetHeight ?? 0;
      if (top - head < box.scrollTop) box.scrollTop = top - head;
      else if (top + row.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = top + row.offsetHeight - box.clientHeight;
    }
  }
}
