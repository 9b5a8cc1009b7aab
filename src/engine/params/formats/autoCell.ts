// "cell": "auto": the config takes its cell, units, inputDim, activations and useBias from the model file its
// `weights` names, as if it had written them; what it does write stays and is checked against the file when the
// weights load. Runs before validation, on the parsed config, so every later check sees a plain built-in cell.
import { resolve } from 'node:path';
import type { SourceLocator } from '../../config/spec';
import type { SourceIssue } from '../../errors';
import { WeightsFileError } from './binary';
import type { LayerSummary } from './layer';
import { inspectWeightsFileSync, formatsOfKey, type WeightsConfigKey } from './registry';

const MODEL_KEYS: { key: WeightsConfigKey; choice: 'layer' | 'prefix' }[] = [
  { key: 'torch', choice: 'prefix' },
  { key: 'keras', choice: 'layer' },
  { key: 'model', choice: 'layer' },
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rewrites `data` in place when its cell is "auto"; returns the issues that prevent it. */
export function resolveAutoCell(data: unknown, locator: SourceLocator, configDir: string): SourceIssue[] {
  if (!isObject(data) || data.cell !== 'auto') return [];
  const weights = isObject(data.weights) ? data.weights : undefined;
  const entry = MODEL_KEYS.find(({ key }) => typeof weights?.[key] === 'string' && weights[key] !== '');
  if (!weights || !entry) {
    return [locator.issueAt('cell', '"cell": "auto" takes the cell from a trained model: "weights" must name one with "torch", "keras" or "model"')];
  }
  const path = `weights.${entry.key}`;
  const file = resolve(configDir, weights[entry.key] as string);
  let layers: LayerSummary[];
  try {
    const summary = inspectWeightsFileSync(file);
    if (!formatsOfKey(entry.key).some((f) => f.id === summary.format)) {
      return [locator.issueAt(path, `${file} is a ${summary.title} file: name it with "${summary.configKey}"`)];
    }
    layers = summary.layers;
  } catch (e) {
    if (e instanceof WeightsFileError) return [locator.issueAt(path, e.message)];
    throw e;
  }
  const chosenName = weights[entry.choice];
  const wanted = typeof chosenName === 'string' ? (entry.choice === 'prefix' ? chosenName.replace(/\.$/, '') : chosenName) : undefined;
  const candidates = layers.filter((l) => l.cell !== undefined && (wanted === undefined || l.name === wanted));
  if (candidates.length !== 1) {
    const at = wanted !== undefined ? `weights.${entry.choice}` : path;
    const list = layers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none';
    const why = wanted !== undefined ? `has no recurrent layer "${String(chosenName)}"` : candidates.length === 0 ? 'has no recurrent layer' : `has ${candidates.length} recurrent layers; name one with "${entry.choice}"`;
    return [locator.issueAt(at, `"cell": "auto": ${file} ${why} (its recurrent layers: ${list})`)];
  }
  const layer = candidates[0]!;
  if (layer.refusal) return [locator.issueAt(wanted !== undefined ? `weights.${entry.choice}` : path, layer.refusal)];
  data.cell = layer.cell;
  const take = (key: string, value: unknown) => {
    if (value !== undefined && data[key] === undefined) data[key] = value;
  };
  take('units', layer.units);
  take('inputDim', layer.inputDim);
  take('activation', layer.activation);
  if (layer.cell !== 'simple_rnn') take('recurrentActivation', layer.recurrentActivation);
  take('useBias', layer.useBias);
  return [];
}
