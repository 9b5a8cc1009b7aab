// What theory predicts for varTimesFanIn, beside what was measured, for any cell and any one-step pair.
// Every one-step Jacobian is, by the graph's own rules, a sum of weight paths plus a deterministic part:
//   J = J_det + Σ_g diag(a_g)·U_gᵀ·diag(b_g)
// (U_g: the block of a kernel a path goes through; a_g, b_g: products of activation derivatives and gate
// values along it). With zero-mean weights independent of the activations and of each other,
//   E[J_ij²] = J_det,ij² + Σ_g a_g,i²·Var(U_g)·E[(J_in)_kj²] summed over k,
// which is propagated through the graph as rank-one terms u·vᵀ (u over rows, v over columns) beside the
// deterministic part, with the activations measured on the run (not assumed Gaussian). The expected
// varTimesFanIn is fan_in·(E[mean J²] − E[mean J]²), averaged over steps and batch. Var(U) is the
// initializer's closed form when the weights were drawn from it, else the actual matrix's per-column
// variance (trained weights: the loaded matrices'). For the seed and SimpleRNN transitions this is exactly
// fan_in·Var(W)·E[act′²] (plus 1 − 1/n for the seed's ∂c/∂h).
import { tf, type Tensor, type Tensor1D, type Tensor2D } from '../backend/tf';
import type { RunSpec } from '../config/spec';
import { nodeMap, type CellGraph, type GraphNode } from '../graph/graph';
import { opDef } from '../graph/ops';
import { ACTIVATION_RULES } from '../graph/ops/activations';
import { concatRows, momentSums, sliceRows, toDense, zero, type SJ } from '../graph/structuredJacobian';
import { initializerVariance } from '../params/initializers';
import { activeNodes, siteJacobians, StepValues } from './jacobians';
import type { ResolvedPair } from './pairs';
import type { Expected } from './report';
import type { Trajectory } from './rollout';

/** E[(J∘J)] of the random part as Σ u·vᵀ: u [N, out] (or [1, out]) over rows, v [N, in] over columns. */
interface Term {
  u: Tensor2D;
  v: Tensor2D;
}

interface Moments {
  det: SJ;
  terms: Term[];
}

class NoPrediction extends Error {}

/** Per-row Σ_k J_kj² of a structured Jacobian: [N, in] (or [1, in] when shared by every row). */
function columnSumSquares(j: SJ, rows: number): Tensor2D {
  const t = tf();
  switch (j.kind) {
    case 'zero':
      return t.zeros([1, j.in]) as Tensor2D;
    case 'identity':
      return t.ones([1, j.n]) as Tensor2D;
    case 'diag':
      return t.square(j.d) as Tensor2D;
    case 'shared':
      return t.sum(t.square(j.m), 0, true) as Tensor2D;
    default:
      return t.sum(t.square(toDense(j, rows)), 1) as Tensor2D;
  }
}

/** Variance of each output column of a kernel [k, out]: closed form for drawn weights, else measured. */
function kernelColumnVariance(w: Tensor, closed: number | null): Tensor2D {
  const t = tf();
  const out = w.shape[1]!;
  if (closed !== null) return t.fill([1, out], closed) as Tensor2D;
  const { variance } = t.moments(w, 0, true);
  return variance as Tensor2D;
}

interface Context {
  graph: CellGraph;
  byName: Map<string, GraphNode>;
  values: StepValues;
  rows: number;
  wrtDim: number;
  variance: (param: string) => number | null;
  kernels: Set<string>;
}

const scaleTerms = (terms: Term[], s: Tensor) => terms.map((x) => ({ u: tf().mul(x.u, tf().square(s)) as Tensor2D, v: x.v }));

/** The moments of one node from its inputs'. */
function nodeMoments(ctx: Context, node: GraphNode, inputs: (Moments | undefined)[]): Moments {
  const t = tf();
  const value = (k: number) => ctx.values.get(node.inputs![k]);
  const dims = node.inputs!.map((i) => ctx.byName.get(i)!.shape[0] ?? 0);
  const dim = node.shape[0];
  const det = () =>
    opDef(node.op!).jacobian!({ value, outDim: dim, inputDims: dims, jacobians: inputs.map((m) => m?.det), attrs: node.attrs ?? {}, rows: ctx.rows, wrtDim: ctx.wrtDim });
  const terms = (k: number) => inputs[k]?.terms ?? [];
  switch (node.op) {
    case 'activation':
      return { det: det(), terms: scaleTerms(terms(0), ACTIVATION_RULES[node.attrs!.activation as keyof typeof ACTIVATION_RULES].derivative(value(0))) };
    case 'add':
    case 'sub':
      return { det: det(), terms: [...terms(0), ...terms(1)] };
    case 'mul':
      return { det: det(), terms: [...scaleTerms(terms(0), value(1)), ...scaleTerms(terms(1), value(0))] };
    case 'slice': {
      const { begin = 0, size = dim } = node.attrs ?? {};
      return { det: sliceRows(inputs[0]!.det, begin, size, ctx.rows), terms: terms(0).map((x) => ({ u: t.slice(x.u, [0, begin], [-1, size]) as Tensor2D, v: x.v })) };
    }
    case 'concat': {
      let offset = 0;
      const padded: Term[] = [];
      dims.forEach((d, k) => {
        for (const x of terms(k)) padded.push({ u: t.pad(x.u, [[0, 0], [offset, dim - offset - d]]) as Tensor2D, v: x.v });
        offset += d;
      });
      return { det: concatRows(inputs.map((m, k) => m?.det ?? zero(dims[k], ctx.wrtDim)), ctx.rows), terms: padded };
    }
    case 'matmul': {
      if (!inputs[0] || inputs[1]) throw new NoPrediction(`${node.name}: a product with a kernel that depends on the perturbation`);
      // Wᵀ·J with W zero-mean: no deterministic part; E[(WᵀJ)_ij²] = Var(W_:i)·Σ_k E[J_kj²] — one rank-one term.
      const x = inputs[0];
      let colSums = columnSumSquares(x.det, ctx.rows);
      for (const term of x.terms) colSums = t.add(colSums, t.mul(t.sum(term.u, 1, true), term.v)) as Tensor2D;
      const kernel = node.inputs![1];
      ctx.kernels.add(kernel);
      return { det: zero(dim, ctx.wrtDim), terms: [{ u: kernelColumnVariance(value(1), ctx.variance(kernel)), v: colSums }] };
    }
    default:
      throw new NoPrediction(`op ${node.op} has no second-moment rule`);
  }
}

