// What a trained model file holds that a config needs: its recurrent layers, each with the built-in cell it maps
// to, its units, input size, activations and bias, so that "New Jacobian Config… from a trained model" can fill
// them in. One function over every model format the engine reads (today: a TensorFlow.js LayersModel's
// model.json); a new format adds a branch in inspectModel and nothing else. Pure: no vscode, no tfjs.
import { readRegularTextFile, FileReadError } from '../io/files';
import { fileIssue, UserError } from '../errors';
import { activationName } from './formats/layer';
import { layerCell, layersOf, type LayerInfo } from './weights';

/** model.json files are topology and a manifest; the weights live in .bin shards beside them. */
const MODEL_JSON_MAX_BYTES = 64 * 2 ** 20;

export interface RecurrentLayer {
  /** The layer's name in the model (the config's `weights.layer`). */
  name: string;
  /** Its Keras class, e.g. `LSTM`, or `RNN of GRUCell`. */
  className: string;
  cell: 'simple_rnn' | 'lstm' | 'gru';
  units: number;
  inputDim: number;
  activation: string;
  /** Gate activation of lstm and gru. */
  recurrentActivation?: string;
  useBias: boolean;
  /** Why the built-in cell cannot load this layer, when it cannot (e.g. a GRU with reset_after=False). */
  unsupported?: string;
}

export interface ModelInspection {
  file: string;
  format: 'tfjs-layers';
  /** Every SimpleRNN, LSTM and GRU layer, in the model's order. */
  layers: RecurrentLayer[];
  /** Every layer's name and class, for messages. */
  allLayers: { name: string; className: string }[];
}

/** The model files inspectModel reads, for finding them in a workspace and for a file dialog's filter. */
export const MODEL_FILES = { glob: '**/model.json', extensions: ['json'], label: 'TensorFlow.js LayersModel (model.json)' };

/** Reads a model file and lists its recurrent layers; a file that is not a model is a UserError naming it. */
export function inspectModel(file: string): ModelInspection {
  if (/\.json$/i.test(file)) return inspectTfjsLayersModel(file, readJson(file));
  throw new UserError('input', [fileIssue(file, 'not a model file this version reads: pick the model.json that tensorflowjs_converter wrote from Keras')]);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readRegularTextFile(file, { maxBytes: MODEL_JSON_MAX_BYTES, what: 'model.json' });
  } catch (e) {
    if (e instanceof FileReadError) throw new UserError('input', [fileIssue(file, e.message)]);
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserError('input', [fileIssue(file, `not valid JSON: ${(e as Error).message}`)]);
  }
}

interface ManifestEntry {
  name: string;
  shape: number[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inspectTfjsLayersModel(file: string, json: unknown): ModelInspection {
  if (isObject(json) && json.format === 'graph-model') {
    throw new UserError('input', [fileIssue(file, 'a TensorFlow.js graph model has no layers; convert the Keras model itself (tensorflowjs_converter --input_format keras)')]);
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new UserError('input', [fileIssue(file, 'not a TensorFlow.js LayersModel: it needs "modelTopology" and "weightsManifest"')]);
  }
  const entries = (json.weightsManifest as unknown[])
    .flatMap((group) => (isObject(group) && Array.isArray(group.weights) ? group.weights : []))
    .filter((w): w is ManifestEntry => isObject(w) && typeof w.name === 'string' && Array.isArray(w.shape));
  const all = layersOf(json.modelTopology);
  const layers = all.flatMap((layer) => {
    const cell = layerCell(layer);
    return cell ? [recurrentLayer(layer, cell, entries)] : [];
  });
  return { file, format: 'tfjs-layers', layers, allLayers: all.map((l) => ({ name: l.name, className: l.className })) };
}

function recurrentLayer(layer: LayerInfo, cell: RecurrentLayer['cell'], entries: ManifestEntry[]): RecurrentLayer {
  const config = layer.cell?.config ?? layer.config;
  // The input size is the kernel's first dimension: it is there whatever the input layer says (Keras 3 keeps
  // the batch shape on the InputLayer, not on the recurrent layer).
  const kernel = entries.find((e) => {
    const parts = e.name.split('/');
    return parts.includes(layer.name) && parts[parts.length - 1] === 'kernel';
  });
  const units = typeof config.units === 'number' ? config.units : Number.NaN;
  const inputDim = kernel?.shape[0] ?? Number.NaN;
  const activation = activationName(config.activation) ?? 'tanh';
  const recurrentActivation = cell === 'simple_rnn' ? undefined : (activationName(config.recurrent_activation) ?? 'sigmoid');
  const problems: string[] = [];
  if (!Number.isInteger(units) || units < 1) problems.push('its units are not a positive integer');
  if (!Number.isInteger(inputDim)) problems.push(`the manifest has no kernel weight under "${layer.name}"`);
  if (cell === 'gru' && config.reset_after !== true) {
    problems.push('it is a reset_after=False GRU; the built-in gru is Keras\'s reset_after=True GRU (write this one as equations with "cell": "custom")');
  }
  return {
    name: layer.name,
    className: layer.cell ? `${layer.className} of ${layer.cell.className}` : layer.className,
    cell,
    units,
    inputDim,
    activation,
    ...(recurrentActivation ? { recurrentActivation } : {}),
    useBias: config.use_bias !== false,
    ...(problems.length ? { unsupported: problems.join('; ') } : {}),
  };
}
