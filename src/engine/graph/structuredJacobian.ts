// Structured Jacobians: a Jacobian of one tensor with respect to the perturbed tensor (the `wrt`),
// for N independent rows (steps × batch), kept in the cheapest exact form that represents it.
// Ops combine these forms and make a Jacobian dense only when they must: an elementwise op scales
// rows of a diagonal, a kernel applied to the identity is the (transposed) kernel itself, shared by
// every row. This is what turns an O(n³) reverse-mode Jacobian into O(n²) work per step.
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor3D } from '../backend/tf';

export type StructuredJacobian =
  /** All zeros: the tensor does not depend on the perturbed one. */
  | { kind: 'zero'; out: number; in: number }
  /** The identity (out = in = n): the tensor is the perturbed one. */
  | { kind: 'identity'; n: number }
  /** diag(d) per row; d is [N, n]. */
  | { kind: 'diag'; d: Tensor2D }
  /** One [out, in] matrix shared by every row. */
  | { kind: 'shared'; m: Tensor2D }
  /**
   * diag(row)·M·diag(col) per row: a shared matrix scaled by per-row vectors (row [N, out], col [N, in];
   * an absent one is all ones). A kernel after an activation (the seed's Wᵀ·diag(act′)) or an activation
   * after a kernel (SimpleRNN's diag(act′)·Rᵀ) stays in this form: O(n) numbers per row instead of n².
   */
  | { kind: 'scaled'; m: Tensor2D; row?: Tensor2D; col?: Tensor2D }
  /** A matrix per row: [N, out, in]. */
  | { kind: 'dense'; m: Tensor3D };

export type SJ = StructuredJacobian;

export function outDim(j: SJ): number {
  switch (j.kind) {
    case 'zero':
      return j.out;
    case 'identity':
      return j.n;
    case 'diag':
      return j.d.shape[1];
    case 'shared':
    case 'scaled':
      return j.m.shape[0];
    case 'dense':
      return j.m.shape[1];
  }
}

export function inDim(j: SJ): number {
  switch (j.kind) {
    case 'zero':
      return j.in;
    case 'identity':
      return j.n;
    case 'diag':
      return j.d.shape[1];
    case 'shared':
    case 'scaled':
      return j.m.shape[1];
    case 'dense':
      return j.m.shape[2];
  }
}

export const zero = (out: number, inn: number): SJ => ({ kind: 'zero', out, in: inn });
export const identity = (n: number): SJ => ({ kind: 'identity', n });

/** diag(s)·J: scales row i of every Jacobian by s[:, i]. s is [N, out]. */
export function scaleRows(j: SJ, s: Tensor2D): SJ {
  const t = tf();
  switch (j.kind) {
    case 'zero':
      return j;
    case 'identity':
      return { kind: 'diag', d: s };
    case 'diag':
      return { kind: 'diag', d: t.mul(s, j.d) };
    case 'shared':
      return { kind: 'scaled', m: j.m, row: s };
    case 'scaled':
      return { kind: 'scaled', m: j.m, col: j.col, row: j.row ? (t.mul(j.row, s) as Tensor2D) : s };
    case 'dense':
      return { kind: 'dense', m: t.mul(t.expandDims(s, 2), j.m) as Tensor3D };
  }
}

/** c·J for a scalar c. */
export function scale(j: SJ, c: number, rows: number): SJ {
  const t = tf();
  switch (j.kind) {
    case 'zero':
      return j;
    case 'identity':
      return { kind: 'diag', d: t.fill([rows, j.n], c) as Tensor2D };
    case 'diag':
      return { kind: 'diag', d: t.mul(j.d, c) };
    case 'shared':
      return { kind: 'shared', m: t.mul(j.m, c) };
    case 'scaled':
      return { kind: 'scaled', m: t.mul(j.m, c) as Tensor2D, row: j.row, col: j.col };
    case 'dense':
      return { kind: 'dense', m: t.mul(j.m, c) };
  }
}

function diagOf(j: SJ, rows: number): Tensor2D | undefined {
  if (j.kind === 'identity') return tf().ones([rows, j.n]) as Tensor2D;
  if (j.kind === 'diag') return j.d;
  return undefined;
}

