// Engine numbers against an independent float64 reference, checked one way by every test.
import assert from 'node:assert/strict';
import type { Mat } from '../reference/float64';

export function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
}

/**
 * Asserts engine[offset …] equals the reference to tol · max|reference|. A NaN (an engine NaN, or a read past
 * the end of the engine's array) fails: it is the worst error. A matrix reference names the (row, column).
 */
export function assertClose(label: string, engine: ArrayLike<number>, offset: number, ref: Mat | ArrayLike<number>, tol = 1e-5): void {
  const data = 'data' in ref ? ref.data : ref;
  const cols = 'cols' in ref ? ref.cols : data.length;
  const scale = Math.max(maxAbs(data), 1e-12);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < data.length; i++) {
    const e = Math.abs(engine[offset + i] - data[i]);
    if (Number.isNaN(e)) {
      [worst, at] = [e, i];
      break;
    }
    if (e > worst) [worst, at] = [e, i];
  }
  const where = 'cols' in ref ? `(${Math.floor(at / cols)}, ${at % cols})` : `entry ${at}`;
  assert.ok(
    worst <= tol * scale,
    `${label}: max |engine − reference| = ${worst.toExponential(3)} at ${where} (engine ${engine[offset + at]}, reference ${data[at]}) > ${tol}·max|ref| = ${(tol * scale).toExponential(3)}`,
  );
}
