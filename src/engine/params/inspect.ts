// What "New Jacobian Config… from a trained model" needs from a model file: its recurrent layers, each ready to be
// written into a config. A thin adapter over the weight-format registry's inspectWeightsFile, the one inspection
// of every format (TensorFlow.js model.json, PyTorch .pt/.pth/.safetensors, Keras .keras/.weights.h5/.h5); it adds
// only what a template needs beyond the summary: sizes made definite, and a PyTorch num_layers > 1 module's own
// refusals (bidirectional, projections) told apart from "load it as a stacked network", which a template does.
import { basename, extname } from 'node:path';
import { UserError, fileIssue } from '../errors';
import { WeightsFileError } from './formats/binary';
import { summarize, type LayerSummary, type RecurrentCell } from './formats/layer';
import { inspectWeightsFile, readModelFile, WEIGHT_FORMATS, type WeightFormat, type WeightsConfigKey } from './formats/registry';

/** A recurrent layer of a model file, as a template writes it. */
export interface RecurrentLayer {
  /** Its name: the Keras layer (`weights.layer`) or the PyTorch module path without the trailing dot (`weights.prefix`). */
  name: string;
  className: string;
  cell: RecurrentCell;
  units: number;
  inputDim: number;
  /** Undefined for a PyTorch nn.RNN, whose state dict does not say tanh or relu. */
  activation?: string;
  recurrentActivation?: string;
  useBias: boolean;
  /** A PyTorch module's num_layers, when above 1: the template stacks its layers (`layers`, one `layerIndex` each). */
  numLayers?: number;
  /** Why the built-in cell cannot load this layer (e.g. a GRU with reset_after=False). */
  unsupported?: string;
}

export interface ModelInspection {
  file: string;
  format: WeightFormat['id'];
  /** The format in words, for messages. */
  title: string;
  /** The `weights` key that loads it: `model` (tfjs), `torch` or `keras`. */
  configKey: WeightsConfigKey;
  /** Every recurrent layer (module), in the file's order. */
  layers: RecurrentLayer[];
}

const MODEL_FORMATS = WEIGHT_FORMATS.filter((f) => f.read !== undefined);
const MODEL_EXTENSIONS = [...new Set(MODEL_FORMATS.flatMap((f) => f.extensions.map((e) => e.slice(1))))];

/** The model files inspectModel reads (every extension of a registered format with layers), for a workspace search and a file dialog. */
export const MODEL_FILES = {
  glob: `**/*.{${MODEL_EXTENSIONS.join(',')}}`,
  extensions: MODEL_EXTENSIONS,
  label: `Trained models (${MODEL_FORMATS.map((f) => f.title).join('; ')})`,
};

/**
 * Whether a file found by MODEL_FILES.glob is worth listing even when it cannot be read: `.json` and `.bin` are
 * also configs, package files and tfjs weight shards, so only a model.json among them is a model whatever it holds.
 */
export function isModelFileName(file: string): boolean {
  const ext = extname(file).toLowerCase();
  return !['.json', '.bin'].includes(ext) || basename(file).toLowerCase() === 'model.json';
}

/** Reads a model file of any registered format and lists its recurrent layers; a file it cannot read is a UserError naming it. */
export async function inspectModel(file: string): Promise<ModelInspection> {
  try {
    const summary = await inspectWeightsFile(file);
    if (!MODEL_FORMATS.some((f) => f.id === summary.format)) {
      throw new UserError('input', [fileIssue(file, `is a ${summary.title} file, which holds weights but no layers: pick a model file (${MODEL_FILES.label})`)]);
    }
    const layers = summary.layers.flatMap((l) => (l.cell ? [recurrentLayer(file, { ...l, cell: l.cell })] : []));
    return { file, format: summary.format, title: summary.title, configKey: summary.configKey, layers };
  } catch (e) {
    if (e instanceof WeightsFileError) throw new UserError('input', [fileIssue(e.file, e.problem)]);
    throw e;
  }
}

function recurrentLayer(file: string, layer: LayerSummary & { cell: RecurrentCell }): RecurrentLayer {
  const problems: string[] = [];
  const refusal = layer.numLayers ? firstLayerRefusal(file, layer.name) : layer.refusal;
  if (refusal) problems.push(refusal);
  if (!Number.isInteger(layer.units) || layer.units! < 1) problems.push('its units are not a positive integer');
  if (!Number.isInteger(layer.inputDim) || layer.inputDim! < 1) problems.push('its input size is not in the file');
  return {
    name: layer.name,
    className: layer.className,
    cell: layer.cell,
    units: layer.units ?? Number.NaN,
    inputDim: layer.inputDim ?? Number.NaN,
    ...(layer.activation ? { activation: layer.activation } : {}),
    ...(layer.recurrentActivation ? { recurrentActivation: layer.recurrentActivation } : {}),
    useBias: layer.useBias !== false,
    ...(layer.numLayers ? { numLayers: layer.numLayers } : {}),
    ...(problems.length ? { unsupported: problems.join('; ') } : {}),
  };
}

/** A stacked PyTorch module is refused as a whole ("load each layer…"); read as its layer 0, only what a stack cannot fix remains. */
function firstLayerRefusal(file: string, name: string): string | undefined {
  const module = readModelFile(file, 'torch', { layerIndex: 0 }).recurrent.find((l) => l.info.name === name);
  return module ? summarize(module).refusal : `module "${name}" was not found on a second read`;
}
