// Float64 reference of the LSC loss: the reference cells' rollout and closed-form Jacobians, the joint blocks
// assembled by hand, and ρ / σ_max from ml-matrix's full eigen- and singular-value decompositions (nothing of
// the engine's eigen code). Central differences of this loss check the engine's gradient.
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
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

/** Per kind, ρ of every step and batch element (row k·B + b), in float64. */
export function referenceMeasures(p: RefProblem, params: Record<string, Float64Array>): number[][] {
  const ref = refCell(p.cell, p.activation, p.recurrentActivation);
  const P = Object.fromEntries(Object.entries(p.shapes).map(([name, [r, c]]) => [name, mat(r, c, params[name])]));
  const out: number[][] = p.kinds.map(() => new Array<number>(p.T * p.B));
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
      const values = ref.step(P, prev, x);
      const jac = ref.jacobians(P, prev, x, values);
      p.kinds.forEach((k, ki) => {
        const blocks = k.rows.map((r) => k.cols.map((c) => jac[`${r}|${c === 'x' ? 'x' : `${c}_prev`}`]));
        out[ki][(t - 1) * p.B + b] = measureOf(joinBlocks(blocks), k.measure);
      });
      prev = Object.fromEntries(ref.states.map((s) => [s, values[s]]));
    }
  }
  return out;
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
