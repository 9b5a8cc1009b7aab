// The contract every op of the fixed op set fulfils, in one file per op (graph/ops/*): its shape rule,
// its evaluation on batched tensors, and its structured Jacobian rule, side by side — like an op and
// its gradient in tfjs-core.
import type { Tensor, Tensor2D } from '../backend/tf';
import type { GraphNode, OpAttrs } from './graph';
import type { SJ } from './structuredJacobian';

/** Thrown by shape rules; the cell builder or the equation parser adds where it happened. */
export class OpShapeError extends Error {}

export interface ShapeResult {
  shape: number[];
  batched: boolean;
}

export interface JacobianArgs {
  /** Values of the inputs: batched ones are [N, dim], params and constants unbatched. */
  values: Tensor[];
  /** Value of this node's output, [N, dim]. */
  output: Tensor2D;
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
