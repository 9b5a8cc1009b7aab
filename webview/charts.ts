// Variance and spectrum diagnostics with Chart.js (only the components used are registered, so the
// rest is tree-shaken). Colours are read from VS Code's CSS variables at draw time (ThemeColors);
// a theme change rebuilds every chart's options from the new colours.
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
  type Scale,
  type ScatterDataPoint,
  type TooltipItem,
} from 'chart.js';
import type { PairArrays, PairReport } from '../src/engine/run/report';
import { formatNumber, numericalRank, statSeries, vectorAt, type BatchSummary } from './data';
import { circularLawRadius } from './seriesData';
import type { OnDemandSpectrum } from './spectrumRequests';
import { type ThemeColors, withAlpha } from './theme';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Filler, Tooltip, Legend);

type XY = ScatterDataPoint;

interface AxisOpts {
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Soft limits: the axis reaches at least this far, with nice tick values at the ends. */
  ySuggestedMin?: number;
  ySuggestedMax?: number;
  yLog?: boolean;
  yBeginAtZero?: boolean;
}
type LineCfg = ChartConfiguration<'line', XY[]>;
type ScatterCfg = ChartConfiguration<'scatter', XY[]>;

export interface ChartHosts {
  variance: HTMLElement;
  spectral: HTMLElement;
  singular: HTMLElement;
  eigen: HTMLElement;
}

interface Selection {
  pair: PairReport;
  arrays: PairArrays;
  batch: number;
  batchSize: number;
  step: number;
}

/** Draws a vertical line at the selected step on the per-step charts. */
function stepMarker(getT: () => number | undefined, getColor: () => string): Plugin<'line'> {
  return {
    id: 'stepMarker',
    afterDatasetsDraw(chart) {
      const t = getT();
      const x = chart.scales.x;
      if (t === undefined || !x) return;
      const px = x.getPixelForValue(t);
      const { top, bottom, left, right } = chart.chartArea;
      if (px < left - 1 || px > right + 1) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = getColor();
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.restore();
    },
  };
}

const isBand = (label: string | undefined): boolean => !label || label.startsWith('_');

function series(steps: PairReport['steps'], values: BatchSummary[], pick: (s: BatchSummary) => number): XY[] {
  return values.map((v, k) => ({ x: steps[k].t, y: pick(v) }));
}

function hasAny(values: BatchSummary[]): boolean {
  return values.some((v) => Number.isFinite(v.mean));
}

export class DiagnosticsCharts {
  private readonly variance: Chart<'line', XY[]>;
  private readonly spectral: Chart<'line', XY[]>;
  private readonly singular: Chart<'line', XY[]>;
  private readonly eigen: Chart<'scatter', XY[]>;
  private sel: Selection | undefined;
  private theme: ThemeColors;
  private logSingular = true;
  /** The selected matrix's spectrum computed on demand, when the run's arrays lack it. */
  private onDemand: OnDemandSpectrum | undefined;

  constructor(
    private readonly hosts: ChartHosts,
    theme: ThemeColors,
    private readonly onStep: (k: number) => void,
  ) {
    this.theme = theme;
    this.applyDefaults();
    const marker = stepMarker(() => (this.sel ? this.sel.pair.steps[this.sel.step]?.t : undefined), () => this.theme.foreground);
    this.variance = new Chart(canvasIn(hosts.variance), { type: 'line', data: { datasets: [] }, plugins: [marker] });
    this.spectral = new Chart(canvasIn(hosts.spectral), { type: 'line', data: { datasets: [] }, plugins: [marker] });
    this.singular = new Chart(canvasIn(hosts.singular), { type: 'line', data: { datasets: [] } });
    this.eigen = new Chart(canvasIn(hosts.eigen), { type: 'scatter', data: { datasets: [] } });
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.applyDefaults();
    this.rebuildAll();
  }

  setLogSingular(log: boolean): void {
    this.logSingular = log;
    this.rebuildSelected();
  }

  /** A new pair or result: rebuild everything. */
  setData(pair: PairReport, arrays: PairArrays, batchSize: number, step: number, batch: number): void {
    this.sel = { pair, arrays, batchSize, step, batch };
    this.rebuildAll();
  }

  /** A new step or batch element: only the per-matrix charts change; the marker moves. */
  setSelection(step: number, batch: number): void {
    if (!this.sel) return;
    this.sel.step = step;
    this.sel.batch = batch;
    this.variance.draw();
    this.spectral.draw();
    this.rebuildSelected();
  }

