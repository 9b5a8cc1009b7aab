// What the model formats (Keras files, TensorFlow.js model.json, PyTorch state dicts) share: a recurrent layer
// described as Keras describes it (class, config: units, activations, use_bias, reset_after), its weights
// already in the engine's Keras layouts, and the checks of both against the run's config.
import type { RunSpec } from '../../config/spec';

/** Keras's recurrent layer classes (and the cells an RNN layer may wrap) → built-in cells. */
export const LAYER_CELLS: Record<string, RecurrentCell> = {
  SimpleRNN: 'simple_rnn',
  LSTM: 'lstm',
  GRU: 'gru',
  SimpleRNNCell: 'simple_rnn',
  LSTMCell: 'lstm',
  GRUCell: 'gru',
  // PyTorch's modules, as torchModules.ts names them.
  'nn.RNN': 'simple_rnn',
  'nn.LSTM': 'lstm',
  'nn.GRU': 'gru',
  'nn.RNNCell': 'simple_rnn',
  'nn.LSTMCell': 'lstm',
  'nn.GRUCell': 'gru',
};

export type RecurrentCell = 'simple_rnn' | 'lstm' | 'gru';

/** Gates per cell: a kernel has `gates · units` columns. */
export const GATES: Record<RecurrentCell, number> = { simple_rnn: 1, lstm: 4, gru: 3 };

export interface LayerInfo {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** For an RNN layer wrapping a cell: the cell's class and config, which hold the settings. */
  cell?: { className: string; config: Record<string, unknown> };
  /** Saved by Keras 3, whose activations differ from the engine's (Keras 2's) in one place: hard_sigmoid. */
  keras3?: boolean;
}

/** One weight as a reader found it: its dtype as stored, its shape, and its values decoded on demand. */
export interface LazyArray {
  dtype: string;
  shape: number[];
  values(): Float32Array;
  /** Where it came from when that is not its Keras name (PyTorch: the state-dict key and the mapping), for messages. */
  origin?: string;
}

