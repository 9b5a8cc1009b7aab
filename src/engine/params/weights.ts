// Trained weights in place of initializers (`"weights"` in the config): the dispatcher. Each format lives in
// formats/ (registry.ts lists them: PyTorch state dicts and safetensors, Keras 3 .keras/.weights.h5 and legacy
// .h5, TensorFlow.js model.json, .npz, .npy); every array is checked against the cell's parameter it replaces
// (shape, floating dtype, finite values), and a model layer's class and settings against the config, each
// problem located at the `weights` key.
import { dirname, resolve } from 'node:path';
import type { RunSpec, WeightsSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph } from '../graph/graph';
import { fromModelLayer, located, WeightsError } from './formats/checks';
import { fromFiles, fromNpz } from './formats/numpy';
import { readModelFile } from './formats/registry';
import { fromModel, parseModelJson } from './formats/tfjs';

export { weightNameOf } from './formats/checks';
export { LAYER_CELLS, layerCell, layerDifferences, layersOf, type LayerInfo } from './formats/layer';
export { inspectWeightsFile, loadWeightReaders, loadWeightReadersFor, type WeightsFileSummary } from './formats/registry';

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
      case 'torch':
      case 'keras': {
        const options = weights.kind === 'torch' && weights.layerIndex !== undefined ? { layerIndex: weights.layerIndex } : {};
        const model = located(() => readModelFile(weights.file, weights.kind, options), spec, weights.path);
        const choice = weights.kind === 'torch'
          ? { file: weights.file, name: weights.prefix, key: 'prefix', path: weights.path, choicePath: weights.prefixPath }
          : { file: weights.file, name: weights.layer, key: 'layer', path: weights.path, choicePath: weights.layerPath };
        return fromModelLayer(graph, spec, choice, model.layers, model.recurrent);
      }
    }
  } catch (e) {
    if (e instanceof WeightsError) throw new UserError(e.kind, e.issues);
    throw e;
  }
}

/**
 * Every file a config's `weights` reads: model.json and the .bin shards its manifest names (best effort:
 * an unreadable model.json yields itself only), the .npz, the model file, or each .npy. For rerunning on a change.
 */
export function weightsFiles(weights: WeightsSpec | undefined): string[] {
  if (!weights) return [];
  if (weights.kind === 'files') return weights.files.map((f) => f.file);
  if (weights.kind !== 'model') return [weights.file];
  const out = [weights.file];
  try {
    for (const group of parseModelJson(weights.file).weightsManifest ?? []) {
      for (const p of group.paths) out.push(resolve(dirname(weights.file), p));
    }
  } catch {
    // The run reports an unreadable model.json, at its key.
  }
  return out;
}
