// The control view (Stabilize RNN (LSC)… / Floss RNN…): ρ per kind (or λ_i) against the optimisation step, drawn
// as progress arrives, with each target as a dashed line; the numbers before and after; links to the written
// files; and at the end the before/after comparison — for the original config and the new one, side by side,
// the panel's own components: ρ and ‖J‖₂ per step and the eigenvalues (DiagnosticsCharts), the depth × time grid
// (DepthTimeView, stacked networks) and the gradient-propagation curve (GradientView).
import { Chart, type ChartDataset } from 'chart.js';
import type { ControlPanelState, PanelState, RunView, WebviewToHost } from '../../src/protocol/messages';
import { DiagnosticsCharts } from '../charts';
import { controlCurves, controlRows, controlStatus } from '../controlData';
import { baseName, formatNumber, normalizePairArrays } from '../data';
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';
import { DepthTimeView } from './depthTimeView';
import { GradientView } from './gradientView';
import { canvasFor, viewCard, type ViewCard } from './viewCard';
import type { ViewDeclaration } from './panelView';

type XY = { x: number; y: number };
type Post = (message: WebviewToHost) => void;
type Export = (dataUrl: string, view: string) => void;

const TITLES = { stabilize: 'Stabilize (LSC)', floss: 'Floss' } as const;

function retag(view: ViewCard, testid: string): void {
  view.card.dataset.testid = testid;
  view.message.dataset.testid = `${testid}-message`;
  const button = view.card.querySelector<HTMLElement>('[data-testid$="-export"]');
  if (button) button.dataset.testid = `${testid}-export`;
}

/** One side of the comparison: the panel's components over that config's analysis. */
class ComparisonSide {
  readonly cards: HTMLElement[];
  private readonly spectral: ViewCard;
  private readonly eigen: ViewCard;
  private readonly charts: DiagnosticsCharts;
  private readonly depthTime: DepthTimeView;
  private readonly gradient: GradientView;

  constructor(
    private readonly name: 'original' | 'new',
    theme: ThemeColors,
    onExport: Export,
  ) {
    const png = (card: () => ViewCard, view: string) => () => {
      const canvas = card().body.querySelector('canvas');
      if (canvas) onExport(canvas.toDataURL('image/png'), view);
    };
    this.spectral = viewCard(`ρ(J) and ‖J‖₂ per step · ${name}`, `control-${name}-spectral`, png(() => this.spectral, `control-${name}-spectral`));
    this.eigen = viewCard(`Eigenvalues · ${name}`, `control-${name}-eigen`, png(() => this.eigen, `control-${name}-eigen`));
    this.eigen.body.classList.add('square');
    // The variance and singular-value charts are not part of the comparison; their hosts stay off the page.
    const unused = () => document.createElement('div');
    this.charts = new DiagnosticsCharts({ variance: unused(), spectral: this.spectral.body, singular: unused(), eigen: this.eigen.body }, theme, () => undefined);
    this.depthTime = new DepthTimeView(theme, (dataUrl) => onExport(dataUrl, `control-${name}-depth-time`));
    this.gradient = new GradientView(theme, (dataUrl) => onExport(dataUrl, `control-${name}-gradient`));
    // The components name their cards after themselves; these copies get names of their own.
    retag(this.depthTime.view, `control-${name}-depth-time`);
    retag(this.gradient.view, `control-${name}-gradient`);
    this.cards = [this.spectral.card, this.eigen.card, this.depthTime.view.card, this.gradient.view.card];
  }

  setTheme(theme: ThemeColors): void {
    this.charts.setTheme(theme);
    this.depthTime.setTheme(theme);
    this.gradient.setTheme(theme);
  }

