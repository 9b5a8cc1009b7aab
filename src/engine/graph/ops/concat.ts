// concat: batched vectors joined along the feature axis. J stacks the inputs' Jacobians by rows.
import { tf, type Tensor2D } from '../../backend/tf';
import { OpShapeError, type OpDef } from '../op';
import { concatRows, zero } from '../structuredJacobian';

export const concatOp: OpDef = {
  name: 'concat',
  arity: 'variadic',
  inferShape: (inputs) => {
    const bad = inputs.find((n) => !n.batched || n.shape.length !== 1);
    if (bad) throw new OpShapeError(`concat: ${bad.name} is not a batched vector`);
    return { shape: [inputs.reduce((s, n) => s + n.shape[0], 0)], batched: true };
  },
  evaluate: (values) => tf().concat(values as Tensor2D[], 1),
  jacobian: ({ inputDims, jacobians, rows, wrtDim }) =>
    concatRows(
      jacobians.map((j, i) => j ?? zero(inputDims[i], wrtDim)),
      rows,
    ),
};
