// The Jacobians of one pair and their diagnostics, as the registry (src/engine/diagnostics) declares
// them: moments from the pass that makes the Jacobians; spectral norm and radius matrix-free on the
// structured Jacobians while they exist (or dense where n is small); whole spectra from the dense
// float64 decompositions, only when asked for.
import type { JacobianMethod, RunSpec } from '../config/spec';
import type { Tensor } from '../backend/tf';
import { DIAGNOSTIC_DEFS, type DiagnosticDef, type DiagnosticName } from '../diagnostics';
import type { SpectrumNeed } from '../diagnostics/diagnostic';
import { throwIfAborted } from '../errors';
import type { CellGraph } from '../graph/graph';
import { krylovBytesPerRow } from '../spectra/arnoldi';
import { DEFAULT_KRYLOV } from '../spectra/krylov';
import { operatorOf } from '../spectra/operator';
import { spectraMethodFor, withDenseFallback, type PerMatrix, type SpectraMethod } from '../spectra/extremes';
import { spectrumOf, type MatrixSpectrum } from './diagnostics';
import { computeJacobians } from './jacobians';
import { measureRows, MIN_SPLIT_ROWS } from './measureRows';
import { secondThreadSettled } from '../thread/secondThread';
import type { ResolvedPair } from './pairs';
import type { KrylovSummary, PairArrays, PairReport, SpectraReport, StepStats } from './report';
import type { Trajectory } from './rollout';
import { expectedVarTimesFanIn } from './theory';

export interface PairRunOptions {
  method: JacobianMethod;
  keep: boolean;
  chunkBytes: number;
  signal?: AbortSignal;
  onChunk: (done: number) => void;
  spectra?: 'auto' | SpectraMethod;
  log?: (line: string) => void;
}

type Def = DiagnosticDef<DiagnosticName>;

const union = (needs: (SpectrumNeed | undefined)[]): { singular: boolean; eigen: boolean } => ({
  singular: needs.some((n) => n?.singular),
  eigen: needs.some((n) => n?.eigen),
});

/** Which diagnostics of a pair are computed, and how. */
function plan(spec: RunSpec, out: number, inn: number, forced: 'auto' | SpectraMethod) {
  const listed = DIAGNOSTIC_DEFS.filter(
    (d) => (d.always || spec.diagnostics.includes(d.name)) && (!d.squareOnly || out === inn),
  ) as Def[];
  const scalars = listed.filter((d) => d.scalar);
  const arrayDefs = listed.filter((d) => d.arrays);
  const whole = union(arrayDefs.map((d) => d.arrays!.spectrum));
  const choice = forced === 'auto' ? spectraMethodFor(Math.min(out, inn)) : { method: forced, reason: `--spectra ${forced}` };
  // Matrix-free unless n is small, or the whole decomposition is computed anyway for an array diagnostic.
  const coveredByWhole = (need: SpectrumNeed | undefined) => (!need?.singular || whole.singular) && (!need?.eigen || whole.eigen);
  const viaOperator = scalars.filter(
    (d) => d.scalar!.matrixFree && choice.method === 'matrix-free' && !coveredByWhole(d.scalar!.spectrum),
  );
  const viaSpectrum = scalars.filter((d) => !d.scalar!.fromMoments && !viaOperator.includes(d));
  const need = union([whole, ...viaSpectrum.map((d) => d.scalar!.spectrum)]);
  // Scalars alone need only σ₁ of the singular values (spectralNorm), which costs far less than an SVD.
  const spectrum = { eigen: need.eigen, singular: whole.singular || (need.singular && ('largest' as const)) };
  return { scalars, arrayDefs, viaOperator, viaSpectrum, spectrum, choice };
}

/**
 * Whether a pair's spectra are measured matrix-free over enough rows to share them with the second thread: analyze
 * then starts the thread before the rollout, so that it has loaded TensorFlow when the first chunk comes.
 */
export function sharesMeasurements(spec: RunSpec, pair: ResolvedPair, spectra: 'auto' | SpectraMethod): boolean {
  return plan(spec, pair.ofDim, pair.wrtDim, spectra).viaOperator.length > 0 && pair.occurrences.length * spec.batchSize >= MIN_SPLIT_ROWS;
}

function summary(tol: number, perMatrix: PerMatrix[], at: (row: number, chunk: number) => { t: number; b: number }): KrylovSummary {
  const products: number[] = [];
  const denseFallbacks: { t: number; b: number }[] = [];
  perMatrix.forEach((p, chunk) =>
    p.products.forEach((count, row) => {
      products.push(count);
      if (p.dense[row]) denseFallbacks.push(at(row, chunk));
    }),
  );
  const total = products.reduce((a, b) => a + b, 0);
  return {
    tol,
    products: { min: Math.min(...products), mean: total / Math.max(products.length, 1), max: Math.max(...products) },
    denseFallbacks,
  };
}

