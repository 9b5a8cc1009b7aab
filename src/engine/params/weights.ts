// Trained weights in place of initializers (`"weights"` in the config), from
//   - a TensorFlow.js LayersModel as tensorflowjs_converter writes it from Keras: model.json (topology +
//     weightsManifest) and its .bin shards, decoded by tfjs-core's own io.decodeWeights;
//   - an .npz (numpy.savez) keyed by weight name;
//   - one .npy per parameter.
// Every array is checked against the cell's parameter it replaces (shape, floating dtype, finite values),
// and a model layer's class and settings against the config, each problem located at the `weights` key.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { tf, type Tensor } from '../backend/tf';
import type { RunSpec, WeightsSpec } from '../config/spec';
import { closest } from '../config/suggest';
import { UserError, type SourceIssue, type UserErrorKind } from '../errors';
import type { CellGraph, ParamDecl } from '../graph/graph';
import { assertFinite, NpyFormatError, readNpyFile, readNpzFile, type NpyArray } from './npy';

/** Keras's recurrent layer classes (and the cells an RNN layer may wrap) → built-in cells. */
export const LAYER_CELLS: Record<string, 'simple_rnn' | 'lstm' | 'gru'> = {
  SimpleRNN: 'simple_rnn',
  LSTM: 'lstm',
  GRU: 'gru',
  SimpleRNNCell: 'simple_rnn',
  LSTMCell: 'lstm',
  GRUCell: 'gru',
};

const FLOAT_DTYPES = new Set(['float16', 'float32', 'float64']);

class WeightsError extends Error {
  constructor(
    readonly kind: UserErrorKind,
    readonly issues: SourceIssue[],
  ) {
    super(issues.map((i) => i.message).join('\n'));
  }
}

/** The weight name a parameter is known by outside (its custom `name` alias, else its graph name). */
export function weightNameOf(decl: ParamDecl): string {
  return decl.weightName ?? decl.name;
}

/**
 * The trained value of every parameter `spec.weights` provides, keyed by graph name. Throws a UserError
 * listing every problem (a missing or unreadable file, a shape or dtype that does not fit, a model layer
 * that is not the configured cell).
 */
