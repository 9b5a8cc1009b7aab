// Turns `{of: "h@t", wrt: "h@t-1"}` into where the perturbation enters the unrolled graph and which
// window of steps each Jacobian spans.
//
// Meaning of the times: NAME@s is the value NAME takes in step s. A state at time s is the state that
// step s+1 starts from, so `wrt: h@s` with `of` at a later step perturbs the leaf h_prev of step s+1 with
// the other states of that step held fixed — the transition Jacobian the seed computes with
// batch_jacobian. With `of` at the same step s (`o@t` wrt `c@t`), the state is perturbed where step s
// computes it. Any other tensor at time s is perturbed where step s computes it (inputs: leaves of step s).
import type { JacobianRequest, RunSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph, GraphNode } from '../graph/graph';
import { referableTensors } from '../graph/graph';
import { isRefError, parseTensorRef, resolveTime, type TensorRef } from './tensorRef';

export interface Occurrence {
  /** The step label reported to the user (the value of t, or the `of` step for fixed pairs). */
  t: number;
  /** The node of the first step graph that is perturbed (for a state entering the window: its `_prev` leaf). */
  site: string;
  /** First step graph of the window (where the perturbation enters). */
  start: number;
  /** Step graph whose value of `of` is differentiated. */
  end: number;
}

export interface ResolvedPair {
  request: JacobianRequest;
  index: number;
  ofNode: GraphNode;
  wrtNode: GraphNode;
  ofDim: number;
  wrtDim: number;
  occurrences: Occurrence[];
}

export function resolvePairs(graph: CellGraph, spec: RunSpec): ResolvedPair[] {
  const T = spec.timeSteps;
  const tensors = new Map(referableTensors(graph).map((n) => [n.name, n]));
  const stateByName = new Map(graph.states.map((s) => [s.name, s]));
  const issues = [];
  const pairs: ResolvedPair[] = [];
  for (const [index, request] of spec.jacobians.entries()) {
    const refs: TensorRef[] = [];
    for (const key of ['of', 'wrt'] as const) {
      const r = parseTensorRef(request[key]);
      if (isRefError(r)) {
        issues.push(spec.locator.issueAt(`${request.path}.${key}`, r.message));
        continue;
      }
      if (!tensors.has(r.name)) {
        issues.push(
          spec.locator.issueAt(
            `${request.path}.${key}`,
            `unknown tensor "${r.name}" in cell ${graph.cell}; its tensors are ${[...tensors.keys()].filter((n) => !n.startsWith('_')).join(', ')}`,
          ),
        );
        continue;
      }
      refs.push(r);
    }
    if (refs.length < 2) continue;
    const [of, wrt] = refs;
    const ofNode = tensors.get(of.name)!;
    const wrtNode = tensors.get(wrt.name)!;
    const wrtState = stateByName.get(wrt.name);
    const relative = of.time.kind === 'relative' || wrt.time.kind === 'relative';
    const occurrences: Occurrence[] = [];
    for (let t = relative ? 1 : T; t <= T; t++) {
      const end = resolveTime(of.time, t, T);
      const wrtTime = resolveTime(wrt.time, t, T);
      const entersNextStep = wrtState !== undefined && end > wrtTime;
      const start = entersNextStep ? wrtTime + 1 : wrtTime;
      const site = entersNextStep ? wrtState.prev : wrt.name;
      if (start >= 1 && end >= start && end <= T) occurrences.push({ t: relative ? t : end, site, start, end });
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
    pairs.push({ request, index, ofNode, wrtNode, ofDim: ofNode.shape[0], wrtDim: wrtNode.shape[0], occurrences });
  }
  if (issues.length) throw new UserError('config', issues);
  return pairs;
}

export interface OccurrenceGroup {
  length: number;
  site: string;
  occurrences: Occurrence[];
}

/** Groups occurrences that share a window length and a site: each group is computed as batches of rows. */
export function occurrenceGroups(pair: ResolvedPair): OccurrenceGroup[] {
  const groups = new Map<string, OccurrenceGroup>();
  for (const o of pair.occurrences) {
    const length = o.end - o.start + 1;
    const key = `${length}|${o.site}`;
    const g = groups.get(key) ?? { length, site: o.site, occurrences: [] };
    g.occurrences.push(o);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/**
 * An upper bound on a request's steps from its times alone, before any list is built: T when either end
 * is relative to t (one Jacobian per step at most), else 1. Memory is checked against it first.
 */
export function maxOccurrences(request: JacobianRequest, T: number): number {
  const refs = [parseTensorRef(request.of), parseTensorRef(request.wrt)];
  return refs.some((r) => !isRefError(r) && r.time.kind === 'relative') ? T : 1;
}
