// Pure shaping of the deep-network numbers for the panel's views: the depth × time grid of ρ (LSC's
// rectangular grid of gradient paths), the gradient-propagation curve with its fitted rate, and the
// Lyapunov spectrum with its convergence and theory overlays. Unit-tested without a DOM.
import type { PairReport, Report } from '../src/engine/run/report';

const meanOf = (xs: readonly number[] | undefined): number => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export interface GridCell {
  /**
   * ρ averaged over the batch; for a non-square edge (a depth edge between layers of different widths, where
   * ρ is undefined) the spectral norm ‖J‖₂ instead; NaN when neither was computed.
   */
  rho: number;
  norm: boolean;
  pairIndex: number;
}

export interface DepthTimeGrid {
  layers: string[];
  /** Step labels (columns). */
  steps: number[];
  /** [layer][step]: ρ(∂l.S@t/∂l.S@t-1), the time edge into layer l's node at t. */
  time: (GridCell | undefined)[][];
  /** [layer][step]: ρ(∂l.S@t/∂(l−1).S@t), the depth edge into layer l's node from the layer below. */
  depth: (GridCell | undefined)[][];
  /** The state the grid shows (`h`). */
  state: string;
}

const QUALIFIED = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)@(t|t-1)$/;

/**
 * The grid from the report's pairs `L.S@t wrt L.S@t-1` (time) and `L.S@t wrt L'.S@t` with L' the layer
 * below (depth), for the first state S that has any; undefined when there are none (a one-cell run).
 */
export function depthTimeGrid(report: Report): DepthTimeGrid | undefined {
  const layers = report.layers?.map((l) => l.name);
  if (!layers || layers.length === 0) return undefined;
  const kinds = report.jacobians.map((p, pairIndex) => {
    const of = QUALIFIED.exec(p.of.replace(/\s+/g, ''));
    const wrt = QUALIFIED.exec(p.wrt.replace(/\s+/g, ''));
    if (!of || !wrt || of[3] !== 't' || of[2] !== wrt[2]) return undefined;
    const l = layers.indexOf(of[1]);
    const kind = of[1] === wrt[1] && wrt[3] === 't-1' ? 'time' : wrt[3] === 't' && layers.indexOf(wrt[1]) === l - 1 && l > 0 ? 'depth' : undefined;
    return kind && l >= 0 ? { kind, layer: l, state: of[2], pairIndex, pair: p } : undefined;
  });
  const found = kinds.filter((k): k is NonNullable<typeof k> => k !== undefined);
  if (found.length === 0) return undefined;
  const state = found[0].state;
  const steps = [...Array(report.timeSteps).keys()].map((k) => k + 1);
  const empty = () => layers.map(() => steps.map((): GridCell | undefined => undefined));
  const grid: DepthTimeGrid = { layers, steps, time: empty(), depth: empty(), state };
  for (const f of found.filter((x) => x.state === state)) {
    for (const s of f.pair.steps) {
      const col = steps.indexOf(s.t);
      const norm = f.pair.outDim !== f.pair.inDim;
      if (col >= 0) grid[f.kind as 'time' | 'depth'][f.layer][col] = { rho: meanOf(norm ? s.spectralNorm : s.spectralRadius), norm, pairIndex: f.pairIndex };
    }
  }
  return grid;
}

export interface Point {
  x: number;
  y: number;
}

export interface GradientSeries {
  /** x = T − t, y = batch-mean ln‖∂s_T/∂s_t‖. */
  spectral: Point[];
  frobenius: Point[];
  /** The least-squares line of the spectral curve, at its two ends. */
  fit: Point[];
  rate: number;
  /** The factor per step, e^rate. */
  factor: number;
}

export function gradientSeries(pair: PairReport): GradientSeries | undefined {
  const g = pair.gradient;
  if (!g || g.t.length === 0) return undefined;
  const T = g.t[0] + 1;
  const curve = (rows: number[][]): Point[] => g.t.map((t, k) => ({ x: T - t, y: meanOf(rows.map((r) => r[k])) }));
  const spectral = curve(g.logSpectral);
  const mx = meanOf(spectral.map((p) => p.x));
  const my = meanOf(spectral.map((p) => p.y));
  const ends = [spectral[0].x, spectral[spectral.length - 1].x];
  const rate = g.rate.spectral;
  const fit = Number.isFinite(rate) ? ends.map((x) => ({ x, y: my + rate * (x - mx) })) : [];
  return { spectral, frobenius: curve(g.logFrobenius), fit, rate, factor: Math.exp(rate) };
}

export interface LyapunovSeries {
  /** (i, λ_i) with i from 1, and the batch spread as ±. */
  spectrum: (Point & { spread: number })[];
  newman: Point[];
  meanField?: number;
  /** Running estimates of the leading exponents (at most 4) against the step. */
  convergence: { index: number; points: Point[] }[];
  notes: string[];
}

export function lyapunovSeries(pair: PairReport): LyapunovSeries | undefined {
  const l = pair.lyapunov;
  if (!l) return undefined;
  const lead = Math.min(4, l.exponents.length);
  return {
    spectrum: l.exponents.map((y, i) => ({ x: i + 1, y, spread: l.spread[i] })),
    newman: (l.theory?.newman.exponents ?? []).map((y, i) => ({ x: i + 1, y })),
    meanField: l.theory?.meanField?.lambdaMax,
    convergence: [...Array(lead).keys()].map((i) => ({ index: i + 1, points: l.convergence.t.map((t, k) => ({ x: t, y: l.convergence.exponents[k][i] })) })),
    notes: [
      `${l.exponents.length} of ${pair.outDim} exponents · ${l.steps} steps after a transient of ${l.transient} · QR every ${l.every}`,
      ...(l.zeroPivots ? [`${l.zeroPivots} zero pivots (directions the map annihilates) clamped to ln 1e-300`] : []),
      ...(l.theory ? [l.theory.newman.assumptions] : []),
      ...(l.theory?.meanField ? [l.theory.meanField.assumptions] : []),
    ],
  };
}

/**
 * The circular law's radius for the eigenvalues of one Jacobian: an n×n matrix with i.i.d. entries of
 * variance Var(J) has its eigenvalues in the disk of radius √(n·Var(J)) (n → ∞). For a square J that is
 * √(varTimesFanIn), measured at this step and batch element; undefined for a non-square one.
 */
export function circularLawRadius(pair: PairReport, step: number, batch: number): number | undefined {
  const v = pair.steps[step]?.varTimesFanIn[batch];
  return pair.outDim === pair.inDim && v !== undefined && Number.isFinite(v) ? Math.sqrt(Math.max(v, 0)) : undefined;
}
