// The Jacobians LSC controls, as kinds: the joint-state transition Jacobian of the cell (every state it names
// together, e.g. (h, c) of an LSTM: [[∂h/∂h, ∂h/∂c], [∂c/∂h, ∂c/∂c]]) and, optionally, the input Jacobian
// ∂(states)/∂x, and between stacked layers the depth Jacobian. Each is one tuple pair computed by the engine's
// structured Jacobian rules for all steps and batch rows at once, from a trajectory.
import type { Tensor, Tensor3D } from '../backend/tf';
import type { CellGraph } from '../graph/graph';
import { nodeMap } from '../graph/graph';
import { toDense } from '../graph/structuredJacobian';
import { structuredChunk } from '../run/jacobians';
import type { Occurrence, ResolvedPair } from '../run/pairs';
import type { Trajectory } from '../run/rollout';
import type { ControlMeasure } from './dominant';

export type KindName = 'time' | 'input' | 'depth';

export interface ControlKind {
  name: KindName;
  /** What it is, for reports: `∂(h,c)@t/∂(h,c)@t-1`. */
  label: string;
  /** Row blocks: states, in order. */
  rows: string[];
  /** Column blocks: states (their previous values) or the input. */
  cols: string[];
  measure: ControlMeasure;
  target: number;
}

/** The kind as one tuple pair (deep's joint Jacobians): `of` stacks the row tensors, `wrt` perturbs all column tensors at once. */
function tuplePair(graph: CellGraph, kind: ControlKind, T: number): ResolvedPair {
  const byName = nodeMap(graph);
  const prevOf = new Map(graph.states.map((s) => [s.name, s.prev]));
  // A state enters the step as its previous value (h_prev); any other tensor (x, a lower layer's output) as itself.
  const sites = kind.cols.map((c) => prevOf.get(c) ?? c);
  const ofNodes = kind.rows.map((r) => byName.get(r)!);
  const wrtNodes = kind.cols.map((c) => byName.get(c)!);
  const occurrences: Occurrence[] = Array.from({ length: T }, (_, k) => ({ t: k + 1, sites, start: k + 1, end: k + 1 }));
  return {
    request: { of: kind.label, wrt: kind.label, path: '' },
    index: 0,
    ofNodes,
    wrtNodes,
    ofDim: ofNodes.reduce((s, n) => s + n.shape[0], 0),
    wrtDim: wrtNodes.reduce((s, n) => s + n.shape[0], 0),
    occurrences,
  };
}

/**
 * The kind's Jacobians for every step and batch row: [T·B, Σ rows, Σ cols], row k·B + b being step k+1 and batch
 * element b. Differentiable: built from tfjs ops on the trajectory and the parameters.
 */
export function kindJacobians(graph: CellGraph, kind: ControlKind, traj: Trajectory, params: ReadonlyMap<string, Tensor>): Tensor3D {
  const pair = tuplePair(graph, kind, traj.T);
  const sites = pair.occurrences[0].sites;
  return toDense(structuredChunk({ graph, pair, traj, params, occ: pair.occurrences, sites, length: 1 }), traj.T * traj.B);
}
