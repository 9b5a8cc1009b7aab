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

/** Unit random vectors, [rows, n], from a named seeded stream: rows firstRow.. of the stream's sequence of vectors. */
export function startVectors(rows: number, n: number, seed: number, stream: string, firstRow = 0): Tensor2D {
  const t = tf();
  return t.tidy(() => {
    const drawn = new Rng(seed, `spectra:${stream}`).fillNormal((firstRow + rows) * n);
    const v = t.tensor2d(drawn.subarray(firstRow * n), [rows, n]);
    return t.div(v, t.norm(v, 'euclidean', 1, true)) as Tensor2D;
  });
}

/**
 * DGKS test (Daniel, Gragg, Kaufman, Stewart; what ARPACK uses): after one classical Gram–Schmidt pass, a row
 * whose norm kept at least this fraction is orthogonal to working precision; a second pass is needed only where
 * cancellation took more. Measured on W6 (seed relu, n 512): no row of any step needed it, and the second pass
 * had been ~40 % of the spectra's kernel time (a batched [R, k, n] product, bound by memory).
 */
const REORTHOGONALIZE_BELOW = Math.SQRT1_2;

/**
 * w minus its projection on the basis (classical Gram–Schmidt, a second pass where the DGKS test asks for it), the
 * coefficients and the row norms of the result, both read back (every caller needs them next).
 * `expectSecond`: the caller expects the second pass (the DGKS test asked for it at its last step), so both run at
 * once with one read back; `reorthogonalized` still says whether this step's first pass needed it. Arnoldi on a
 * crowded spectrum needs it on nearly every step for some row (LSC's LSTM Jacobians: ~90 % of rows, every step);
 * W6's ρ never did.
 * Each pass is two batched products with the rows as [R, 1, n]: c = w·Vᵀ and w − c·V, the basis the right-hand
 * operand; V·w with V on the left costs the same, but Vᵀ·c with the adjoint flag on the left walks [R, k, n] far
 * slower (0.2 against 0.14 ms at R 64, k 60, n 256). The norm before a pass is not computed: ‖w‖² = ‖x‖² + ‖c‖² for an orthonormal basis.
 */
export function orthogonalize(
  basis: Tensor3D | Tensor3D[],
  w: Tensor2D,
  expectSecond = false,
): { w: Tensor2D; coeffs: Float64Array; norms: Float64Array; reorthogonalized: boolean } {
  const k = basisSize(basis);
  if (expectSecond) {
    const both = projectOut(basis, w, 2);
    const neededIt = needsSecondPass(both.firstCoeffs, both.firstSquares, k);
    return { w: both.x, coeffs: both.coeffs, norms: both.squares.map(Math.sqrt), reorthogonalized: neededIt };
  }
  const first = projectOut(basis, w, 1);
  if (!needsSecondPass(first.coeffs, first.squares, k)) {
    return { w: first.x, coeffs: first.coeffs, norms: first.squares.map(Math.sqrt), reorthogonalized: false };
  }
  const second = projectOut(basis, first.x, 1);
  first.x.dispose();
  const coeffs = first.coeffs.map((c, i) => c + second.coeffs[i]);
  return { w: second.x, coeffs, norms: second.squares.map(Math.sqrt), reorthogonalized: true };
}

/** DGKS: some row kept less than 1/√2 of its norm through the pass (‖w‖² = ‖x‖² + ‖c‖²). */
function needsSecondPass(coeffs: Float64Array, squares: Float64Array, k: number): boolean {
  return squares.some((after, r) => after < REORTHOGONALIZE_BELOW ** 2 * (after + sumSquares(coeffs, r * k, k)));
}

/**
 * `passes` classical Gram–Schmidt passes over all rows, x = w − Vᵀ·(V·w) each, with the summed coefficients and
 * ‖x‖² per row read back at once (and the first pass's own, for its DGKS test).
 */
