// PyTorch's recurrent modules in a state dict, mapped exactly onto the engine's Keras cells:
//   nn.RNN / nn.RNNCell   h' = act(W_ih x + b_ih + W_hh h + b_hh)                 → simple_rnn, bias b_ih + b_hh
//   nn.LSTM / nn.LSTMCell gates i, f, g, o (Keras's order i, f, c, o)              → lstm, bias b_ih + b_hh
//   nn.GRU / nn.GRUCell   gates r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); h' = (1 − z) ⊙ n + z ⊙ h
//                         → Keras's reset_after=True GRU (gates z, r, h), bias [b_ih; b_hh] kept apart
// PyTorch stores W as [gates·units, in] and computes W·x; Keras stores the kernel [in, gates·units] and computes
// x·kernel: every matrix is transposed, its gate blocks put in Keras's order.
import { GATES, type LayerInfo, type LazyArray, type ModelLayer, type RecurrentCell } from './layer';
import type { StateDict, TorchTensor } from './torch';

/** Keras block k is PyTorch block ORDER[cell][k]. */
const ORDER: Record<RecurrentCell, number[]> = { simple_rnn: [0], lstm: [0, 1, 2, 3], gru: [1, 0, 2] };
const CLASS: Record<RecurrentCell, string> = { simple_rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };
const WEIGHT_IH = /^(.*?)weight_ih(_l(\d+))?(_reverse)?$/;

/** Module prefixes (with their trailing dot) of every recurrent module in a state dict, in key order. */
export function torchModulePrefixes(dict: StateDict): string[] {
  const out = new Set<string>();
  for (const key of dict.keys()) {
    const m = WEIGHT_IH.exec(key);
    if (m && m[4] === undefined && (m[3] === undefined || m[3] === '0')) out.add(m[1]!);
  }
  return [...out];
}

/** The recurrent module under `prefix` (e.g. "encoder.rnn."), as a Keras-described layer. */
export function torchModule(dict: StateDict, prefix: string, layerIndex?: number): ModelLayer | { problem: string } {
  const layered = dict.has(`${prefix}weight_ih_l0`);
  if (!layered && layerIndex !== undefined) return { problem: `has a cell module at "${prefix}" (no _l<k> weights), so "layerIndex" does not apply` };
  const suffix = layered ? `_l${layerIndex ?? 0}` : '';
  if (layered && !dict.has(`${prefix}weight_ih${suffix}`)) {
    return { problem: `the module at "${prefix}" has no layer ${layerIndex} (no ${prefix}weight_ih${suffix}; it has ${layerCount(dict, prefix)} layers, indices from 0)` };
  }
  const wIh = dict.get(`${prefix}weight_ih${suffix}`);
  const wHh = dict.get(`${prefix}weight_hh${suffix}`);
  if (!wIh || !wHh) return { problem: `has no recurrent module at prefix "${prefix}" (no ${prefix}weight_ih_l0 or ${prefix}weight_ih with its weight_hh)` };
  if (wIh.shape.length !== 2 || wHh.shape.length !== 2) return { problem: `${wIh.key} and ${wHh.key} are not matrices` };
  const proj = dict.get(`${prefix}weight_hr${suffix}`);
  const units = proj ? proj.shape[1]! : wHh.shape[1]!;
  const gates = units > 0 ? wIh.shape[0]! / units : NaN;
  const cell = (Object.keys(GATES) as RecurrentCell[]).find((c) => GATES[c] === gates);
  const name = prefix.replace(/\.$/, '');
  if (!cell) return { problem: `${wIh.key} has ${wIh.shape[0]} rows for ${units} units: not 1, 3 or 4 gates (nn.RNN, nn.GRU, nn.LSTM)` };
  const className = `nn.${CLASS[cell]}${layered ? '' : 'Cell'}`;
  const bIh = dict.get(`${prefix}bias_ih${suffix}`);
  const bHh = dict.get(`${prefix}bias_hh${suffix}`);
  const info: LayerInfo = {
    name,
    className,
    config: {
      units,
      use_bias: bIh !== undefined,
      batch_input_shape: [null, null, wIh.shape[1]],
      // nn.LSTM and nn.GRU have fixed activations; nn.RNN's nonlinearity (tanh or relu) is not in the state dict.
      ...(cell === 'simple_rnn' ? {} : { activation: 'tanh', recurrent_activation: 'sigmoid' }),
      ...(cell === 'gru' ? { reset_after: true } : {}),
    },
  };
  const layer: ModelLayer = { info, weights: new Map() };
  const refusal = refusalOf(dict, prefix, className, proj !== undefined, layerIndex);
  if (refusal) layer.refusal = refusal;
  const expected = [GATES[cell] * units, units];
  if (wHh.shape[0] !== expected[0] || (!proj && wHh.shape[1] !== units)) {
    return { problem: `${wHh.key} has shape [${wHh.shape.join(', ')}], not [${expected.join(', ')}] as ${wIh.key} implies` };
  }
  layer.weights.set('kernel', kerasKernel(wIh, cell, units));
  layer.weights.set('recurrent_kernel', kerasKernel(wHh, cell, units));
  if (bIh || bHh) {
    if (!bIh || !bHh) return { problem: `has ${bIh ? bIh.key : bHh!.key} without its partner bias` };
    for (const b of [bIh, bHh]) {
      if (b.shape.length !== 1 || b.shape[0] !== expected[0]) return { problem: `${b.key} has shape [${b.shape.join(', ')}], not [${expected[0]}]` };
    }
    layer.weights.set('bias', cell === 'gru' ? kerasGruBias(bIh, bHh, units) : summedBias(bIh, bHh));
  }
  return layer;
}

