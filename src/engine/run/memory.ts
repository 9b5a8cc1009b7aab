// Estimates a run's memory before anything is allocated, so a run that cannot fit is refused with
// the number it would need instead of failing halfway (or taking the machine down). Two checks:
// plannedMemory runs on the spec and the cell's shapes alone, before any per-step list exists (a
// `timeSteps` of 10⁹ is refused here, not by V8 running out of heap); estimateMemory runs once the
// pairs are resolved, with their exact step counts and whether whole Jacobians are kept.
import type { DiagnosticName, JacobianMethod, JacobianRequest, RunSpec } from '../config/spec';
import { diagnosticDef } from '../diagnostics';
import { UserError } from '../errors';
import { referableTensors, type CellGraph } from '../graph/graph';
import { bytesPerOccurrence } from './jacobians';
import { maxOccurrences, occurrenceGroups, refDim, type ResolvedPair } from './pairs';
import { seriesMemory } from '../series/run';

export interface MemoryPart {
  what: string;
  bytes: number;
  /** Config key the part grows with, to locate the refusal. */
  path: string;
}

/**
 * One step of one pair, outside the Jacobians: its occurrence record, its statistics (up to five arrays of
 * B numbers) and those statistics again as report JSON (about 24 characters a number, two bytes each).
 * Measured in V8 as ~150 bytes per record plus 8·B per array; rounded up.
 */
function stepRecordBytes(B: number): number {
  const statistics = 5;
  return 256 + statistics * (32 + 8 * B) + statistics * B * 48;
}

/**
 * Whole spectra kept per step and sequence (the registry's array diagnostics that are listed), and the work of
 * one dense decomposition wherever one can happen (whole spectra, small n, or a Krylov fallback): ml-matrix
 * holds the matrix in float64 with about three more of its size.
 */
function spectraBytes(steps: number, B: number, ofDim: number, wrtDim: number, diagnostics: readonly DiagnosticName[]): number {
  const defs = diagnostics.map(diagnosticDef).filter((d) => !d.squareOnly || ofDim === wrtDim);
  const floats = defs.filter((d) => d.arrays).reduce((sum, d) => sum + d.arrays!.floatsPerMatrix(ofDim, wrtDim), 0);
  const decomposes = defs.some((d) => d.arrays || d.scalar?.spectrum);
  return steps * B * 4 * floats + (decomposes ? 4 * ofDim * wrtDim * 8 : 0);
}

/** Parameters and the trajectory: known from the cell's shapes and the spec, whatever the pairs. */
function baseParts(graph: CellGraph, spec: RunSpec): MemoryPart[] {
  const { timeSteps: T, batchSize: B } = spec;
  // Params exist twice: as Float32Array (for --save and theory) and as a backend tensor.
  const paramBytes = graph.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1) * 4 * 2, 0);
  const trajBytes = referableTensors(graph).reduce((s, n) => s + (T + 1) * B * n.shape[0] * 4, 0);
  return [
    { what: 'parameters', bytes: paramBytes, path: 'units' },
    { what: 'trajectory (every tensor at every step)', bytes: trajBytes * 2, path: 'timeSteps' },
  ];
}

function stepParts(request: JacobianRequest, steps: number, ofDim: number, wrtDim: number, spec: RunSpec): MemoryPart[] {
  const B = spec.batchSize;
  const name = `${request.of} wrt ${request.wrt}`;
  return [
    { what: `per-step records of ${name} (${steps} step${steps === 1 ? '' : 's'})`, bytes: steps * stepRecordBytes(B), path: 'timeSteps' },
    { what: `spectra of ${name}`, bytes: spectraBytes(steps, B, ofDim, wrtDim, spec.diagnostics), path: 'diagnostics' },
  ];
}

/**
 * What a run needs before its pairs are resolved: parameters, trajectory, and per pair its per-step
 * records, spectra and one occurrence's working memory, with the step count bounded from the times alone
 * (T for a pair relative to t). Requests naming unknown tensors are left to resolvePairs to report.
 */
export function plannedMemory(graph: CellGraph, spec: RunSpec, method: JacobianMethod): MemoryPart[] {
  const parts = baseParts(graph, spec);
  for (const request of spec.jacobians) {
    // Tuples and `state` are sized by their components.
    const [ofDim, wrtDim] = [refDim(graph, request.of), refDim(graph, request.wrt)];
    if (ofDim === undefined || wrtDim === undefined) continue;
    parts.push(...stepParts(request, maxOccurrences(request, spec.timeSteps), ofDim, wrtDim, spec));
    const oneJacobian = spec.batchSize * ofDim * wrtDim * 4 * (method === 'structured' ? 6 : 2);
    parts.push({ what: `working memory for ${request.of} wrt ${request.wrt}`, bytes: oneJacobian, path: request.path });
  }
  return parts;
}

export function estimateMemory(
  graph: CellGraph,
  spec: RunSpec,
  pairs: ResolvedPair[],
  keepJacobians: boolean,
  chunkBytes: number,
  method: JacobianMethod,
): MemoryPart[] {
  const B = spec.batchSize;
  const parts = baseParts(graph, spec);
  for (const pair of pairs) {
    const steps = pair.occurrences.length;
    const matrix = pair.ofDim * pair.wrtDim * 4;
    if (keepJacobians) parts.push({ what: `kept Jacobians ${pair.request.of} wrt ${pair.request.wrt}`, bytes: steps * B * matrix, path: pair.request.path });
    parts.push(...stepParts(pair.request, steps, pair.ofDim, pair.wrtDim, spec));
    const longest = Math.max(...occurrenceGroups(pair).map((g) => g.length));
    const one = bytesPerOccurrence(graph, pair, B, method, longest);
    parts.push({ what: `working memory for ${pair.request.of} wrt ${pair.request.wrt}`, bytes: Math.max(one, Math.min(chunkBytes, one * steps)), path: pair.request.path });
    parts.push(...seriesMemory(spec, graph, pair));
  }
  return parts;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toFixed(1)} TB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return `${(bytes / 2 ** 10).toFixed(1)} KB`;
}

/** Throws a located UserError when the estimate exceeds the limit. */
export function checkMemory(parts: MemoryPart[], limitMB: number, spec: RunSpec): void {
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  if (total <= limitMB * 2 ** 20) return;
  const biggest = [...parts].sort((a, b) => b.bytes - a.bytes);
  const detail = biggest.slice(0, 3).map((p) => `${p.what} ${formatBytes(p.bytes)}`).join(', ');
  // When even one units×units matrix does not fit, `units` is the key to change, whatever part is biggest.
  const oneMatrix = spec.units * spec.units * 4;
  const path = oneMatrix * 4 > limitMB * 2 ** 20 ? 'units' : biggest[0].path;
  throw new UserError('memory', [
    spec.locator.issueAt(
      path,
      `this run would need about ${formatBytes(total)} (${detail}), more than maxMemoryMB = ${limitMB} MB allows; ` +
        `reduce units, timeSteps, batchSize or the Jacobians kept, or raise maxMemoryMB`,
    ),
  ]);
}
