// The depth × time grid of ρ: one row per layer, one column per step; each cell holds the spectral radius
// of the time edge (∂l.h@t/∂l.h@t−1, upper triangle) and of the depth edge from the layer below
// (∂l.h@t/∂(l−1).h@t, lower triangle) — the rectangular grid of gradient paths LSC asks to keep at ρ ≈ 1.
// Colours diverge at ρ = 1: blue below (vanishing), red above (exploding).
import { cssRgb, divergingColor } from '../colormap';
import { depthTimeGrid, type DepthTimeGrid } from '../seriesData';
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';
import { perPairView, type ViewDeclaration } from './panelView';
import { viewCard, type ViewCard } from './viewCard';

/** ρ → [−1, 1] for the colour map: log₂ρ clamped to ±1, so ρ = ½ and ρ = 2 are the two ends. */
export const rhoColorPosition = (rho: number): number => Math.max(-1, Math.min(1, Math.log2(rho)));

export class DepthTimeView {
  readonly view: ViewCard;
  private readonly canvas: HTMLCanvasElement;
  private grid: DepthTimeGrid | undefined;

  constructor(
    private theme: ThemeColors,
    onExport: (dataUrl: string) => void,
  ) {
    this.view = viewCard('Depth × time · ρ of each edge', 'depth-time', () => onExport(this.canvas.toDataURL('image/png')));
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'grid-canvas';
    this.view.body.replaceChildren(this.canvas);
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.draw();
  }

  update(s: Snapshot): void {
    this.grid = s.report ? depthTimeGrid(s.report) : undefined;
    this.view.card.hidden = !s.report?.layers;
    this.view.message.textContent = this.grid
      ? `upper triangle: ∂l.${this.grid.state}@t/∂l.${this.grid.state}@t−1 · lower: ∂l.${this.grid.state}@t/∂(l−1).${this.grid.state}@t · blue ρ < 1, red ρ > 1 (ρ = ½ … 2; ‖J‖₂ for a depth edge between layers of different widths) · empty: pair not requested`
      : 'No layer-wise pairs: request L.h@t wrt L.h@t-1 and L.h@t wrt L′.h@t (the layer below) to see the grid.';
    this.draw();
  }

  private draw(): void {
    const g = this.grid;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const cell = 28;
    const left = 44;
    const top = 8;
    const bottom = 22;
    const cols = g?.steps.length ?? 0;
    const rows = g?.layers.length ?? 0;
    this.canvas.width = left + cols * cell + 8;
    this.canvas.height = top + rows * cell + bottom;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!g) return;
    ctx.font = `${Math.min(11, this.theme.fontSize)}px ${this.theme.fontFamily}`;
    ctx.fillStyle = this.theme.foreground;
    g.layers.forEach((name, l) => {
      // The top layer is drawn on top, as a network diagram reads.
      const y = top + (rows - 1 - l) * cell;
      ctx.fillStyle = this.theme.foreground;
      ctx.fillText(name, 4, y + cell / 2 + 4);
      g.steps.forEach((_t, k) => {
        const x = left + k * cell;
        this.triangle(ctx, x, y, cell, 'upper', g.time[l][k]?.rho);
        this.triangle(ctx, x, y, cell, 'lower', g.depth[l][k]?.rho);
        ctx.strokeStyle = this.theme.border;
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      });
    });
    ctx.fillStyle = this.theme.muted;
    const every = Math.max(1, Math.ceil(cols / 16));
    g.steps.forEach((t, k) => {
      if (k % every === 0) ctx.fillText(String(t), left + k * cell + 4, top + rows * cell + 15);
    });
  }

  private triangle(ctx: CanvasRenderingContext2D, x: number, y: number, size: number, part: 'upper' | 'lower', rho: number | undefined): void {
    if (rho === undefined || !Number.isFinite(rho)) return;
    ctx.fillStyle = cssRgb(divergingColor(rhoColorPosition(rho)));
    ctx.beginPath();
    if (part === 'upper') {
      ctx.moveTo(x, y);
      ctx.lineTo(x + size, y);
      ctx.lineTo(x + size, y + size);
    } else {
      ctx.moveTo(x, y);
      ctx.lineTo(x, y + size);
      ctx.lineTo(x + size, y + size);
    }
    ctx.closePath();
    ctx.fill();
  }
}

export const depthTimeView: ViewDeclaration = {
  name: 'depth-time',
  slot: 'deep',
  create: (ctx) => {
    const view = new DepthTimeView(ctx.theme, ctx.exportPng('depth-time'));
    return perPairView(view, [view.view.card]);
  },
};