/** How many layers (weight_ih_l0, weight_ih_l1, …) a module has. */
function layerCount(dict: StateDict, prefix: string): number {
  let n = 0;
  while (dict.has(`${prefix}weight_ih_l${n}`)) n++;
  return n;
}

function refusalOf(dict: StateDict, prefix: string, className: string, projected: boolean, layerIndex: number | undefined): string | undefined {
  const keys = [...dict.keys()].filter((k) => k.startsWith(prefix));
  if (keys.some((k) => /_reverse$/.test(k))) {
    return `${className} at "${prefix}" is bidirectional (bidirectional=True): the engine's cells run forward only; load one direction as its own module, or use a unidirectional model`;
  }
  if (projected) return `${className} at "${prefix}" has proj_size > 0 (weight_hr_l0): LSTMs with projections are not supported`;
  const layers = layerCount(dict, prefix);
  if (layers > 1 && layerIndex === undefined) {
    return (
      `${className} at "${prefix}" has num_layers = ${layers}: load each of its layers into a layer of a stacked network, ` +
      `"layers": [{ "cell": …, "units": …, "weights": { "torch": …, "prefix": "${prefix}", "layerIndex": 0 } }, … up to "layerIndex": ${layers - 1}]`
    );
  }
  return undefined;
}

/** W [G·u, n] (PyTorch) → kernel [n, G·u] (Keras), gate blocks reordered. */
function kerasKernel(w: TorchTensor, cell: RecurrentCell, units: number): LazyArray {
  const [rows, cols] = w.shape as [number, number];
  return {
    dtype: w.dtype,
    shape: [cols, rows],
    origin: `${w.key} [${rows}, ${cols}], transposed${cell === 'gru' ? ', gates r, z, n reordered to z, r, h' : ''}`,
    values: () => {
      const src = w.values();
      const out = new Float32Array(rows * cols);
      ORDER[cell].forEach((from, block) => {
        for (let i = 0; i < units; i++) {
          const srcRow = (from * units + i) * cols;
          const dstCol = block * units + i;
          for (let j = 0; j < cols; j++) out[j * rows + dstCol] = src[srcRow + j]!;
        }
      });
      return out;
    },
  };
}

/** LSTM and RNN add their two biases: x·W + b_ih + h·U + b_hh has one bias b_ih + b_hh. */
function summedBias(bIh: TorchTensor, bHh: TorchTensor): LazyArray {
  return {
    dtype: bIh.dtype,
    shape: [...bIh.shape],
    origin: `${bIh.key} + ${bHh.key}`,
    values: () => {
      const a = bIh.values();
      const b = bHh.values();
      return a.map((v, i) => Math.fround(v + b[i]!));
    },
  };
}

/** GRU: b_hn sits inside r ⊙ (…), so the biases stay apart: Keras's bias [2, 3u], row 0 input, row 1 recurrent. */
function kerasGruBias(bIh: TorchTensor, bHh: TorchTensor, units: number): LazyArray {
  return {
    dtype: bIh.dtype,
    shape: [2, 3 * units],
    origin: `rows ${bIh.key}, ${bHh.key}, gates r, z, n reordered to z, r, h`,
    values: () => {
      const out = new Float32Array(6 * units);
      [bIh.values(), bHh.values()].forEach((src, row) => {
        ORDER.gru.forEach((from, block) => out.set(src.subarray(from * units, (from + 1) * units), row * 3 * units + block * units));
      });
      return out;
    },
  };
}
