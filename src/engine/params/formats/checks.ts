// The checks every weight format shares: an array against the cell's parameter it replaces (floating dtype,
// shape, finite values), a file reader's failure turned into an issue at the `weights` key, and the loading of
// one recurrent layer of a model file (Keras, PyTorch) into the cell's parameters by weight name.
import type { RunSpec } from '../../config/spec';
import { closest } from '../../config/suggest';
import type { SourceIssue, UserErrorKind } from '../../errors';
import type { CellGraph, ParamDecl } from '../../graph/graph';
import { assertFinite, NpyFormatError, type NpyArray } from '../npy';
import { WeightsFileError } from './binary';
import { layerDifferences, layerLabel, type LayerInfo, type LazyArray, type ModelLayer } from './layer';

const FLOAT_DTYPES = new Set(['float16', 'bfloat16', 'float32', 'float64']);

export class WeightsError extends Error {
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

export const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

export function shapeHint(spec: RunSpec): string {
  if (spec.cell === 'custom') return '';
  return ` (cell ${spec.cell} with units ${spec.units}, inputDim ${spec.inputDim}${spec.useBias ? '' : ', useBias false'})`;
}

/** Runs a file reader; its WeightsFileError becomes an input issue at `path`. */
export function located<T>(read: () => T, spec: RunSpec, path: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof WeightsFileError) throw new WeightsError('input', [spec.locator.issueAt(path, e.message)]);
    throw e;
  }
}

const lazy = (arr: NpyArray): LazyArray => ({ dtype: arr.dtype, shape: arr.shape, values: () => arr.data });

/** Checks one array against the parameter it replaces; returns its values or pushes issues. Decodes only if it fits. */
export function checked(decl: ParamDecl, given: NpyArray | LazyArray, source: string, path: string, spec: RunSpec, issues: SourceIssue[]): Float32Array | undefined {
  const arr = 'data' in given ? lazy(given) : given;
  const name = weightNameOf(decl);
  if (!FLOAT_DTYPES.has(arr.dtype)) {
    issues.push(spec.locator.issueAt(path, `${source}: "${name}" has dtype ${arr.dtype}; weights must be floating point (float16, bfloat16, float32 or float64)`));
    return undefined;
  }
  const same = arr.shape.length === decl.shape.length && arr.shape.every((d, i) => d === decl.shape[i]);
  if (!same) {
    issues.push(spec.locator.issueAt(path, `${source}: "${name}" has shape ${fmt(arr.shape)}, but the cell's parameter ${decl.name} has shape ${fmt(decl.shape)}${shapeHint(spec)}`));
    return undefined;
  }
  const data = arr.values();
  try {
    assertFinite({ shape: arr.shape, dtype: arr.dtype, data }, source);
  } catch (e) {
    if (!(e instanceof NpyFormatError)) throw e;
    const origin = 'origin' in arr && arr.origin ? ` (${arr.origin})` : '';
    issues.push(spec.locator.issueAt(path, `${source}: "${name}"${origin}: ${e.problem}`));
    return undefined;
  }
  return data;
}

/** Where a model file and the choice of its layer sit in the config. */
export interface LayerChoice {
  file: string;
  /** The layer's name (`layer`) or module prefix (`prefix`); undefined: the file's only recurrent layer. */
  name?: string;
  /** `layer` or `prefix`, for messages. */
  key: string;
  path: string;
  /** JSON path of `layer`/`prefix`, or of the file key when absent. */
  choicePath: string;
}

const listLayers = (layers: LayerInfo[]) => layers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none';

/** The layer a choice names, or the only recurrent one; a located error otherwise. */
export function chooseLayer(spec: RunSpec, choice: LayerChoice, all: LayerInfo[], recurrent: ModelLayer[]): ModelLayer | LayerInfo {
  const loc = spec.locator;
  if (choice.name !== undefined) {
    const wanted = choice.key === 'prefix' ? choice.name.replace(/\.$/, '') : choice.name;
    const found = recurrent.find((l) => l.info.name === wanted) ?? all.find((l) => l.name === wanted);
    if (found) return found;
    const names = [...new Set([...all, ...recurrent.map((l) => l.info)].map((l) => l.name))];
    const suggestion = closest(wanted, names);
    throw new WeightsError('config', [
      loc.issueAt(
        choice.choicePath,
        `${choice.file} has no ${choice.key === 'prefix' ? 'recurrent module at prefix' : 'layer'} "${choice.name}"; its ${choice.key === 'prefix' ? 'recurrent modules are' : 'layers are'} ` +
          `${choice.key === 'prefix' ? recurrent.map((l) => `${l.info.name}. (${l.info.className})`).join(', ') || 'none' : listLayers(all)}` +
          (suggestion ? `; did you mean "${suggestion}${choice.key === 'prefix' ? '.' : ''}"?` : ''),
      ),
    ]);
  }
  if (recurrent.length !== 1) {
    throw new WeightsError('config', [
      loc.issueAt(
        choice.path,
        recurrent.length === 0
          ? `${choice.file} has no SimpleRNN, LSTM or GRU layer (its layers are ${listLayers(all)})`
          : `${choice.file} has ${recurrent.length} recurrent layers (${recurrent.map((l) => `${l.info.name} (${l.info.className})`).join(', ')}); name the one to load with "${choice.key}"`,
      ),
    ]);
  }
  return recurrent[0]!;
}

/** One recurrent layer of a model file into the cell's parameters, by weight name; every mismatch located. */
export function fromModelLayer(graph: CellGraph, spec: RunSpec, choice: LayerChoice, all: LayerInfo[], recurrent: ModelLayer[]): Map<string, Float32Array> {
  const loc = spec.locator;
  const chosen = chooseLayer(spec, choice, all, recurrent);
  const info = 'info' in chosen ? chosen.info : chosen;
  const at = choice.choicePath;
  if ('refusal' in chosen && chosen.refusal) throw new WeightsError('config', [loc.issueAt(at, chosen.refusal)]);
  const differences = layerDifferences(info, spec);
  if (differences.length > 0) throw new WeightsError('config', differences.map((d) => loc.issueAt(at, d)));
  if (!('weights' in chosen)) throw new WeightsError('config', [loc.issueAt(at, `${layerLabel(info)} is not a SimpleRNN, LSTM or GRU layer, so it has no weights for cell ${spec.cell}`)]);
  const issues: SourceIssue[] = [];
  const out = new Map<string, Float32Array>();
  const used = new Set<string>();
  for (const decl of graph.params) {
    const name = weightNameOf(decl);
    const key = chosen.weights.has(name) ? name : chosen.weights.has(decl.name) ? decl.name : undefined;
    if (key === undefined) {
      issues.push(loc.issueAt(at, `${layerLabel(info)} has no weight for parameter "${name}"; its weights are ${[...chosen.weights.keys()].join(', ') || 'none'}`));
      continue;
    }
    used.add(key);
    const data = checked(decl, chosen.weights.get(key)!, info.name ? `${choice.file}: ${info.name}` : choice.file, at, spec, issues);
    if (data) out.set(decl.name, data);
  }
  const unused = [...chosen.weights.keys()].filter((k) => !used.has(k));
  if (unused.length > 0 && issues.length === 0) issues.push(loc.issueAt(at, `${layerLabel(info)} has weights the cell has no parameter for: ${unused.join(', ')}`));
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}
