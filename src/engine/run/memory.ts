// Estimates a run's memory before anything is allocated, so a run that cannot fit is refused with
// the number it would need instead of failing halfway (or taking the machine down).
import type { JacobianMethod, RunSpec } from '../config/spec';
import { UserError } from '../errors';
import { referableTensors, type CellGraph } from '../graph/graph';
import { bytesPerOccurrence } from './jacobians';
import { occurrenceGroups, type ResolvedPair } from './pairs';

export interface MemoryPart {
  what: string;
  bytes: number;
  /** Config key the part grows with, to locate the refusal. */
  path: string;
}

export function estimateMemory(
  graph: CellGraph,
  spec: RunSpec,
  pairs: ResolvedPair[],
  keepJacobians: boolean,
  chunkBytes: number,
  method: JacobianMethod,
): MemoryPart[] {
  const { timeSteps: T, batchSize: B } = spec;
  const parts: MemoryPart[] = [];
  // Params exist twice: as Float32Array (for --save and theory) and as a backend tensor.
  const paramBytes = graph.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1) * 4 * 2, 0);
  parts.push({ what: 'parameters', bytes: paramBytes, path: 'units' });
  const trajBytes = referableTensors(graph).reduce((s, n) => s + (T + 1) * B * n.shape[0] * 4, 0);
  parts.push({ what: 'trajectory (every tensor at every step)', bytes: trajBytes * 2, path: 'timeSteps' });
  for (const pair of pairs) {
    const matrices = pair.occurrences.length * B;
    const matrix = pair.ofDim * pair.wrtDim * 4;
    if (keepJacobians) parts.push({ what: `kept Jacobians ${pair.request.of} wrt ${pair.request.wrt}`, bytes: matrices * matrix, path: pair.request.path });
    const longest = Math.max(...occurrenceGroups(pair).map((g) => g.length));
    const one = bytesPerOccurrence(graph, pair, B, method, longest);
    parts.push({ what: `working memory for ${pair.request.of} wrt ${pair.request.wrt}`, bytes: Math.max(one, Math.min(chunkBytes, one * pair.occurrences.length)), path: pair.request.path });
  }
  return parts;
}

export function formatBytes(bytes: number): string {
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
