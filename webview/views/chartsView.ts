// The diagnostic charts as a panel view: var(J)·fan_in and ρ, ‖J‖₂ per step, and the singular values and
// eigenvalues of the Jacobian on screen. Where the run's arrays lack a whole spectrum, the one on screen is asked
// of the host (SpectrumRequests) and drawn when it arrives.
import type { PairArrays, PairReport } from '../../src/engine/run/report';
import { DiagnosticsCharts } from '../charts';
import { formatNumber, numericalRank, vectorAt } from '../data';
import { circularLawRadius } from '../seriesData';
import type { OnDemandSpectrum } from '../spectrumRequests';
import type { Snapshot } from '../store';
import { makeButton } from '../toolkit';
import { pairChanged, type PanelView, type ViewContext, type ViewDeclaration } from './panelView';
import { card } from './viewCard';

class ChartsView implements PanelView {
  readonly cards: HTMLElement[];
  private readonly charts: DiagnosticsCharts;
  private readonly singularTitle: HTMLElement;
  private readonly singularHost: HTMLElement;
  private readonly singularScale: HTMLElement;
  private readonly eigenTitle: HTMLElement;
  private readonly eigenHost: HTMLElement;

  constructor(private readonly ctx: ViewContext) {
    const variance = card('Variance · var(J)·fan_in per step');
    const spectral = card('Spectrum · ρ(J) and ‖J‖₂ per step');
    this.singularScale = makeButton('log y', { appearance: 'secondary', title: 'Switch the y axis between log and linear' });
    this.singularScale.classList.add('small');
    this.singularScale.addEventListener('click', () => {
      const selection = ctx.get().selection;
      ctx.setSelection({ ...selection, logSingular: !selection.logSingular });
    });
    const singular = card('Singular values', this.singularScale);
    const eigen = card('Eigenvalues');
    for (const c of [variance, spectral, singular, eigen]) {
      c.card.classList.add('chart-card');
      c.body.classList.add('chart-host');
    }
    eigen.body.classList.add('square');
    singular.body.dataset.testid = 'singular-chart';
    eigen.body.dataset.testid = 'eigen-chart';
    this.cards = [variance.card, spectral.card, singular.card, eigen.card];
    this.singularTitle = singular.title;
    this.singularHost = singular.body;
    this.eigenTitle = eigen.title;
    this.eigenHost = eigen.body;
    this.charts = new DiagnosticsCharts(
      { variance: variance.body, spectral: spectral.body, singular: singular.body, eigen: eigen.body },
      ctx.theme,
      (k) => ctx.select({ stepIndex: k }),
    );
    this.setScaleLabel(Boolean(ctx.get().selection.logSingular));
  }

  setTheme: PanelView['setTheme'] = (theme) => this.charts.setTheme(theme);

  update(s: Snapshot, before: Snapshot): void {
    const pair = s.report?.jacobians[s.selection.pairIndex];
    if (!s.report || !pair) return;
    const { stepIndex, batchIndex, logSingular } = s.selection;
    if (pairChanged(s, before)) {
      this.charts.setData(pair, s.pairs[s.selection.pairIndex] ?? {}, s.report.batchSize, stepIndex, batchIndex);
      this.showSelection(s, pair);
    } else if (stepIndex !== before.selection.stepIndex || batchIndex !== before.selection.batchIndex) {
      const start = performance.now();
      this.charts.setSelection(stepIndex, batchIndex);
      // A performance mark (`jl:charts`), read by perf checks in dev tools.
      performance.measure('jl:charts', { start, end: performance.now() });
      this.showSelection(s, pair);
    }
    if (logSingular !== before.selection.logSingular) {
      this.setScaleLabel(Boolean(logSingular));
      this.charts.setLogSingular(Boolean(logSingular));
    }
  }

  spectrumArrived(): void {
    this.showSpectra(this.ctx.get());
  }

  private setScaleLabel(log: boolean): void {
    this.singularScale.textContent = log ? 'log y' : 'linear y';
  }

  private showSelection(s: Snapshot, pair: PairReport): void {
    const { stepIndex: k, batchIndex: b } = s.selection;
    this.showSpectra(s);
    const where = `t = ${pair.steps[k]?.t ?? k} · b = ${b}`;
    const rho = pair.steps[k]?.spectralRadius?.[b];
    const disk = circularLawRadius(pair, k, b);
    this.eigenTitle.textContent = `Eigenvalues in ℂ · ${where}${rho !== undefined ? ` · ρ = ${formatNumber(rho, 4)}` : ''}${disk !== undefined ? ` · circular law √(n·Var J) = ${formatNumber(disk, 3)}` : ''}`;
  }

  /** The singular-value chart's title and the on-demand spectrum (asked for here when the arrays lack it). */
  private showSpectra(s: Snapshot): void {
    const pair = s.report?.jacobians[s.selection.pairIndex];
    if (!s.report || !pair || !pair.steps.length) return;
    const onDemand = this.ctx.spectra.need(s);
    this.charts.setOnDemand(onDemand);
    const { stepIndex: k, batchIndex: b } = s.selection;
    const arrays: PairArrays = s.pairs[s.selection.pairIndex] ?? {};
    const singular = arrays.singularValues
      ? vectorAt(arrays.singularValues, pair.steps.length, s.report.batchSize, k, b)
      : onDemand?.state === 'ready' ? onDemand.spectrum.singularValues : undefined;
    let title = `Singular values · t = ${pair.steps[k]?.t ?? k} · b = ${b}`;
    if (singular) title += ` · rank ${numericalRank(singular, Math.max(pair.outDim, pair.inDim)).rank}`;
    if (onDemand?.state === 'ready') title += ' · computed on demand';
    this.singularTitle.textContent = title;
    this.singularTitle.title = 'Numerical rank: singular values above σ_max·max(m,n)·ε(float32)';
    // What the e2e reads: which matrix the σ chart shows and in what state.
    this.singularHost.dataset.spectrum = spectrumLabel(s.selection.pairIndex, k, b, onDemand, singular);
    this.eigenHost.dataset.spectrum = this.singularHost.dataset.spectrum;
  }
}

function spectrumLabel(pair: number, step: number, b: number, onDemand: OnDemandSpectrum | undefined, singular: ArrayLike<number> | undefined): string {
  const state = onDemand ? onDemand.state : 'arrays';
  return `${pair}/${step}/${b} ${state}${singular?.length ? ` σ1=${singular[0]}` : ''}`;
}

export const chartsView: ViewDeclaration = { name: 'charts', slot: 'charts', create: (ctx) => new ChartsView(ctx) };