function projectOut(
  basis: Tensor3D | Tensor3D[],
  w: Tensor2D,
  passes: 1 | 2,
): { x: Tensor2D; coeffs: Float64Array; squares: Float64Array; firstCoeffs: Float64Array; firstSquares: Float64Array } {
  const t = tf();
  const parts = Array.isArray(basis) ? basis : [basis];
  const [R, , n] = parts[0].shape;
  const k = basisSize(parts);
  // Rows as [R, 1, n] throughout: each product is then one BatchMatMul with no reshapes around it (the loop's
  // fixed cost is its op count: ~15 µs per op on tfjs-node, against ~0.15 ms for each product itself).
  const { x, read } = t.tidy(() => {
    let x = t.reshape(w, [R, 1, n]) as Tensor3D;
    const columns: Tensor3D[] = [];
    let total: Tensor3D | undefined;
    for (let pass = 0; pass < passes; pass++) {
      // c = x·Vᵀ [R, 1, k] part by part (in the basis's order), then x − c·V.
      const cs = parts.map((p) => t.matMul(x, p, false, true) as Tensor3D);
      const c = cs.length === 1 ? cs[0] : (t.concat(cs, 2) as Tensor3D);
      x = parts.reduce((y, p, i) => t.sub(y, t.matMul(cs[i], p)) as Tensor3D, x);
      if (pass === 0 && passes > 1) columns.push(c, t.sum(t.square(x), 2, true) as Tensor3D);
      total = total ? (t.add(total, c) as Tensor3D) : c;
    }
    return { x: t.reshape(x, [R, n]) as Tensor2D, read: t.concat([...columns, total!, t.sum(t.square(x), 2, true)], 2) };
  });
  const values = read.dataSync();
  read.dispose();
  // Per row: [first-pass c (k), first-pass ‖x‖²] when two passes, then [c (k), ‖x‖²].
  const width = (passes > 1 ? 2 : 1) * (k + 1);
  const block = (at: number) => {
    const coeffs = new Float64Array(R * k);
    const squares = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < k; i++) coeffs[r * k + i] = values[r * width + at + i];
      squares[r] = values[r * width + at + k];
    }
    return { coeffs, squares };
  };
  const last = block(width - (k + 1));
  const first = passes > 1 ? block(0) : last;
  return { x, ...last, firstCoeffs: first.coeffs, firstSquares: first.squares };
}

function basisSize(basis: Tensor3D | Tensor3D[]): number {
  return Array.isArray(basis) ? basis.reduce((s, p) => s + p.shape[1], 0) : basis.shape[1];
}

/**
 * A basis [R, k, n] that grows by one vector per row at a time, kept as a settled block and a short tail of the
 * newest vectors. A tensor cannot grow in place, so appending to one block copies all of it: at W6's size (256 rows,
 * n 512, up to 52 vectors) that was ~10 % of Arnoldi's backend time. Here an append copies the tail only, and the tail
 * joins the block every TAIL vectors. Products with the basis go part by part (`parts`, for orthogonalize).
 */
export class GrowingBasis {
  private static readonly TAIL = 8;
  private block: Tensor3D;
  private tail: Tensor3D | undefined;

  constructor(first: Tensor3D) {
    this.block = first;
  }

  get size(): number {
    return this.block.shape[1] + (this.tail?.shape[1] ?? 0);
  }

  get parts(): Tensor3D[] {
    return this.tail ? [this.block, this.tail] : [this.block];
  }

  /** Appends a vector per row ([R, n]; the caller keeps it: the basis holds its own reference). */
  append(v: Tensor2D): void {
    this.tail = append(this.tail, v);
    if (this.tail.shape[1] >= GrowingBasis.TAIL) this.settle();
  }

  /** The whole basis as one tensor, handed over: the caller owns it, and this object is done. */
  whole(): Tensor3D {
    this.settle();
    return this.block;
  }

  private settle(): void {
    if (!this.tail) return;
    const merged = tf().concat([this.block, this.tail], 1) as Tensor3D;
    this.block.dispose();
    this.tail.dispose();
    [this.block, this.tail] = [merged, undefined];
  }
}

function sumSquares(a: Float64Array, offset: number, length: number): number {
  let s = 0;
  for (let i = offset; i < offset + length; i++) s += a[i] * a[i];
  return s;
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
  basis: Tensor3D | Tensor3D[] | undefined,
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
  // sqrt(Σ x²), not tf.norm: its euclidean norm goes through pow, ~10× slower than square on tfjs-node.
  const n = tf().tidy(() => tf().sqrt(tf().sum(tf().square(x), 1)));
  const out = Float64Array.from(n.dataSync());
  n.dispose();
  return out;
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
