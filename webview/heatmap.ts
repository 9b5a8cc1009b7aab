// Heatmap of one Jacobian on a <canvas>. A selection change colours the matrix ONCE into an
// offscreen canvas (ImageData, one pixel per entry, through a packed LUT); every redraw (resize,
// hover, theme) is a single scaled drawImage with smoothing off, scheduled with requestAnimationFrame.
// Row i = output unit i of `of`, column j = input unit j of `wrt`.
import { colorize, LUT_SIZE, NON_FINITE, buildLut, cssRgb, packedLut } from './colormap';
import { formatNumber, indexTicks } from './data';
import type { ThemeColors } from './theme';

export interface HeatmapInput {
  matrix: Float32Array;
  rows: number;
  cols: number;
  /** Colour limits are ±limit. */
  limit: number;
  /** Names of the row and column tensors (`h@t`, `h@t-1`). */
  of: string;
  wrt: string;
  /** Whether `limit` is shared across steps (shown in the legend). */
  shared: boolean;
}

interface Layout {
  dpr: number;
  x0: number; // image rect in device pixels
  y0: number;
  w: number;
  h: number;
  cw: number; // cell size in device pixels
  ch: number;
}

const LUT = buildLut();
const PACKED = packedLut(LUT);

export class Heatmap {
  readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLDivElement;
  private readonly offscreen: HTMLCanvasElement;
  private readonly legendStrip: HTMLCanvasElement;
  private input: HeatmapInput | undefined;
  private emptyMessage = 'No result yet';
  private nonFinite = 0;
  private theme: ThemeColors | undefined;
  private layout: Layout | undefined;
  private hover: { i: number; j: number } | undefined;
  private tooltipAt: { x: number; y: number } | undefined;
  private frame = 0;

  constructor(
    private readonly host: HTMLElement,
    private readonly readout: HTMLElement,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap-canvas';
    this.canvas.dataset.testid = 'heatmap';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'heatmap-tooltip';
    this.tooltip.hidden = true;
    this.tooltip.setAttribute('role', 'tooltip');
    host.replaceChildren(this.canvas, this.tooltip);

    this.offscreen = document.createElement('canvas');
    this.legendStrip = document.createElement('canvas');
    this.legendStrip.width = 1;
    this.legendStrip.height = LUT_SIZE;
    const strip = new ImageData(1, LUT_SIZE);
    for (let k = 0; k < LUT_SIZE; k++) {
      const src = (LUT_SIZE - 1 - k) * 4; // top = +limit
      strip.data.set(LUT.subarray(src, src + 4), k * 4);
    }
    this.legendStrip.getContext('2d')?.putImageData(strip, 0, 0);

    new ResizeObserver(() => this.schedule()).observe(host);
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.tooltipAt = undefined;
      this.setHover(undefined);
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('blur', () => this.setHover(undefined));
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.schedule();
  }

  /** Shows a matrix (coloured now, once) or, with undefined, a message in its place. */
  setMatrix(input: HeatmapInput | undefined, emptyMessage = 'No Jacobian to show'): void {
    this.input = input;
    this.emptyMessage = emptyMessage;
    this.nonFinite = 0;
    if (input) {
      const { rows, cols, matrix } = input;
      if (this.offscreen.width !== cols || this.offscreen.height !== rows) {
        this.offscreen.width = cols;
        this.offscreen.height = rows;
      }
      const img = new ImageData(cols, rows);
      this.nonFinite = colorize(matrix, input.limit, new Uint32Array(img.data.buffer), PACKED);
      this.offscreen.getContext('2d')?.putImageData(img, 0, 0);
      this.canvas.setAttribute('aria-label', `Heatmap of ∂${input.of}/∂${input.wrt}, ${rows}×${cols}, colour limits ±${formatNumber(input.limit)}`);
      if (this.hover && (this.hover.i >= rows || this.hover.j >= cols)) this.hover = undefined;
    } else {
      this.canvas.setAttribute('aria-label', emptyMessage);
      this.hover = undefined;
    }
    this.updateTooltip();
    this.updateReadout();
    this.schedule();
  }