/** Expected varTimesFanIn per row of one chunk of occurrences (all one step long). */
function chunkExpectation(ctx: Context, pair: ResolvedPair, sites: string[]): Float32Array {
  const t = tf();
  const moments = new Map<string, Moments>();
  const seeds = siteJacobians(sites, pair.wrtNodes.map((n) => n.shape[0]), pair.wrtDim);
  sites.forEach((s, k) => moments.set(s, { det: seeds[k], terms: [] }));
  const active = activeNodes(ctx.graph, sites, pair.ofNodes.map((n) => n.name));
  for (const node of ctx.graph.nodes) {
    if (!active.has(node.name) || !node.op || moments.has(node.name)) continue;
    const inputs = node.inputs!.map((i) => moments.get(i));
    if (inputs.every((m) => m === undefined)) continue;
    moments.set(node.name, nodeMoments(ctx, node, inputs));
  }
  const of = pair.ofNodes.map((n) => moments.get(n.name) ?? { det: zero(n.shape[0], pair.wrtDim), terms: [] });
  const whole = of.length === 1 ? of[0] : nodeMoments(ctx, { name: 'of', role: 'intermediate', shape: [pair.ofDim], batched: true, op: 'concat', inputs: pair.ofNodes.map((n) => n.name) }, of);
  const count = pair.ofDim * pair.wrtDim;
  const sums = momentSums(whole.det, ctx.rows) ?? {
    sum: t.sum(toDense(whole.det, ctx.rows), [1, 2]) as Tensor1D,
    sumSq: t.sum(t.square(toDense(whole.det, ctx.rows)), [1, 2]) as Tensor1D,
  };
  let random: Tensor = t.zeros([ctx.rows]);
  for (const x of whole.terms) random = t.add(random, t.reshape(t.mul(t.sum(x.u, 1, true), t.sum(x.v, 1, true)), [-1]));
  const mean = t.div(sums.sum, count);
  const e2 = t.div(t.add(sums.sumSq, random), count);
  return t.mul(t.sub(e2, t.square(mean)), pair.wrtDim).dataSync() as Float32Array;
}

const fmt = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(4) : x.toExponential(3));

/**
 * Var(U) of a parameter: the initializer's closed form when it was drawn from it, else null (the caller
 * measures the actual matrix): trained weights, custom cells, initializers without a closed form.
 */
export function variancePolicy(graph: CellGraph, trained: ReadonlySet<string>): (param: string) => number | null {
  const decls = new Map(graph.params.map((p) => [p.name, p]));
  return (name) => {
    const decl = decls.get(name);
    if (!decl || trained.has(name) || decl.role === 'custom') return null;
    return initializerVariance(decl.initializer, decl.shape);
  };
}

/** Only one-step pairs have a prediction: across several steps the same weights multiply each other. */
export function expectedVarTimesFanIn(
  _spec: RunSpec,
  graph: CellGraph,
  pair: ResolvedPair,
  traj: Trajectory,
  params: ReadonlyMap<string, Tensor>,
  trained: ReadonlySet<string> = new Set(),
): Expected | null {
  if (!pair.occurrences.every((o) => o.start === o.end)) return null;
  const t = tf();
  const byName = nodeMap(graph);
  const variance = variancePolicy(graph, trained);
  const kernels = new Set<string>();
  let total = 0;
  let rowsSeen = 0;
  const CHUNK = 64;
  try {
    for (let i = 0; i < pair.occurrences.length; i += CHUNK) {
      const occ = pair.occurrences.slice(i, i + CHUNK);
      const sites = occ[0].sites;
      if (occ.some((o) => o.sites.join() !== sites.join())) return null;
      const rows = occ.length * traj.B;
      const perRow = t.tidy(() => {
        const values = new StepValues(byName, traj, params, occ.map((o) => o.start));
        return chunkExpectation({ graph, byName, values, rows, wrtDim: pair.wrtDim, variance, kernels }, pair, sites);
      });
      for (const v of perRow) total += v;
      rowsSeen += rows;
    }
  } catch (e) {
    if (e instanceof NoPrediction) return null;
    throw e;
  }
  const value = total / rowsSeen;
  const vars = [...kernels].map((k) => {
    const closed = variance(k);
    return `${k}: ${closed === null ? 'measured' : `Var ${fmt(closed)}`}`;
  });
  return {
    varTimesFanIn: value,
    formula:
      `fan_in·(E[J_ij²] − E[J_ij]²) with E[J_ij²] = J_det,ij² + Σ_g a_g,i²·Var(U_g)·b_g,j² through ${kernels.size} kernel(s) (${vars.join('; ') || 'none'}), ` +
      `activations measured over ${rowsSeen} step×batch rows; assumes zero-mean weights independent of each other and of the activations`,
  };
}
