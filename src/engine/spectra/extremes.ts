// Spectral norm and radius of a chunk's Jacobians: matrix-free (Krylov) where that is faster, the dense
// float64 decompositions where n is small, and the dense method for any matrix the Krylov method did not
// converge on — recorded per matrix, so the report says which values came from where.
import type { BatchedOperator } from './operator';
import type { KrylovResult } from './krylov';

export interface PerMatrix {
  /** The Krylov method's tolerance. */
  tol: number;
  values: Float64Array;
  /** Operator products spent per matrix (0 where the dense method was used from the start). */
  products: Int32Array;
  /** 1 where the value came from the dense method. */
  dense: Uint8Array;
}

/**
 * Largest n at which the dense decompositions beat the Krylov methods here: measured by
 * `npm run bench -- --only S1` (BENCHMARKS.md, S1), tensorflow, 64 matrices, with σ₁ from the Gram matrix instead of a
 * full SVD. With the dense kernels in WebAssembly (wasm/linalg.ts) and the Krylov bases too (wasm/krylov.ts): dense
 * 1.08× faster at n 128, matrix-free 1.09× at 160 (a tie), 2.2× at 192, 3.6× at 256. With fewer matrices (the seed
 * example: 4) dense gains, since each Krylov step costs a fixed number of backend ops whatever the batch: so 160.
 */
export const DENSE_MAX_N = 160;

export type SpectraMethod = 'matrix-free' | 'dense';

export function spectraMethodFor(n: number): { method: SpectraMethod; reason: string } {
  return n <= DENSE_MAX_N
    ? { method: 'dense', reason: `n = ${n} ≤ ${DENSE_MAX_N}: dense decompositions are faster at this size` }
    : { method: 'matrix-free', reason: `n = ${n} > ${DENSE_MAX_N}: Krylov iterations on the structured Jacobians` };
}

/** A Krylov result completed by the dense method (`fromDense` on one row-major matrix) where it did not converge. */
export function withDenseFallback(
  op: BatchedOperator,
  krylov: KrylovResult,
  fromDense: (data: Float32Array, offset: number, rows: number, cols: number) => number,
): PerMatrix {
  const missing: number[] = [];
  krylov.converged.forEach((c, i) => c || missing.push(i));
  const values = Float64Array.from(krylov.values);
  const dense = new Uint8Array(op.rows);
  if (missing.length > 0) {
    const data = op.denseRows(missing);
    const size = op.out * op.in;
    missing.forEach((row, k) => {
      values[row] = fromDense(data, k * size, op.out, op.in);
      dense[row] = 1;
    });
  }
  return { tol: krylov.tol, values, products: krylov.products, dense };
}
