// Keras files, read with h5wasm (hdf5.ts):
//   - Keras 3 `.keras`: a zip of config.json (the model's layers and their configs) and model.weights.h5, where a
//     recurrent layer's weights are layers/<name>/cell/vars/0, 1, 2 (kernel, recurrent_kernel, bias);
//   - Keras 3 `.weights.h5`: that HDF5 file alone (no config: cell, units and input size come from the shapes);
//   - legacy `.h5` (Keras 2, or Keras 3's model.save("x.h5")): the root attribute model_config and
//     model_weights/<layer>/ with its weight_names attribute.
// Every dataset's size is checked against the file's before its values are read.
import { WeightsFileError } from './binary';
import { type H5Dataset, type H5Entity, type H5Group, type H5Module, withHdf5 } from './hdf5';
import { GATES, isObject, layerCell, layersOf, type LayerInfo, type LazyArray, type ModelLayer, type RecurrentCell } from './layer';
import { ZipArchive } from './zip';

export interface KerasModel {
  /** Every layer the file describes (recurrent or not), for messages; without a config, the recurrent ones. */
  layers: LayerInfo[];
  recurrent: ModelLayer[];
}

const H5T_FLOAT = 1;
const WEIGHT_ORDER = ['kernel', 'recurrent_kernel', 'bias'];
const CELL_CLASSES: Record<string, string> = { lstm_cell: 'LSTMCell', gru_cell: 'GRUCell', simple_rnn_cell: 'SimpleRNNCell' };
const LAYER_CLASSES: Record<RecurrentCell, string> = { lstm: 'LSTM', gru: 'GRU', simple_rnn: 'SimpleRNN' };