  /** The matrix as a PNG data URL, one square block of pixels per entry (at least ~1024 px wide). */
  toPngDataUrl(): string | undefined {
    if (!this.input) return undefined;
    const { rows, cols } = this.input;
    const s = Math.max(1, Math.floor(1024 / Math.max(rows, cols)));
    const out = document.createElement('canvas');
    out.width = cols * s;
    out.height = rows * s;
    const ctx = out.getContext('2d');
    if (!ctx) return undefined;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, 0, 0, out.width, out.height);
    return out.toDataURL('image/png');
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private computeLayout(): Layout | undefined {
    const dpr = window.devicePixelRatio || 1;
    const cssW = this.host.clientWidth;
    const cssH = this.host.clientHeight;
    const W = Math.max(1, Math.round(cssW * dpr));
    const H = Math.max(1, Math.round(cssH * dpr));
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
    }
    if (!this.input) return undefined;
    const { rows, cols } = this.input;
    const left = Math.round(48 * dpr);
    const top = Math.round(34 * dpr);
    const right = Math.round(96 * dpr); // legend
    const bottom = Math.round(8 * dpr);
    const availW = W - left - right;
    const availH = H - top - bottom;
    if (availW < 8 || availH < 8) return undefined;
    let cs = Math.min(availW / cols, availH / rows);
    // Whole device pixels per cell when that costs little room: every cell then has the same size.
    if (cs >= 2 && Math.floor(cs) / cs >= 0.8) cs = Math.floor(cs);
    const w = Math.max(1, Math.round(cs * cols));
    const h = Math.max(1, Math.round(cs * rows));
    const x0 = left + Math.floor((availW - w) / 2);
    return { dpr, x0, y0: top, w, h, cw: w / cols, ch: h / rows };
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const L = this.computeLayout();
    this.layout = L;
    const th = this.theme;
    const fg = th?.foreground ?? '#ccc';
    const muted = th?.muted ?? fg;
    const font = th?.fontFamily ?? 'sans-serif';
    const dpr = window.devicePixelRatio || 1;
    const fs = Math.round((th ? Math.min(th.fontSize, 13) : 12) * dpr * 0.92);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.input || !L) {
      ctx.fillStyle = muted;
      ctx.font = `${fs}px ${font}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(this.input ? '' : this.emptyMessage, this.canvas.width / 2, this.canvas.height / 2);
      return;
    }
    const { rows, cols, limit } = this.input;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, L.x0, L.y0, L.w, L.h);
    ctx.strokeStyle = th?.border ?? '#444';
    ctx.lineWidth = Math.max(1, Math.round(dpr));
    ctx.strokeRect(L.x0 - 0.5 * ctx.lineWidth, L.y0 - 0.5 * ctx.lineWidth, L.w + ctx.lineWidth, L.h + ctx.lineWidth);

    // Axes: index ticks and the tensors they index.
    ctx.font = `${fs}px ${font}`;
    ctx.fillStyle = muted;
    ctx.strokeStyle = muted;
    const tick = Math.round(4 * dpr);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    for (const j of indexTicks(cols, Math.max(2, Math.floor(L.w / (60 * dpr))))) {
      const x = L.x0 + (j + 0.5) * L.cw;
      ctx.fillText(String(j), x, L.y0 - tick - 2 * dpr);
      ctx.beginPath();
      ctx.moveTo(x, L.y0 - tick);
      ctx.lineTo(x, L.y0);
      ctx.stroke();
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const i of indexTicks(rows, Math.max(2, Math.floor(L.h / (40 * dpr))))) {
      const y = L.y0 + (i + 0.5) * L.ch;
      ctx.fillText(String(i), L.x0 - tick - 3 * dpr, y);
      ctx.beginPath();
      ctx.moveTo(L.x0 - tick, y);
      ctx.lineTo(L.x0, y);
      ctx.stroke();
    }
    ctx.fillStyle = fg;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(`j · ${this.input.wrt}`, L.x0, Math.round(2 * dpr));
    ctx.save();
    ctx.translate(Math.max(Math.round(4 * dpr), L.x0 - Math.round(46 * dpr)), L.y0);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'right';
    ctx.fillText(`i · ${this.input.of}`, 0, 0);
    ctx.restore();

    this.drawLegend(ctx, L, limit, fs, font, fg, muted);

    // Hovered cell: outline plus a faint crosshair on its row and column.
    if (this.hover) {
      const { i, j } = this.hover;
      const x = L.x0 + j * L.cw;
      const y = L.y0 + i * L.ch;
      ctx.fillStyle = 'rgba(127,127,127,0.18)';
      ctx.fillRect(L.x0, y, L.w, L.ch);
      ctx.fillRect(x, L.y0, L.cw, L.h);
      const lw = Math.max(1, Math.round(1.5 * dpr));
      ctx.lineWidth = lw;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(x - lw, y - lw, L.cw + 2 * lw, L.ch + 2 * lw);
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(x - 2 * lw, y - 2 * lw, L.cw + 4 * lw, L.ch + 4 * lw);
    }
  }

  private drawLegend(ctx: CanvasRenderingContext2D, L: Layout, limit: number, fs: number, font: string, fg: string, muted: string): void {
    const dpr = L.dpr;
    const bx = L.x0 + L.w + Math.round(14 * dpr);
    const bw = Math.round(14 * dpr);
    const by = L.y0;
    const bh = L.h;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.legendStrip, bx, by, bw, bh);
    ctx.strokeStyle = muted;
    ctx.lineWidth = Math.max(1, Math.round(dpr));
    ctx.strokeRect(bx - 0.5, by - 0.5, bw + 1, bh + 1);
    ctx.font = `${fs}px ${font}`;
    ctx.fillStyle = fg;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    const ticks = bh >= 160 * dpr ? [1, 0.5, 0, -0.5, -1] : [1, 0, -1];
    for (const f of ticks) {
      const y = by + ((1 - f) / 2) * bh;
      ctx.beginPath();
      ctx.moveTo(bx + bw, y);
      ctx.lineTo(bx + bw + 4 * dpr, y);
      ctx.stroke();
      ctx.fillText(f === 0 ? '0' : formatNumber(f * limit, 3), bx + bw + 6 * dpr, y);
    }
    let y = by + bh + 8 * dpr;
    if (this.input?.shared && y + fs < this.canvas.height) {
      ctx.fillStyle = muted;
      ctx.textBaseline = 'top';
      ctx.fillText('shared, all t', bx, y);
      y += fs + 6 * dpr;
    }
    if (this.nonFinite > 0) {
      ctx.fillStyle = cssRgb(NON_FINITE);
      ctx.fillRect(bx, y, bw, bw);
      ctx.fillStyle = fg;
      ctx.textBaseline = 'top';
      ctx.fillText(`non-finite: ${this.nonFinite}`, bx + bw + 6 * dpr, y);
    }
  }

  private cellAt(clientX: number, clientY: number): { i: number; j: number } | undefined {
    const L = this.layout;
    if (!L || !this.input) return undefined;
    const r = this.canvas.getBoundingClientRect();
    const x = (clientX - r.left) * L.dpr;
    const y = (clientY - r.top) * L.dpr;
    const j = Math.floor((x - L.x0) / L.cw);
    const i = Math.floor((y - L.y0) / L.ch);
    if (i < 0 || j < 0 || i >= this.input.rows || j >= this.input.cols) return undefined;
    return { i, j };
  }

  private onMove(e: MouseEvent): void {
    const cell = this.cellAt(e.clientX, e.clientY);
    this.setHover(cell, e);
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.input) return;
    const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const step = d[e.key];
    if (!step) return;
    e.preventDefault();
    const h = this.hover ?? { i: 0, j: 0 };
    const k = e.shiftKey ? 10 : 1;
    this.tooltipAt = undefined; // follow the cell
    this.setHover({
      i: Math.min(this.input.rows - 1, Math.max(0, h.i + step[0] * k)),
      j: Math.min(this.input.cols - 1, Math.max(0, h.j + step[1] * k)),
    });
  }

  private setHover(cell: { i: number; j: number } | undefined, e?: MouseEvent): void {
    const changed = cell?.i !== this.hover?.i || cell?.j !== this.hover?.j;
    this.hover = cell;
    this.updateTooltip(e);
    if (changed) {
      this.updateReadout();
      this.schedule();
    }
  }

  /** Tooltip text for the hovered cell of the CURRENT matrix; placed at the mouse, or by the cell. */
  private updateTooltip(e?: MouseEvent): void {
    const cell = this.hover;
    if (!cell || !this.input || !this.layout) {
      this.tooltip.hidden = true;
      return;
    }
    const v = this.input.matrix[cell.i * this.input.cols + cell.j];
    this.tooltip.replaceChildren(
      line('i', `${cell.i}`, `row · ${this.input.of}`),
      line('j', `${cell.j}`, `col · ${this.input.wrt}`),
      line('J', formatNumber(v), ''),
    );
    this.tooltip.hidden = false;
    if (!e && this.tooltipAt) return; // same place, new value (a new step or batch element)
    const hostRect = this.host.getBoundingClientRect();
    const px = e ? e.clientX - hostRect.left : (this.layout.x0 + (cell.j + 1) * this.layout.cw) / this.layout.dpr;
    const py = e ? e.clientY - hostRect.top : (this.layout.y0 + (cell.i + 1) * this.layout.ch) / this.layout.dpr;
    const tw = this.tooltip.offsetWidth;
    const tHeight = this.tooltip.offsetHeight;
    const x = px + 14 + tw > this.host.clientWidth ? px - 14 - tw : px + 14;
    const y = py + 14 + tHeight > this.host.clientHeight ? py - 14 - tHeight : py + 14;
    this.tooltipAt = { x: Math.max(0, x), y: Math.max(0, y) };
    this.tooltip.style.transform = `translate(${this.tooltipAt.x}px, ${this.tooltipAt.y}px)`;
  }

  private updateReadout(): void {
    if (!this.input) {
      this.readout.textContent = '';
      return;
    }
    const { rows, cols, limit } = this.input;
    if (this.hover) {
      const { i, j } = this.hover;
      const v = this.input.matrix[i * cols + j];
      this.readout.textContent = `J[${i}, ${j}] = ∂${this.input.of}[${i}] / ∂${this.input.wrt}[${j}] = ${formatNumber(v)}`;
    } else {
      const zero = maxAbsIsZero(this.input.matrix) ? ' · all entries are 0' : '';
      this.readout.textContent = `${rows}×${cols} · colour limits ±${formatNumber(limit, 4)}${this.input.shared ? ' (shared across steps)' : ''}${zero} · hover or focus + arrow keys to read entries`;
    }
  }
}

function maxAbsIsZero(m: Float32Array): boolean {
  for (let p = 0; p < m.length; p++) if (m[p] !== 0) return false;
  return true;
}

function line(key: string, value: string, note: string): HTMLElement {
  const div = document.createElement('div');
  const k = document.createElement('span');
  k.className = 'k';
  k.textContent = key;
  const v = document.createElement('span');
  v.className = 'v';
  v.textContent = value;
  div.append(k, v);
  if (note) {
    const n = document.createElement('span');
    n.className = 'n';
    n.textContent = note;
    div.append(n);
  }
  return div;
}
