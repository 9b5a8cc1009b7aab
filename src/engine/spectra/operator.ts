// N Jacobians as one linear operator on [N, n] blocks of vectors: row k of the block is multiplied by
// Jacobian k. Built from the structured form, so a factored Jacobian diag(r)·M·diag(c) costs one
// [N, in] × [in, out] matmul per product and [N, out, in] is never formed; dense Jacobians use one
// batched matmul. This is what the Krylov methods in lanczos.ts and arnoldi.ts iterate with.
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../backend/tf';
import { inDim, outDim, toDense, type SJ } from '../graph/structuredJacobian';

export interface BatchedOperator {
  readonly rows: number;
  readonly out: number;
  readonly in: number;
  /** J·v for every row: [rows, in] → [rows, out]. */
  apply(v: Tensor2D): Tensor2D;
  /** Jᵀ·u for every row: [rows, out] → [rows, in]. */
  applyT(u: Tensor2D): Tensor2D;
  /** The operator restricted to some rows (indices into this one's rows); new tensors, owned by the caller's scope. */
  select(rows: number[]): BatchedOperator;
  /** The selected rows' matrices, [rows.length, out, in] row-major, for the dense fallback. */
  denseRows(rows: number[]): Float32Array;
  /**
   * For diagonal Jacobians (zero, identity, diag(d)) the spectral norm and radius are both max|d_i|:
   * exact, per row, with no iteration.
   */
  maxAbsDiagonal?(): Float64Array;
  /**
   * JᵀJ (or JJᵀ, the same nonzero eigenvalues) as a symmetric operator, where its middle factor is one matrix for
   * every row: diag(c)·MᵀM·diag(c) for diag(r)·M·diag(c) without r, diag(r)·MMᵀ·diag(r) without c. MᵀM is formed
   * once, so each product is one matmul where J·v then Jᵀ·u are two (lanczos.ts: ‖J‖₂² is its top eigenvalue).
   */
  gram?(): BatchedOperator;
}

const gatherRows = <T extends Tensor>(x: T, rows: number[]): T => tf().gather(x, tf().tensor1d(rows, 'int32')) as T;

/**
 * The values of the tensor `make` builds, read back after its scope: tf.tidy walks what it returns looking for
 * tensors, a typed array element by element (~100 ms for one 512×512 matrix).
 */
function readBack(make: () => Tensor): Float32Array {
  const x = tf().tidy(make);
  const data = x.dataSync() as Float32Array;
  x.dispose();
  return data;
}

/** The operator of N = `rows` structured Jacobians. */
export function operatorOf(j: SJ, rows: number): BatchedOperator {
  const t = tf();
  const [out, inn] = [outDim(j), inDim(j)];
  const base = { rows, out, in: inn };
  const denseRows = (sel: number[]) => readBack(() => gatherRows(toDense(j, rows), sel));
  switch (j.kind) {
    case 'zero':
      return {
        ...base,
        apply: () => t.zeros([rows, out]) as Tensor2D,
        applyT: () => t.zeros([rows, inn]) as Tensor2D,
        select: (sel) => operatorOf(j, sel.length),
        denseRows: (sel) => new Float32Array(sel.length * out * inn),
        maxAbsDiagonal: () => new Float64Array(rows),
      };
    case 'identity':
      return {
        ...base,
        apply: (v) => v.clone(),
        applyT: (u) => u.clone(),
        select: (sel) => operatorOf(j, sel.length),
        denseRows,
        maxAbsDiagonal: () => new Float64Array(rows).fill(1),
      };
    case 'diag':
      return {
        ...base,
        apply: (v) => t.mul(j.d, v),
        applyT: (u) => t.mul(j.d, u),
        select: (sel) => operatorOf({ kind: 'diag', d: gatherRows(j.d, sel) }, sel.length),
        denseRows,
        maxAbsDiagonal: () => Float64Array.from(t.tidy(() => t.max(t.abs(j.d), 1)).dataSync()),
      };
    case 'shared':
      return {
        ...base,
        // Row-vector form: (M·v)ᵀ = vᵀ·Mᵀ, one matmul for all rows.
        apply: (v) => t.matMul(v, j.m, false, true),
        applyT: (u) => t.matMul(u, j.m),
        select: (sel) => operatorOf(j, sel.length),
        denseRows,
        gram: () => gramOperator(t.matMul(j.m, j.m, true, false) as Tensor2D, undefined, rows),
      };
    case 'scaled': {
      const { m, row, col } = j;
      // A fixed middle factor exists unless both scalings are there (then it differs per row).
      const gram = row && col ? undefined : () =>
        row ? gramOperator(t.matMul(m, m, false, true) as Tensor2D, row, rows) : gramOperator(t.matMul(m, m, true, false) as Tensor2D, col, rows);
      return {
        ...base,
        apply: (v) => {
          const mv = t.matMul(col ? t.mul(col, v) : v, m, false, true);
          return (row ? t.mul(row, mv) : mv) as Tensor2D;
        },
        applyT: (u) => {
          const mu = t.matMul(row ? t.mul(row, u) : u, m);
          return (col ? t.mul(col, mu) : mu) as Tensor2D;
        },
        select: (sel) =>
          operatorOf({ kind: 'scaled', m, row: row && gatherRows(row, sel), col: col && gatherRows(col, sel) }, sel.length),
        denseRows,
        gram,
      };
    }
    case 'dense':
      return denseOperator(j.m);
  }
}

