// The matrix-free measurements of a chunk's Jacobians (spectral radius, spectral norm: each diagnostic's
// `matrixFree` Krylov method), split between this thread and the second one (thread/secondThread.ts): the worker
// takes the first half of the rows, this thread the second meanwhile. Each Krylov step is a few small backend ops,
// a read-back and small float64 problems per row, issued from one thread: one thread keeps one core busy. Each row
// starts from the vector the unsplit run would give it (KrylovOptions.firstRow).
import type { DiagnosticDef } from '../diagnostics';
import type { SJ } from '../graph/structuredJacobian';
import type { KrylovOptions, KrylovResult } from '../spectra/krylov';
import { operatorOf, type BatchedOperator } from '../spectra/operator';
import { isMeasureReply } from '../thread/protocol';
import { secondThread } from '../thread/secondThread';
import { toWire, wireBuffers } from '../thread/wireJacobian';

/**
 * Fewer rows than this run on one thread: a split costs a copy of the worker's rows and a thread hop, and each half
 * pays every Krylov step's fixed cost (a dozen backend ops of ~15 µs and a read-back), which small blocks are made of.
 */
export const MIN_SPLIT_ROWS = 16;

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Two results for consecutive blocks of rows, as one. */
function joined(a: KrylovResult, b: KrylovResult): KrylovResult {
  const cat = <T extends Float64Array | Int32Array | Uint8Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    tol: a.tol,
    values: cat(a.values, b.values, (n) => new Float64Array(n)),
    products: cat(a.products, b.products, (n) => new Int32Array(n)),
    converged: cat(a.converged, b.converged, (n) => new Uint8Array(n)),
  };
}

/**
 * Each diagnostic's matrix-free result for the N = `rows` Jacobians j, in the order of `defs`. Runs inside the
 * chunk's tensor scope (the narrowed operators' tensors are freed with it).
 */
export function measureRows(j: SJ, rows: number, defs: DiagnosticDef[], krylov: KrylovOptions, op: BatchedOperator = operatorOf(j, rows)): KrylovResult[] {
  const run = (part: BatchedOperator, firstRow: number) => defs.map((d) => d.scalar!.matrixFree!(part, { ...krylov, firstRow }));
  // Diagonal forms are exact without products: nothing to share.
  const thread = rows >= MIN_SPLIT_ROWS && !op.maxAbsDiagonal ? secondThread() : undefined;
  if (!thread) return run(op, 0);
  const half = Math.floor(rows / 2);
  const wire = toWire(j, rows, 0, half);
  const job = { type: 'measureJob' as const, rows: half, jacobian: wire, diagnostics: defs.map((d) => d.name), options: krylov };
  const pending = thread.submit(job, isMeasureReply, wireBuffers(wire));
  const mine = run(op.select(range(half, rows)), half);
  const theirs = pending.wait()?.results ?? run(op.select(range(0, half)), 0);
  return mine.map((m, k) => joined(theirs[k], m));
}