/** A .keras archive: its config.json and the HDF5 weights inside it. */
export function readKerasArchive(bytes: Uint8Array, file: string, h5: H5Module): KerasModel {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const zip = new ZipArchive(bytes, fail);
  const configMember = zip.members.get('config.json');
  const weightsMember = zip.members.get('model.weights.h5');
  if (!configMember || !weightsMember) {
    fail(`is a zip archive without config.json and model.weights.h5, so not a Keras 3 .keras file (it holds ${[...zip.members.keys()].slice(0, 8).join(', ')})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(zip.read(configMember!)));
  } catch (e) {
    if (e instanceof WeightsFileError) throw e;
    fail(`its config.json is not JSON (${(e as Error).message})`);
  }
  const layers = layersOf(config).map((l) => ({ ...l, keras3: true }));
  const weights = zip.read(weightsMember!);
  return readHdf5(weights, file, h5, (root) => ({ layers, recurrent: keras3Layers(root, layers, weights.length, fail) }));
}

/** A .weights.h5 (Keras 3) or legacy .h5 (Keras 2 model or weights). */
export function readKerasHdf5(bytes: Uint8Array, file: string, h5: H5Module): KerasModel {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  return readHdf5(bytes, file, h5, (root) => {
    const modelConfig = attribute(root, 'model_config');
    const version = attribute(root, 'keras_version') ?? attribute(child(root, 'model_weights') ?? root, 'keras_version');
    if (typeof modelConfig === 'string') {
      const model = legacyModel(root, parseJson(modelConfig, fail), bytes.length, fail);
      return typeof version === 'string' && version.startsWith('3.') ? markKeras3(model) : model;
    }
    const keys = root.keys();
    if (keys.includes('layers')) {
      const recurrent = keras3Layers(root, undefined, bytes.length, fail);
      return markKeras3({ layers: recurrent.map((l) => l.info), recurrent });
    }
    const group = keys.includes('model_weights') ? (root.get('model_weights') as H5Group) : root;
    if (Array.isArray(attribute(group, 'layer_names'))) return legacyModel(root, undefined, bytes.length, fail);
    return fail(`is an HDF5 file but not a Keras one: it has no model_config, no layers group (Keras 3 .weights.h5) and no model_weights (Keras 2 .h5); its top level holds ${keys.slice(0, 8).join(', ') || 'nothing'}`);
  });
}

function markKeras3(model: KerasModel): KerasModel {
  for (const l of [...model.layers, ...model.recurrent.map((r) => r.info)]) l.keras3 = true;
  return model;
}

function parseJson(text: string, fail: (p: string) => never): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`its model_config attribute is not JSON (${(e as Error).message})`);
  }
}

function readHdf5<T>(bytes: Uint8Array, file: string, h5: H5Module, body: (root: H5Group) => T): T {
  try {
    return withHdf5(h5, bytes, body);
  } catch (e) {
    if (e instanceof WeightsFileError) throw e;
    throw new WeightsFileError(file, `cannot be read as HDF5 (${(e as Error).message}); is it a Keras file?`);
  }
}

function attribute(entity: H5Entity, name: string): unknown {
  const attr = entity.attrs[name];
  return attr ? attr.json_value : undefined;
}

function child(group: H5Group, name: string): H5Entity | undefined {
  return group.keys().includes(name) ? group.get(name) ?? undefined : undefined;
}

const isGroup = (e: H5Entity | undefined): e is H5Group => e?.type === 'Group';
const isDataset = (e: H5Entity | undefined): e is H5Dataset => e?.type === 'Dataset';

/** A float dataset as a weight, its byte size checked against the file's before anything is read. */
function datasetArray(e: H5Entity | undefined, fileBytes: number, what: string, fail: (p: string) => never): LazyArray {
  if (!isDataset(e)) return fail(`${what} is not a dataset`);
  const shape = e.shape ?? [];
  const { type, size } = e.metadata;
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count * size > fileBytes) fail(`${what} claims shape [${shape.join(', ')}] of ${size}-byte elements, more than the file holds`);
  if (type !== H5T_FLOAT || ![4, 8].includes(size)) fail(`${what} is not a float32 or float64 dataset`);
  const dtype = `float${8 * size}`;
  // Read now: the HDF5 file is closed once the reader returns.
  const data = Float32Array.from(e.value as ArrayLike<number>);
  return { dtype, shape: [...shape], values: () => data };
}

/**
 * Keras 3 saving names each layer's group after its class, numbered (layers/lstm, layers/dense_1; nested models:
 * layers/<model>/layers/…); the layer's own name is the `name` attribute of the group's `vars`. By that name.
 */
function layerGroups(root: H5Group, depth = 0, out = new Map<string, H5Group>()): Map<string, H5Group> {
  const layers = child(root, 'layers');
  if (!isGroup(layers) || depth > 8) return out;
  for (const key of layers.keys()) {
    const group = child(layers, key);
    if (!isGroup(group)) continue;
    const vars = child(group, 'vars');
    const own = isGroup(vars) ? attribute(vars, 'name') : undefined;
    const name = typeof own === 'string' && own !== '' ? own : key;
    if (!out.has(name)) out.set(name, group);
    layerGroups(group, depth + 1, out);
  }
  return out;
}

/** Recurrent layers inside a Bidirectional wrapper, by name → the refusal that names the wrapper. */
function bidirectionalRefusals(layers: LayerInfo[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const wrapper of layers.filter((l) => l.className === 'Bidirectional')) {
    for (const key of ['layer', 'backward_layer']) {
      const inner = wrapper.config[key];
      const name = isObject(inner) && isObject(inner.config) ? inner.config.name : undefined;
      if (typeof name === 'string') {
        out.set(name, `layer "${name}" is one direction of the Bidirectional layer "${wrapper.name}": the engine's cells run forward only, so bidirectional layers are not loaded`);
      }
    }
  }
  return out;
}

