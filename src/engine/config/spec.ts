// The validated, defaulted form of a `*.jacobian.json` file. Everything after validation works on RunSpec,
// never on raw JSON, so defaults live in exactly one place (validate.ts).
import type { SourceIssue } from '../errors';

export const ACTIVATIONS = [
  'linear', 'relu', 'sigmoid', 'hard_sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'gelu',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const BUILTIN_CELLS = ['seed', 'simple_rnn', 'lstm', 'gru'] as const;
export type BuiltinCellName = (typeof BUILTIN_CELLS)[number];
export type CellName = BuiltinCellName | 'custom';

export const INITIALIZERS = [
  'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal',
  'orthogonal', 'identity', 'zeros', 'ones', 'constant', 'random_normal', 'random_uniform', 'truncated_normal',
] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

/** A Keras initializer with its arguments; absent arguments take Keras's defaults. */
export interface InitializerSpec {
  name: InitializerName;
  gain?: number; // orthogonal, identity
  value?: number; // constant
  mean?: number; // random_normal, truncated_normal
  stddev?: number; // random_normal, truncated_normal
  minval?: number; // random_uniform
  maxval?: number; // random_uniform
}

export const DISTRIBUTIONS = ['normal', 'uniform', 'zeros', 'constant'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

/** Where inputs or an initial state come from: a seeded distribution, or a .npy file. */
export type DataSource =
  | { kind: 'distribution'; distribution: DistributionName; mean: number; stddev: number; minval: number; maxval: number; value: number }
  | { kind: 'file'; file: string /* absolute path */; configPath: string /* JSON path of the key naming it */ };

export const DIAGNOSTICS = [
  'mean', 'varTimesFanIn', 'frobenius', 'spectralNorm', 'spectralRadius', 'singularValues', 'eigenvalues',
] as const;
export type DiagnosticName = (typeof DIAGNOSTICS)[number];

export type JacobianMethod = 'structured' | 'autodiff';

export interface JacobianRequest {
  of: string;
  wrt: string;
  /** JSON path of this entry (`jacobians[0]`), for located errors and CodeLenses. */
  path: string;
}

/** Locates a JSON path (as produced by validation, e.g. `jacobians[0].of`) in the config text. */
export interface SourceLocator {
  file: string;
  issueAt(path: string, message: string): SourceIssue;
}

export interface RunSpec {
  configFile: string;
  cell: CellName;
  units: number;
  inputDim: number;
  /** Activation of the cell (for `seed`: the recurrent activation applied to h_{t-1}). */
  activation: ActivationName;
  /** Gate activation of lstm/gru (Keras `recurrent_activation`). */
  recurrentActivation: ActivationName;
  useBias: boolean;
  initializers: { kernel: InitializerSpec; recurrentKernel: InitializerSpec; bias: InitializerSpec };
  seed: number;
  timeSteps: number;
  batchSize: number;
  inputs: DataSource;
  /** Initial state per state tensor name (`h`, `c`); a single source applies to all states. */
  initialState: Record<string, DataSource> | DataSource;
  jacobians: JacobianRequest[];
  diagnostics: DiagnosticName[];
  method: JacobianMethod;
  maxMemoryMB: number;
  locator: SourceLocator;
}
