// matmul: x·W with x batched [N, k] and W a kernel [k, out] (Keras Dense layout). J = Wᵀ·J_x.
import { tf, type Tensor2D } from '../../backend/tf';
import { OpShapeError, type OpDef } from '../op';
import { applyKernel, zero } from '../structuredJacobian';

export const matmulOp: OpDef = {
  name: 'matmul',
  arity: 2,
  inferShape: ([x, w]) => {
    if (!x.batched || w.batched || w.shape.length !== 2) {
      throw new OpShapeError(
        `matmul: expected a batched vector @ a 2-D parameter (x @ W, Keras layout), got ${x.name} [${x.shape.join(', ')}] @ ${w.name} [${w.shape.join(', ')}]`,
      );
    }
    if (x.shape[0] !== w.shape[0]) {
      throw new OpShapeError(
        `matmul: ${x.name} has ${x.shape[0]} features but ${w.name} is [${w.shape.join(', ')}]: its first dimension must be ${x.shape[0]}`,
      );
    }
    return { shape: [w.shape[1]], batched: true };
  },
  evaluate: ([x, w]) => tf().matMul(x as Tensor2D, w as Tensor2D),
  jacobian: ({ value, jacobians: [jx], wrtDim, outDim }) =>
    jx ? applyKernel(jx, tf().transpose(value(1) as Tensor2D)) : zero(outDim, wrtDim),
};
