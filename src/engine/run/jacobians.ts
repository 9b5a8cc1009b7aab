// Jacobians of a resolved pair over every occurrence, by two methods that must agree:
//  - structured: forward propagation of structured Jacobians through the step graphs (graph/ops rules),
//    all occurrences of a chunk at once — O(n²) per Jacobian for dense cells;
//  - autodiff: tfjs reverse mode, vectorised: the rows are tiled once per output unit and a single
//    backward pass with one-hot cotangents yields every row of every Jacobian (what batch_jacobian,
//    jacrev and torch.func.jacrev do) — O(n³) per Jacobian.
// Both stream: a chunk of occurrences is computed, handed to the sink, and freed.
import type { JacobianMethod } from '../config/spec';
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor3D } from '../backend/tf';
import { throwIfAborted } from '../errors';
import { ancestors, descendants, evaluateStep } from '../graph/evaluate';
import { nodeMap, type CellGraph, type GraphNode } from '../graph/graph';
import { opDef } from '../graph/ops';
import { concatRows, identity, inDim, momentSums, outDim, selectMatrices, toDense, zero, type SJ } from '../graph/structuredJacobian';
import { chunkMoments, hostMoments, momentsFromSums, type ChunkMoments } from './diagnostics';
import { denseOnHost } from './hostDense';
import { occurrenceGroups, type Occurrence, type ResolvedPair } from './pairs';
import type { Trajectory } from './rollout';

export interface JacobianChunk {
  /** Positions of these occurrences in pair.occurrences. */
  indices: number[];
  /** Per matrix (row k·B + b belongs to occurrence indices[k], batch element b). */
  moments: ChunkMoments;
  /** The matrices, [indices.length · B, out, in] row-major, when `dense` was asked for. */
  data?: Float32Array;
  /** What `withJacobians` returned for this chunk. */
  measured?: unknown;
  /** Every matrix of the chunk is the same one (a shared, identity or zero Jacobian: a linear cell's ∂h_t/∂h_{t-1}). */
  identical?: boolean;
}

export interface JacobianRunOptions {
  method: JacobianMethod;
  /**
   * Whether the sink needs the whole matrices (kept, saved or decomposed). Without them the structured
   * method reduces the statistics from the factors and never builds [N, out, in].
   */
  dense: boolean;
  /** Working-memory budget of one chunk, in bytes. */
  chunkBytes: number;
  signal?: AbortSignal;
  onChunk?: (done: number, total: number) => void;
  /**
   * Runs while a chunk's Jacobians exist in structured form (N = indices·B rows; autodiff's are dense),
   * synchronously inside the chunk's tensor scope: matrix-free measurements go here. Its result is the
   * chunk's `measured`.
   */
  withJacobians?: (j: SJ, rows: number) => unknown;
  /** Working memory `withJacobians` needs per row (Krylov bases), counted when chunks of factored Jacobians are sized. */
  measureBytesPerRow?: number;
}

/** Nodes whose value at a window position depends on the perturbation, and that lead to the targets. */
export function activeNodes(graph: CellGraph, sources: Iterable<string>, targets: Iterable<string>): Set<string> {
  const down = descendants(graph, sources);
  const up = ancestors(graph, targets);
  return new Set([...down].filter((n) => up.has(n)));
}

/** Whether `of` depends on the sites across a window of `length` steps (else the Jacobian is zero). */
function dependsOnSites(graph: CellGraph, pair: ResolvedPair, sites: string[], length: number): boolean {
  let sources: string[] = sites;
  for (let j = 0; j < length; j++) {
    const reach = descendants(graph, sources);
    if (j === length - 1) return pair.ofNodes.some((n) => reach.has(n.name));
    sources = graph.states.filter((s) => reach.has(s.name)).map((s) => s.prev);
    if (sources.length === 0) return false;
  }
  return false;
}

export class StepValues {
  private readonly cache = new Map<string, Tensor>();
  constructor(
    private readonly nodes: ReadonlyMap<string, GraphNode>,
    private readonly traj: Trajectory,
    private readonly params: ReadonlyMap<string, Tensor>,
    private readonly steps: number[],
  ) {}

  get(name: string): Tensor {
    let v = this.cache.get(name);
    if (v) return v;
    const node = this.nodes.get(name)!;
    if (node.role === 'param') v = this.params.get(name)!;
    else if (node.role === 'const') v = tf().scalar(node.attrs?.value ?? 0);
    else if (node.batched) v = this.traj.at(name, this.steps);
    else {
      // A node computed from params only (e.g. a bias row): evaluate it from its inputs.
      v = opDef(node.op!).evaluate(node.inputs!.map((i) => this.get(i)), node.attrs ?? {});
    }
    this.cache.set(name, v);
    return v;
  }
}