  show(view: RunView, file: string): void {
    const pairs = view.pairs.map(normalizePairArrays);
    const pair = view.report.jacobians[0];
    const last = Math.max(0, pair.steps.length - 1);
    const selection: PanelState = { file, pairIndex: 0, stepIndex: last, batchIndex: 0 };
    const snapshot: Snapshot = { file, report: view.report, pairs, selection };
    this.charts.setData(pair, pairs[0] ?? {}, view.report.batchSize, last, 0);
    const rho = pair.steps.map((s) => s.spectralRadius?.[0]).filter((x): x is number => x !== undefined);
    const mean = rho.length ? rho.reduce((a, b) => a + b, 0) / rho.length : NaN;
    this.spectral.title.textContent = `∂${pair.of}/∂${pair.wrt} per step · ${this.name} · mean ρ ${formatNumber(mean, 4)}`;
    this.spectral.message.textContent = baseName(file);
    this.spectral.card.dataset.meanRho = String(mean);
    this.eigen.title.textContent = `Eigenvalues · ${this.name} · t = ${pair.steps[last]?.t ?? last} · b = 0`;
    this.depthTime.update(snapshot);
    this.gradient.update(snapshot);
  }
}

export class ControlView {
  readonly root: HTMLElement;
  private readonly live: ViewCard;
  private readonly chart: Chart<'line', XY[]>;
  private readonly numbers: ViewCard;
  private readonly compare: HTMLElement;
  private readonly sides: [ComparisonSide, ComparisonSide];
  /** The run whose comparison is drawn (a comparison does not change once it has arrived). */
  private shownComparison: number | undefined;
  private last: ControlPanelState | undefined;

  constructor(
    private theme: ThemeColors,
    private readonly post: Post,
    onExport: Export,
  ) {
    this.root = document.createElement('section');
    this.root.className = 'control-views';
    this.root.dataset.testid = 'control';
    this.root.hidden = true;
    this.live = viewCard('Control', 'control-live', () => onExport(this.chart.toBase64Image(), 'control-live'));
    this.chart = new Chart(canvasFor(this.live.body), { type: 'line', data: { datasets: [] } });
    this.numbers = viewCard('Before → after', 'control-numbers', () => undefined);
    this.numbers.card.querySelector('vscode-button')?.remove();
    this.numbers.body.classList.remove('chart-host');
    this.compare = document.createElement('div');
    this.compare.className = 'charts deep-views';
    this.compare.dataset.testid = 'control-compare';
    this.sides = [new ComparisonSide('original', theme, onExport), new ComparisonSide('new', theme, onExport)];
    // Two columns: original on the left, the new weights on the right, row by row.
    this.compare.append(...this.sides[0].cards.flatMap((card, k) => [card, this.sides[1].cards[k]]));
    this.compare.hidden = true;
    const top = document.createElement('div');
    top.className = 'charts deep-views';
    top.append(this.live.card, this.numbers.card);
    this.root.append(top, this.compare);
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.sides.forEach((s) => s.setTheme(theme));
    if (this.last) this.drawCurves(this.last);
  }

  update(s: Snapshot): void {
    const state = s.control;
    this.root.hidden = !state;
    if (!state) return;
    // A new run: the view (below the analysis) is brought into sight once, not at every step.
    // (A panel reloaded after being hidden replays a finished run: that does not move the user's scroll position.)
    if (state.id !== this.last?.id && (state.phase === 'running' || state.phase === 'cancelling')) this.root.scrollIntoView({ block: 'start' });
    this.last = state;
    this.root.dataset.phase = state.phase;
    this.root.dataset.points = String(state.history.length);
    this.live.title.textContent = `${TITLES[state.kind]} · ${baseName(state.file)} · ${state.kind === 'floss' ? 'λ_i' : 'median ρ per kind'} per optimisation step`;
    this.live.message.textContent = controlStatus(state) + (state.message ? ` · ${state.message}` : '');
    this.drawCurves(state);
    this.drawNumbers(state);
    this.drawComparison(state);
  }

