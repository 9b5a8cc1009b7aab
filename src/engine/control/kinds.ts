// The Jacobians LSC controls, as kinds: the joint-state transition Jacobian of the cell (every state it names
// together, e.g. (h, c) of an LSTM: [[∂h/∂h, ∂h/∂c], [∂c/∂h, ∂c/∂c]]) and, optionally, the input Jacobian
// ∂(states)/∂x. Each is computed by the engine's structured Jacobian rules for all steps and batch rows at once,
// from a trajectory, and assembled from the per-pair blocks.
import { tf, type Tensor, type Tensor3D } from '../backend/tf';
import type { CellGraph, GraphNode } from '../graph/graph';
import { nodeMap } from '../graph/graph';
import { toDense } from '../graph/structuredJacobian';
import { structuredChunk } from '../run/jacobians';
import type { Occurrence, ResolvedPair } from '../run/pairs';
import type { Trajectory } from '../run/rollout';
import type { ControlMeasure } from './dominant';

export type KindName = 'time' | 'input';

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

function pairFor(of: GraphNode, wrt: GraphNode, site: string, T: number): ResolvedPair {
  const occurrences: Occurrence[] = Array.from({ length: T }, (_, k) => ({ t: k + 1, site, start: k + 1, end: k + 1 }));
  return {
    request: { of: `${of.name}@t`, wrt: `${wrt.name}@t-1`, path: '' },
    index: 0,
    ofNode: of,
    wrtNode: wrt,
    ofDim: of.shape[0],
    wrtDim: wrt.shape[0],
    occurrences,
  };
}

/**
 * The kind's Jacobians for every step and batch row: [T·B, Σ rows, Σ cols], row k·B + b being step k+1 and batch
 * element b. Differentiable: built from tfjs ops on the trajectory and the parameters.
 */
export function kindJacobians(graph: CellGraph, kind: ControlKind, traj: Trajectory, params: ReadonlyMap<string, Tensor>): Tensor3D {
  const t = tf();
  const byName = nodeMap(graph);
  const prevOf = new Map(graph.states.map((s) => [s.name, s.prev]));
  const rows = traj.T * traj.B;
  const blockRows = kind.rows.map((r) => {
    const blocks = kind.cols.map((c) => {
      // A state enters the step as its previous value (h_prev); the input as itself.
      const site = prevOf.get(c) ?? c;
      const pair = pairFor(byName.get(r)!, byName.get(c)!, site, traj.T);
      return toDense(structuredChunk({ graph, pair, traj, params, occ: pair.occurrences, site, length: 1 }), rows);
    });
    return blocks.length === 1 ? blocks[0] : t.concat(blocks, 2);
  });
  return (blockRows.length === 1 ? blockRows[0] : t.concat(blockRows, 1)) as Tensor3D;
}