function keras3Layers(root: H5Group, configured: LayerInfo[] | undefined, fileBytes: number, fail: (p: string) => never): ModelLayer[] {
  const groups = layerGroups(root);
  const out: ModelLayer[] = [];
  const infos = configured?.filter((l) => layerCell(l) !== undefined) ?? [...groups.keys()].map((name) => ({ name, className: '', config: {} }) as LayerInfo);
  const refusals = bidirectionalRefusals(configured ?? []);
  for (const info of infos) {
    const refusal = refusals.get(info.name);
    if (refusal) {
      out.push({ info, weights: new Map(), refusal });
      continue;
    }
    const group = groups.get(info.name);
    const cellGroup = group ? child(group, 'cell') : undefined;
    const vars = isGroup(cellGroup) ? child(cellGroup, 'vars') : group ? child(group, 'vars') : undefined;
    if (!isGroup(vars)) {
      if (configured) fail(`its weights file has no weights for layer "${info.name}" (no layers/${info.name}/cell/vars)`);
      continue;
    }
    const arrays = vars.keys().sort((a, b) => Number(a) - Number(b)).map((k) => datasetArray(child(vars, k), fileBytes, `${vars.path}/${k}`, fail));
    const weights = new Map(arrays.slice(0, 3).map((a, i) => [WEIGHT_ORDER[i]!, a]));
    const resolved = configured ? info : inferredInfo(info.name, attribute(vars, 'name'), weights);
    if (resolved) out.push({ info: resolved, weights });
  }
  return out;
}

/** Without a config (.weights.h5): the class from the cell's saved name, else from the kernel's gates. */
function inferredInfo(name: string, cellName: unknown, weights: Map<string, LazyArray>): LayerInfo | undefined {
  const kernel = weights.get('kernel');
  const recurrent = weights.get('recurrent_kernel');
  if (!kernel || !recurrent || kernel.shape.length !== 2 || recurrent.shape.length !== 2) return undefined;
  const units = recurrent.shape[0]!;
  const byName = typeof cellName === 'string' ? CELL_CLASSES[cellName] : undefined;
  const byShape = (Object.keys(GATES) as RecurrentCell[]).find((c) => GATES[c] * units === kernel.shape[1]);
  const cell = byName ? layerCell({ name, className: byName, config: {} }) : byShape;
  if (!cell) return undefined;
  const bias = weights.get('bias');
  return {
    name,
    className: LAYER_CLASSES[cell],
    config: {
      units,
      use_bias: bias !== undefined,
      batch_input_shape: [null, null, kernel.shape[0]],
      // A bias [2, 3u] is reset_after=True's; without a bias the file cannot tell, and Keras's default is True.
      ...(cell === 'gru' ? { reset_after: bias ? bias.shape.length === 2 : true } : {}),
    },
  };
}

/** Keras 2 (and Keras 3 legacy) .h5: model_weights/<layer> with weight_names naming each dataset. */
function legacyModel(root: H5Group, modelConfig: unknown, fileBytes: number, fail: (p: string) => never): KerasModel {
  const container = child(root, 'model_weights');
  const group = isGroup(container) ? container : root;
  const configured = isObject(modelConfig) ? layersOf(modelConfig) : undefined;
  const names = (attribute(group, 'layer_names') as unknown[] | undefined)?.filter((n): n is string => typeof n === 'string') ?? [];
  const infos = configured ?? names.map((name) => ({ name, className: '', config: {} }) as LayerInfo);
  const recurrent: ModelLayer[] = [];
  const refusals = bidirectionalRefusals(configured ?? []);
  for (const info of infos) {
    if (configured && !layerCell(info)) continue;
    const refusal = refusals.get(info.name);
    if (refusal) {
      recurrent.push({ info, weights: new Map(), refusal });
      continue;
    }
    const layerGroup = child(group, info.name);
    if (!isGroup(layerGroup)) continue;
    const weightNames = (attribute(layerGroup, 'weight_names') as unknown[] | undefined)?.filter((n): n is string => typeof n === 'string') ?? [];
    const weights = new Map<string, LazyArray>();
    for (const weightName of weightNames) {
      const short = weightName.replace(/:\d+$/, '').split('/').pop()!;
      weights.set(short, datasetArray(resolvePath(layerGroup, weightName), fileBytes, `${layerGroup.path}/${weightName}`, fail));
    }
    const resolved = configured ? info : inferredInfo(info.name, undefined, weights);
    if (resolved) recurrent.push({ info: resolved, weights });
  }
  return { layers: configured ?? recurrent.map((l) => l.info), recurrent };
}

function resolvePath(group: H5Group, path: string): H5Entity | undefined {
  let at: H5Entity | undefined = group;
  for (const part of path.split('/')) at = isGroup(at) ? child(at, part) : undefined;
  return at;
}
