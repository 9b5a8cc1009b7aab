// The weights a control run hands back, in one folder written beside its target and renamed into place (never
// over an existing folder unless forced):
//  - weights.npz (a stacked network: LAYER.npz per layer): one float32 array per parameter, keyed by its weight name (kernel, recurrent_kernel, bias;
//    linear_rec/kernel for the seed cell) — what `"weights": { "npz": … }` loads;
//  - manifest.json: what was done, ρ per kind before/after, and each array's Keras variable path;
//  - NAME.jacobian.json: the original config pointing at weights.npz, so `analyze` shows the result;
//  - model.json + group1-shard1of1.bin when the network came from a TensorFlow.js LayersModel: the same model
//    with the recurrent layer's weights replaced.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { parse } from 'jsonc-parser/lib/esm/main';
import { tf, type Tensor } from '../backend/tf';
import { fileIssue, UserError } from '../errors';
import { encodeNpy } from '../params/npy';
import { writeFolderAtomic } from '../run/save';
import { layerCell, layersOf, weightNameOf } from '../params/weights';
import type { ControlResult } from './lsc';
import { defaultOutDir } from './outDir';

export interface ExportOptions {
  out?: string;
  force?: boolean;
}

export interface ExportResult {
  dir: string;
  files: string[];
  config: string;
}

const KERAS_LAYER: Record<string, string> = { simple_rnn: 'simple_rnn/simple_rnn_cell', lstm: 'lstm/lstm_cell', gru: 'gru/gru_cell' };

export { defaultOutDir };

/** The output folder may be written: it does not exist, or the caller forces its replacement. */
export function assertWritable(dir: string, force: boolean): void {
  if (fs.existsSync(dir) && !force) {
    throw new UserError('input', [fileIssue(path.resolve(dir), `${path.resolve(dir)} already exists; pass --force to replace it, or --out another folder`)]);
  }
}

export function exportControl(result: ControlResult, configText: string, options: ExportOptions = {}): ExportResult {
  const { spec } = result.problem;
  const dir = path.resolve(options.out ?? defaultOutDir(spec.configFile, result.kind));
  assertWritable(dir, options.force ?? false);
  const base = path.basename(spec.configFile).replace(/\.jacobian\.json$|\.json$/, '');
  const configName = `${base}.${result.kind === 'stabilize' ? 'stabilized' : 'flossed'}.jacobian.json`;
  const files = new Map<string, Uint8Array | string>();
  // One .npz per layer, keyed by the layer's own weight names (a one-cell config: weights.npz).
  const { network } = result.problem;
  const stacked = spec.layers !== undefined;
  const npzFiles: string[] = [];
  const arrays = network.layerGraphs.flatMap((local, l) => {
    const placement = network.layers[l];
    const npz = stacked ? `${placement.name}.npz` : 'weights.npz';
    npzFiles.push(npz);
    const entries: Record<string, Uint8Array> = {};
    const kerasLayer = stacked ? `${placement.name}/${local.cell}_cell` : KERAS_LAYER[local.cell];
    const out = local.params.map((p) => {
      const key = weightNameOf(p);
      entries[`${key}.npy`] = encodeNpy(p.shape, result.weights.get(placement.rename.get(p.name) ?? p.name)!);
      return { file: npz, key, shape: p.shape, dtype: 'float32', keras: kerasLayer && local.cell !== 'seed' && local.cell !== 'custom' ? `${kerasLayer}/${key}` : key };
    });
    files.set(npz, zipSync(entries, { level: 0 }));
    return out;
  });
  files.set(configName, newConfig(configText, spec.configFile, dir, npzFiles));
  if (spec.weights?.kind === 'model') {
    for (const [name, data] of modelFiles(result, spec.weights.file, spec.weights.layer)) files.set(name, data);
  }
  const manifest = {
    kind: result.kind,
    source: spec.configFile,
    cell: result.problem.graph.cell,
    units: spec.units,
    inputDim: spec.inputDim,
    config: configName,
    stop: result.loop.stop,
    steps: result.loop.history.length,
    bestStep: result.loop.bestStep,
    quantities: result.quantities,
    arrays,
    files: [...files.keys()],
  };
  files.set('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  // Replaces `dir` only when it exists and the caller forced it (checked above).
  writeFolderAtomic(dir, (staging) => {
    for (const [name, data] of files) fs.writeFileSync(path.join(staging, name), data);
  });
  return { dir, files: [...files.keys()], config: path.join(dir, configName) };
}

/** The original config with its control blocks removed, `weights` (per layer, for a stacked network) pointing at the .npz files, and data paths still valid from `dir`. */
function newConfig(text: string, configFile: string, dir: string, npzFiles: string[]): string {
  const data = parse(text) as Record<string, unknown>;
  delete data.stabilize;
  delete data.floss;
  if (Array.isArray(data.layers)) (data.layers as Record<string, unknown>[]).forEach((layer, l) => (layer.weights = { npz: npzFiles[l] }));
  else data.weights = { npz: npzFiles[0] };
  const from = path.dirname(path.resolve(configFile));
  const rebase = (source: unknown) => {
    if (source && typeof source === 'object' && typeof (source as { file?: unknown }).file === 'string') {
      const s = source as { file: string };
      s.file = path.relative(dir, path.resolve(from, s.file)) || '.';
    }
  };
  rebase(data.inputs);
  rebase(data.initialState);
  if (data.initialState && typeof data.initialState === 'object') Object.values(data.initialState).forEach(rebase);
  return JSON.stringify(data, null, 2) + '\n';
}

/** model.json and one shard: the source model with the recurrent layer's weights replaced by the result's. */
function modelFiles(result: ControlResult, modelFile: string, layerName: string | undefined): Map<string, Uint8Array | string> {
  const t = tf();
  const model = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  };
  const layer = layerName ?? layersOf(model.modelTopology).find((l) => layerCell(l) !== undefined)!.name;
  const shards = model.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.resolve(path.dirname(modelFile), p))));
  const buffer = Buffer.concat(shards);
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const decoded = t.io.decodeWeights(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length), specs as Parameters<typeof t.io.decodeWeights>[1]) as Record<string, Tensor>;
  try {
    for (const p of result.problem.graph.params) {
      const name = weightNameOf(p);
      const entry = specs.find((s) => {
        const parts = s.name.split('/');
        const at = parts.indexOf(layer);
        const relative = parts.slice(at + 1).join('/');
        return at >= 0 && (relative === name || relative.endsWith('/' + name));
      });
      if (!entry) throw new Error(`internal: ${modelFile} lost the weight for ${name}`);
      decoded[entry.name].dispose();
      decoded[entry.name] = t.tensor(result.weights.get(p.name)!, entry.shape);
    }
    const ordered = specs.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
    const encoded = encodeSync(ordered);
    const json = { ...model, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: encoded.specs }] };
    return new Map<string, Uint8Array | string>([
      ['model.json', JSON.stringify(json) + '\n'],
      ['group1-shard1of1.bin', encoded.data],
    ]);
  } finally {
    Object.values(decoded).forEach((x) => x.dispose());
  }
}

/** The weights' bytes in manifest order, each in its own dtype (tfjs's own encodeWeights is async). */
function encodeSync(weights: { name: string; tensor: Tensor }[]): { data: Uint8Array; specs: { name: string; shape: number[]; dtype: string }[] } {
  const parts = weights.map((w) => {
    const values = w.tensor.dataSync() as Float32Array | Int32Array | Uint8Array;
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  });
  return { data: Buffer.concat(parts), specs: weights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype })) };
}

