// Turns `{of: "h@t", wrt: "h@t-1"}` into where the perturbation enters the unrolled graph and which
// window of steps each Jacobian spans.
//
// Meaning of the times: NAME@s is the value NAME takes in step s. A state at time s is the state that
// step s+1 starts from, so `wrt: h@s` with `of` at a later step perturbs the leaf h_prev of step s+1 with
// the other states of that step held fixed — the transition Jacobian the seed computes with
// batch_jacobian. With `of` at the same step s (`o@t` wrt `c@t`), the state is perturbed where step s
// computes it. Any other tensor at time s is perturbed where step s computes it (inputs: leaves of step s).
//
// A tuple (`l0.(h,c)`, `state`) names several tensors at once: `of` stacks their rows and `wrt` their
// columns, in the order written, so `state@t wrt state@t-1` is the network's whole transition Jacobian.
import type { JacobianRequest, RunSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph, GraphNode, StateDecl } from '../graph/graph';
import { referableTensors } from '../graph/graph';
import { isRefError, parseTensorRef, resolveTime, type TensorRef } from './tensorRef';

export interface Occurrence {
  /** The step label reported to the user (the value of t, or the `of` step for fixed pairs). */
  t: number;
  /**
   * The nodes of the first step graph that are perturbed, one per `wrt` component, in order (for a state
   * entering the window: its `_prev` leaf).
   */
  sites: string[];
  /** First step graph of the window (where the perturbation enters). */
  start: number;
  /** Step graph whose value of `of` is differentiated. */
  end: number;
}

export interface ResolvedPair {
  request: JacobianRequest;
  index: number;
  /** The tensors of `of` (rows) and of `wrt` (columns), in the order written; one each for a plain pair. */
  ofNodes: GraphNode[];
  wrtNodes: GraphNode[];
  /** Sums of their sizes. */
  ofDim: number;
  wrtDim: number;
  occurrences: Occurrence[];
}

/** `state` / `LAYER.state`: every state of the network / of one layer, when no tensor has that name. */
function expandComponent(name: string, graph: CellGraph, tensors: ReadonlyMap<string, GraphNode>): string[] {
  if (tensors.has(name)) return [name];
  if (name === 'state') return graph.states.map((s) => s.name);
  if (name.endsWith('.state')) {
    const prefix = name.slice(0, -'state'.length);
    const states = graph.states.filter((s) => s.name.startsWith(prefix)).map((s) => s.name);
    if (states.length) return states;
  }
  return [name];
}

/** The tensors a reference names, or an issue saying which name is unknown. */
function refNodes(ref: TensorRef, graph: CellGraph, tensors: ReadonlyMap<string, GraphNode>): GraphNode[] | string {
  const names = ref.components.flatMap((c) => expandComponent(c, graph, tensors));
  const unknown = names.find((n) => !tensors.has(n));
  if (unknown !== undefined) {
    const known = [...tensors.keys()].filter((n) => !n.startsWith('_') && !n.includes('._'));
    return `unknown tensor "${unknown}" in cell ${graph.cell}; its tensors are ${known.join(', ')}${graph.states.length ? ', state' : ''}`;
  }
  if (new Set(names).size < names.length) return `"${ref.name}" names a tensor twice`;
  return names.map((n) => tensors.get(n)!);
}

/** Where each `wrt` tensor is perturbed for an `of` computed at step `end`; undefined if they differ in start. */
function windowOf(wrtNodes: GraphNode[], stateByName: ReadonlyMap<string, StateDecl>, end: number, wrtTime: number) {
  const placed = wrtNodes.map((n) => {
    const state = stateByName.get(n.name);
    const entersNextStep = state !== undefined && end > wrtTime;
    return { start: entersNextStep ? wrtTime + 1 : wrtTime, site: entersNextStep ? state.prev : n.name };
  });
  const start = placed[0].start;
  return placed.every((p) => p.start === start) ? { start, sites: placed.map((p) => p.site) } : undefined;
}