/** J as [N, out, in], materialised. */
/**
 * Matrices from..to−1 of the N = `rows` Jacobians j (not to be confused with sliceRows, rows of each matrix): the
 * per-matrix factors cut, shared matrices as they are (new tensors, owned by the caller's scope).
 */
export function selectMatrices(j: SJ, rows: number, from: number, to: number): SJ {
  const t = tf();
  const cut = <T extends Tensor>(x: T): T => (x.shape[0] === rows ? (t.slice(x, from, to - from) as T) : x);
  switch (j.kind) {
    case 'zero':
    case 'identity':
    case 'shared':
      return j;
    case 'diag':
      return { kind: 'diag', d: cut(j.d) };
    case 'scaled':
      return { kind: 'scaled', m: j.m, row: j.row && cut(j.row), col: j.col && cut(j.col) };
    case 'dense':
      return { kind: 'dense', m: cut(j.m) };
  }
}

export function toDense(j: SJ, rows: number): Tensor3D {
  const t = tf();
  switch (j.kind) {
    case 'zero':
      return t.zeros([rows, j.out, j.in]) as Tensor3D;
    case 'identity':
      return t.tile(t.expandDims(t.eye(j.n), 0), [rows, 1, 1]) as Tensor3D;
    case 'diag': {
      // diag(d) = I ⊙ d broadcast over columns; avoids a per-row JS loop.
      const n = j.d.shape[1];
      return t.mul(t.expandDims(t.eye(n), 0), t.expandDims(j.d, 1)) as Tensor3D;
    }
    case 'shared':
      return t.tile(t.expandDims(j.m, 0), [rows, 1, 1]) as Tensor3D;
    case 'scaled': {
      let m: Tensor = t.expandDims(j.m, 0);
      if (j.row) m = t.mul(m, t.expandDims(j.row, 2));
      if (j.col) m = t.mul(m, t.expandDims(j.col, 1));
      return (j.row || j.col ? m : t.tile(m, [rows, 1, 1])) as Tensor3D;
    }
    case 'dense':
      return j.m;
  }
}

/** A + B, kept structured where the sum stays in a cheap form. */
export function add(a: SJ, b: SJ, rows: number): SJ {
  const t = tf();
  if (a.kind === 'zero') return b;
  if (b.kind === 'zero') return a;
  const da = diagOf(a, rows);
  const db = diagOf(b, rows);
  if (da && db) return { kind: 'diag', d: t.add(da, db) };
  if (a.kind === 'shared' && b.kind === 'shared') return { kind: 'shared', m: t.add(a.m, b.m) };
  // Broadcasting adds a shared matrix to every row without tiling it first.
  const ma = a.kind === 'shared' ? t.expandDims(a.m, 0) : toDense(a, rows);
  const mb = b.kind === 'shared' ? t.expandDims(b.m, 0) : toDense(b, rows);
  return { kind: 'dense', m: t.add(ma, mb) as Tensor3D };
}

export function negate(a: SJ, rows: number): SJ {
  return scale(a, -1, rows);
}

/**
 * Jacobian of y = x·W (W: [k, out], a Keras kernel) given J_x ([N, k, in]): J_y = Wᵀ·J_x.
 * `kernelT` is Wᵀ ([out, k]), transposed once by the caller.
 */
export function applyKernel(j: SJ, kernelT: Tensor2D): SJ {
  const t = tf();
  const out = kernelT.shape[0];
  switch (j.kind) {
    case 'zero':
      return zero(out, j.in);
    case 'identity':
      return { kind: 'shared', m: kernelT };
    case 'diag':
      // Wᵀ·diag(d): column j of Wᵀ scaled by d_j — kept as factors, made dense only if something needs it.
      return { kind: 'scaled', m: kernelT, col: j.d };
    case 'shared':
      return { kind: 'shared', m: t.matMul(kernelT, j.m) };
    case 'scaled':
      // Kᵀ·M·diag(col) stays factored; a row scaling in between differs per row, so that case goes dense.
      if (!j.row) return { kind: 'scaled', m: t.matMul(kernelT, j.m), col: j.col };
      return applyKernel({ kind: 'dense', m: toDense(j, j.row.shape[0]) }, kernelT);
    case 'dense': {
      const [rows, k, inn] = j.m.shape;
      // [N, k, in] → [k, N·in] so one 2-D matmul serves every row.
      const flat = t.reshape(t.transpose(j.m, [1, 0, 2]), [k, rows * inn]);
      const prod = t.matMul(kernelT, flat); // [out, N·in]
      return { kind: 'dense', m: t.transpose(t.reshape(prod, [out, rows, inn]), [1, 0, 2]) as Tensor3D };
    }
  }
}

