// A cell is data: a small graph of named tensors built from a fixed op set. Built-in cells and
// cells written as equations in the config both produce this form; rollout, structured Jacobians
// and autodiff all walk it, so a new cell needs no new engine code.
import type { InitializerSpec } from '../config/spec';

export type TensorRole = 'state' | 'input' | 'param' | 'const' | 'intermediate' | 'output';

export interface OpAttrs {
  /** activation: which one. */
  activation?: string;
  /** slice: first feature and count (feature axis of a batched tensor; axis 0 of a param). */
  begin?: number;
  size?: number;
  /** const: the scalar value. */
  value?: number;
}

/** A node of the step graph. Leaves (previous states, inputs, params, constants) have no op. */
export interface GraphNode {
  name: string;
  role: TensorRole;
  /**
   * Shape of one batch element for batched tensors ([dim]); full shape for params; [] for scalars.
   * Batched tensors are always vectors per example, as in Keras RNN cells.
   */
  shape: number[];
  batched: boolean;
  op?: string;
  inputs?: string[];
  attrs?: OpAttrs;
}

export interface ParamDecl {
  /** Keras weight name, e.g. `linear_rec/kernel`, `recurrent_kernel`; the node's name in the graph. */
  name: string;
  /**
   * For custom cells whose equations call a parameter by another name than its weight name: the weight
   * name (the random stream `param:WEIGHT`, the --save name and the name in imported weights). Absent: `name`.
   */
  weightName?: string;
  shape: number[];
  initializer: InitializerSpec;
  /** Which config initializer key set it, for messages and theory. */
  role: 'kernel' | 'recurrentKernel' | 'bias' | 'custom';
  /**
   * For 1-D params initialised piece by piece (Keras's unit_forget_bias): each segment's initializer
   * is called on the segment's own shape, in order, as Keras does.
   */
  segments?: { size: number; initializer: InitializerSpec }[];
}

export interface StateDecl {
  /** The state's name, also the node computing its new value (`h`). */
  name: string;
  /** The leaf holding its previous value inside the step graph (`h_prev`). */
  prev: string;
  dim: number;
}

export interface CellGraph {
  cell: string;
  /** Topological order: every node after its inputs. */
  nodes: GraphNode[];
  states: StateDecl[];
  inputs: string[];
  outputs: string[];
  params: ParamDecl[];
}

export function nodeMap(graph: CellGraph): Map<string, GraphNode> {
  return new Map(graph.nodes.map((n) => [n.name, n]));
}

/** Names a user may put in `of`/`wrt`: states, inputs, outputs and intermediates (not params, consts or `*_prev` leaves). */
export function referableTensors(graph: CellGraph): GraphNode[] {
  const prevs = new Set(graph.states.map((s) => s.prev));
  return graph.nodes.filter((n) => n.batched && !prevs.has(n.name));
}
