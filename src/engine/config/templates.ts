// The configs "New Jacobian Config…" writes, and the seed example the Get Started walkthrough opens: one per
// built-in cell, a cell written as equations, and one filled in from a trained model. Pure (no vscode), so the
// unit tests run every template through the engine and compare the built-in ones with examples/.
import type { RecurrentLayer } from '../params/inspect';

export type TemplateId = 'seed' | 'lstm' | 'gru' | 'simple_rnn' | 'equations' | 'model';

export interface TemplateInfo {
  id: TemplateId;
  /** The quick pick's label. */
  label: string;
  /** One line on what the cell is and what it shows. */
  detail: string;
  /** The file name offered, before it is made unique in the target folder. */
  fileName: string;
}

export const TEMPLATES: readonly TemplateInfo[] = [
  { id: 'seed', label: 'Seed cell', detail: 'h_t = W_h·ReLU(h_{t-1}) + b: var·fan_in ≈ 0.5 (ReLU), 1.0 (linear)', fileName: 'seed-relu.jacobian.json' },
  { id: 'lstm', label: 'LSTM', detail: 'Keras LSTMCell, 64 units: h and c transitions, input Jacobian, end to end', fileName: 'lstm.jacobian.json' },
  { id: 'gru', label: 'GRU', detail: 'Keras GRUCell (reset_after=True), 64 units', fileName: 'gru.jacobian.json' },
  { id: 'simple_rnn', label: 'SimpleRNN', detail: 'Keras SimpleRNNCell, tanh, 64 units, orthogonal recurrent kernel', fileName: 'simple_rnn.jacobian.json' },
  { id: 'equations', label: 'Cell written as equations', detail: 'A minimal gated unit in "custom" equations; every named equation can be a Jacobian end', fileName: 'gated-equations.jacobian.json' },
  { id: 'model', label: 'From a trained model…', detail: 'Pick a TensorFlow.js model.json: cell, units, inputDim and layer come from it', fileName: 'trained.jacobian.json' },
];

export interface TemplateOptions {
  /** The `$schema` value: a path relative to the config's folder, or a URL. */
  schema: string;
  /** For `model`: the model file as the config names it (relative to the config's folder) and the layer. */
  model?: { path: string; layer: RecurrentLayer };
}

const DIAGNOSTICS = ['mean', 'varTimesFanIn', 'frobenius', 'spectralNorm', 'spectralRadius'];
const NORMAL = { distribution: 'normal' };
const pair = (of: string, wrt: string) => ({ of, wrt });

/** The config object of a template (key order as written). */
export function templateConfig(id: TemplateId, options: TemplateOptions): Record<string, unknown> {
  const head = { $schema: options.schema };
  switch (id) {
    case 'seed':
      return {
        ...head, cell: 'seed', units: 100, inputDim: 2, activation: 'relu',
        initializers: { kernel: 'glorot_uniform', recurrentKernel: 'glorot_uniform', bias: 'zeros' },
        seed: 42, timeSteps: 4, batchSize: 1, inputs: NORMAL, initialState: NORMAL,
        jacobians: [pair('h@t', 'h@t-1')],
        diagnostics: ['varTimesFanIn', 'spectralRadius', 'spectralNorm'],
      };
    case 'lstm':
    case 'gru':
    case 'simple_rnn':
      return {
        ...head, cell: id, units: 64, inputDim: 8, activation: 'tanh',
        ...(id === 'simple_rnn' ? {} : { recurrentActivation: 'sigmoid' }),
        initializers: { kernel: 'glorot_uniform', recurrentKernel: 'orthogonal', bias: 'zeros' },
        seed: 42, timeSteps: 20, batchSize: 2, inputs: NORMAL, initialState: NORMAL,
        jacobians: id === 'lstm'
          ? [pair('h@t', 'h@t-1'), pair('c@t', 'c@t-1'), pair('h@t', 'x@t'), pair('h@T', 'h@0')]
          : [pair('h@t', 'h@t-1')],
        diagnostics: DIAGNOSTICS,
      };
    case 'equations':
      return { ...head, ...equationsCell() };
    case 'model':
      if (!options.model) throw new Error('the "model" template needs the model file and its layer');
      return { ...head, ...trainedCell(options.model.path, options.model.layer) };
  }
}

/** The file's text: the config as two-space JSON, as the examples are written. */
export function templateText(id: TemplateId, options: TemplateOptions): string {
  return `${JSON.stringify(templateConfig(id, options), null, 2)}\n`;
}

/** A minimal gated unit: one forget gate f, a candidate hh and a convex update. */
function equationsCell(): Record<string, unknown> {
  return {
    cell: 'custom', units: 64, inputDim: 8,
    custom: {
      params: {
        W: { shape: ['inputDim', 'units'], initializer: 'glorot_uniform' },
        U: { shape: ['units', 'units'], initializer: 'orthogonal' },
        b: { shape: ['units'], initializer: 'zeros' },
        W_f: { shape: ['inputDim', 'units'], initializer: 'glorot_uniform' },
        U_f: { shape: ['units', 'units'], initializer: 'orthogonal' },
        b_f: { shape: ['units'], initializer: 'ones' },
      },
      states: { h: { size: 'units' } },
      inputs: { x: 'inputDim' },
      equations: {
        f: 'sigmoid(x @ W_f + h_prev @ U_f + b_f)',
        hh: 'tanh(x @ W + (f * h_prev) @ U + b)',
        h: '(1 - f) * h_prev + f * hh',
      },
    },
    seed: 42, timeSteps: 20, batchSize: 2, inputs: NORMAL, initialState: NORMAL,
    jacobians: [pair('h@t', 'h@t-1'), pair('f@t', 'h@t-1'), pair('h@T', 'h@0')],
    diagnostics: DIAGNOSTICS,
  };
}

/** The layer's cell with its trained weights, driven by normal inputs from a zero state, as in training. */
function trainedCell(modelPath: string, layer: RecurrentLayer): Record<string, unknown> {
  if (layer.unsupported) throw new Error(`layer "${layer.name}" cannot be loaded: ${layer.unsupported}`);
  return {
    cell: layer.cell, units: layer.units, inputDim: layer.inputDim, activation: layer.activation,
    ...(layer.recurrentActivation ? { recurrentActivation: layer.recurrentActivation } : {}),
    ...(layer.useBias ? {} : { useBias: false }),
    weights: { model: modelPath, layer: layer.name },
    seed: 0, timeSteps: 30, batchSize: 4, inputs: NORMAL, initialState: { distribution: 'zeros' },
    jacobians: layer.cell === 'lstm'
      ? [pair('h@t', 'h@t-1'), pair('c@t', 'c@t-1'), pair('h@T', 'h@0')]
      : [pair('h@t', 'h@t-1'), pair('h@T', 'h@0')],
    diagnostics: DIAGNOSTICS,
  };
}
