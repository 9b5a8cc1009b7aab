// What a diagnostic declares. One file per diagnostic (this folder) says what it needs, how it is
// computed, what it reports, its name in the config schema, and how the CLI and the panel show it;
// index.ts lists them, and the schema's enum, the RunSpec's names, the CLI table and the run read that
// list. Adding a diagnostic is one file here, its line in index.ts, and its test.
import type { ChunkMoments } from '../run/diagnostics';
import type { MatrixSpectrum } from '../run/diagnostics';
import type { BatchedOperator } from '../spectra/operator';
import type { KrylovOptions, KrylovResult } from '../spectra/krylov';
import type { PairArrays } from '../run/report';

/**
 * What a diagnostic reads: each Jacobian of a pair on its own ('jacobian'), or the whole series of a state
 * transition pair S@t wrt S@t-1 ('series': products along the trajectory, computed by series/run.ts).
 */
export type DiagnosticNeed = 'jacobian' | 'series';

/** A diagnostic of a transition pair's whole series (series/run.ts computes it), reported as PairReport[report]. */
export interface SeriesComputation {
  report: 'gradient' | 'lyapunov';
}

/** Which dense float64 decompositions a diagnostic reads (computed once per matrix for all that ask). */
export interface SpectrumNeed {
  singular?: boolean;
  eigen?: boolean;
}

/** One number per Jacobian, reported as StepStats[name][b] (an array over the batch per step). */
export interface ScalarComputation {
  /** From the chunk's moments (reduced on the backend, from the structured factors when possible). */
  fromMoments?: (m: ChunkMoments, row: number, shape: { out: number; in: number }) => number;
  /** From the dense decomposition of the matrix (small n, whole spectra computed anyway, or a fallback). */
  fromSpectrum?: (s: MatrixSpectrum) => number;
  spectrum?: SpectrumNeed;
  /** Matrix-free on all the chunk's Jacobians at once; unconverged matrices fall back to fromSpectrum. */
  matrixFree?: (op: BatchedOperator, options: KrylovOptions) => KrylovResult;
}

/** Whole arrays per Jacobian (RunArrays), written from the dense decomposition. */
export interface ArrayComputation {
  spectrum: SpectrumNeed;
  /** Floats kept per Jacobian of shape out×in (for the memory estimate). */
  floatsPerMatrix: (out: number, inn: number) => number;
  /** Allocates the pair's arrays for `matrices` Jacobians of shape out×in. */
  allocate: (matrices: number, out: number, inn: number) => Partial<PairArrays>;
  /** Writes matrix `target`'s values. */
  write: (s: MatrixSpectrum, arrays: PairArrays, target: number, out: number, inn: number) => void;
}

export interface DiagnosticDef<N extends string = string> {
  /** Its name in configs (the schema's enum), in StepStats and in --json. */
  name: N;
  /** One line for the schema's enumDescriptions (completion and hover in the editor). */
  description: string;
  needs: DiagnosticNeed;
  /** In the config's default `diagnostics` list. */
  default: boolean;
  /** Reported whether listed or not: it comes from the pass that makes the Jacobians, at no extra cost. */
  always?: boolean;
  /** Defined for square Jacobians only (eigenvalues). */
  squareOnly?: boolean;
  scalar?: ScalarComputation;
  arrays?: ArrayComputation;
  series?: SeriesComputation;
  /** A column of the CLI's table (absent: --json and --save only). */
  cli?: { header: string };
  /** Where the panel draws it. */
  panel: { view: 'variance' | 'spectral' | 'singularValues' | 'eigenvalues' | 'gradient' | 'lyapunov'; label: string };
}

/** Keeps the literal name type, so the registry yields the DiagnosticName union. */
export const defineDiagnostic = <N extends string>(def: DiagnosticDef<N>): DiagnosticDef<N> => def;
