// Stage 4, defaults: a config that passed every check → RunSpec, every absent key given its default. The
// schema repeats the defaults as `default` annotations for the editor; a unit test keeps both equal.
// Each top-level key is one line of buildSpec; a new key adds its default here and nowhere else.
import { dirname, resolve } from 'node:path';
import type { ResolvedCustom } from './deps';
import { formatPath, type ConfigLocator, type PathSegment } from './positions';
import type {
  ActivationName,
  CellName,
  DataSource,
  LayerSpec,
  DiagnosticName,
  DistributionName,
  InitializerName,
  InitializerSpec,
  JacobianMethod,
  RunSpec,
  WeightsSpec,
} from './spec';
import { isKeyedByState, isObject, layerName } from './tree';
import { DEFAULT_DIAGNOSTICS } from '../diagnostics';

type InitializerDefaults = Record<'kernel' | 'recurrentKernel' | 'bias', InitializerName>;

export interface CellDefaults {
  activation: ActivationName;
  recurrentActivation: ActivationName;
  initializers: InitializerDefaults;
}

/** Keras's defaults for its cells; the seed builds both of its Dense layers with one initializer. */
const KERAS_INITIALIZERS: InitializerDefaults = { kernel: 'glorot_uniform', recurrentKernel: 'orthogonal', bias: 'zeros' };