/** One chunk of occurrences that share a window length and perturbation sites. */
export interface ChunkTask {
  graph: CellGraph;
  pair: ResolvedPair;
  traj: Trajectory;
  params: ReadonlyMap<string, Tensor>;
  occ: Occurrence[];
  sites: string[];
  length: number;
}

/**
 * The Jacobian of each site with respect to the whole perturbation: the identity for one site; for a tuple,
 * site k is columns offset_k..offset_k+d_k of it, the rows of the identity that select them (one shared matrix).
 */
export function siteJacobians(sites: string[], dims: number[], wrtDim: number): SJ[] {
  if (sites.length === 1) return [identity(wrtDim)];
  const t = tf();
  const eye = t.eye(wrtDim);
  let offset = 0;
  return dims.map((d) => {
    const m = t.slice(eye, [offset, 0], [d, wrtDim]) as Tensor2D;
    offset += d;
    return { kind: 'shared', m };
  });
}

/** The Jacobian of `of` for a chunk, in structured form (made dense only by the caller, if needed). */
export function structuredChunk({ graph, pair, traj, params, occ, sites, length }: ChunkTask): SJ {
  const rows = occ.length * traj.B;
  const byName = nodeMap(graph);
  let carried = new Map<string, SJ>();
  for (let j = 0; j < length; j++) {
    const steps = occ.map((o) => o.start + j);
    const last = j === length - 1;
    const values = new StepValues(byName, traj, params, steps);
    const jac = new Map<string, SJ>();
    let sources: string[];
    if (j === 0) {
      const seeds = siteJacobians(sites, pair.wrtNodes.map((n) => n.shape[0]), pair.wrtDim);
      sites.forEach((site, k) => jac.set(site, seeds[k]));
      sources = sites;
    } else {
      sources = [];
      for (const s of graph.states) {
        const c = carried.get(s.name);
        if (c && c.kind !== 'zero') {
          jac.set(s.prev, c);
          sources.push(s.prev);
        }
      }
    }
    const targets = last ? pair.ofNodes.map((n) => n.name) : graph.states.map((s) => s.name);
    const active = activeNodes(graph, sources, targets);
    for (const node of graph.nodes) {
      if (!active.has(node.name) || !node.op || jac.has(node.name)) continue;
      const inputJ = node.inputs!.map((i) => jac.get(i));
      if (inputJ.every((x) => x === undefined || x.kind === 'zero')) continue;
      const def = opDef(node.op);
      if (!def.jacobian) throw new Error(`internal: op ${node.op} has no Jacobian rule but depends on ${sites.join(', ')}`);
      jac.set(
        node.name,
        def.jacobian({
          value: (k) => values.get(node.inputs![k]),
          outDim: node.shape[0],
          inputDims: node.inputs!.map((i) => byName.get(i)!.shape[0] ?? 0),
          jacobians: inputJ,
          attrs: node.attrs ?? {},
          rows,
          wrtDim: pair.wrtDim,
        }),
      );
    }
    if (last) {
      const parts = pair.ofNodes.map((n) => jac.get(n.name) ?? zero(n.shape[0], pair.wrtDim));
      return parts.length === 1 ? parts[0] : concatRows(parts, rows);
    }
    carried = new Map(graph.states.map((s) => [s.name, jac.get(s.name) ?? zero(s.dim, pair.wrtDim)]));
  }
  throw new Error('internal: empty window');
}