export function loadWeights(graph: CellGraph, spec: RunSpec): Map<string, Float32Array> {
  const weights = spec.weights;
  if (!weights) return new Map();
  try {
    switch (weights.kind) {
      case 'npz':
        return fromNpz(graph, spec, weights);
      case 'files':
        return fromFiles(graph, spec, weights);
      case 'model':
        return fromModel(graph, spec, weights);
    }
  } catch (e) {
    if (e instanceof WeightsError) throw new UserError(e.kind, e.issues);
    throw e;
  }
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Checks one array against the parameter it replaces; returns its values or pushes issues. */
function checked(decl: ParamDecl, arr: NpyArray, source: string, path: string, spec: RunSpec, issues: SourceIssue[]): Float32Array | undefined {
  const name = weightNameOf(decl);
  if (!FLOAT_DTYPES.has(arr.dtype)) {
    issues.push(spec.locator.issueAt(path, `${source}: "${name}" has dtype ${arr.dtype}; weights must be floating point (float16, float32 or float64)`));
    return undefined;
  }
  const same = arr.shape.length === decl.shape.length && arr.shape.every((d, i) => d === decl.shape[i]);
  if (!same) {
    issues.push(spec.locator.issueAt(path, `${source}: "${name}" has shape ${fmt(arr.shape)}, but the cell's parameter ${decl.name} has shape ${fmt(decl.shape)}${shapeHint(spec)}`));
    return undefined;
  }
  try {
    assertFinite(arr, source);
  } catch (e) {
    if (!(e instanceof NpyFormatError)) throw e;
    issues.push(spec.locator.issueAt(path, `${source}: "${name}": ${e.problem}`));
    return undefined;
  }
  return arr.data;
}

function shapeHint(spec: RunSpec): string {
  if (spec.cell === 'custom') return '';
  return ` (cell ${spec.cell} with units ${spec.units}, inputDim ${spec.inputDim}${spec.useBias ? '' : ', useBias false'})`;
}

function readNpz(file: string, path: string, spec: RunSpec): Map<string, NpyArray> {
  try {
    return readNpzFile(file);
  } catch (e) {
    if (e instanceof NpyFormatError) throw new WeightsError('input', [spec.locator.issueAt(path, e.message)]);
    throw e;
  }
}

function fromNpz(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'npz' }>): Map<string, Float32Array> {
  const arrays = readNpz(weights.file, weights.path, spec);
  const out = new Map<string, Float32Array>();
  const issues: SourceIssue[] = [];
  const missing: string[] = [];
  for (const decl of graph.params) {
    const key = arrays.has(weightNameOf(decl)) ? weightNameOf(decl) : arrays.has(decl.name) ? decl.name : undefined;
    if (key === undefined) {
      missing.push(weightNameOf(decl));
      continue;
    }
    const data = checked(decl, arrays.get(key)!, weights.file, weights.path, spec, issues);
    if (data) out.set(decl.name, data);
  }
  if (missing.length > 0) {
    const keys = [...arrays.keys()];
    const hints = missing.map((m) => closest(m, keys)).filter((h): h is string => h !== undefined);
    issues.push(
      spec.locator.issueAt(
        weights.path,
        `${weights.file} has no array for ${missing.map((m) => `"${m}"`).join(', ')}; it holds ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'no arrays'}` +
          (hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(', ')}?` : '') +
          ' (keys are weight names; every parameter must be there)',
      ),
    );
  }
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}

function fromFiles(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'files' }>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const issues: SourceIssue[] = [];
  const byName = new Map<string, ParamDecl>();
  for (const decl of graph.params) byName.set(weightNameOf(decl), decl);
  for (const decl of graph.params) if (!byName.has(decl.name)) byName.set(decl.name, decl);
  for (const entry of weights.files) {
    const decl = byName.get(entry.param);
    if (!decl) {
      const names = graph.params.map(weightNameOf);
      const suggestion = closest(entry.param, names);
      issues.push(
        (spec.locator.issueAtKey ?? spec.locator.issueAt).call(
          spec.locator,
          entry.path,
          `the cell has no parameter "${entry.param}"; its parameters are ${names.map((n) => `"${n}"`).join(', ')}` + (suggestion ? `; did you mean "${suggestion}"?` : ''),
        ),
      );
      continue;
    }
    let arr: NpyArray;
    try {
      arr = readNpyFile(entry.file);
    } catch (e) {
      if (!(e instanceof NpyFormatError)) throw e;
      issues.push(spec.locator.issueAt(entry.path, e.message));
      continue;
    }
    const data = checked(decl, arr, entry.file, entry.path, spec, issues);
    if (data) out.set(decl.name, data);
  }
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js LayersModel (model.json + .bin shards).

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[];
}

export interface LayerInfo {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** For an RNN layer wrapping a cell: the cell's class and config, which hold the settings. */
  cell?: { className: string; config: Record<string, unknown> };
}

function isObject(value: unknown): value is Record<string, unknown> {
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
export function layerCell(layer: LayerInfo): 'simple_rnn' | 'lstm' | 'gru' | undefined {
  return LAYER_CELLS[layer.className] ?? (layer.cell ? LAYER_CELLS[layer.cell.className] : undefined);
}

/** Keras and tfjs-layers activation names → the op set's names (tfjs writes camelCase; Keras 3 says silu). */
export function activationName(value: unknown): string | undefined {
  const raw = typeof value === 'string' ? value : isObject(value) && typeof value.class_name === 'string' ? value.class_name : undefined;
  if (raw === undefined) return undefined;
  const snake = raw.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return snake === 'silu' ? 'swish' : snake;
}

/** Differences between a model layer and the config's built-in cell, as sentences. */
export function layerDifferences(layer: LayerInfo, spec: RunSpec): string[] {
  const cell = layerCell(layer);
  const label = `layer "${layer.name}" (${layer.className}${layer.cell ? ` of ${layer.cell.className}` : ''})`;
  if (spec.cell === 'seed' || spec.cell === 'custom') return [];
  if (!cell) return [`${label} is not a SimpleRNN, LSTM or GRU layer, so it has no weights for cell ${spec.cell}`];
  if (cell !== spec.cell) return [`${label} maps to cell "${cell}", but this config's cell is "${spec.cell}"`];
  const c = layer.cell?.config ?? layer.config;
  const out: string[] = [];
  if (typeof c.units === 'number' && c.units !== spec.units) out.push(`${label} has units ${c.units}, but the config says units ${spec.units}`);
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
  const inputShape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as unknown;
  if (Array.isArray(inputShape) && typeof inputShape[inputShape.length - 1] === 'number' && inputShape[inputShape.length - 1] !== spec.inputDim) {
    out.push(`${label} takes inputs of size ${inputShape[inputShape.length - 1] as number}, but the config says inputDim ${spec.inputDim}`);
  }
  return out;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

function readModelJson(file: string, path: string, spec: RunSpec): ModelJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeightsError('input', [spec.locator.issueAt(path, code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${(e as Error).message}`)]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightsError('input', [spec.locator.issueAt(path, `${file} is not valid JSON: ${(e as Error).message}`)]);
  }
  if (!isObject(json)) throw new WeightsError('input', [spec.locator.issueAt(path, `${file} is not a model.json (not a JSON object)`)]);
  const model = json as ModelJson;
  if (model.format === 'graph-model') {
    throw new WeightsError('input', [
      spec.locator.issueAt(path, `${file} is a TensorFlow.js graph model, which has no layers; convert the Keras model itself (tensorflowjs_converter --input_format keras) to get a LayersModel`),
    ]);
  }
  if (!isObject(model.modelTopology) || !Array.isArray(model.weightsManifest)) {
    throw new WeightsError('input', [spec.locator.issueAt(path, `${file} is not a TensorFlow.js LayersModel: it needs "modelTopology" and "weightsManifest"`)]);
  }
  return model;
}

/** The layer's weights: manifest entries whose names sit under the layer's name, with the rest of the name. */
function layerWeights(entries: ManifestEntry[], layer: string): { entry: ManifestEntry; relative: string }[] {
  const out: { entry: ManifestEntry; relative: string }[] = [];
  for (const entry of entries) {
    const parts = entry.name.split('/');
    const at = parts.indexOf(layer);
    if (at >= 0 && at < parts.length - 1) out.push({ entry, relative: parts.slice(at + 1).join('/') });
  }
  return out;
}

function fromModel(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'model' }>): Map<string, Float32Array> {
  const loc = spec.locator;
  const model = readModelJson(weights.file, weights.path, spec);
  const layers = layersOf(model.modelTopology);
  let layer: LayerInfo | undefined;
  if (weights.layer !== undefined) {
    layer = layers.find((l) => l.name === weights.layer);
    if (!layer) {
      const names = layers.map((l) => l.name);
      const suggestion = closest(weights.layer, names);
      throw new WeightsError('config', [
        loc.issueAt(
          weights.layerPath,
          `${weights.file} has no layer "${weights.layer}"; its layers are ${layers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none'}` +
            (suggestion ? `; did you mean "${suggestion}"?` : ''),
        ),
      ]);
    }
  } else {
    const recurrent = layers.filter((l) => layerCell(l) !== undefined);
    if (recurrent.length !== 1) {
      throw new WeightsError('config', [
        loc.issueAt(
          weights.path,
          recurrent.length === 0
            ? `${weights.file} has no SimpleRNN, LSTM or GRU layer; name the layer to load with "layer" (its layers are ${layers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none'})`
            : `${weights.file} has ${recurrent.length} recurrent layers (${recurrent.map((l) => l.name).join(', ')}); name the one to load with "layer"`,
        ),
      ]);
    }
    layer = recurrent[0];
  }
  const differences = layerDifferences(layer, spec);
  if (differences.length > 0) throw new WeightsError('config', differences.map((d) => loc.issueAt(weights.layerPath, d)));

  // Map the layer's weights to the cell's parameters by weight name: `lstm/lstm_cell/kernel` → `kernel`.
  const groups = model.weightsManifest!;
  const entries = groups.flatMap((g) => g.weights);
  const mine = layerWeights(entries, layer.name);
  const issues: SourceIssue[] = [];
  const chosen = new Map<string, ManifestEntry>(); // graph name → entry
  const used = new Set<ManifestEntry>();
  for (const decl of graph.params) {
    const name = weightNameOf(decl);
    const matches = mine.filter((w) => w.relative === name || w.relative.endsWith('/' + name));
    if (matches.length === 1) {
      chosen.set(decl.name, matches[0].entry);
      used.add(matches[0].entry);
    } else if (matches.length === 0) {
      issues.push(loc.issueAt(weights.layerPath, `layer "${layer.name}" has no weight for parameter "${name}"; its weights are ${mine.map((w) => w.entry.name).join(', ') || 'none'}`));
    } else {
      issues.push(loc.issueAt(weights.layerPath, `parameter "${name}" matches several weights of layer "${layer.name}": ${matches.map((w) => w.entry.name).join(', ')}`));
    }
  }
  const unused = mine.filter((w) => !used.has(w.entry));
  if (unused.length > 0 && issues.length === 0) {
    issues.push(loc.issueAt(weights.layerPath, `layer "${layer.name}" has weights the cell has no parameter for: ${unused.map((w) => w.entry.name).join(', ')}`));
  }
  for (const [graphName, entry] of chosen) {
    if (entry.dtype !== 'float32') {
      issues.push(loc.issueAt(weights.layerPath, `weight "${entry.name}" has dtype ${entry.dtype}; weights must be float32`));
      continue;
    }
    const decl = graph.params.find((p) => p.name === graphName)!;
    const same = entry.shape.length === decl.shape.length && entry.shape.every((d, i) => d === decl.shape[i]);
    if (!same) {
      issues.push(loc.issueAt(weights.layerPath, `weight "${entry.name}" has shape ${fmt(entry.shape)}, but the cell's parameter ${decl.name} has shape ${fmt(decl.shape)}${shapeHint(spec)}`));
    }
  }
  if (issues.length > 0) throw new WeightsError('config', issues);

  const data = readShards(groups, weights, spec);
  const out = new Map<string, Float32Array>();
  const t = tf();
  let decoded: Record<string, Tensor> = {};
  try {
    decoded = t.io.decodeWeights(data, entries as Parameters<typeof t.io.decodeWeights>[1]) as Record<string, Tensor>;
    for (const [graphName, entry] of chosen) {
      const values = Float32Array.from(decoded[entry.name].dataSync() as Float32Array);
      const label = `${weights.file}: ${entry.name}`;
      try {
        assertFinite({ shape: entry.shape, dtype: 'float32', data: values }, label);
      } catch (e) {
        if (!(e instanceof NpyFormatError)) throw e;
        issues.push(loc.issueAt(weights.layerPath, e.message));
        continue;
      }
      out.set(graphName, values);
    }
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError('input', [loc.issueAt(weights.path, `cannot decode the weights of ${weights.file}: ${(e as Error).message}`)]);
  } finally {
    Object.values(decoded).forEach((x) => x.dispose());
  }
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}

/** Every .bin shard of the manifest, in order, as one buffer; its size checked against the manifest. */
function readShards(groups: NonNullable<ModelJson['weightsManifest']>, weights: Extract<WeightsSpec, { kind: 'model' }>, spec: RunSpec): ArrayBuffer {
  const dir = dirname(weights.file);
  const parts: Uint8Array[] = [];
  for (const group of groups) {
    for (const p of group.paths) {
      const file = resolve(dir, p);
      try {
        parts.push(readFileSync(file));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new WeightsError('input', [
          spec.locator.issueAt(weights.path, code === 'ENOENT' ? `weight file ${file} (named by ${weights.file}) not found` : `cannot read ${file}: ${(e as Error).message}`),
        ]);
      }
    }
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const entries = groups.flatMap((g) => g.weights);
  if (entries.every((e) => e.dtype !== 'string')) {
    const expected = entries.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[e.quantization?.dtype ?? e.dtype] ?? 4), 0);
    if (total < expected) {
      throw new WeightsError('input', [
        spec.locator.issueAt(weights.path, `the weight files of ${weights.file} hold ${total} bytes, but its weightsManifest needs ${expected}: a .bin file is truncated or from another model`),
      ]);
    }
  }
  const buffer = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    buffer.set(p, at);
    at += p.length;
  }
  return buffer.buffer;
}

/**
 * Every file a config's `weights` reads: model.json and the .bin shards its manifest names (best effort:
 * an unreadable model.json yields itself only), the .npz, or each .npy. For rerunning on a change.
 */
export function weightsFiles(weights: WeightsSpec | undefined): string[] {
  if (!weights) return [];
  if (weights.kind === 'npz') return [weights.file];
  if (weights.kind === 'files') return weights.files.map((f) => f.file);
  const out = [weights.file];
  try {
    const json = JSON.parse(readFileSync(weights.file, 'utf8')) as ModelJson;
    for (const group of Array.isArray(json.weightsManifest) ? json.weightsManifest : []) {
      for (const p of Array.isArray(group.paths) ? group.paths : []) if (typeof p === 'string') out.push(resolve(dirname(weights.file), p));
    }
  } catch {
    // The run reports an unreadable model.json, at its key.
  }
  return out;
}
