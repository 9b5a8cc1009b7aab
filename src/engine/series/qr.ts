// Thin Householder QR of a D×k matrix on flat Float64Arrays, for Benettin's re-orthonormalisation every step.
// ml-matrix's QrDecomposition (the same Householder algorithm, JAMA's) reads and writes every entry through
// get/set calls: for 256×64 it took 35 ms, 80 % of a Lyapunov step; this works on contiguous columns in a few
// ms. A zero column is handled as Householder handles it: its reflection is skipped, R_jj = 0, and Q's column
// j stays orthonormal to the others. Tested against ml-matrix in test/unit/series.test.ts.

export interface ThinQr {
  /** D×k, row-major, orthonormal columns. */
  q: Float64Array;
  /** |R_jj|, j = 0..k−1. */
  rAbsDiag: Float64Array;
}

/** QR of `a` (D×k, row-major). */
export function thinQr(a: Float64Array, D: number, k: number): ThinQr {
  // Column-major working copy: each reflection walks columns.
  const cols = Array.from({ length: k }, (_, j) => Float64Array.from({ length: D }, (_, i) => a[i * k + j]));
  const reflectors: (Float64Array | undefined)[] = [];
  const rAbsDiag = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const x = cols[j];
    let norm2 = 0;
    for (let i = j; i < D; i++) norm2 += x[i] * x[i];
    const norm = Math.sqrt(norm2);
    rAbsDiag[j] = norm;
    if (norm === 0) {
      reflectors.push(undefined);
      continue;
    }
    // v = x − α e_j with α = −sign(x_j)·‖x‖ (no cancellation); H = I − 2 v vᵀ / vᵀv.
    const alpha = x[j] > 0 ? -norm : norm;
    const v = x.slice(j);
    v[0] -= alpha;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i] * v[i];
    if (vv === 0) {
      reflectors.push(undefined);
      continue;
    }
    for (let i = 0; i < v.length; i++) v[i] /= Math.sqrt(vv / 2);
    reflectors.push(v);
    for (let c = j + 1; c < k; c++) reflect(cols[c], v, j);
  }
  // Q = H_0·H_1⋯H_{k−1}·[e_0 … e_{k−1}], applied from the last reflector to the first.
  const q = Array.from({ length: k }, (_, j) => {
    const e = new Float64Array(D);
    e[j] = 1;
    return e;
  });
  for (let j = k - 1; j >= 0; j--) {
    const v = reflectors[j];
    if (!v) continue;
    for (let c = 0; c < k; c++) reflect(q[c], v, j);
  }
  const out = new Float64Array(D * k);
  for (let c = 0; c < k; c++) for (let i = 0; i < D; i++) out[i * k + c] = q[c][i];
  return { q: out, rAbsDiag };
}

/** y ← (I − v vᵀ)·y on rows from..D−1 (v scaled so that vᵀv = 2). */
function reflect(y: Float64Array, v: Float64Array, from: number): void {
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += v[i] * y[from + i];
  if (dot === 0) return;
  for (let i = 0; i < v.length; i++) y[from + i] -= dot * v[i];
}