function autodiffChunk({ graph, pair, traj, params, occ, sites, length }: ChunkTask): Tensor3D {
  const t = tf();
  const rows = occ.length * traj.B;
  const outDim = pair.ofDim;
  if (!dependsOnSites(graph, pair, sites, length)) return t.zeros([rows, outDim, pair.wrtDim]) as Tensor3D;
  // `of` is the perturbed value itself (z@t wrt z@t): ∂x/∂x = I, and tfjs's grad refuses a function that returns its input.
  if (length === 1 && sites.length === 1 && pair.ofNodes.length === 1 && sites[0] === pair.ofNodes[0].name) {
    return t.tile(t.expandDims(t.eye(outDim), 0), [rows, 1, 1]) as Tensor3D;
  }
  const siteDims = pair.wrtNodes.map((n) => n.shape[0]);
  const ofNames = pair.ofNodes.map((n) => n.name);
  // Row r of the tiled batch is copy k = floor(r / rows) of original row r mod rows; copy k receives
  // the cotangent e_k, so its gradient is row k of the Jacobian.
  const tile = (x: Tensor) => t.tile(x, [outDim, 1]);
  const stepsAt = (j: number) => occ.map((o) => o.start + j);
  const stateNames = graph.states.map((s) => s.name);
  // The perturbed value is every site side by side; each site reads its own columns of it.
  const forward = (siteValue: Tensor): Tensor => {
    let prevStates = new Map<string, Tensor>();
    for (let j = 0; j < length; j++) {
      const steps = stepsAt(j);
      const last = j === length - 1;
      const leaves = new Map<string, Tensor>(params);
      for (const s of graph.states) leaves.set(s.prev, j === 0 ? tile(traj.at(s.prev, steps)) : prevStates.get(s.name)!);
      for (const x of graph.inputs) leaves.set(x, tile(traj.at(x, steps)));
      const wanted = ancestors(graph, last ? ofNames : stateNames);
      const split = sites.length === 1 ? [siteValue] : t.split(siteValue, siteDims, 1);
      const values = evaluateStep(graph, leaves, j === 0 ? new Map(sites.map((s, k) => [s, split[k]])) : undefined, wanted);
      if (last) return ofNames.length === 1 ? values.get(ofNames[0])! : t.concat(ofNames.map((n) => values.get(n)!), 1);
      prevStates = new Map(stateNames.map((n) => [n, values.get(n)!]));
    }
    throw new Error('internal: empty window');
  };
  const first = new StepValues(nodeMap(graph), traj, params, stepsAt(0));
  const site0 = tile(sites.length === 1 ? first.get(sites[0]) : t.concat(sites.map((s) => first.get(s)), 1));
  const copy = t.cast(t.floorDiv(t.range(0, outDim * rows, 1, 'int32'), rows), 'int32');
  // tfjs's oneHot needs a depth of at least 2; one output unit has the cotangent 1 everywhere.
  const cotangent = outDim === 1 ? t.ones([rows, 1]) : t.cast(t.oneHot(copy as Tensor1D, outDim), 'float32');
  const grad = t.grad(forward)(site0, cotangent); // [outDim·rows, wrtDim]
  return t.transpose(t.reshape(grad, [outDim, rows, pair.wrtDim]), [1, 0, 2]) as Tensor3D;
}

/** Bytes of working memory one occurrence needs, roughly, for a method (drives chunk size). */
export function bytesPerOccurrence(graph: CellGraph, pair: ResolvedPair, B: number, method: JacobianMethod, length: number): number {
  const matrix = B * pair.ofDim * pair.wrtDim * 4;
  if (method === 'structured') return matrix * 6 * length;
  const width = graph.nodes.filter((n) => n.batched).reduce((s, n) => s + n.shape[0], 0);
  return B * pair.ofDim * width * 4 * 3 * length + matrix * 2;
}

/** The moments of N = `rows` structured Jacobians from their dense form, made `per` matrices at a time. */
function momentsBySlices(j: SJ, rows: number, per: number): ChunkMoments {
  const t = tf();
  const parts: ChunkMoments[] = [];
  for (let from = 0; from < rows; from += per) {
    const to = Math.min(rows, from + per);
    // Out through a variable, not tidy's result (which it would walk element by element).
    t.tidy(() => {
      const part = selectMatrices(j, rows, from, to);
      const host = denseOnHost(part, to - from);
      parts.push(host ? hostMoments(host, to - from, outDim(j) * inDim(j)) : chunkMoments(toDense(part, to - from)));
    });
  }
  const join = (key: keyof ChunkMoments) => {
    const out = new Float32Array(rows);
    parts.forEach((p, k) => out.set(p[key], k * per));
    return out;
  };
  return { mean: join('mean'), variance: join('variance'), frobenius: join('frobenius') };
}

/**
 * Occurrences per chunk. bytesPerOccurrence assumes the Jacobians become dense [rows, out, in]; where they stay in
 * structured form (nobody asked for them dense), one occurrence is formed first and the memory it actually took, with
 * what the measurements need per row, sizes the chunks. A factored Jacobian takes O(n) per row where the dense one
 * takes O(n²): W6 (seed relu, n 512, 64 steps × batch 4) is then one chunk instead of seven, and every Krylov step's
 * fixed cost (a dozen backend ops and a read-back) is paid once instead of seven times.
 */
