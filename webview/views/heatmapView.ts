// The heatmap of the Jacobian on screen (pair, step, batch element) with its read-out, as a panel view. Colour
// limits are the matrix's own, or with "shared colour limits" the pair's largest over all steps (cached per
// pair and batch element for the result on show).
import { jacDims, matrixAt, sharedLimit, symmetricLimit } from '../data';
import { Heatmap } from '../heatmap';
import type { Snapshot } from '../store';
import { pairChanged, type PanelView, type ViewDeclaration } from './panelView';
import { card } from './viewCard';

class HeatmapView implements PanelView {
  readonly cards: HTMLElement[];
  private readonly title: HTMLElement;
  private readonly heatmap: Heatmap;
  private readonly sharedLimits = new Map<string, number>();

  constructor() {
    const heat = card('Jacobian');
    heat.card.classList.add('heatmap-card');
    const host = document.createElement('div');
    host.className = 'heatmap-host';
    const readout = document.createElement('div');
    readout.className = 'readout';
    heat.body.append(host, readout);
    this.cards = [heat.card];
    this.title = heat.title;
    this.heatmap = new Heatmap(host, readout);
  }

  setTheme: PanelView['setTheme'] = (theme) => this.heatmap.setTheme(theme);

  png(): string | undefined {
    return this.heatmap.toPngDataUrl();
  }

  update(s: Snapshot, before: Snapshot): void {
    if (s.report !== before.report) this.sharedLimits.clear();
    if (!s.report) {
      if (before.report) this.heatmap.setMatrix(undefined);
      return;
    }
    const { stepIndex, batchIndex, sharedLimits } = s.selection;
    const moved = stepIndex !== before.selection.stepIndex || batchIndex !== before.selection.batchIndex;
    if (!pairChanged(s, before) && !moved && sharedLimits === before.selection.sharedLimits) return;
    const start = performance.now();
    this.draw(s);
    // A performance mark (`jl:heatmap`), read by perf checks in dev tools.
    performance.measure('jl:heatmap', { start, end: performance.now() });
  }

  private draw(s: Snapshot): void {
    const state = s.selection;
    const pair = s.report?.jacobians[state.pairIndex];
    if (!pair || !s.report) return;
    const t = pair.steps[state.stepIndex]?.t ?? state.stepIndex;
    this.title.textContent = `Jacobian ∂${pair.of} / ∂${pair.wrt} · t = ${t} · b = ${state.batchIndex}`;
    const data = s.pairs[state.pairIndex]?.jacobians;
    if (!data || pair.steps.length === 0) {
      this.heatmap.setMatrix(undefined, 'Whole Jacobians were not kept for this run (over keepJacobiansMB); the statistics are complete.');
      return;
    }
    const dims = jacDims(pair, s.report.batchSize);
    const matrix = matrixAt(data, dims, state.stepIndex, state.batchIndex);
    let limit: number;
    if (state.sharedLimits) {
      const key = `${state.pairIndex}/${state.batchIndex}`;
      limit = this.sharedLimits.get(key) ?? sharedLimit(data, dims, state.batchIndex);
      this.sharedLimits.set(key, limit);
    } else {
      limit = symmetricLimit(matrix);
    }
    this.heatmap.setMatrix({ matrix, rows: pair.outDim, cols: pair.inDim, limit, of: pair.of, wrt: pair.wrt, shared: Boolean(state.sharedLimits) });
  }
}

export const heatmapView: ViewDeclaration = {
  name: 'heatmap',
  slot: 'matrix',
  create: (ctx) => {
    const view = new HeatmapView();
    view.setTheme(ctx.theme);
    return view;
  },
};