/** Stacks Jacobians of concatenated features: rows of J_a above rows of J_b. */
export function concatRows(parts: SJ[], rows: number): SJ {
  const t = tf();
  const inn = inDim(parts[0]);
  const out = parts.reduce((s, p) => s + outDim(p), 0);
  if (parts.every((p) => p.kind === 'zero')) return zero(out, inn);
  if (parts.every((p) => p.kind === 'zero' || p.kind === 'shared')) {
    const mats = parts.map((p) => (p.kind === 'shared' ? p.m : (t.zeros([outDim(p), inn]) as Tensor2D)));
    return { kind: 'shared', m: t.concat(mats, 0) as Tensor2D };
  }
  return { kind: 'dense', m: t.concat(parts.map((p) => toDense(p, rows)), 1) as Tensor3D };
}

/** Rows begin..begin+size of J (the Jacobian of a feature slice). */
export function sliceRows(j: SJ, begin: number, size: number, rows: number): SJ {
  const t = tf();
  switch (j.kind) {
    case 'zero':
      return zero(size, j.in);
    case 'identity':
      return { kind: 'shared', m: t.slice(t.eye(j.n), [begin, 0], [size, j.n]) as Tensor2D };
    case 'diag': {
      const n = j.d.shape[1];
      const selector = t.slice(t.eye(n), [begin, 0], [size, n]);
      return { kind: 'dense', m: t.mul(t.expandDims(selector, 0), t.expandDims(j.d, 1)) as Tensor3D };
    }
    case 'shared':
      return { kind: 'shared', m: t.slice(j.m, [begin, 0], [size, j.m.shape[1]]) as Tensor2D };
    case 'scaled':
      return {
        kind: 'scaled',
        m: t.slice(j.m, [begin, 0], [size, j.m.shape[1]]) as Tensor2D,
        row: j.row ? (t.slice(j.row, [0, begin], [j.row.shape[0], size]) as Tensor2D) : undefined,
        col: j.col,
      };
    case 'dense':
      return { kind: 'dense', m: t.slice(j.m, [0, begin, 0], [rows, size, j.m.shape[2]]) as Tensor3D };
  }
}

/**
 * Per-row Σ J and Σ J² straight from the structure, without materialising [N, out, in]: for
 * diag(r)·M·diag(c), Σ J = Σ_i r_i (M·c)_i and Σ J² = Σ_i r_i² (M²·c²)_i — two matmuls. Undefined for
 * dense Jacobians (their moments are reduced from the matrices themselves).
 */
export function momentSums(j: SJ, rows: number): { sum: Tensor1D; sumSq: Tensor1D } | undefined {
  const t = tf();
  const perRow = (x: number) => t.fill([rows], x) as Tensor1D;
  switch (j.kind) {
    case 'zero':
      return { sum: perRow(0), sumSq: perRow(0) };
    case 'identity':
      return { sum: perRow(j.n), sumSq: perRow(j.n) };
    case 'diag':
      return { sum: t.sum(j.d, 1), sumSq: t.sum(t.square(j.d), 1) };
    case 'shared':
      return { sum: perRow(t.sum(j.m).dataSync()[0]), sumSq: perRow(t.sum(t.square(j.m)).dataSync()[0]) };
    case 'scaled': {
      const [out, inn] = j.m.shape;
      const col = j.col ?? (t.ones([rows, inn]) as Tensor2D);
      const row = j.row ?? (t.ones([rows, out]) as Tensor2D);
      // (M·c) for every row at once: [N, in] × Mᵀ [in, out] → [N, out].
      const mc = t.matMul(col, j.m, false, true);
      const m2c2 = t.matMul(t.square(col), t.square(j.m), false, true);
      return { sum: t.sum(t.mul(row, mc), 1), sumSq: t.sum(t.mul(t.square(row), m2c2), 1) };
    }
    case 'dense':
      return undefined;
  }
}
