// The one closeness check of engine arrays against float64 references.
import { strict as assert } from 'node:assert';
import type { Mat } from '../reference/float64';

export function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
}

/** Asserts engine values at `offset` equal the reference matrix to tol · max|J|. */
export function assertClose(label: string, engine: ArrayLike<number>, offset: number, ref: Mat, tol = 1e-5): void {
  const size = ref.rows * ref.cols;
  const scale = Math.max(maxAbs(ref.data), 1e-12);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < size; i++) {
    const e = Math.abs(engine[offset + i] - ref.data[i]);
    // NaN (a NaN entry, or a read past the end of the engine's array) is the worst error: it fails below.
    if (Number.isNaN(e)) {
      [worst, at] = [e, i];
      break;
    }
    if (e > worst) [worst, at] = [e, i];
  }
  assert.ok(
    worst <= tol * scale,
    `${label}: max |engine − reference| = ${worst.toExponential(3)} at (${Math.floor(at / ref.cols)}, ${at % ref.cols}) > ${tol}·max|J| = ${(tol * scale).toExponential(3)}`,
  );
}
