// Pieces shared by the batched Krylov methods: every row of a [R, n] block is one matrix's vector,
// bases are [R, k, n], and each operation below is one tensor op over all rows at once.
import { tf, type Tensor2D, type Tensor3D } from '../backend/tf';
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

/** Unit random vectors, [rows, n], from a named seeded stream. */
export function startVectors(rows: number, n: number, seed: number, stream: string): Tensor2D {
  const t = tf();
  return t.tidy(() => {
    const v = t.tensor2d(new Rng(seed, `spectra:${stream}`).fillNormal(rows * n), [rows, n]);
    return t.div(v, t.norm(v, 'euclidean', 1, true)) as Tensor2D;
  });
}

/** w minus its projection on the basis, twice (classical Gram–Schmidt with reorthogonalisation), and the coefficients. */
export function orthogonalize(basis: Tensor3D, w: Tensor2D): { w: Tensor2D; coeffs: Tensor2D } {
  const t = tf();
  return t.tidy(() => {
    let x: Tensor2D = w;
    let total: Tensor2D | undefined;
    for (let pass = 0; pass < 2; pass++) {
      const c = t.matMul(basis, t.expandDims(x, 2)); // [R, k, 1]
      x = t.sub(x, t.squeeze(t.matMul(basis, c, true, false), [2])) as Tensor2D;
      const flat = t.squeeze(c, [2]) as Tensor2D;
      total = total ? (t.add(total, flat) as Tensor2D) : flat;
    }
    return { w: x, coeffs: total! };
  });
}

/**
 * w / norm per row; where the norm is negligible (`replace[r]`: an invariant subspace was reached) the row
 * continues with a fresh random unit vector orthogonal to the basis, so the recurrence explores the rest.
 * `rng.stream` must differ per call: a vector drawn twice is orthogonalised against itself to zero.
 */
export function normalizeOrReplace(
  w: Tensor2D,
  norms: Float64Array,
  replace: boolean[],
  basis: Tensor3D | undefined,
  rng: { seed: number; stream: string },
): Tensor2D {
  const t = tf();
  return t.tidy(() => {
    const safe = t.tensor2d(Float32Array.from(norms, (x, r) => (replace[r] ? 1 : x)), [norms.length, 1]);
    const scaled = t.div(w, safe) as Tensor2D;
    if (!replace.some(Boolean)) return scaled;
    const random = startVectors(w.shape[0], w.shape[1], rng.seed, rng.stream);
    const fresh = basis ? orthogonalize(basis, random).w : random;
    const unit = t.div(fresh, t.norm(fresh, 'euclidean', 1, true));
    const mask = t.tensor2d(replace.map((r) => (r ? 1 : 0)), [replace.length, 1], 'bool');
    return t.where(mask, unit, scaled) as Tensor2D;
  });
}

/** Appends a vector per row to a basis: [R, k, n] + [R, n] → [R, k+1, n]. Disposes the old basis. */
export function append(basis: Tensor3D | undefined, v: Tensor2D): Tensor3D {
  const t = tf();
  const row = t.expandDims(v, 1) as Tensor3D;
  if (!basis) return row;
  const next = t.concat([basis, row], 1) as Tensor3D;
  basis.dispose();
  row.dispose();
  return next;
}

/** Row norms, read back. */
export function rowNorms(x: Tensor2D): Float64Array {
  const n = tf().tidy(() => tf().norm(x, 'euclidean', 1));
  const out = Float64Array.from(n.dataSync());
  n.dispose();
  return out;
}

export function readRows(x: Tensor2D): Float64Array {
  return Float64Array.from(x.dataSync());
}

/** Keeps the listed rows of a [R, ...] tensor; disposes the old one. */
export function keepRows<T extends Tensor2D | Tensor3D>(x: T, rows: number[]): T {
  const t = tf();
  const kept = t.tidy(() => t.gather(x, t.tensor1d(rows, 'int32'))) as T;
  x.dispose();
  return kept;
}

/** The exact values of a diagonal operator (no products), if it is one. */
export function diagonalResult(op: { rows: number; maxAbsDiagonal?(): Float64Array }, tol: number): KrylovResult | undefined {
  if (!op.maxAbsDiagonal) return undefined;
  return { tol, values: op.maxAbsDiagonal(), products: new Int32Array(op.rows), converged: new Uint8Array(op.rows).fill(1) };
}