  private drawCurves(state: ControlPanelState): void {
    const th = this.theme;
    const colors = [th.blue, th.orange, th.green, th.purple, th.red];
    const curves = controlCurves(state);
    const lastStep = Math.max(1, state.history.length);
    const targets = [...new Set(curves.map((c) => c.target))];
    this.chart.data.datasets = [
      ...curves.map((c, k): ChartDataset<'line', XY[]> => ({
        label: c.label, data: c.points, borderColor: colors[k % colors.length], backgroundColor: colors[k % colors.length],
        pointRadius: c.points.length > 60 ? 0 : 2, borderWidth: 1.5,
      })),
      ...targets.map((target): ChartDataset<'line', XY[]> => ({
        label: `target ${target}`, data: [{ x: 0, y: target }, { x: lastStep, y: target }],
        borderColor: th.muted, backgroundColor: th.muted, borderDash: [5, 4], pointRadius: 0, borderWidth: 1,
      })),
    ];
    this.chart.options = {
      parsing: false,
      animation: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'optimisation step' } },
        y: { type: 'linear', title: { display: true, text: state.kind === 'floss' ? 'λ_i (ln per step)' : 'median ρ' } },
      },
      plugins: { legend: { display: true, labels: { boxWidth: 12 } } },
    };
    this.chart.update();
  }

  private drawNumbers(state: ControlPanelState): void {
    const table = document.createElement('table');
    table.className = 'control-table';
    const head = table.createTHead().insertRow();
    for (const h of ['quantity (median)', 'target', 'before', state.summary ? 'after' : 'latest step']) head.insertCell().textContent = h;
    const body = table.createTBody();
    for (const r of controlRows(state)) {
      const row = body.insertRow();
      row.dataset.testid = 'control-row';
      row.dataset.target = String(r.target);
      row.dataset.before = String(r.before);
      if (r.after !== undefined) row.dataset.after = String(r.after);
      for (const v of [r.label, formatNumber(r.target, 4), formatNumber(r.before, 4), formatNumber(r.after ?? r.latest, 4)]) row.insertCell().textContent = v;
    }
    const files = document.createElement('ul');
    files.className = 'control-files';
    files.dataset.testid = 'control-files';
    const written = state.files;
    if (written) {
      const link = (label: string, path: string, testid?: string) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = '#';
        a.textContent = label;
        a.title = path;
        if (testid) a.dataset.testid = testid;
        a.addEventListener('click', (e) => {
          e.preventDefault();
          this.post({ type: 'openControlFile', path });
        });
        li.append(a);
        return li;
      };
      files.append(link(`Open ${baseName(written.config)}`, written.config, 'control-open-config'));
      // The host's paths use its own separator (\\ on Windows).
      const sep = written.dir.includes('\\') && !written.dir.includes('/') ? '\\' : '/';
      for (const f of written.files.filter((f) => `${written.dir}${sep}${f}` !== written.config)) files.append(link(f, `${written.dir}${sep}${f}`));
      files.dataset.dir = written.dir;
    }
    this.numbers.title.textContent = written ? `Before → after · written to ${baseName(written.dir)}` : 'Before → after';
    this.numbers.body.replaceChildren(table, files);
    this.numbers.message.textContent = state.phase === 'invalid' ? 'The config has problems (see the Problems panel).' : '';
  }

  private drawComparison(state: ControlPanelState): void {
    const c = state.comparison;
    this.compare.hidden = !c?.ok;
    if (!c || this.shownComparison === state.id) return;
    this.shownComparison = state.id;
    if (!c.ok) {
      this.numbers.message.textContent = `The before/after analyses failed: ${c.message}`;
      return;
    }
    this.sides[0].show(c.before, state.file);
    this.sides[1].show(c.after, state.files?.config ?? state.file);
  }
}

/** The control runs' view: below the analysis; it redraws when the store's control state changes. */
export const controlView: ViewDeclaration = {
  name: 'control',
  slot: 'control',
  create: (ctx) => {
    const view = new ControlView(ctx.theme, (m) => ctx.post(m), (dataUrl, name) => ctx.exportPng(name)(dataUrl));
    return {
      cards: [view.root],
      update: (s, before) => s.control !== before.control && view.update(s),
      setTheme: (theme) => view.setTheme(theme),
    };
  },
};
