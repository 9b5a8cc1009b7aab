// Gradient propagation: ln‖∂s_T/∂s_t‖₂ and ln‖·‖_F against the distance T − t (a log scale: the norms
// themselves under- or overflow over long runs), with the least-squares line whose slope is the rate.
import { Chart, type ChartDataset } from 'chart.js';
import { formatNumber } from '../data';
import { gradientSeries } from '../seriesData';
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';
import { perPairView, type ViewDeclaration } from './panelView';
import { canvasFor, ThemedView, viewCard, type ViewCard } from './viewCard';

type XY = { x: number; y: number };

export class GradientView extends ThemedView {
  readonly view: ViewCard;
  private readonly chart: Chart<'line', XY[]>;

  constructor(
    theme: ThemeColors,
    onExport: (dataUrl: string) => void,
  ) {
    super(theme);
    this.view = viewCard('Gradient propagation · ln‖∂s_T/∂s_t‖', 'gradient', () => onExport(this.chart.toBase64Image()));
    this.chart = new Chart(canvasFor(this.view.body), { type: 'line', data: { datasets: [] } });
  }

  protected draw(s: Snapshot): void {
    const pair = s.report?.jacobians[s.selection.pairIndex];
    const g = pair ? gradientSeries(pair) : undefined;
    this.view.card.hidden = !s.report?.jacobians.some((p) => p.gradient);
    if (!g || !pair) {
      this.view.message.textContent = 'This pair has no gradient-propagation curve: it needs the gradientPropagation diagnostic and a state transition pair (S@t wrt S@t-1).';
      this.chart.data.datasets = [];
      this.chart.update();
      return;
    }
    this.view.title.textContent = `Gradient propagation · ${pair.of.replace(/@t$/, '')} · ln‖∂s_T/∂s_t‖`;
    this.view.message.textContent =
      `rate ${formatNumber(g.rate, 4)} ln/step: ‖∂s_T/∂s_t‖₂ changes by ×${formatNumber(g.factor, 4)} per step back in time (mean over the batch; least squares over T − t)`;
    const th = this.theme;
    const line = (label: string, data: XY[], color: string, dash?: number[]): ChartDataset<'line', XY[]> => ({
      label, data, borderColor: color, backgroundColor: color, pointRadius: data.length > 60 ? 0 : 2, borderWidth: 1.5, borderDash: dash,
    });
    this.chart.data.datasets = [
      line('ln‖·‖₂', g.spectral, th.blue),
      line('ln‖·‖_F', g.frobenius, th.orange),
      line(`fit: slope ${formatNumber(g.rate, 3)}`, g.fit, th.muted, [5, 4]),
    ];
    this.chart.options = {
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'T − t (steps back)' } },
        y: { type: 'linear', title: { display: true, text: 'ln ‖∂s_T/∂s_t‖' } },
      },
      plugins: { legend: { display: true, labels: { boxWidth: 12 } } },
    };
    this.chart.update();
  }
}

export const gradientView: ViewDeclaration = {
  name: 'gradient',
  slot: 'deep',
  create: (ctx) => {
    const view = new GradientView(ctx.theme, ctx.exportPng('gradient'));
    return perPairView(view, [view.view.card]);
  },
};