export function resolvePairs(graph: CellGraph, spec: RunSpec): ResolvedPair[] {
  const T = spec.timeSteps;
  const tensors = new Map(referableTensors(graph).map((n) => [n.name, n]));
  const stateByName = new Map(graph.states.map((s) => [s.name, s]));
  const issues = [];
  const pairs: ResolvedPair[] = [];
  for (const [index, request] of spec.jacobians.entries()) {
    const refs: { ref: TensorRef; nodes: GraphNode[] }[] = [];
    for (const key of ['of', 'wrt'] as const) {
      const r = parseTensorRef(request[key]);
      const nodes = isRefError(r) ? r.message : refNodes(r, graph, tensors);
      if (typeof nodes === 'string') issues.push(spec.locator.issueAt(`${request.path}.${key}`, nodes));
      else refs.push({ ref: r as TensorRef, nodes });
    }
    if (refs.length < 2) continue;
    const [of, wrt] = refs;
    const relative = of.ref.time.kind === 'relative' || wrt.ref.time.kind === 'relative';
    const occurrences: Occurrence[] = [];
    let mixed = false;
    for (let t = relative ? 1 : T; t <= T; t++) {
      const end = resolveTime(of.ref.time, t, T);
      const window = windowOf(wrt.nodes, stateByName, end, resolveTime(wrt.ref.time, t, T));
      if (!window) mixed = true;
      else if (window.start >= 1 && end >= window.start && end <= T) occurrences.push({ t: relative ? t : end, sites: window.sites, start: window.start, end });
    }
    if (mixed) {
      issues.push(
        spec.locator.issueAt(
          `${request.path}.wrt`,
          `${request.wrt} mixes states with other tensors: a state at an earlier step enters the next step, the others ` +
            `their own step, so they span different windows; name only states, or only tensors of one step`,
        ),
      );
      continue;
    }
    if (occurrences.length === 0) {
      issues.push(
        spec.locator.issueAt(
          request.path,
          `${request.of} wrt ${request.wrt} names no step of a ${T}-step run: \`of\` must be computed at or after ` +
            `the step that computes \`wrt\`, both within steps 1..${T} (a state may also be taken at step 0, its initial value)`,
        ),
      );
      continue;
    }
    const dim = (nodes: GraphNode[]) => nodes.reduce((s, n) => s + n.shape[0], 0);
    pairs.push({ request, index, ofNodes: of.nodes, wrtNodes: wrt.nodes, ofDim: dim(of.nodes), wrtDim: dim(wrt.nodes), occurrences });
  }
  if (issues.length) throw new UserError('config', issues);
  return pairs;
}

export interface OccurrenceGroup {
  length: number;
  sites: string[];
  occurrences: Occurrence[];
}

/** Groups occurrences that share a window length and sites: each group is computed as batches of rows. */
export function occurrenceGroups(pair: ResolvedPair): OccurrenceGroup[] {
  const groups = new Map<string, OccurrenceGroup>();
  for (const o of pair.occurrences) {
    const length = o.end - o.start + 1;
    const key = `${length}|${o.sites.join(',')}`;
    const g = groups.get(key) ?? { length, sites: o.sites, occurrences: [] };
    g.occurrences.push(o);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/**
 * An upper bound on a request's steps from its times alone, before any list is built: T when either end
 * is relative to t (one Jacobian per step at most), else 1. Memory is checked against it first.
 */
/** The summed size of the tensors a reference names (a tuple's and `state`'s included); undefined if unknown. */
export function refDim(graph: CellGraph, text: string): number | undefined {
  const r = parseTensorRef(text);
  if (isRefError(r)) return undefined;
  const nodes = refNodes(r, graph, new Map(referableTensors(graph).map((n) => [n.name, n])));
  return typeof nodes === 'string' ? undefined : nodes.reduce((s, n) => s + n.shape[0], 0);
}

export function maxOccurrences(request: JacobianRequest, T: number): number {
  const refs = [parseTensorRef(request.of), parseTensorRef(request.wrt)];
  return refs.some((r) => !isRefError(r) && r.time.kind === 'relative') ? T : 1;
}
