// The per-step transition Jacobians J_t = ∂s_t/∂s_{t−1} of a (joint) state s, streamed one step at a time in
// the order a series diagnostic needs (forward for Lyapunov exponents, backward for gradient propagation),
// computed by the same chunked machinery as every other pair and never all held at once.
import type { JacobianMethod } from '../config/spec';
import type { Tensor } from '../backend/tf';
import type { CellGraph } from '../graph/graph';
import { computeJacobians } from '../run/jacobians';
import type { ResolvedPair } from '../run/pairs';
import type { Trajectory } from '../run/rollout';

/**
 * Whether a pair is a one-step transition of one (joint) state, `S@t wrt S@t-1`: the same states on both
 * sides, each occurrence one step long and entering through the previous-state leaves.
 */
export function isStateTransition(graph: CellGraph, pair: ResolvedPair): boolean {
  const prevs = new Map(graph.states.map((s) => [s.name, s.prev]));
  const names = (ns: { name: string }[]) => ns.map((n) => n.name).join(',');
  return (
    names(pair.ofNodes) === names(pair.wrtNodes) &&
    pair.ofNodes.every((n) => prevs.has(n.name)) &&
    pair.occurrences.length > 0 &&
    pair.occurrences.every((o, i) => o.start === o.end && o.sites.every((s, k) => s === prevs.get(pair.ofNodes[k].name)) && (i === 0 || o.end > pair.occurrences[i - 1].end))
  );
}

export interface TransitionSource {
  graph: CellGraph;
  pair: ResolvedPair;
  traj: Trajectory;
  params: ReadonlyMap<string, Tensor>;
  method: JacobianMethod;
  chunkBytes: number;
  signal?: AbortSignal;
}

/**
 * Calls `onStep(t, J)` for every step of the pair in the given order, with J the B transition matrices of
 * step t, [B, D, D] row-major (entry [b, i, j] = ∂s_t,i/∂s_{t−1},j of batch element b).
 */
export async function streamTransitions(
  source: TransitionSource,
  order: 'forward' | 'backward',
  onStep: (t: number, jacobians: Float32Array) => void,
): Promise<void> {
  const { pair, traj } = source;
  const occurrences = order === 'forward' ? pair.occurrences : [...pair.occurrences].reverse();
  const ordered: ResolvedPair = { ...pair, occurrences };
  const perStep = traj.B * pair.ofDim * pair.wrtDim;
  await computeJacobians(
    source.graph,
    ordered,
    traj,
    source.params,
    { method: source.method, dense: true, chunkBytes: source.chunkBytes, signal: source.signal },
    (chunk) => {
      chunk.indices.forEach((occ, c) => onStep(occurrences[occ].end, chunk.data!.subarray(c * perStep, (c + 1) * perStep)));
    },
  );
}