function occurrencesPerChunk(task: ChunkTask, options: JacobianRunOptions): number {
  const group = task.occ;
  const fit = (bytes: number) => Math.max(1, Math.min(group.length, Math.floor(options.chunkBytes / bytes)));
  // Autodiff runs one occurrence per pass, as the baseline it stands for (one batch_jacobian per step).
  if (options.method === 'autodiff') return 1;
  const guess = fit(bytesPerOccurrence(task.graph, task.pair, task.traj.B, options.method, task.length));
  if (options.dense || guess >= group.length) return guess;
  const t = tf();
  const before = t.memory().numBytes;
  let formed = 0;
  let kind: SJ['kind'] = 'dense';
  t.tidy(() => {
    // Everything the rules made is still alive inside the scope: the bytes now are the occurrence's peak.
    kind = structuredChunk({ ...task, occ: group.slice(0, 1) }).kind;
    formed = t.memory().numBytes - before;
  });
  return kind === 'dense' ? guess : fit(formed + task.traj.B * (options.measureBytesPerRow ?? 0));
}

export async function computeJacobians(
  graph: CellGraph,
  pair: ResolvedPair,
  traj: Trajectory,
  params: ReadonlyMap<string, Tensor>,
  options: JacobianRunOptions,
  sink: (chunk: JacobianChunk) => void | Promise<void>,
): Promise<void> {
  const t = tf();
  const position = new Map(pair.occurrences.map((o, i) => [o, i]));
  const total = pair.occurrences.length;
  let done = 0;
  for (const { length, sites, occurrences: group } of occurrenceGroups(pair)) {
    const chunkSize = occurrencesPerChunk({ graph, pair, traj, params, occ: group, sites, length }, options);
    for (let i = 0; i < group.length; i += chunkSize) {
      throwIfAborted(options.signal);
      const occ = group.slice(i, i + chunkSize);
      const task: ChunkTask = { graph, pair, traj, params, occ, sites, length };
      const indices = occ.map((o) => position.get(o)!);
      const count = pair.ofDim * pair.wrtDim;
      // Either the statistics from the structured factors, or dense matrices: asked for, produced by autodiff,
      // or the factored sums were too ill-conditioned (then densified from the same structured Jacobian).
      let measured: unknown;
      let identical = false;
      const rows = occ.length * traj.B;
      // Host arrays leave the scope through this variable, not tidy's result: tidy walks what it returns looking
      // for tensors, element by element for a typed array (20 ms for the seed example's 40 000 numbers).
      let host: { moments: ChunkMoments } | { data: Float32Array } | undefined;
      const dense = t.tidy((): Tensor3D | undefined => {
        const j: SJ = options.method === 'structured' ? structuredChunk(task) : { kind: 'dense', m: autodiffChunk(task) };
        if (options.withJacobians) measured = options.withJacobians(j, rows);
        identical = j.kind === 'shared' || j.kind === 'identity' || j.kind === 'zero';
        const sums = options.dense || j.kind === 'dense' ? undefined : momentSums(j, rows);
        const fromSums = sums && momentsFromSums(sums.sum.dataSync() as Float32Array, sums.sumSq.dataSync() as Float32Array, count);
        // Sums too ill-conditioned: the statistics from the matrices, made dense a slice at a time (a chunk of factored
        // Jacobians is sized for their factors, and whole it could be many times the budget dense).
        const moments = fromSums ?? (sums ? momentsBySlices(j, rows, Math.max(1, Math.floor(options.chunkBytes / (6 * count * 4)))) : undefined);
        const data = moments ? undefined : denseOnHost(j, rows);
        host = moments ? { moments } : data && { data };
        return host ? undefined : toDense(j, rows);
      });
      if (host && 'moments' in host) {
        await sink({ indices, moments: host.moments, measured, identical });
      } else if (host) {
        await sink({ indices, moments: hostMoments(host.data, rows, count), data: options.dense ? host.data : undefined, measured, identical });
      } else if (dense) {
        const m = chunkMoments(dense);
        const data = options.dense ? (dense.dataSync() as Float32Array) : undefined;
        dense.dispose();
        await sink({ indices, moments: m, data, measured, identical });
      }
      done += occ.length;
      options.onChunk?.(done, total);
      await new Promise((r) => setImmediate(r));
    }
  }
}
