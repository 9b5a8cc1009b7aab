// TensorFlow.js LayersModel weights: model.json (topology + weightsManifest) as tensorflowjs_converter writes it
// from Keras, and its .bin shards, decoded by tfjs-core's own io.decodeWeights. Files are read through
// io/files.ts; the shards' total size is checked against what the manifest needs before they are joined.
import { existsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { tf, type Tensor } from '../../backend/tf';
import type { RunSpec, WeightsSpec } from '../../config/spec';
import { didYouMean } from '../../config/suggest';
import type { SourceIssue } from '../../errors';
import type { CellGraph } from '../../graph/graph';
import { FileReadError, readRegularFile, readRegularTextFile } from '../../io/files';
import { assertFinite, NpyFormatError } from '../npy';
import { isObject, layerCell, layerDifferences, layersOf, type LayerInfo } from './layer';
import { fmt, located, shapeHint, weightNameOf, WeightsError } from './checks';
import { MAX_WEIGHTS_FILE_BYTES, WeightsFileError } from './binary';

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[];
}

/** A model.json is text: a few MB at most even for large models (the weights are in the shards). */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Parses a model.json, checking it is a LayersModel (not a graph model) with a manifest. */
export function parseModelJson(file: string): ModelJson {
  let text: string;
  try {
    text = readRegularTextFile(file, { maxBytes: MAX_MODEL_JSON_BYTES, what: 'model.json' });
  } catch (e) {
    if (e instanceof FileReadError) throw new WeightsFileError(file, e.message);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightsFileError(file, `is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw new WeightsFileError(file, 'is not a model.json (not a JSON object)');
  const model = json as ModelJson;
  if (model.format === 'graph-model') {
    throw new WeightsFileError(file, 'is a TensorFlow.js graph model, which has no layers; convert the Keras model itself (tensorflowjs_converter --input_format keras) to get a LayersModel');
  }
  if (!isObject(model.modelTopology) || !Array.isArray(model.weightsManifest)) {
    throw new WeightsFileError(file, 'is not a TensorFlow.js LayersModel: it needs "modelTopology" and "weightsManifest"');
  }
  model.weightsManifest.forEach((group, g) => {
    const ok = isObject(group) && Array.isArray(group.paths) && group.paths.every((p) => typeof p === 'string') && Array.isArray(group.weights);
    if (!ok) throw new WeightsFileError(file, `weightsManifest[${g}] is not {"paths": [...], "weights": [...]}`);
    group.weights.forEach((w, i) => {
      const entry = isObject(w) && typeof w.name === 'string' && typeof w.dtype === 'string' && Array.isArray(w.shape) && w.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
      if (!entry) throw new WeightsFileError(file, `weightsManifest[${g}].weights[${i}] is not {"name", "shape" (non-negative integers), "dtype"}`);
    });
  });
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

export function fromModel(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'model' }>): Map<string, Float32Array> {
  const loc = spec.locator;
  const model = located(() => parseModelJson(weights.file), spec, weights.path);
  const layers = layersOf(model.modelTopology);
  let layer: LayerInfo | undefined;
  if (weights.layer !== undefined) {
    layer = layers.find((l) => l.name === weights.layer);
    if (!layer) {
      const names = layers.map((l) => l.name);
      throw new WeightsError('config', [
        loc.issueAt(
          weights.layerPath,
          `${weights.file} has no layer "${weights.layer}"; its layers are ${layers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none'}` +
            didYouMean(weights.layer, names),
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
      if (!file.startsWith(dir + sep)) {
        throw new WeightsError('input', [spec.locator.issueAt(weights.path, `${weights.file} names the weight file ${JSON.stringify(p)}, which is not in the model's folder`)]);
      }
      try {
        parts.push(readRegularFile(file, { maxBytes: MAX_WEIGHTS_FILE_BYTES, what: 'weight file' }));
      } catch (e) {
        if (!(e instanceof FileReadError)) throw e;
        const missing = !existsSync(file);
        throw new WeightsError('input', [
          spec.locator.issueAt(weights.path, missing ? `weight file ${file} (named by ${weights.file}) not found` : `${file}: ${e.message}`),
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