/**
 * diag(d)·A·diag(d) per row for a symmetric A (d absent: A for every row): the Gram operator of a factored
 * Jacobian. Its denseRows are the Gram matrices (what its own dense fallback would decompose).
 */
function gramOperator(a: Tensor2D, d: Tensor2D | undefined, rows: number): BatchedOperator {
  const t = tf();
  const n = a.shape[0];
  const apply = (v: Tensor2D) => {
    const av = t.matMul(d ? t.mul(d, v) : v, a); // A symmetric: (A·v)ᵀ = vᵀ·A
    return (d ? t.mul(d, av) : av) as Tensor2D;
  };
  return {
    rows,
    out: n,
    in: n,
    apply,
    applyT: apply,
    select: (sel) => gramOperator(a, d && gatherRows(d, sel), sel.length),
    denseRows: (sel) => readBack(() => {
      const m = t.expandDims(a, 0);
      const dd = d && gatherRows(d, sel);
      return dd ? t.mul(t.mul(m, t.expandDims(dd, 2)), t.expandDims(dd, 1)) : t.tile(m, [sel.length, 1, 1]);
    }),
  };
}

/**
 * The operator of a stack of matrices [N, out, in] (autodiff's output, or a Jacobian an op made dense), held as it
 * is: Jᵀ·u is a row vector times the stored matrix (uᵀ·J), J·v the slower column form (see below). Lanczos uses both;
 * the analysis does not double a chunk's memory for a transposed copy.
 */
export function denseOperator(m: Tensor3D): BatchedOperator {
  const t = tf();
  const [rows, out, inn] = m.shape;
  return {
    rows,
    out,
    in: inn,
    apply: (v) => t.squeeze(t.matMul(m, t.expandDims(v, 2)), [2]) as Tensor2D,
    applyT: (u) => t.squeeze(t.matMul(t.expandDims(u, 1), m), [1]) as Tensor2D,
    select: (sel) => denseOperator(gatherRows(m, sel)),
    denseRows: (sel) => readBack(() => gatherRows(m, sel)),
  };
}

/**
 * The operator of the stack whose transpose is mT [N, in, out], for Arnoldi, which uses J·v alone: a row vector times
 * the stored matrix, (vᵀ·Jᵀ)ᵀ, which TensorFlow's BatchMatMul runs ~3× faster than J·v with J stored (0.32 against
 * 1.03 ms at [64, 256, 256], by how it walks memory). Jᵀ·u takes the slower column form.
 */
export function denseOperatorOfTranspose(mT: Tensor3D): BatchedOperator {
  const t = tf();
  const [rows, inn, out] = mT.shape;
  return {
    rows,
    out,
    in: inn,
    apply: (v) => t.squeeze(t.matMul(t.expandDims(v, 1), mT), [1]) as Tensor2D,
    applyT: (u) => t.squeeze(t.matMul(mT, t.expandDims(u, 2)), [2]) as Tensor2D,
    select: (sel) => denseOperatorOfTranspose(gatherRows(mT, sel)),
    denseRows: (sel) => readBack(() => t.transpose(gatherRows(mT, sel), [0, 2, 1])),
  };
}