/** A recurrent layer of a model file, with its weights by Keras name (kernel, recurrent_kernel, bias). */
export interface ModelLayer {
  info: LayerInfo;
  weights: Map<string, LazyArray>;
  /** Why this layer cannot be loaded although it is recurrent (bidirectional, stacked, projected). */
  refusal?: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every layer of a Keras topology, nested models and wrapped layers included, in order. */
export function layersOf(topology: unknown): LayerInfo[] {
  const out: LayerInfo[] = [];
  const root = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  const walk = (node: unknown): void => {
    if (!isObject(node) || !isObject(node.config)) return;
    const config = node.config;
    if (Array.isArray(config.layers)) {
      for (const layer of config.layers) {
        if (!isObject(layer) || !isObject(layer.config)) continue;
        const name = typeof layer.config.name === 'string' ? layer.config.name : typeof layer.name === 'string' ? layer.name : '';
        const className = typeof layer.class_name === 'string' ? layer.class_name : '';
        const cell = isObject(layer.config.cell) && isObject(layer.config.cell.config) && typeof layer.config.cell.class_name === 'string'
          ? { className: layer.config.cell.class_name, config: layer.config.cell.config }
          : undefined;
        out.push({ name, className, config: layer.config, ...(cell ? { cell } : {}) });
        walk(layer);
      }
    }
    if (isObject(config.layer)) walk({ config: { layers: [config.layer] } });
  };
  walk(root);
  return out;
}

/** The built-in cell a recurrent layer maps to, if any. */
export function layerCell(layer: LayerInfo): RecurrentCell | undefined {
  return LAYER_CELLS[layer.className] ?? (layer.cell ? LAYER_CELLS[layer.cell.className] : undefined);
}

/** Keras and tfjs-layers activation names → the op set's names (tfjs writes camelCase; Keras 3 says silu). */
export function activationName(value: unknown): string | undefined {
  const raw = typeof value === 'string' ? value : isObject(value) && typeof value.class_name === 'string' ? value.class_name : undefined;
  if (raw === undefined) return undefined;
  const snake = raw.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return snake === 'silu' ? 'swish' : snake;
}

export function layerLabel(layer: LayerInfo): string {
  return `layer "${layer.name}" (${layer.className}${layer.cell ? ` of ${layer.cell.className}` : ''})`;
}

/** The input size a layer's config declares (batch_input_shape / batch_shape), if any. */
export function layerInputDim(layer: LayerInfo): number | undefined {
  const shape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as unknown;
  const last = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
  return typeof last === 'number' ? last : undefined;
}

/** Differences between a model layer and the config's built-in cell, as sentences. */
export function layerDifferences(layer: LayerInfo, spec: RunSpec): string[] {
  const cell = layerCell(layer);
  const label = layerLabel(layer);
  if (spec.cell === 'seed' || spec.cell === 'custom') return [];
  if (!cell) return [`${label} is not a SimpleRNN, LSTM or GRU layer, so it has no weights for cell ${spec.cell}`];
  if (cell !== spec.cell) return [`${label} maps to cell "${cell}", but this config's cell is "${spec.cell}"`];
  const c = layer.cell?.config ?? layer.config;
  const out: string[] = [];
  if (typeof c.units === 'number' && c.units !== spec.units) out.push(`${label} has units ${c.units}, but the config says units ${spec.units}`);
  for (const key of ['activation', 'recurrent_activation']) {
    if (layer.keras3 && activationName(c[key]) === 'hard_sigmoid') {
      out.push(
        `${label} has ${key} hard_sigmoid, which Keras 3 computes as relu6(x + 3)/6; the engine's hard_sigmoid is Keras 2's clip(0.2·x + 0.5, 0, 1), ` +
          'so this layer cannot be reproduced with a built-in cell (write it as equations with "cell": "custom")',
      );
    }
  }
  const act = activationName(c.activation);
  if (act !== undefined && act !== spec.activation) out.push(`${label} has activation ${act}, but the config says activation ${spec.activation}`);
  if (cell !== 'simple_rnn') {
    const rec = activationName(c.recurrent_activation);
    if (rec !== undefined && rec !== spec.recurrentActivation) {
      out.push(`${label} has recurrent_activation ${rec}, but the config says recurrentActivation ${spec.recurrentActivation}`);
    }
  }
  if (typeof c.use_bias === 'boolean' && c.use_bias !== spec.useBias) out.push(`${label} has use_bias ${c.use_bias}, but the config says useBias ${spec.useBias}`);
  if (cell === 'gru' && c.reset_after !== true) {
    out.push(
      `${label} has reset_after ${c.reset_after === undefined ? 'unset (false)' : String(c.reset_after)}, but the built-in gru is Keras's reset_after=True GRU ` +
        '(bias [2, 3·units]); train with reset_after=True, or write the cell as equations with "cell": "custom"',
    );
  }
  const inputDim = layerInputDim(layer);
  if (inputDim !== undefined && inputDim !== spec.inputDim) out.push(`${label} takes inputs of size ${inputDim}, but the config says inputDim ${spec.inputDim}`);
  return out;
}

/** What "cell": "auto" takes from a layer: its cell, sizes and settings. */
export interface LayerSummary {
  name: string;
  className: string;
  cell?: RecurrentCell;
  units?: number;
  inputDim?: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  refusal?: string;
}

/** A model layer summed up: settings from its config, sizes from its config or else from its weights. */
export function summarize(layer: ModelLayer): LayerSummary {
  const { info } = layer;
  const c = info.cell?.config ?? info.config;
  const cell = layerCell(info);
  const kernel = layer.weights.get('kernel');
  const recurrent = layer.weights.get('recurrent_kernel');
  const units = typeof c.units === 'number' ? c.units : recurrent?.shape[0];
  const inputDim = layerInputDim(info) ?? kernel?.shape[0];
  const activation = activationName(c.activation);
  const recurrentActivation = cell === 'simple_rnn' ? undefined : activationName(c.recurrent_activation);
  const useBias = typeof c.use_bias === 'boolean' ? c.use_bias : kernel ? layer.weights.has('bias') : undefined;
  return {
    name: info.name,
    className: info.cell ? `${info.className} of ${info.cell.className}` : info.className,
    ...(cell ? { cell } : {}),
    ...(units !== undefined ? { units } : {}),
    ...(inputDim !== undefined ? { inputDim } : {}),
    ...(activation ? { activation } : {}),
    ...(recurrentActivation ? { recurrentActivation } : {}),
    ...(useBias !== undefined ? { useBias } : {}),
    ...(layer.refusal ? { refusal: layer.refusal } : {}),
  };
}
