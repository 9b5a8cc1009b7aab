// mul: elementwise a ⊙ b. J = diag(b)·J_a + diag(a)·J_b (product rule); a parameter or constant
// factor has no Jacobian and just scales rows.
import { tf, type Tensor, type Tensor2D } from '../../backend/tf';
import type { OpDef } from '../op';
import { add, scaleRows, zero, type SJ } from '../structuredJacobian';
import { elementwiseShape } from './broadcast';

/** A factor as [N, dim] rows, broadcasting params and scalars. */
function asRows(v: Tensor, rows: number, dim: number): Tensor2D {
  const t = tf();
  if (v.rank === 2) return v as Tensor2D;
  return t.mul(t.ones([rows, dim]), v) as Tensor2D;
}

export const mulOp: OpDef = {
  name: 'mul',
  arity: 2,
  inferShape: (inputs) => elementwiseShape('mul', inputs),
  evaluate: ([a, b]) => tf().mul(a, b),
  jacobian: ({ value, jacobians: [ja, jb], rows, outDim: dim, wrtDim }) => {
    const terms: SJ[] = [];
    if (ja && ja.kind !== 'zero') terms.push(scaleRows(ja, asRows(value(1), rows, dim)));
    if (jb && jb.kind !== 'zero') terms.push(scaleRows(jb, asRows(value(0), rows, dim)));
    return terms.reduce((s, x) => add(s, x, rows), zero(dim, wrtDim));
  },
};
