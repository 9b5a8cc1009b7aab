// The Lyapunov spectrum λ_1 ≥ … ≥ λ_k (with its spread over the batch) beside Newman's spectrum for
// i.i.d. Gaussian Jacobians of the same entry variance and the mean-field λ_max of a random tanh network,
// and the running estimates of the leading exponents so that the user sees whether they have settled.
import { Chart, type ChartDataset } from 'chart.js';
import { formatNumber } from '../data';
import { lyapunovSeries } from '../seriesData';
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';
import { perPairView, type ViewDeclaration } from './panelView';
import { canvasFor, ThemedView, viewCard, type ViewCard } from './viewCard';

type XY = { x: number; y: number };

export class LyapunovView extends ThemedView {
  readonly spectrumView: ViewCard;
  readonly convergenceView: ViewCard;
  private readonly spectrum: Chart<'line', XY[]>;
  private readonly convergence: Chart<'line', XY[]>;

  constructor(
    theme: ThemeColors,
    onExport: (dataUrl: string, name: string) => void,
  ) {
    super(theme);
    this.spectrumView = viewCard('Lyapunov spectrum · λ_i (ln/step)', 'lyapunov', () => onExport(this.spectrum.toBase64Image(), 'lyapunov'));
    this.convergenceView = viewCard('Lyapunov convergence · running λ_1…λ_4', 'lyapunov-convergence', () => onExport(this.convergence.toBase64Image(), 'lyapunov-convergence'));
    this.spectrum = new Chart(canvasFor(this.spectrumView.body), { type: 'line', data: { datasets: [] } });
    this.convergence = new Chart(canvasFor(this.convergenceView.body), { type: 'line', data: { datasets: [] } });
  }

  protected draw(s: Snapshot): void {
    const pair = s.report?.jacobians[s.selection.pairIndex];
    const l = pair ? lyapunovSeries(pair) : undefined;
    const any = Boolean(s.report?.jacobians.some((p) => p.lyapunov));
    this.spectrumView.card.hidden = !any;
    this.convergenceView.card.hidden = !any;
    if (!l || !pair) {
      this.spectrumView.message.textContent = 'This pair has no Lyapunov spectrum: it needs the lyapunov diagnostic and a state transition pair (S@t wrt S@t-1).';
      this.convergenceView.message.textContent = '';
      this.spectrum.data.datasets = [];
      this.convergence.data.datasets = [];
      this.spectrum.update();
      this.convergence.update();
      return;
    }
    const th = this.theme;
    const line = (label: string, data: XY[], color: string, extra: Partial<ChartDataset<'line', XY[]>> = {}): ChartDataset<'line', XY[]> => ({
      label, data, borderColor: color, backgroundColor: color, pointRadius: data.length > 64 ? 0 : 2, borderWidth: 1.5, ...extra,
    });
    const band = (sign: 1 | -1) => l.spectrum.map((p) => ({ x: p.x, y: p.y + sign * p.spread }));
    const k = l.spectrum.length;
    this.spectrum.data.datasets = [
      line('λ_i', l.spectrum, th.blue),
      line('_+spread', band(1), th.blue, { borderWidth: 0, pointRadius: 0, fill: '+1', backgroundColor: 'rgba(80,140,220,0.18)' }),
      line('_−spread', band(-1), th.blue, { borderWidth: 0, pointRadius: 0 }),
      ...(l.newman.length ? [line('Newman (i.i.d. Gaussian, same Var J)', l.newman, th.orange, { borderDash: [5, 4], pointRadius: 0 })] : []),
      ...(l.meanField !== undefined ? [line(`mean-field λ_max ${formatNumber(l.meanField, 4)}`, [{ x: 1, y: l.meanField }, { x: k, y: l.meanField }], th.green, { borderDash: [2, 3], pointRadius: 0 })] : []),
      line('0', [{ x: 1, y: 0 }, { x: k, y: 0 }], th.muted, { borderWidth: 1, pointRadius: 0 }),
    ];
    const legend = { display: true, labels: { boxWidth: 12, filter: (item: { text: string }) => !item.text.startsWith('_') && item.text !== '0' } };
    this.spectrum.options = {
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'i' } }, y: { type: 'linear', title: { display: true, text: 'λ_i (ln per step)' } } },
      plugins: { legend },
    };
    const colors = [th.blue, th.orange, th.green, th.purple];
    this.convergence.data.datasets = l.convergence.map((c, i) => line(`λ_${c.index}`, c.points, colors[i % colors.length]));
    this.convergence.options = {
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'step t' } }, y: { type: 'linear', title: { display: true, text: 'running estimate' } } },
      plugins: { legend },
    };
    this.spectrumView.title.textContent = `Lyapunov spectrum · ${pair.of.replace(/@t$/, '')} · λ_max ${formatNumber(l.spectrum[0].y, 4)}`;
    this.spectrumView.message.textContent = l.notes.join(' · ');
    this.convergenceView.message.textContent = 'A settled estimate is flat at the right; a drift means the run is too short for these exponents.';
    this.spectrum.update();
    this.convergence.update();
  }
}

export const lyapunovView: ViewDeclaration = {
  name: 'lyapunov',
  slot: 'deep',
  create: (ctx) => {
    const view = new LyapunovView(ctx.theme, (dataUrl, name) => ctx.exportPng(name)(dataUrl));
    return perPairView(view, [view.spectrumView.card, view.convergenceView.card]);
  },
};
