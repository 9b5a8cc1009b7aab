// The tensor work of a run in floating-point operations, estimated from the graph before anything is
// allocated. `auto` uses it to choose a backend: loading tfjs-node costs about half a second, which pays only
// when the work is big enough. An estimate within a small factor is all the choice needs.
import type { JacobianMethod, RunSpec } from '../config/spec';
import type { CellGraph } from '../graph/graph';
import { DENSE_MAX_N } from '../spectra/extremes';
import type { ResolvedPair } from './pairs';
import { seriesFlops } from '../series/run';

/**
 * Operator products per matrix of the matrix-free spectra, from W6 (seed relu, n 512: ‖J‖₂ 71, ρ 146 on average;
 * BENCHMARKS.md). Each product is a J·v (2·out·in) plus Gram–Schmidt against a basis of up to m = max(40, n/10)
 * vectors (~4·m·n on average over the two passes).
 */
const SPECTRA_PRODUCTS = { spectralNorm: 70, spectralRadius: 150 };

/** The backend work of spectralNorm / spectralRadius of one pair when they run matrix-free (n > DENSE_MAX_N). */
function spectraFlops(spec: RunSpec, pair: ResolvedPair, N: number, forced: 'auto' | 'dense' | 'matrix-free'): number {
  const [out, inn] = [pair.ofDim, pair.wrtDim];
  const n = Math.min(out, inn);
  if (forced === 'dense' || (forced === 'auto' && n <= DENSE_MAX_N)) return 0;
  let products = spec.diagnostics.includes('spectralNorm') ? SPECTRA_PRODUCTS.spectralNorm : 0;
  if (out === inn && spec.diagnostics.includes('spectralRadius')) products += SPECTRA_PRODUCTS.spectralRadius;
  return N * products * (2 * out * inn + 4 * Math.max(40, n / 10) * n);
}

export function estimateFlops(
  graph: CellGraph,
  spec: RunSpec,
  pairs: ResolvedPair[],
  method: JacobianMethod,
  spectra: 'auto' | 'dense' | 'matrix-free' = 'auto',
): number {
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
    // Matrix-free spectra iterate on the backend (dense ones run in JavaScript whatever the backend).
    flops += spectraFlops(spec, pair, N, spectra);
    flops += seriesFlops(spec, graph, pair);
  }
  return flops;
}
