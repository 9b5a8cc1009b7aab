// The weight formats, one entry each: the config key that names such a file, how a file is recognised (its
// first bytes, its name), and for model files how its recurrent layers are read. The loader (weights.ts), the
// config's "cell": "auto" and `inspectWeightsFile` (the extension's "from a trained model…") all go through here.
import { extname } from 'node:path';
import { readWeightsFile, WeightsFileError } from './binary';
import { hdf5Module, loadHdf5, looksLikeHdf5, type H5Module } from './hdf5';
import { readKerasArchive, readKerasHdf5, type KerasModel } from './keras';
import { layerCell, layerInputDim, layersOf, summarize, type LayerSummary, type ModelLayer } from './layer';
import { parseModelJson } from './tfjs';
import { looksLikeSafetensors, looksLikeZip, readStateDict } from './torch';
import { torchModule, torchModulePrefixes } from './torchModules';
import { ZipArchive } from './zip';

export type WeightsConfigKey = 'model' | 'npz' | 'files' | 'torch' | 'keras';

/** What a config adds to reading a model file: the layer of a multi-layer PyTorch module (`layerIndex`). */
export interface ReadOptions {
  layerIndex?: number;
}

export interface WeightFormat {
  id: 'tfjs' | 'npz' | 'npy' | 'torch' | 'safetensors' | 'keras' | 'keras-h5';
  /** In words, for messages and the README. */
  title: string;
  /** The `weights` key that names such a file. */
  configKey: WeightsConfigKey;
  extensions: string[];
  detect(head: Uint8Array, file: string): boolean;
  /** A model file's layers (all, for messages) and its recurrent ones with their weights in Keras layouts. */
  read?(bytes: Uint8Array, file: string, options?: ReadOptions): KerasModel;
  /** Whether reading needs the HDF5 reader loaded first. */
  needsHdf5?: boolean;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const ext = (file: string) => extname(file).toLowerCase();

function zipHas(bytes: Uint8Array, name: string): boolean {
  try {
    const zip = new ZipArchive(bytes, (p) => {
      throw new Error(p);
    });
    return zip.find(name) !== undefined;
  } catch {
    return false;
  }
}

function requireHdf5(file: string): H5Module {
  const h5 = hdf5Module();
  if (!h5) throw new WeightsFileError(file, 'needs the HDF5 reader, which is still loading (internal: loadWeightReaders was not awaited)');
  return h5;
}

/**
 * A PyTorch state dict's recurrent modules, each as a Keras-described layer (of a multi-layer module: the layer
 * `layerIndex`, default 0). A module that cannot be mapped is kept with the reason, which is an error only if chosen.
 */
function torchModel(bytes: Uint8Array, file: string, options: ReadOptions = {}): KerasModel {
  const dict = readStateDict(bytes, file);
  const recurrent: ModelLayer[] = [];
  for (const prefix of torchModulePrefixes(dict)) {
    const layer = torchModule(dict, prefix, options.layerIndex);
    const name = prefix.replace(/\.$/, '');
    recurrent.push('problem' in layer ? { info: { name, className: 'unreadable module', config: {} }, weights: new Map(), refusal: `${file} ${layer.problem}` } : layer);
  }
  return { layers: recurrent.map((l) => l.info), recurrent };
}

/** A model.json's layers; its weights are decoded by tfjs.ts's loader, so only the topology is read here. */
function tfjsModel(_bytes: Uint8Array, file: string): KerasModel {
  const model = parseModelJson(file);
  const layers = layersOf(model.modelTopology);
  const entries = (model.weightsManifest ?? []).flatMap((g) => g.weights);
  const recurrent = layers.filter((l) => layerCell(l) !== undefined).map((info) => {
    // A Sequential's input size sits on its InputLayer; the layer's kernel [inputDim, gates·units] says it too.
    const kernel = entries.find((e) => e.name.split('/').includes(info.name) && e.name.endsWith('/kernel'));
    const config = kernel && layerInputDim(info) === undefined ? { ...info.config, batch_input_shape: [null, null, kernel.shape[0]] } : info.config;
    return { info: { ...info, config }, weights: new Map() };
  });
  return { layers, recurrent };
}

export const WEIGHT_FORMATS: readonly WeightFormat[] = [
  {
    id: 'torch',
    title: 'PyTorch torch.save state dict (.pt/.pth)',
    configKey: 'torch',
    extensions: ['.pt', '.pth', '.bin'],
    detect: (head) => looksLikeZip(head) && zipHas(head, 'data.pkl'),
    read: torchModel,
  },
  {
    id: 'safetensors',
    title: 'safetensors',
    configKey: 'torch',
    extensions: ['.safetensors'],
    detect: (head) => looksLikeSafetensors(head),
    read: torchModel,
  },
  {
    id: 'keras',
    title: 'Keras 3 archive (.keras)',
    configKey: 'keras',
    extensions: ['.keras'],
    detect: (head) => looksLikeZip(head) && zipHas(head, 'model.weights.h5'),
    read: (bytes, file) => readKerasArchive(bytes, file, requireHdf5(file)),
    needsHdf5: true,
  },
  {
    id: 'keras-h5',
    title: 'Keras HDF5 (.weights.h5, legacy .h5)',
    configKey: 'keras',
    extensions: ['.h5', '.hdf5'],
    detect: (head) => looksLikeHdf5(head),
    read: (bytes, file) => readKerasHdf5(bytes, file, requireHdf5(file)),
    needsHdf5: true,
  },
  {
    id: 'tfjs',
    title: 'TensorFlow.js LayersModel (model.json + .bin shards)',
    configKey: 'model',
    extensions: ['.json'],
    detect: (head, file) => ext(file) === '.json' && head.length > 0 && /^\s*\{/.test(new TextDecoder().decode(head.subarray(0, 64))),
    read: tfjsModel,
  },
  {
    id: 'npz',
    title: 'NumPy .npz',
    configKey: 'npz',
    extensions: ['.npz'],
    detect: (head, file) => looksLikeZip(head) && ext(file) === '.npz',
  },
  {
    id: 'npy',
    title: 'NumPy .npy (one per parameter)',
    configKey: 'files',
    extensions: ['.npy'],
    detect: (head) => NPY_MAGIC.every((b, i) => head[i] === b),
  },
];

/** The format of a file's bytes; the extension decides only between formats the bytes allow. */
export function detectFormat(bytes: Uint8Array, file: string): WeightFormat | undefined {
  const candidates = WEIGHT_FORMATS.filter((f) => f.detect(bytes, file));
  return candidates.find((f) => f.extensions.includes(ext(file))) ?? candidates[0];
}

/** The formats one `weights` key reads. */
export function formatsOfKey(key: WeightsConfigKey): WeightFormat[] {
  return WEIGHT_FORMATS.filter((f) => f.configKey === key);
}

/** Reads a model file named by `key` (torch or keras): its format checked, its layers read. */
export function readModelFile(file: string, key: WeightsConfigKey, options: ReadOptions = {}): KerasModel {
  const bytes = readWeightsFile(file);
  const allowed = formatsOfKey(key);
  // Nothing recognised (a truncated zip loses its directory): the key's own reader says what is wrong.
  const format = detectFormat(bytes, file) ?? allowed[0];
  if (!format || !allowed.includes(format) || !format.read) {
    const found = format ? `it is a ${format.title} file (load it with "${format.configKey}")` : 'its contents are none of the formats read';
    throw new WeightsFileError(file, `"${key}" reads ${allowed.map((f) => f.title).join(' or ')}, but ${found}`);
  }
  return format.read(bytes, file, options);
}

/** What a weights file holds, for "cell": "auto" and the extension's "New Jacobian Config… from a trained model". */
export interface WeightsFileSummary {
  file: string;
  format: WeightFormat['id'];
  title: string;
  configKey: WeightsConfigKey;
  /** The recurrent layers (modules) a model file holds: cell, units, inputDim, settings, and why one cannot load. */
  layers: LayerSummary[];
}

/** Synchronous inspection: Keras HDF5 files need `loadWeightReaders()` to have finished. */
export function inspectWeightsFileSync(file: string): WeightsFileSummary {
  const bytes = readWeightsFile(file);
  const format = detectFormat(bytes, file);
  if (!format) throw new WeightsFileError(file, `is not a weights file of a known format (${WEIGHT_FORMATS.map((f) => f.title).join(', ')})`);
  const layers = format.read ? format.read(bytes, file).recurrent.map(summarize) : [];
  return { file, format: format.id, title: format.title, configKey: format.configKey, layers };
}

/**
 * The one function the extension calls to look into a model file of any registered format: its format, the
 * `weights` key to load it with, and each recurrent layer's cell, units, inputDim and name. Throws a
 * WeightsFileError (message: file and problem) for a file it cannot read.
 */
export async function inspectWeightsFile(file: string): Promise<WeightsFileSummary> {
  const format = detectFormat(readWeightsFile(file), file);
  if (format?.needsHdf5) await loadHdf5();
  return inspectWeightsFileSync(file);
}

/** Loads the readers that start asynchronously (h5wasm) when a config's weights need them. */
export async function loadWeightReaders(weights: { kind: string; file?: string } | undefined): Promise<void> {
  if (weights?.kind === 'keras' && weights.file) await loadHdf5();
}

/** The same, from a config's text before it is validated (for "cell": "auto", which reads the file while parsing). */
export async function loadWeightReadersFor(configText: string): Promise<void> {
  if (/"keras"\s*:/.test(configText)) await loadHdf5();
}
