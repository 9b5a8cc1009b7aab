// The largest singular value of one small dense matrix without an SVD: σ₁² is the largest eigenvalue of
// the Gram matrix (JᵀJ or JJᵀ, the smaller), reduced to tridiagonal form by Householder reflections and
// solved by Sturm bisection (topTridiagonal), all in float64. A full SVD (ml-matrix, arrays of arrays)
// computes every value and cost ~20 ms per 100×100 matrix in a fresh process; this costs n³/2 for the Gram
// matrix plus 4n³/3 for the reduction. Zero columns (rows) — a ReLU Jacobian has one per inactive unit —
// add zero rows and columns to the Gram matrix and are dropped first. Backward stable for the Gram
// matrix's top eigenvalue: σ₁ comes out to a few ulps relative (σ₁² ≥ ‖G‖/n, and bisection is exact to 4ε).
import { topTridiagonal } from './small';

/** σ₁ of the rows×cols row-major matrix at data[offset..]. */
export function largestSingularValue(data: ArrayLike<number>, offset: number, rows: number, cols: number): number {
  // G = JᵀJ over the nonzero columns when cols ≤ rows, else JJᵀ over the nonzero rows.
  const byColumns = cols <= rows;
  const [len, count] = byColumns ? [rows, cols] : [cols, rows];
  const at = byColumns ? (k: number, i: number) => data[offset + k * cols + i] : (k: number, i: number) => data[offset + i * cols + k];
  const keep: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < len; k++) {
      if (at(k, i) !== 0) {
        keep.push(i);
        break;
      }
    }
  }
  const n = keep.length;
  if (n === 0) return 0;
  // Vectors (the kept columns of J, or rows) copied contiguously, then G = VᵀV.
  const v = new Float64Array(n * len);
  keep.forEach((i, r) => {
    for (let k = 0; k < len; k++) v[r * len + k] = at(k, i);
  });
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const s = dot(v, i * len, v, j * len, len);
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  const { a, b } = tridiagonalize(g, n);
  return Math.sqrt(Math.max(0, topTridiagonal(a, b).value));
}

/**
 * Householder reduction of the symmetric n×n matrix g (overwritten) to tridiagonal form: diagonal a,
 * off-diagonal b. Step k reflects x = g[k+1.., k] onto ∓‖x‖·e₁ and applies the reflector to the trailing
 * block as the rank-2 update S − v·qᵀ − q·vᵀ (q = p − (τ/2)(vᵀp)·v, p = τ·S·v, τ = 2/vᵀv).
 */
export function tridiagonalize(g: Float64Array, n: number): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(n);
  const b = new Float64Array(Math.max(n - 1, 0));
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += g[i * n + k] ** 2;
    const x0 = g[(k + 1) * n + k];
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    a[k] = g[k * n + k];
    b[k] = alpha;
    for (let i = k + 1; i < n; i++) v[i] = g[i * n + k];
    v[k + 1] -= alpha;
    const vv = norm2 - x0 * x0 + v[k + 1] * v[k + 1];
    if (vv === 0) {
      b[k] = x0;
      continue;
    }
    const tau = 2 / vv;
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] = tau * dot(g, i * n + k + 1, v, k + 1, n - k - 1);
      vp += v[i] * p[i];
    }
    const half = 0.5 * tau * vp;
    for (let i = k + 1; i < n; i++) p[i] -= half * v[i];
    for (let i = k + 1; i < n; i++) rank2Row(g, i * n, v, p, v[i], p[i], k + 1, n);
  }
  if (n >= 2) {
    a[n - 2] = g[(n - 2) * n + n - 2];
    b[n - 2] = g[(n - 1) * n + n - 2];
  }
  a[n - 1] = g[(n - 1) * n + n - 1];
  return { a, b };
}

// The inner loops as small functions: V8 optimises these after a few calls, so even the first matrices of a
// fresh process (the CLI) run them optimised; inlined in the loops above they stayed unoptimised far longer.
/** Σ x[xo + k]·y[yo + k], k < len. */
function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s = 0;
  for (let k = 0; k < len; k++) s += x[xo + k] * y[yo + k];
  return s;
}

/** Row i of the trailing block minus (v_i·pᵀ + p_i·vᵀ) over columns from..to−1; the row starts at g[row]. */
function rank2Row(g: Float64Array, row: number, v: Float64Array, p: Float64Array, vi: number, pi: number, from: number, to: number): void {
  for (let j = from; j < to; j++) g[row + j] -= vi * p[j] + pi * v[j];
}
