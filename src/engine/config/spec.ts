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

// The diagnostics registry (src/engine/diagnostics) declares the names.
export { DIAGNOSTIC_NAMES as DIAGNOSTICS, type DiagnosticName } from '../diagnostics';
import type { DiagnosticName } from '../diagnostics';

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
  /** An issue at characters [column, column + length) inside the string value at `path` (an equation). */
  issueInString?(path: string, column: number, length: number, message: string): SourceIssue;
  /** An issue at the key of the property at `path`. */
  issueAtKey?(path: string, message: string): SourceIssue;
}

/** A parameter of a custom cell (`custom.params.KEY`), its sizes resolved. */
export interface CustomParamSpec {
  /** The name its equations use: the key under `custom.params`. */
  key: string;
  /** Its weight name: the random stream it is drawn from, its --save name and its name in imported weights. */
  name: string;
  shape: number[];
  initializer: InitializerSpec;
  /** A 1-D parameter initialised piece by piece (Keras's unit_forget_bias), each piece on its own shape. */
  segments?: { size: number; initializer: InitializerSpec }[];
}

/** A cell written as equations in the config (`"cell": "custom"`). */
export interface CustomCellSpec {
  params: CustomParamSpec[];
  states: { name: string; size: number }[];
  inputs: { name: string; size: number }[];
  outputs: string[];
  /** In the config's order; `path` is the JSON path of the expression string (`custom.equations.h`). */
  equations: { name: string; expression: string; path: string }[];
}

/** Trained weights that replace the initializers. `path`: JSON path of the key naming the file. */
export type WeightsSpec =
  | { kind: 'model'; file: string; layer?: string; path: string; layerPath: string }
  | { kind: 'npz'; file: string; path: string }
  /** A PyTorch state dict (torch.save .pt/.pth, or .safetensors); `prefix` picks the module ("encoder.rnn."). */
  | { kind: 'torch'; file: string; prefix?: string; path: string; prefixPath: string; layerIndex?: number; layerIndexPath?: string }
  /** A Keras 3 .keras / .weights.h5 or legacy Keras 2 .h5 file; `layer` picks the layer by name. */
  | { kind: 'keras'; file: string; layer?: string; path: string; layerPath: string }
  | { kind: 'files'; files: { param: string; file: string; path: string }[]; path: string };

/**
 * One layer of a stacked network (`layers[i]`): a cell with its own sizes, activations, initializers and
 * weights. Layer l > 0 reads layer l−1's output, so its input size is that output's size.
 */
export interface LayerSpec {
  /** Qualifies the layer's tensors (`l0.h`): `l0`, `l1`, … by default, the Keras layer name for a model. */
  name: string;
  /** JSON path of the entry (`layers[1]`), for located errors. */
  path: string;
  cell: CellName;
  units: number;
  activation: ActivationName;
  recurrentActivation: ActivationName;
  useBias: boolean;
  initializers: RunSpec['initializers'];
  custom?: CustomCellSpec;
  weights?: WeightsSpec;
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
  /** The equations of a custom cell; present exactly when `cell` is `custom`. */
  custom?: CustomCellSpec;
  /** Trained weights to load instead of initialising the parameters. */
  weights?: WeightsSpec;
  /**
   * A stacked network, bottom layer first; absent for a one-cell config (the fields above are the cell).
   * The top-level `inputDim` is the first layer's input size.
   */
  layers?: LayerSpec[];
  /** Lyapunov settings (`lyapunov`); absent keys take the defaults in series/run.ts. */
  lyapunov?: { exponents?: number; every?: number; transient?: number };
  jacobians: JacobianRequest[];
  diagnostics: DiagnosticName[];
  method: JacobianMethod;
  maxMemoryMB: number;
  locator: SourceLocator;
}
