// Whole Jacobians built on the host from the structured factors, for the cpu backend. tfjs-cpu's broadcasting
// multiply indexes every element through per-element index arrays: densifying diag(r)·M·diag(c) for the seed
// example's four 100×100 matrices took ~6 ms (and its garbage) of a ~140 ms CLI process, a plain loop ~0.3 ms.
// Only where no gradient is taken (the analysis): control differentiates through graph/structuredJacobian's
// toDense, which stays the tensor path. On the native and wasm backends the tensor ops are the faster route.
import { tf } from '../backend/tf';
import type { SJ } from '../graph/structuredJacobian';

/** Row-major [rows, out, in] of a 'scaled' or 'shared' Jacobian on the cpu backend; undefined where tensor ops serve. */
export function denseOnHost(j: SJ, rows: number): Float32Array | undefined {
  if (tf().getBackend() !== 'cpu') return undefined;
  if (j.kind === 'shared') return scaledDense(j.m.dataSync() as Float32Array, j.m.shape[0], j.m.shape[1], rows);
  if (j.kind !== 'scaled') return undefined;
  const [out, inn] = j.m.shape;
  return scaledDense(j.m.dataSync() as Float32Array, out, inn, rows, j.row?.dataSync() as Float32Array | undefined, j.col?.dataSync() as Float32Array | undefined);
}

/**
 * J_k = diag(row_k)·M·diag(col_k) for k < rows (an absent factor is all ones), each entry rounded as tfjs's
 * two float32 multiplies round it (M·r first, then ·c), so that host and tensor paths give the same bits.
 */
export function scaledDense(m: Float32Array, out: number, inn: number, rows: number, row?: Float32Array, col?: Float32Array): Float32Array {
  const dense = new Float32Array(rows * out * inn);
  for (let k = 0; k < rows; k++) {
    for (let i = 0; i < out; i++) scaleRowInto(dense, (k * out + i) * inn, m, i * inn, inn, row ? row[k * out + i] : 1, col, k * inn);
  }
  return dense;
}

/** One row of J: dest[at + x] = fround(m[from + x]·r)·c[cAt + x]. A small function V8 optimises after a few calls. */
function scaleRowInto(dest: Float32Array, at: number, m: Float32Array, from: number, length: number, r: number, col: Float32Array | undefined, cAt: number): void {
  if (!col) {
    for (let x = 0; x < length; x++) dest[at + x] = m[from + x] * r;
    return;
  }
  for (let x = 0; x < length; x++) dest[at + x] = Math.fround(m[from + x] * r) * col[cAt + x];
}
