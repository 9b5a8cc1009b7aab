// Pieces shared by the batched Krylov methods (Arnoldi, Lanczos): their options and results, and start vectors.
// Every row of a block is one matrix's vector; the bases are RowBasis (rowBasis.ts).
import { Rng } from '../params/rng';

export interface KrylovOptions {
  /** Relative accuracy asked of each value (first order: error ≤ tol·value); each method has its default. */
  tol?: number;
  /** Operator products per matrix before giving up (then the dense method is used). */
  maxProducts: number;
  /** Seed of the start vectors (deterministic runs). */
  seed: number;
  /** Krylov dimension of the restarted Arnoldi (default: its own choice by n); capped at n. */
  dimension?: number;
  /**
   * Where this block's first row lies among the rows of the whole run (default 0): start vectors are drawn per row of
   * the whole run, so a block split off (run/measureRows.ts) starts each matrix where the unsplit run does.
   */
  firstRow?: number;
}

export interface KrylovResult {
  /** The tolerance used. */
  tol: number;
  /** Per matrix; NaN where not converged. */
  values: Float64Array;
  /** Operator products (J·v or Jᵀ·u) spent on each matrix. */
  products: Int32Array;
  converged: Uint8Array;
}

export const DEFAULT_KRYLOV: KrylovOptions = { maxProducts: 600, seed: 0 };

/** Unit random vectors [rows, n] from a named seeded stream: rows firstRow.. of the stream's sequence of vectors. */
export function randomUnitRows(rows: number, n: number, seed: number, stream: string, firstRow = 0): Float32Array {
  const drawn = new Rng(seed, `spectra:${stream}`).fillNormal((firstRow + rows) * n).subarray(firstRow * n);
  for (let r = 0; r < rows; r++) {
    const row = drawn.subarray(r * n, (r + 1) * n);
    let s = 0;
    for (let i = 0; i < n; i++) s += row[i] * row[i];
    const scale = 1 / Math.sqrt(s);
    for (let i = 0; i < n; i++) row[i] *= scale;
  }
  return drawn;
}

/** The exact values of a diagonal operator (no products), if it is one. */
export function diagonalResult(op: { rows: number; maxAbsDiagonal?(): Float64Array }, tol: number): KrylovResult | undefined {
  if (!op.maxAbsDiagonal) return undefined;
  return { tol, values: op.maxAbsDiagonal(), products: new Int32Array(op.rows), converged: new Uint8Array(op.rows).fill(1) };
}
