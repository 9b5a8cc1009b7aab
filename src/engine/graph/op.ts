// The contract every op of the fixed op set fulfils, in one file per op (graph/ops/*): its shape rule,
// its evaluation on batched tensors, and its structured Jacobian rule, side by side — like an op and
// its gradient in tfjs-core.
import type { Tensor } from '../backend/tf';
import type { GraphNode, OpAttrs } from './graph';
import type { SJ } from './structuredJacobian';

/** Thrown by shape rules; the cell builder or the equation parser adds where it happened. */
export class OpShapeError extends Error {}

export interface ShapeResult {
  shape: number[];
  batched: boolean;
}

export interface JacobianArgs {
  /**
   * Value of input k: batched ones [N, dim], params and constants unbatched. Fetched on demand, because
   * reading a value from the trajectory costs a gather and most rules need only some of them.
   */
  value(k: number): Tensor;
  /** Feature size of this node's output. */
  outDim: number;
  /** Feature size of each input (batched ones; 0 for scalars). */
  inputDims: number[];
  /** Jacobians of the inputs w.r.t. the perturbed tensor; undefined for params and constants (zero). */
  jacobians: (SJ | undefined)[];
  attrs: OpAttrs;
  /** Number of independent rows (steps × batch). */
  rows: number;
  /** Dimension of the perturbed tensor. */
  wrtDim: number;
}

export interface OpDef {
  name: string;
  /** Number of inputs, or 'variadic' (concat). */
  arity: number | 'variadic';
  inferShape(inputs: GraphNode[], attrs: OpAttrs): ShapeResult;
  evaluate(values: Tensor[], attrs: OpAttrs): Tensor;
  /** Forward-mode rule: J_out from the inputs' Jacobians. Absent for ops that only touch params. */
  jacobian?(args: JacobianArgs): SJ;
}