export async function pairDiagnostics(
  spec: RunSpec,
  graph: CellGraph,
  pair: ResolvedPair,
  traj: Trajectory,
  paramTensors: ReadonlyMap<string, Tensor>,
  trained: ReadonlySet<string>,
  options: PairRunOptions,
): Promise<{ report: PairReport; arrays: PairArrays; spectralMs: number }> {
  const B = spec.batchSize;
  const steps = pair.occurrences.length;
  const [out, inn] = [pair.ofDim, pair.wrtDim];
  const matrix = out * inn;
  const p = plan(spec, out, inn, options.spectra ?? 'auto');
  const hasSpectrum = !!p.spectrum.singular || p.spectrum.eigen;
  const arrays: PairArrays = options.keep ? { jacobians: new Float32Array(steps * B * matrix) } : {};
  for (const d of p.arrayDefs) Object.assign(arrays, d.arrays!.allocate(steps * B, out, inn));
  const stats: StepStats[] = pair.occurrences.map((o) => {
    const s: Record<string, unknown> = { t: o.t };
    for (const d of p.scalars) s[d.name] = new Array<number>(B);
    return s as unknown as StepStats;
  });
  const krylov = { ...DEFAULT_KRYLOV, seed: spec.seed };
  const measuredChunks = new Map<string, PerMatrix[]>(p.viaOperator.map((d) => [d.name, []]));
  const chunkSteps: number[][] = [];
  let spectralMs = 0;
  if (p.viaOperator.length > 0 || p.viaSpectrum.length > 0) {
    const how = p.viaOperator.length > 0 ? p.choice : { method: 'dense', reason: p.choice.reason };
    options.log?.(`${pair.request.of} wrt ${pair.request.wrt}: spectra ${how.method} (${how.reason})`);
  }
  // Whether the measurements are shared must not depend on how soon the second thread loaded: the same run, the same numbers.
  if (p.viaOperator.length > 0) await secondThreadSettled(60_000);
  await computeJacobians(
    graph,
    pair,
    traj,
    paramTensors,
    {
      method: options.method,
      dense: options.keep || hasSpectrum,
      chunkBytes: options.chunkBytes,
      measureBytesPerRow: p.viaOperator.length > 0 ? krylovBytesPerRow(Math.max(out, inn)) : 0,
      signal: options.signal,
      onChunk: options.onChunk,
      withJacobians:
        p.viaOperator.length === 0
          ? undefined
          : (j, rows) => {
              const start = performance.now();
              const op = operatorOf(j, rows);
              const measured = new Map<string, PerMatrix>();
              const results = measureRows(j, rows, p.viaOperator, krylov, op);
              p.viaOperator.forEach((d, k) => {
                const s = d.scalar!;
                const need = { singular: !!s.spectrum?.singular && ('largest' as const), eigen: !!s.spectrum?.eigen };
                const dense = (data: Float32Array, offset: number, r: number, c: number) => s.fromSpectrum!(spectrumOf(data, offset, r, c, need));
                measured.set(d.name, withDenseFallback(op, results[k], dense));
              });
              spectralMs += performance.now() - start;
              return measured;
            },
    },
    (chunk) => {
      const { moments, data } = chunk;
      const measured = chunk.measured as Map<string, PerMatrix> | undefined;
      const spectralStart = performance.now();
      chunkSteps.push(chunk.indices);
      measured?.forEach((pm, name) => measuredChunks.get(name)!.push(pm));
      // One matrix for every row (a linear cell): its decompositions are computed once for the chunk.
      let first: MatrixSpectrum | undefined;
      chunk.indices.forEach((occ, c) => {
        for (let b = 0; b < B; b++) {
          const row = c * B + b;
          const s = stats[occ] as unknown as Record<string, number[]>;
          const target = occ * B + b;
          if (data && arrays.jacobians) arrays.jacobians.set(data.subarray(row * matrix, (row + 1) * matrix), target * matrix);
          let sp: MatrixSpectrum | undefined;
          if (data && hasSpectrum) {
            throwIfAborted(options.signal);
            sp = chunk.identical && first ? first : spectrumOf(data, row * matrix, out, inn, p.spectrum);
            first ??= sp;
          }
          for (const d of p.scalars) {
            const sc = d.scalar!;
            if (sc.fromMoments) s[d.name][b] = sc.fromMoments(moments, row, { out, in: inn });
            else if (measured?.has(d.name)) s[d.name][b] = measured.get(d.name)!.values[row];
            else if (sp) s[d.name][b] = sc.fromSpectrum!(sp);
          }
          if (sp) for (const d of p.arrayDefs) d.arrays!.write(sp, arrays, target, out, inn);
        }
      });
      spectralMs += performance.now() - spectralStart;
    },
  );
  return {
    report: {
      of: pair.request.of,
      wrt: pair.request.wrt,
      path: pair.request.path,
      outDim: out,
      inDim: inn,
      method: options.method,
      expected: expectedVarTimesFanIn(spec, graph, pair, traj, paramTensors, trained),
      steps: stats,
      ...spectraReport(p, measuredChunks, (row, chunk) => ({ t: stats[chunkSteps[chunk][Math.floor(row / B)]].t, b: row % B })),
    },
    arrays,
    spectralMs,
  };
}

function spectraReport(
  p: ReturnType<typeof plan>,
  measured: Map<string, PerMatrix[]>,
  at: (row: number, chunk: number) => { t: number; b: number },
): { spectra?: SpectraReport } {
  const spectral = p.scalars.filter((d) => d.name === 'spectralNorm' || d.name === 'spectralRadius');
  if (spectral.length === 0) return {};
  const matrixFree = p.viaOperator.length > 0;
  const report: SpectraReport = {
    method: matrixFree ? 'matrix-free' : 'dense',
    reason: matrixFree || p.choice.method === 'dense' ? p.choice.reason : 'the whole decompositions are computed for singularValues/eigenvalues',
  };
  for (const [name, chunks] of measured) {
    if (chunks.length) (report as unknown as Record<string, KrylovSummary>)[name] = summary(chunks[0].tol, chunks, at);
  }
  return { spectra: report };
}
