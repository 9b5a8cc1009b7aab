// sub: a − b. J = J_a − J_b.
import { tf } from '../../backend/tf';
import type { OpDef } from '../op';
import { add, negate, zero } from '../structuredJacobian';
import { elementwiseShape } from './broadcast';

export const subOp: OpDef = {
  name: 'sub',
  arity: 2,
  inferShape: (inputs) => elementwiseShape('sub', inputs),
  evaluate: ([a, b]) => tf().sub(a, b),
  jacobian: ({ jacobians: [ja, jb], rows, outDim, wrtDim }) =>
    add(ja ?? zero(outDim, wrtDim), negate(jb ?? zero(outDim, wrtDim), rows), rows),
};
