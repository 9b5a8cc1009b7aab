// Pure helpers over the report and its arrays: slicing the row-major Float32Arrays, symmetric colour
// limits, batch summaries and number formatting. No DOM; unit-tested in node.
import type { PairArrays, PairReport, StepStats } from '../src/engine/run/report';

/** Dimensions of a Jacobian array [steps, B, out, in]. */
export interface JacDims {
  steps: number;
  batch: number;
  rows: number; // out: units of `of`
  cols: number; // in: units of `wrt`
}

/** Flat index of J[k, b, i, j] in a row-major [steps, B, out, in] array. */
export function flatIndex(d: JacDims, k: number, b: number, i: number, j: number): number {
  return ((k * d.batch + b) * d.rows + i) * d.cols + j;
}

/** Inverse of flatIndex. */
export function unflatIndex(d: JacDims, index: number): { k: number; b: number; i: number; j: number } {
  const j = index % d.cols;
  let r = (index - j) / d.cols;
  const i = r % d.rows;
  r = (r - i) / d.rows;
  const b = r % d.batch;
  const k = (r - b) / d.batch;
  return { k, b, i, j };
}

/** The [out, in] matrix of step k and batch element b, as a view (no copy). */
export function matrixAt(data: Float32Array, d: JacDims, k: number, b: number): Float32Array {
  const size = d.rows * d.cols;
  const start = (k * d.batch + b) * size;
  if (k < 0 || k >= d.steps || b < 0 || b >= d.batch || start + size > data.length) {
    throw new RangeError(`no matrix at step ${k}, batch ${b} in an array of ${data.length} for ${JSON.stringify(d)}`);
  }
  return data.subarray(start, start + size);
}

/** The length-n vector of step k and batch element b of a [steps, B, n] array, as a view. */
export function vectorAt(data: Float32Array, steps: number, batch: number, k: number, b: number): Float32Array {
  const n = steps * batch > 0 ? data.length / (steps * batch) : 0;
  if (!Number.isInteger(n) || k < 0 || k >= steps || b < 0 || b >= batch) {
    throw new RangeError(`no vector at step ${k}, batch ${b} in an array of ${data.length} for [${steps}, ${batch}, n]`);
  }
  const start = (k * batch + b) * n;
  return data.subarray(start, start + n);
}

export function jacDims(pair: PairReport, batch: number): JacDims {
  return { steps: pair.steps.length, batch, rows: pair.outDim, cols: pair.inDim };
}

/** max |x| over the finite entries (0 when there are none). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let p = 0; p < values.length; p++) {
    const a = Math.abs(values[p]);
    if (a > m && a !== Infinity) m = a;
  }
  return m;
}

/**
 * Symmetric colour limits ±max|x| so that 0 is the neutral colour. An all-zero (or empty) matrix gets
 * ±1 rather than a degenerate ±0.
 */
export function symmetricLimit(values: ArrayLike<number>): number {
  const m = maxAbs(values);
  return m > 0 ? m : 1;
}

/** Limit shared by all steps of batch element b (for comparing steps on one scale). */
export function sharedLimit(data: Float32Array, d: JacDims, b: number): number {
  let m = 0;
  for (let k = 0; k < d.steps; k++) m = Math.max(m, maxAbs(matrixAt(data, d, k, b)));
  return m > 0 ? m : 1;
}

export interface BatchSummary {
  mean: number;
  min: number;
  max: number;
}

/** Mean, min and max over the batch of one statistic; NaN when the statistic is absent. */
export function summarize(values: readonly number[] | undefined): BatchSummary {
  if (!values || values.length === 0) return { mean: NaN, min: NaN, max: NaN };
  let s = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    s += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { mean: s / values.length, min: lo, max: hi };
}

export type StatName = 'varTimesFanIn' | 'mean' | 'frobenius' | 'spectralNorm' | 'spectralRadius';

export function statSeries(steps: readonly StepStats[], name: StatName): BatchSummary[] {
  return steps.map((s) => summarize(s[name]));
}

/**
 * A number with at least 4 significant digits (5 are shown): fixed notation for moderate
 * magnitudes, exponential otherwise. Non-finite values read as they are; absent ones as an en dash.
 */
export function formatNumber(v: number | null | undefined, digits = 5): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return '0';
  const a = Math.abs(v);
  // ASCII '-' (not U+2212) so that tests and users can parse what they read.
  return a >= 1e-3 && a < 1e6 ? v.toPrecision(digits) : v.toExponential(digits - 1);
}

/** Plain ASCII formatting for machine-read places (CSV): shortest round-trip text of the double. */
export function formatPlain(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  return String(v);
}

/** Milliseconds in human units. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/** "Nice" tick positions within [0, n-1] for an axis of n cells (always includes 0 and n-1). */
export function indexTicks(n: number, maxTicks: number): number[] {
  if (n <= 0) return [];
  if (n === 1) return [0];
  const raw = Math.max(1, (n - 1) / Math.max(1, maxTicks - 1));
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, Math.round([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag));
  const ticks: number[] = [];
  for (let v = 0; v < n - 1 - step * 0.4; v += step) ticks.push(Math.round(v));
  ticks.push(n - 1);
  return ticks;
}

/**
 * Typed arrays survive structured clone as Float32Array; older transports turned them into plain
 * arrays or index-keyed objects. Accept all three.
 */
export function toFloat32(x: unknown): Float32Array | undefined {
  if (x === undefined || x === null) return undefined;
  if (x instanceof Float32Array) return x;
  if (ArrayBuffer.isView(x)) {
    const v = x as unknown as ArrayLike<number>;
    return Float32Array.from(v);
  }
  if (x instanceof ArrayBuffer) return new Float32Array(x);
  if (Array.isArray(x)) return Float32Array.from(x as number[]);
  if (typeof x === 'object') {
    const o = x as Record<string, number>;
    const keys = Object.keys(o);
    const out = new Float32Array(keys.length);
    for (let p = 0; p < keys.length; p++) out[p] = o[String(p)];
    return out;
  }
  return undefined;
}

/** Normalises every array of a pair with toFloat32. */
export function normalizePairArrays(p: PairArrays | undefined): PairArrays {
  if (!p) return {};
  return {
    jacobians: toFloat32(p.jacobians),
    singularValues: toFloat32(p.singularValues),
    eigenvaluesRe: toFloat32(p.eigenvaluesRe),
    eigenvaluesIm: toFloat32(p.eigenvaluesIm),
  };
}

/**
 * Numerical rank of a matrix from its singular values, with NumPy's matrix_rank tolerance
 * tol = σ_max · max(m, n) · ε(float32): singular values at or below tol are round-off of zeros.
 */
export function numericalRank(singular: ArrayLike<number>, maxDim: number): { rank: number; tol: number } {
  let top = 0;
  for (let k = 0; k < singular.length; k++) if (singular[k] > top) top = singular[k];
  const tol = top * maxDim * FLOAT32_EPS;
  let rank = 0;
  for (let k = 0; k < singular.length; k++) if (singular[k] > tol) rank++;
  return { rank, tol };
}

export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Human label of a pair: ∂of/∂wrt. */
export function pairLabel(p: Pick<PairReport, 'of' | 'wrt' | 'outDim' | 'inDim'>): string {
  return `∂${p.of} / ∂${p.wrt}  (${p.outDim}×${p.inDim})`;
}

/** Last path segment of a file path or URI (either separator). */
export function baseName(path: string): string {
  const m = /[^/\\]*$/.exec(path);
  return m && m[0] ? m[0] : path;
}
