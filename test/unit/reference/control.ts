// Float64 reference of the LSC loss: the reference cells' rollout and closed-form Jacobians, the joint blocks
// assembled by hand, and ρ / σ_max from ml-matrix's full eigen- and singular-value decompositions (nothing of
// the engine's eigen code). Central differences of this loss check the engine's gradient.
import { EigenvalueDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { refCell } from './cells';
import { mat, type Mat, type Vec } from './float64';

export interface RefKind {
  rows: string[];
  /** States (their previous values) or `x`. */
  cols: string[];
  measure: 'radius' | 'norm';
  target: number;
}

export interface RefProblem {
  cell: string;
  activation: string;
  recurrentActivation: string;
  /** Parameter name → [rows, cols] (cols 1 for vectors). */
  shapes: Record<string, [number, number]>;
  /** Per state: [B, dim] row-major. */
  initial: Record<string, Float32Array>;
  /** [T, B, inputDim]. */
  inputs: Float32Array;
  T: number;
  B: number;
  kinds: RefKind[];
}

export function measureOf(m: Mat, measure: 'radius' | 'norm'): number {
  const a = new Matrix(m.rows, m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) a.set(i, j, m.data[i * m.cols + j]);
  if (measure === 'norm') return new SingularValueDecomposition(a, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal[0];
  const e = new EigenvalueDecomposition(a);
  return Math.max(...e.realEigenvalues.map((re, i) => Math.hypot(re, e.imaginaryEigenvalues[i])));
}

/**
 * Per kind, its Jacobian at every step and batch element (index k·B + b = step k+1, element b), in float64.
 * The rollout runs with `statesAt` (default: the same parameters).
 */
export function referenceKindMatrices(p: RefProblem, params: Record<string, Float64Array>, statesAt = params): Mat[][] {
  const ref = refCell(p.cell, p.activation, p.recurrentActivation);
  const asMats = (values: Record<string, Float64Array>) => Object.fromEntries(Object.entries(p.shapes).map(([name, [r, c]]) => [name, mat(r, c, values[name])]));
  const P = asMats(params);
  // The trajectory from `statesAt` (states taken as data), the Jacobian formulas with `params`.
  const S = asMats(statesAt);
  const out: Mat[][] = p.kinds.map(() => new Array<Mat>(p.T * p.B));
  for (let b = 0; b < p.B; b++) {
    let prev: Record<string, Vec> = Object.fromEntries(
      ref.states.map((s) => {
        const dim = p.initial[s].length / p.B;
        return [s, Float64Array.from(p.initial[s].subarray(b * dim, (b + 1) * dim))];
      }),
    );
    const d = p.inputs.length / (p.T * p.B);
    for (let t = 1; t <= p.T; t++) {
      const x = Float64Array.from(p.inputs.subarray(((t - 1) * p.B + b) * d, ((t - 1) * p.B + b + 1) * d));
      const values = ref.step(S, prev, x);
      const jac = ref.jacobians(P, prev, x, values);
      p.kinds.forEach((k, ki) => {
        out[ki][(t - 1) * p.B + b] = joinBlocks(k.rows.map((r) => k.cols.map((c) => jac[`${r}|${c === 'x' ? 'x' : `${c}_prev`}`])));
      });
      prev = Object.fromEntries(ref.states.map((s) => [s, values[s]]));
    }
  }
  return out;
}

/** Per kind, ρ (or σ_max) of every step and batch element. */
export function referenceMeasures(p: RefProblem, params: Record<string, Float64Array>): number[][] {
  return referenceKindMatrices(p, params).map((ms, k) => ms.map((m) => measureOf(m, p.kinds[k].measure)));
}

/**
 * The first k Lyapunov exponents of batch element b from kind 0's Jacobians ([k] per element, [B][k]): the QR
 * iteration with ml-matrix's Householder QR, orthonormalising every `qrEvery` steps, counting steps after `warmup`.
 */
export function referenceLyapunov(
  p: RefProblem,
  params: Record<string, Float64Array>,
  k: number,
  warmup: number,
  qrEvery: number,
  statesAt = params,
): number[][] {
  const js = referenceKindMatrices(p, params, statesAt)[0];
  const n = js[0].rows;
  return Array.from({ length: p.B }, (_, b) => {
    let q = new Matrix(n, k);
    for (let i = 0; i < k; i++) q.set(i, i, 1);
    const sums = new Array<number>(k).fill(0);
    let counted = 0;
    for (let s = 0; s < p.T; ) {
      const end = Math.min(p.T, s + qrEvery, s < warmup ? warmup : p.T);
      let z = q;
      for (let u = s; u < end; u++) {
        const j = js[u * p.B + b];
        z = new Matrix(Array.from({ length: n }, (_, i) => Array.from(j.data.subarray(i * n, (i + 1) * n)))).mmul(z);
      }
      const qr = new QrDecomposition(z);
      q = qr.orthogonalMatrix.subMatrix(0, n - 1, 0, k - 1);
      const r = qr.upperTriangularMatrix;
      if (s >= warmup) {
        for (let i = 0; i < k; i++) sums[i] += Math.log(Math.abs(r.get(i, i)));
        counted += end - s;
      }
      s = end;
    }
    return sums.map((x) => x / counted);
  });
}

/** The LSC loss: mean over kinds of mean((ρ − target)²). */
export function referenceLoss(p: RefProblem, params: Record<string, Float64Array>): number {
  const m = referenceMeasures(p, params);
  return m.reduce((s, values, k) => s + values.reduce((a, v) => a + (v - p.kinds[k].target) ** 2, 0) / values.length, 0) / m.length;
}

function joinBlocks(blocks: Mat[][]): Mat {
  const rows = blocks.reduce((s, row) => s + row[0].rows, 0);
  const cols = blocks[0].reduce((s, m) => s + m.cols, 0);
  const out = mat(rows, cols);
  let r0 = 0;
  for (const row of blocks) {
    let c0 = 0;
    for (const m of row) {
      for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[(r0 + i) * cols + c0 + j] = m.data[i * m.cols + j];
      c0 += m.cols;
    }
    r0 += row[0].rows;
  }
  return out;
}