  /** The on-demand spectrum of the selected matrix (or its state): the σ and eigenvalue charts redraw. */
  setOnDemand(spectrum: OnDemandSpectrum | undefined): void {
    this.onDemand = spectrum;
    this.rebuildSelected();
  }

  /** The placeholder of a chart whose values the arrays lack: computing, or why not, or `fallback`. */
  private onDemandMessage(fallback: string): string {
    const d = this.onDemand;
    return d?.state === 'computing' ? 'computing…' : d?.state === 'unavailable' ? d.message : fallback;
  }

  private applyDefaults(): void {
    const th = this.theme;
    Chart.defaults.color = th.foreground;
    Chart.defaults.borderColor = th.grid;
    Chart.defaults.font.family = th.fontFamily;
    Chart.defaults.font.size = Math.min(12, th.fontSize);
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.responsive = true;
  }

  private rebuildAll(): void {
    if (!this.sel) return;
    set(this.variance, this.varianceConfig(this.sel));
    set(this.spectral, this.spectralConfig(this.sel));
    this.rebuildSelected();
  }

  private rebuildSelected(): void {
    if (!this.sel) return;
    set(this.singular, this.singularConfig(this.sel));
    set(this.eigen, this.eigenConfig(this.sel));
  }

  private commonOptions(xTitle: string, yTitle: string, axes: AxisOpts = {}): NonNullable<LineCfg['options']> {
    const th = this.theme;
    const yTicks = {
      padding: 6,
      callback: (v: string | number, _i: number, ticks: { value: number }[]) => (axes.yLog ? logTick(Number(v), ticks) : formatTick(Number(v))),
    };
    const yCommon = {
      title: { display: true, text: yTitle, color: th.muted },
      grid: { color: th.grid, drawTicks: false },
      border: { color: th.border },
      ticks: yTicks,
      min: axes.yMin,
      max: axes.yMax,
      suggestedMin: axes.ySuggestedMin,
      suggestedMax: axes.ySuggestedMax,
    };
    return {
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      layout: { padding: { top: 4, right: 12, bottom: 0, left: 0 } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: xTitle, color: th.muted },
          grid: { color: th.grid, drawTicks: false },
          border: { color: th.border },
          ticks: { precision: 0, maxRotation: 0, padding: 6, callback: (v) => formatTick(Number(v)) },
          min: axes.xMin,
          max: axes.xMax,
        },
        y: axes.yLog ? { type: 'logarithmic', ...yCommon } : { type: 'linear', beginAtZero: axes.yBeginAtZero, ...yCommon },
      },
      plugins: {
        legend: {
          position: 'top',
          align: 'end',
          labels: {
            boxWidth: 18,
            boxHeight: 2,
            padding: 10,
            color: th.foreground,
            filter: (item) => !isBand(item.text),
          },
        },
        tooltip: {
          filter: (item: TooltipItem<'line'>) => !isBand(item.dataset.label),
          callbacks: {
            title: (items) => (items.length ? `${xTitle} = ${items[0].parsed.x}` : ''),
            label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y ?? NaN)}`,
          },
        },
      },
      onClick: (_e, _els, chart) => {
        const ev = _e;
        if (!this.sel || ev.x === null || ev.x === undefined) return;
        const t = (chart.scales.x as Scale).getValueForPixel(ev.x);
        if (t === undefined) return;
        let best = 0;
        this.sel.pair.steps.forEach((s, k) => {
          if (Math.abs(s.t - t) < Math.abs(this.sel!.pair.steps[best].t - t)) best = k;
        });
        this.onStep(best);
      },
    };
  }

  private bandDatasets(steps: PairReport['steps'], values: BatchSummary[], color: string, name: string): ChartDataset<'line', XY[]>[] {
    const bandColor = withAlpha(color, 0.18);
    return [
      { label: `_${name}min`, data: series(steps, values, (v) => v.min), borderWidth: 0, pointRadius: 0, fill: false, borderColor: 'transparent' },
      { label: `_${name}max`, data: series(steps, values, (v) => v.max), borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: bandColor, borderColor: 'transparent' },
    ];
  }

  private lineDataset(label: string, data: XY[], color: string, points: boolean, dash?: number[]): ChartDataset<'line', XY[]> {
    return {
      label,
      data,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      borderDash: dash,
      pointRadius: points ? 2.5 : 0,
      pointHoverRadius: 4,
      fill: false,
      tension: 0,
    };
  }

  private varianceConfig(s: Selection): LineCfg {
    const th = this.theme;
    const steps = s.pair.steps;
    const v = statSeries(steps, 'varTimesFanIn');
    const points = steps.length <= 60;
    const datasets: ChartDataset<'line', XY[]>[] = [];
    const exp = s.pair.expected;
    if (exp && steps.length > 0) {
      const x0 = steps[0].t;
      const x1 = steps[steps.length - 1].t;
      const e = exp.varTimesFanIn;
      const flat = (y: number): XY[] => (x0 === x1 ? [{ x: x0 - 0.5, y }, { x: x1 + 0.5, y }] : [{ x: x0, y }, { x: x1, y }]);
      datasets.push(
        { label: '_explo', data: flat(0.9 * e), borderWidth: 0, pointRadius: 0, fill: false, borderColor: 'transparent' },
        { label: '_exphi', data: flat(1.1 * e), borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: withAlpha(th.orange, 0.14), borderColor: 'transparent' },
        { ...this.lineDataset(`expected ${formatNumber(e, 4)} ±10%`, flat(e), th.orange, false, [6, 4]), borderWidth: 1.5 },
      );
    }
    if (s.batchSize > 1) datasets.push(...this.bandDatasets(steps, v, th.blue, 'var'));
    datasets.push(this.lineDataset(s.batchSize > 1 ? 'var(J)·fan_in (batch mean, min–max)' : 'var(J)·fan_in', series(steps, v, (x) => x.mean), th.blue, points));
    const ys = v.flatMap((x) => [x.min, x.max]).concat(exp ? [0.85 * exp.varTimesFanIn, 1.15 * exp.varTimesFanIn] : []).filter(Number.isFinite);
    const axes: AxisOpts = {};
    if (ys.length) {
      const lo = Math.min(...ys);
      const hi = Math.max(...ys);
      if (hi > 0) {
        const pad = Math.max((hi - lo) * 0.05, Math.abs(hi) * 0.02);
        axes.ySuggestedMin = Math.max(0, lo - pad);
        axes.ySuggestedMax = hi + pad;
      } else {
        axes.ySuggestedMin = 0;
        axes.ySuggestedMax = 1;
      }
    }
    const options = this.commonOptions('t', 'var(J)·fan_in', axes);
    return { type: 'line', data: { datasets }, options };
  }

  private spectralConfig(s: Selection): LineCfg {
    const th = this.theme;
    const steps = s.pair.steps;
    const rho = statSeries(steps, 'spectralRadius');
    const norm = statSeries(steps, 'spectralNorm');
    const points = steps.length <= 60;
    const datasets: ChartDataset<'line', XY[]>[] = [];
    const top = Math.max(0, ...rho.concat(norm).map((v) => v.max).filter(Number.isFinite));
    if (steps.length > 0 && (hasAny(rho) || hasAny(norm)) && top >= 0.25) {
      const x0 = steps[0].t;
      const x1 = steps[steps.length - 1].t;
      datasets.push({ ...this.lineDataset('_one', x0 === x1 ? [{ x: x0 - 0.5, y: 1 }, { x: x1 + 0.5, y: 1 }] : [{ x: x0, y: 1 }, { x: x1, y: 1 }], th.muted, false, [2, 3]), borderWidth: 1 });
    }
    if (hasAny(norm)) {
      if (s.batchSize > 1) datasets.push(...this.bandDatasets(steps, norm, th.green, 'norm'));
      datasets.push(this.lineDataset('‖J‖₂ spectral norm', series(steps, norm, (x) => x.mean), th.green, points));
    }
    if (hasAny(rho)) {
      if (s.batchSize > 1) datasets.push(...this.bandDatasets(steps, rho, th.purple, 'rho'));
      datasets.push(this.lineDataset('ρ(J) spectral radius', series(steps, rho, (x) => x.mean), th.purple, points));
    }
    const options = this.commonOptions('t', 'σ_max, |λ|_max', { yBeginAtZero: true });
    placeholder(this.hosts.spectral, hasAny(rho) || hasAny(norm) ? undefined : 'Add "spectralRadius" or "spectralNorm" to diagnostics');
    return { type: 'line', data: { datasets }, options };
  }

  private singularConfig(s: Selection): LineCfg {
    const th = this.theme;
    const sv = s.arrays.singularValues;
    let sorted: number[] = [];
    if (sv && s.pair.steps.length > 0) {
      sorted = Array.from(vectorAt(sv, s.pair.steps.length, s.batchSize, s.step, s.batch)).sort((a, b) => b - a);
    } else if (this.onDemand?.state === 'ready') {
      sorted = Array.from(this.onDemand.spectrum.singularValues);
    }
    const n = sorted.length;
    const r = numericalRank(sorted, Math.max(s.pair.outDim, s.pair.inDim));
    // On a log axis, σ below the rank tolerance are float32 round-off of exact zeros (dead ReLU
    // units, saturated gates): they are drawn on a floor line instead of stretching the axis to 1e-40.
    const floor = r.tol > 0 ? r.tol / 4 : undefined;
    const data: XY[] = sorted.map((y, k) => ({ x: k + 1, y: this.logSingular && floor !== undefined ? Math.max(y, floor) : y }));
    const options = this.commonOptions('k', 'σ_k', {
      yLog: this.logSingular,
      yBeginAtZero: !this.logSingular,
      yMin: this.logSingular && floor !== undefined && r.rank < n ? floor : undefined,
      xMin: 1,
      xMax: Math.max(2, n),
    });
    options.interaction = { mode: 'nearest', axis: 'x', intersect: false };
    options.onClick = undefined;
    options.plugins!.legend!.display = this.logSingular && r.rank < n;
    options.plugins!.tooltip!.filter = (item) => item.dataset.label === 'σ_k';
    options.plugins!.tooltip!.callbacks = {
      title: (items) => (items.length ? `σ_${items[0].parsed.x}` : ''),
      label: (item) => {
        const v = sorted[item.dataIndex] ?? NaN;
        return v < r.tol ? `${formatNumber(v)}  (≈ 0: below tol ${formatNumber(r.tol, 3)})` : formatNumber(v);
      },
    };
    const datasets: ChartDataset<'line', XY[]>[] = [];
    if (n) {
      const flat = (y: number): XY[] => [{ x: 1, y }, { x: Math.max(2, n), y }];
      datasets.push({ ...this.lineDataset('_one', flat(1), th.muted, false, [2, 3]), borderWidth: 1 });
      if (this.logSingular && floor !== undefined && r.rank < n) {
        datasets.push({ ...this.lineDataset(`rank tolerance (σ below: ≈ 0)`, flat(r.tol), th.red, false, [5, 4]), borderWidth: 1 });
      }
      datasets.push({ ...this.lineDataset('σ_k', data, th.blue, n <= 64), spanGaps: false });
    }
    placeholder(this.hosts.singular, !n ? this.onDemandMessage('Add "singularValues" to diagnostics (spectralNorm alone is found without them)')
      : r.tol === 0 ? 'All singular values are 0: J = 0 at this step' : undefined);
    return { type: 'line', data: { datasets }, options };
  }

  private eigenConfig(s: Selection): ScatterCfg {
    const th = this.theme;
    const re = s.arrays.eigenvaluesRe;
    const im = s.arrays.eigenvaluesIm;
    let pts: XY[] = [];
    if (re && im && s.pair.steps.length > 0) {
      const r = vectorAt(re, s.pair.steps.length, s.batchSize, s.step, s.batch);
      const m = vectorAt(im, s.pair.steps.length, s.batchSize, s.step, s.batch);
      pts = Array.from(r, (x, k) => ({ x, y: m[k] }));
    } else if (this.onDemand?.state === 'ready' && this.onDemand.spectrum.eigenRe && this.onDemand.spectrum.eigenIm) {
      const { eigenRe, eigenIm } = this.onDemand.spectrum;
      pts = Array.from(eigenRe, (x, k) => ({ x, y: eigenIm[k] }));
    }
    const disk = circularLawRadius(s.pair, s.step, s.batch);
    let maxMod = Math.max(1, disk ?? 0);
    for (const p of pts) maxMod = Math.max(maxMod, Math.hypot(p.x ?? 0, p.y ?? 0));
    // Symmetric limits on a 0.25 grid (unit circle always inside), labels every `tick`.
    const R = Math.ceil(maxMod * 1.06 * 4) / 4;
    const tick = R <= 2.5 ? 0.5 : R <= 5 ? 1 : niceStep(R / 3);
    const circle: XY[] = [];
    for (let k = 0; k <= 128; k++) circle.push({ x: Math.cos((2 * Math.PI * k) / 128), y: Math.sin((2 * Math.PI * k) / 128) });
    const axisSize = 42; // equal x-axis height and y-axis width keep the plot area square
    const axis = (title: string, which: 'x' | 'y') => ({
      type: 'linear' as const,
      min: -R,
      max: R,
      title: { display: true, text: title, color: th.muted },
      grid: { color: th.grid, drawTicks: false },
      border: { color: th.border },
      ticks: {
        padding: 6,
        stepSize: tick / 2,
        autoSkip: false,
        maxRotation: 0,
        minRotation: 0,
        callback: (v: string | number) => {
          const x = Number(v);
          return Math.abs(x / tick - Math.round(x / tick)) < 1e-6 ? formatTick(x) : '';
        },
      },
      afterFit: (scale: Scale) => {
        if (which === 'x') scale.height = axisSize;
        else scale.width = axisSize;
      },
    });
    const datasets: ChartDataset<'scatter', XY[]>[] = [];
    if (pts.length) {
      datasets.push({ label: '_unit', data: circle, showLine: true, pointRadius: 0, borderColor: th.muted, borderWidth: 1, borderDash: [3, 3] });
      if (disk !== undefined) {
        // The circular law: i.i.d. entries of the measured Var(J) would put the eigenvalues in this disk.
        const law = circle.map((p) => ({ x: (p.x ?? 0) * disk, y: (p.y ?? 0) * disk }));
        datasets.push({ label: `circular law √(n·Var J) = ${formatNumber(disk, 3)}`, data: law, showLine: true, pointRadius: 0, borderColor: th.orange, borderWidth: 1, borderDash: [6, 3] });
      }
      datasets.push({
        label: 'λ',
        data: pts,
        pointRadius: pts.length > 256 ? 2 : 3,
        pointHoverRadius: 5,
        backgroundColor: withAlpha(th.purple, 0.75),
        borderColor: th.purple,
        borderWidth: 0,
      });
    }
    placeholder(this.hosts.eigen, pts.length ? undefined
      : s.pair.outDim !== s.pair.inDim ? 'Eigenvalues exist for square Jacobians only' : this.onDemandMessage('Add "eigenvalues" to diagnostics (spectralRadius alone is found without them)'));
    return {
      type: 'scatter',
      data: { datasets },
      options: {
        parsing: false,
        layout: { padding: 6 },
        aspectRatio: 1,
        scales: { x: axis('Re λ', 'x'), y: axis('Im λ', 'y') },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: (item) => !isBand(item.dataset.label),
            callbacks: {
              label: (item) => {
                const x = item.parsed.x ?? NaN;
                const y = item.parsed.y ?? NaN;
                return `λ = ${formatNumber(x, 4)} ${y < 0 ? '−' : '+'} ${formatNumber(Math.abs(y), 4)}i   |λ| = ${formatNumber(Math.hypot(x, y), 4)}`;
              },
            },
          },
        },
      },
    };
  }
}

function set<T extends 'line' | 'scatter'>(chart: Chart<T, XY[]>, cfg: ChartConfiguration<T, XY[]>): void {
  chart.data = cfg.data;
  if (cfg.options) chart.options = cfg.options;
  chart.update('none');
}

function canvasIn(host: HTMLElement): HTMLCanvasElement {
  const wrap = document.createElement('div');
  wrap.className = 'chart-wrap';
  const c = document.createElement('canvas');
  wrap.appendChild(c);
  const msg = document.createElement('div');
  msg.className = 'chart-placeholder';
  msg.hidden = true;
  host.replaceChildren(wrap, msg);
  return c;
}

function placeholder(host: HTMLElement, message: string | undefined): void {
  const msg = host.querySelector<HTMLElement>('.chart-placeholder');
  if (!msg) return;
  msg.hidden = !message;
  msg.textContent = message ?? '';
}

function niceStep(x: number): number {
  const mag = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= x) ?? 10 * mag);
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function isPow10(v: number): boolean {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
}

/** Log-axis labels: powers of ten; also 2× and 5× when fewer than three decades are shown. */
function logTick(v: number, ticks: { value: number }[]): string {
  const decades = ticks.filter((t) => t.value > 0 && isPow10(t.value)).length;
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  const show = isPow10(v) || (decades < 3 && (Math.abs(m - 2) < 1e-6 || Math.abs(m - 5) < 1e-6));
  if (!show) return '';
  return v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(0).replace('e+', 'e');
}
