// The tensor work of a run in floating-point operations, estimated from the graph before anything is
// allocated. `auto` uses it to choose a backend: loading tfjs-node costs about half a second, which pays only
// when the work is big enough. An estimate within a small factor is all the choice needs.
import type { JacobianMethod, RunSpec } from '../config/spec';
import type { CellGraph } from '../graph/graph';
import type { ResolvedPair } from './pairs';
import { seriesFlops } from '../series/run';

export function estimateFlops(graph: CellGraph, spec: RunSpec, pairs: ResolvedPair[], method: JacobianMethod): number {
  const { timeSteps: T, batchSize: B } = spec;
  const paramCount = graph.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const ops = graph.nodes.filter((n) => n.op && n.batched).length;
  // Rollout: every parameter takes part in one multiply-add per example and step.
  let flops = 2 * T * B * paramCount;
  for (const pair of pairs) {
    const N = pair.occurrences.length * B;
    const matrix = pair.ofDim * pair.wrtDim;
    const longest = Math.max(1, ...pair.occurrences.map((o) => o.end - o.start + 1));
    // Structured: each op of each step of the window touches an [out, in] block once; moments read it again.
    // Autodiff: one backward pass per output unit, each as costly as the forward step.
    flops += method === 'structured' ? N * matrix * (ops * longest + 3) : N * pair.ofDim * 2 * paramCount * longest + 3 * N * matrix;
    flops += seriesFlops(spec, graph, pair);
  }
  return flops;
}