export const CELL_DEFAULTS: Readonly<Record<CellName, CellDefaults>> = {
  seed: {
    activation: 'relu',
    recurrentActivation: 'sigmoid', // unused: the seed has no gates
    initializers: { kernel: 'glorot_uniform', recurrentKernel: 'glorot_uniform', bias: 'zeros' },
  },
  simple_rnn: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  lstm: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  gru: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  // Unused: a custom cell writes its activations into its equations and gives each parameter its initializer.
  custom: { activation: 'linear', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
};

/** Arguments of a distribution that the config leaves out. */
export const DISTRIBUTION_ARGUMENT_DEFAULTS = { mean: 0, stddev: 1, minval: -1, maxval: 1, value: 0 } as const;

/** Inputs and every initial state default to normal(0, 1). */
export const DEFAULT_DATA_SOURCE: Readonly<DataSource> = {
  kind: 'distribution',
  distribution: 'normal',
  ...DISTRIBUTION_ARGUMENT_DEFAULTS,
};

export const DEFAULTS = {
  useBias: true,
  seed: 0,
  timeSteps: 10,
  batchSize: 1,
  jacobians: [{ of: 'h@t', wrt: 'h@t-1' }],
  diagnostics: DEFAULT_DIAGNOSTICS,
  method: 'structured' as JacobianMethod,
  maxMemoryMB: 4096,
} as const;

/** The source of one initial state: its own entry when the config names states, else the shared one. */
export function initialStateSource(initialState: RunSpec['initialState'], stateName: string): DataSource {
  if (isDataSource(initialState)) return initialState;
  return (Object.hasOwn(initialState, stateName) ? initialState[stateName] : undefined) ?? { ...DEFAULT_DATA_SOURCE };
}

function isDataSource(value: RunSpec['initialState']): value is DataSource {
  const kind = (value as Partial<DataSource>).kind;
  return kind === 'distribution' || kind === 'file';
}

export type RawInitializer = InitializerName | ({ name: InitializerName } & Partial<Omit<InitializerSpec, 'name'>>);

export function toInitializer(given: RawInitializer): InitializerSpec {
  return typeof given === 'string' ? { name: given } : { ...given };
}

type RawDataSource = { file: string } | ({ distribution?: DistributionName } & Partial<typeof DISTRIBUTION_ARGUMENT_DEFAULTS>);

type RawWeights =
  | { model: string; layer?: string }
  | { npz: string }
  | { files: Record<string, string> }
  | { torch: string; prefix?: string; layerIndex?: number }
  | { keras: string; layer?: string };

/** One entry of `layers`. */
export interface RawLayer {
  name?: string;
  cell: Exclude<CellName, 'custom'>;
  units: number;
  activation?: ActivationName;
  recurrentActivation?: ActivationName;
  useBias?: boolean;
  initializers?: RawConfig['initializers'];
  weights?: RawWeights;
}

/** A config as the schema allows it (the parts buildSpec reads). */
export interface RawConfig {
  /** Absent only with `layers` (then the first layer's). */
  cell: CellName;
  layers?: RawLayer[];
  lyapunov?: RunSpec['lyapunov'];
  /** Absent only for custom cells, which then take them from their first state and first input. */
  units?: number;
  inputDim?: number;
  custom?: { states: Record<string, { initial?: unknown }> };
  weights?: RawWeights;
  activation?: ActivationName;
  recurrentActivation?: ActivationName;
  useBias?: boolean;
  initializers?: Partial<Record<'kernel' | 'recurrentKernel' | 'bias', RawInitializer>>;
  seed?: number;
  timeSteps?: number;
  batchSize?: number;
  inputs?: RawDataSource;
  initialState?: RawDataSource | Record<string, RawDataSource>;
  jacobians?: { of: string; wrt: string }[];
  diagnostics?: DiagnosticName[];
  method?: JacobianMethod;
  maxMemoryMB?: number;
}

/** A stacked network's layers, each with its cell's defaults and its name (tree.ts layerName). */
function layerSpecs(layers: RawLayer[], configDir: string): LayerSpec[] {
  return layers.map((layer, i) => {
    const path = formatPath(['layers', i]);
    const d = CELL_DEFAULTS[layer.cell];
    const initializer = (role: keyof InitializerDefaults) => toInitializer(layer.initializers?.[role] ?? d.initializers[role]);
    return {
      name: layerName(layer, i),
      path,
      cell: layer.cell,
      units: layer.units,
      activation: layer.activation ?? d.activation,
      recurrentActivation: layer.recurrentActivation ?? d.recurrentActivation,
      useBias: layer.useBias ?? DEFAULTS.useBias,
      initializers: { kernel: initializer('kernel'), recurrentKernel: initializer('recurrentKernel'), bias: initializer('bias') },
      ...(layer.weights ? { weights: weightsSpec(layer.weights, configDir, `${path}.`) } : {}),
    };
  });
}

/** Runs on a config that passed every check: nothing here can fail. */
export function buildSpec(raw: RawConfig, configFile: string, locator: ConfigLocator, custom?: ResolvedCustom): RunSpec {
  if (raw.layers) {
    // The top-level cell keys describe the first layer, so one-cell readers (header, theory) still see it.
    const first = raw.layers[0];
    const spec = buildSpec({ ...raw, layers: undefined, ...first, weights: undefined }, configFile, locator);
    return { ...spec, layers: layerSpecs(raw.layers, dirname(configFile)) };
  }
  const cellDefaults = CELL_DEFAULTS[raw.cell];
  const configDir = dirname(configFile);
  const initializer = (role: keyof InitializerDefaults): InitializerSpec => toInitializer(raw.initializers?.[role] ?? cellDefaults.initializers[role]);
  return {
    configFile,
    cell: raw.cell,
    units: raw.units ?? custom?.units ?? 0,
    inputDim: raw.inputDim ?? custom?.inputDim ?? 0,
    ...(custom ? { custom: custom.spec } : {}),
    ...(raw.weights ? { weights: weightsSpec(raw.weights, configDir) } : {}),
    activation: raw.activation ?? cellDefaults.activation,
    recurrentActivation: raw.recurrentActivation ?? cellDefaults.recurrentActivation,
    useBias: raw.useBias ?? DEFAULTS.useBias,
    initializers: { kernel: initializer('kernel'), recurrentKernel: initializer('recurrentKernel'), bias: initializer('bias') },
    seed: raw.seed ?? DEFAULTS.seed,
    timeSteps: raw.timeSteps ?? DEFAULTS.timeSteps,
    batchSize: raw.batchSize ?? DEFAULTS.batchSize,
    inputs: dataSource(raw.inputs, ['inputs'], configDir),
    initialState: initialStates(raw, configDir),
    jacobians: (raw.jacobians ?? DEFAULTS.jacobians).map((r, index) => ({ of: r.of, wrt: r.wrt, path: formatPath(['jacobians', index]) })),
    diagnostics: [...(raw.diagnostics ?? DEFAULTS.diagnostics)],
    ...(raw.lyapunov ? { lyapunov: { ...raw.lyapunov } } : {}),
    method: raw.method ?? DEFAULTS.method,
    maxMemoryMB: raw.maxMemoryMB ?? DEFAULTS.maxMemoryMB,
    locator,
  };
}

function dataSource(given: RawDataSource | undefined, segments: PathSegment[], configDir: string): DataSource {
  if (given && 'file' in given) {
    return { kind: 'file', file: resolve(configDir, given.file), configPath: formatPath([...segments, 'file']) };
  }
  return { ...DEFAULT_DATA_SOURCE, ...(given as object | undefined) } as DataSource;
}

function initialStates(raw: RawConfig, configDir: string): RunSpec['initialState'] {
  const rawState = raw.initialState;
  let initialState: RunSpec['initialState'];
  if (rawState && isKeyedByState(rawState)) {
    initialState = Object.fromEntries(
      Object.entries(rawState as Record<string, RawDataSource>).map(([name, s]) => [name, dataSource(s, ['initialState', name], configDir)]),
    );
  } else {
    initialState = dataSource(rawState as RawDataSource | undefined, ['initialState'], configDir);
  }
  // A custom state's own `initial` wins over `initialState`.
  const states = raw.cell === 'custom' ? (raw.custom?.states ?? {}) : {};
  if (!Object.values(states).some((s) => isObject(s) && s.initial !== undefined)) return initialState;
  const shared = initialState;
  return Object.fromEntries(
    Object.entries(states).map(([name, s]) => {
      const own = s.initial as RawDataSource | undefined;
      return [name, own !== undefined ? dataSource(own, ['custom', 'states', name, 'initial'], configDir) : initialStateSource(shared, name)];
    }),
  );
}

/** `prefix`: where the `weights` key sits (`layers[1].` for a layer's), for located errors. */
function weightsSpec(raw: RawWeights, configDir: string, prefix = ''): WeightsSpec {
  if ('model' in raw) {
    const layerPath = raw.layer !== undefined ? `${prefix}weights.layer` : `${prefix}weights.model`;
    return { kind: 'model', file: resolve(configDir, raw.model), ...(raw.layer !== undefined ? { layer: raw.layer } : {}), path: `${prefix}weights.model`, layerPath };
  }
  if ('npz' in raw) return { kind: 'npz', file: resolve(configDir, raw.npz), path: `${prefix}weights.npz` };
  if ('torch' in raw) {
    const prefixPath = raw.prefix !== undefined ? `${prefix}weights.prefix` : `${prefix}weights.torch`;
    const index = raw.layerIndex !== undefined ? { layerIndex: raw.layerIndex, layerIndexPath: `${prefix}weights.layerIndex` } : {};
    return { kind: 'torch', file: resolve(configDir, raw.torch), ...(raw.prefix !== undefined ? { prefix: raw.prefix } : {}), ...index, path: `${prefix}weights.torch`, prefixPath };
  }
  if ('keras' in raw) {
    const layerPath = raw.layer !== undefined ? `${prefix}weights.layer` : `${prefix}weights.keras`;
    return { kind: 'keras', file: resolve(configDir, raw.keras), ...(raw.layer !== undefined ? { layer: raw.layer } : {}), path: `${prefix}weights.keras`, layerPath };
  }
  return {
    kind: 'files',
    files: Object.entries(raw.files).map(([param, file]) => ({ param, file: resolve(configDir, file), path: prefix + formatPath(['weights', 'files', param]) })),
    path: `${prefix}weights.files`,
  };
}
