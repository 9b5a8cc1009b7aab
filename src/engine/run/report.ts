// The versioned result of a run. Small numbers travel as JSON; whole Jacobians and spectra travel
// beside it as Float32Array (RunArrays) so that neither the engine process nor the webview
// ever turns a million floats into JSON text.
import type { DiagnosticName, JacobianMethod } from '../config/spec';
import type { LyapunovSpectrum } from '../series/lyapunov';
import type { GradientCurve } from '../series/propagation';

export const REPORT_SCHEMA_VERSION = 1;

/** Theory's prediction for a Jacobian, when one exists. */
export interface Expected {
  varTimesFanIn: number;
  /** Human-readable derivation, e.g. `fan_in·Var(W)·E[relu'(z)²] = 100·0.01·0.50`. */
  formula: string;
}

/** Statistics of the Jacobians of one step; each array runs over the batch. */
export interface StepStats {
  t: number;
  mean: number[];
  varTimesFanIn: number[];
  frobenius: number[];
  spectralNorm?: number[];
  spectralRadius?: number[];
}

export interface PairReport {
  of: string;
  wrt: string;
  /** JSON path of the request in the config (`jacobians[0]`). */
  path: string;
  outDim: number;
  inDim: number;
  method: JacobianMethod;
  /** Why autodiff was used for a structured request (an op without a rule), if it was. */
  fallbackReason?: string;
  expected: Expected | null;
  steps: StepStats[];
  /** For a state transition pair with `gradientPropagation`: ln‖∂s_T/∂s_t‖ for every t < T and its rate. */
  gradient?: GradientCurve;
  /** For a state transition pair with `lyapunov`: the exponents, their spread and convergence. */
  lyapunov?: LyapunovSpectrum;
  /** How spectralNorm / spectralRadius were computed, when either was. */
  spectra?: SpectraReport;
}

/** Operator products per matrix of a Krylov method, and the matrices it handed to the dense method. */
export interface KrylovSummary {
  /** Relative accuracy asked of each value. */
  tol: number;
  products: { min: number; mean: number; max: number };
  /** Matrices whose value came from the dense method because the iteration did not converge. */
  denseFallbacks: { t: number; b: number }[];
}

export interface SpectraReport {
  method: 'matrix-free' | 'dense';
  /** Why this method (chosen by size, from measurements). */
  reason: string;
  spectralNorm?: KrylovSummary;
  spectralRadius?: KrylovSummary;
}

export interface RunTimings {
  buildMs: number;
  rolloutMs: number;
  jacobianMs: number;
  diagnosticsMs: number;
  totalMs: number;
}

export interface LayerSummary {
  name: string;
  cell: string;
  units: number;
  inputDim: number;
  activation: string;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  config: string;
  cell: string;
  units: number;
  inputDim: number;
  activation: string;
  timeSteps: number;
  batchSize: number;
  seed: number;
  backend: string;
  /** Why this backend: asked for, or auto's estimate of the run's work on each. */
  backendReason?: string;
  method: JacobianMethod;
  diagnostics: DiagnosticName[];
  /** The layers of a stacked network, bottom first; absent for one cell. */
  layers?: LayerSummary[];
  timings: RunTimings;
  jacobians: PairReport[];
}

/** Whole arrays of one Jacobian pair, row-major. */
export interface PairArrays {
  /** [steps, B, out, in]; entry [k, b, i, j] = ∂of_i/∂wrt_j at step k of the pair. Absent when not kept. */
  jacobians?: Float32Array;
  /** [steps, B, min(out, in)], descending. Present when spectralNorm or singularValues was computed. */
  singularValues?: Float32Array;
  /** [steps, B, n] real and imaginary parts, sorted by decreasing modulus. Square Jacobians only. */
  eigenvaluesRe?: Float32Array;
  eigenvaluesIm?: Float32Array;
}

export interface NamedArray {
  /** Keras name for parameters (`linear_rec/kernel`), tensor name for trajectories (`h`). */
  name: string;
  kind: 'param' | 'state' | 'input' | 'intermediate' | 'output';
  shape: number[];
  data: Float32Array;
  meaning: string;
}

export interface RunArrays {
  pairs: PairArrays[];
  /** Parameters and the trajectory (states [T+1,B,d], others [T,B,d]), kept for --save and export. */
  tensors: NamedArray[];
}

export interface RunResult {
  report: Report;
  arrays: RunArrays;
}
