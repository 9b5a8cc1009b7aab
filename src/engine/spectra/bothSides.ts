// The dominant Ritz pairs of a stack of dense matrices on both sides: LSC needs both eigenvectors of every Jacobian
// (control/krylov.ts), the right ones from Arnoldi on J and the left ones from Arnoldi on Jᵀ, two independent runs of
// the same size. Run one after the other they leave a core idle, so the left side goes to the second thread
// (thread/secondThread.ts) while this thread runs the right side (LSTM n 128, 32 joint 256×256 Jacobians: 260 → 165
// ms on the 2-core machine). Without the second thread both run here, with the same seeds and so the same numbers.
import { tf, type Tensor3D } from '../backend/tf';
import { isRitzReply, type Side } from '../thread/protocol';
import { secondThread } from '../thread/secondThread';
import { dominantRitzPairs, type RitzPair } from './arnoldi';
import type { KrylovOptions } from './krylov';
import { denseOperatorOfTranspose } from './operator';

/**
 * The dominant Ritz pair of every matrix of j [M, n, n] (`right`) or of its transpose (`left`: Jᵀw = λw), by the
 * spectra module's restarted Arnoldi; undefined where it did not converge within the budget.
 */
export function sidePairs(j: Tensor3D, side: Side, options: KrylovOptions): (RitzPair | undefined)[] {
  const t = tf();
  // A scope: the operators Arnoldi narrows to its unconverged rows hold tensors of their own.
  t.engine().startScope();
  try {
    // J·v is fastest as a row vector times the stored transpose (operator.ts): the right side transposes J once; the
    // left side is Arnoldi on Jᵀ, whose transpose is J itself.
    const op = side === 'right' ? denseOperatorOfTranspose(t.transpose(j, [0, 2, 1]) as Tensor3D) : denseOperatorOfTranspose(j);
    return dominantRitzPairs(op, options).pairs;
  } finally {
    t.engine().endScope();
  }
}

/**
 * The dominant pairs of every matrix of j [M, n, n] and of its transpose: the left side on the second thread
 * where there is one, the right side here meanwhile.
 */
export function bothSides(j: Tensor3D, data: ArrayLike<number>, options: KrylovOptions): { right: (RitzPair | undefined)[]; left: (RitzPair | undefined)[] } {
  const [M, n] = j.shape;
  // A copy, moved rather than cloned: the caller keeps its values (the dense fallback reads them).
  const copy = Float32Array.from(data);
  const pending = secondThread()?.submit({ type: 'ritzJob', rows: M, n, side: 'left', options, data: copy }, isRitzReply, [copy.buffer]);
  const right = sidePairs(j, 'right', options);
  const left = pending?.wait()?.pairs?.map((p) => p ?? undefined) ?? sidePairs(j, 'left', options);
  return { right, left };
}
