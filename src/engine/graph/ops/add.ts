// add: a + b (bias add included). J = J_a + J_b.
import { tf } from '../../backend/tf';
import type { OpDef } from '../op';
import { add as addJ, zero } from '../structuredJacobian';
import { elementwiseShape } from './broadcast';

export const addOp: OpDef = {
  name: 'add',
  arity: 2,
  inferShape: (inputs) => elementwiseShape('add', inputs),
  evaluate: ([a, b]) => tf().add(a, b),
  jacobian: ({ jacobians: [ja, jb], rows, outDim, wrtDim }) => addJ(ja ?? zero(outDim, wrtDim), jb ?? zero(outDim, wrtDim), rows),
};
