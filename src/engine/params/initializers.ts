// Keras's weight initializers, reproduced from their definitions (keras/src/initializers/*.py in Keras 3;
// tf.keras / Keras 2 define the same distributions), drawing from our own Rng so that every backend gets
// the same numbers. Keras itself would give different numbers for the same seed: we match its
// distributions, not its random streams.
//
// Keras defaults, for reference:
//   SimpleRNN / LSTM / GRU: kernel_initializer 'glorot_uniform', recurrent_initializer 'orthogonal',
//     bias_initializer 'zeros' (LSTM's unit_forget_bias=True then adds 1 to the forget-gate bias; that
//     belongs to the cell, not to the initializer).
//   Arguments: Orthogonal(gain=1), Identity(gain=1), Constant(value=0), RandomNormal(mean=0, stddev=0.05),
//     RandomUniform(minval=-0.05, maxval=0.05), TruncatedNormal(mean=0, stddev=0.05).
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { DataSource, InitializerName, InitializerSpec } from '../config/spec';
import type { Rng } from './rng';

/** Keras's default for every initializer argument that InitializerSpec leaves optional. */
export const kerasDefaults = {
  gain: 1,
  value: 0,
  mean: 0,
  stddev: 0.05,
  minval: -0.05,
  maxval: 0.05,
} as const;

/**
 * Keras's VarianceScaling divides by this after truncating at ±2: the standard deviation of a unit
 * normal conditioned on |z| ≤ 2, i.e. sqrt(1 − 4φ(2)/(Φ(2) − Φ(−2))). Dividing by it makes the
 * truncated draw's variance equal scale/n.
 */
export const TRUNCATED_UNIT_NORMAL_STDDEV = 0.87962566103423978;

/** An initializer that cannot produce a tensor of the requested shape (Keras raises ValueError there too). */
export class InitializerShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InitializerShapeError';
  }
}

/** Keras's compute_fans: [fan_in, fan_out]; convolution-style shapes multiply in the receptive field. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptiveField = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2]! * receptiveField, shape[shape.length - 1]! * receptiveField];
}

/** The six fan-based initializers, each Keras's VarianceScaling(scale, mode, distribution). */
const VARIANCE_SCALING = {
  glorot_uniform: { scale: 1, mode: 'fan_avg', distribution: 'uniform' },
  glorot_normal: { scale: 1, mode: 'fan_avg', distribution: 'truncated_normal' },
  he_uniform: { scale: 2, mode: 'fan_in', distribution: 'uniform' },
  he_normal: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal' },
  lecun_uniform: { scale: 1, mode: 'fan_in', distribution: 'uniform' },
  lecun_normal: { scale: 1, mode: 'fan_in', distribution: 'truncated_normal' },
} as const;
type VarianceScalingName = keyof typeof VARIANCE_SCALING;

function isVarianceScaling(name: InitializerName): name is VarianceScalingName {
  return Object.prototype.hasOwnProperty.call(VARIANCE_SCALING, name);
}

type VarianceScalingDraw = { distribution: 'uniform'; limit: number } | { distribution: 'truncated_normal'; stddev: number };

function varianceScaling(name: VarianceScalingName, shape: readonly number[]): VarianceScalingDraw {
  const family = VARIANCE_SCALING[name];
  const [fanIn, fanOut] = computeFans(shape);
  const n = family.mode === 'fan_in' ? fanIn : (fanIn + fanOut) / 2;
  // Keras: scale /= max(1., n), which also keeps empty shapes finite.
  const scale = family.scale / Math.max(1, n);
  return family.distribution === 'uniform'
    ? { distribution: 'uniform', limit: Math.sqrt(3 * scale) }
    : { distribution: 'truncated_normal', stddev: Math.sqrt(scale) / TRUNCATED_UNIT_NORMAL_STDDEV };
}

/** Rows and columns Keras's Orthogonal works with: all leading axes flattened into rows. */
function orthogonalDims(shape: readonly number[]): [number, number] | null {
  if (shape.length < 2) return null;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [rows, shape[shape.length - 1]!];
}

/** A tensor of `shape` (C order) drawn as Keras's initializer `spec` would, from `rng`. */
export function initialize(spec: InitializerSpec, shape: number[], rng: Rng): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (isVarianceScaling(spec.name)) {
    const scaled = varianceScaling(spec.name, shape);
    return scaled.distribution === 'uniform'
      ? rng.fillUniform(count, -scaled.limit, scaled.limit)
      : rng.fillTruncatedNormal(count, 0, scaled.stddev);
  }
  switch (spec.name) {
    case 'orthogonal':
      return orthogonal(shape, spec.gain ?? kerasDefaults.gain, rng);
    case 'identity':
      return identity(shape, spec.gain ?? kerasDefaults.gain);
    case 'zeros':
      return new Float32Array(count);
    case 'ones':
      return new Float32Array(count).fill(1);
    case 'constant':
      return new Float32Array(count).fill(spec.value ?? kerasDefaults.value);
    case 'random_normal':
      return rng.fillNormal(count, spec.mean ?? kerasDefaults.mean, spec.stddev ?? kerasDefaults.stddev);
    case 'random_uniform':
      return rng.fillUniform(count, spec.minval ?? kerasDefaults.minval, spec.maxval ?? kerasDefaults.maxval);
    case 'truncated_normal':
      return rng.fillTruncatedNormal(count, spec.mean ?? kerasDefaults.mean, spec.stddev ?? kerasDefaults.stddev);
    default:
      return unknownInitializer(spec.name);
  }
}

/**
 * Keras's Orthogonal: standard normals of shape (max(rows, cols), min(rows, cols)), Q of their QR
 * decomposition with each column times the sign of R's diagonal entry (which makes the result
 * Haar-distributed, independent of the QR routine's sign convention), transposed when rows < cols.
 */
function orthogonal(shape: readonly number[], gain: number, rng: Rng): Float32Array {
  const dims = orthogonalDims(shape);
  if (dims === null) {
    throw new InitializerShapeError(`orthogonal needs a shape of at least 2 dimensions, got [${shape.join(', ')}]`);
  }
  const [rows, cols] = dims;
  const out = new Float32Array(rows * cols);
  if (out.length === 0) return out;
  const tall = Math.max(rows, cols);
  const wide = Math.min(rows, cols);
  const normals = new Matrix(tall, wide);
  for (let i = 0; i < tall; i++) for (let j = 0; j < wide; j++) normals.set(i, j, rng.normal());
  // ml-matrix's Householder QR is O(tall·wide²) with per-element accessors: about 0.2 s for 256 × 256,
  // 1.3 s for 512 × 512 and 18 s for 1024 × 1024 on Node 20 (one x86 core).
  const qr = new QrDecomposition(normals);
  const q = qr.orthogonalMatrix; // tall × wide, orthonormal columns
  const r = qr.upperTriangularMatrix;
  // Keras multiplies by sign(d), which is 0 for an exactly zero diagonal entry (a probability-zero event
  // for Gaussian input); we take +1 there so that the result is always orthogonal.
  const columnScale = Array.from({ length: wide }, (_, j) => (r.get(j, j) < 0 ? -gain : gain));
  for (let i = 0; i < tall; i++) {
    for (let j = 0; j < wide; j++) {
      const value = q.get(i, j) * columnScale[j]!;
      if (rows >= cols) out[i * cols + j] = value;
      else out[j * cols + i] = value; // transpose: Q is cols × rows here
    }
  }
  return out;
}

/** Keras's Identity: gain · eye(rows, cols), also for non-square shapes; only 2-D. */
function identity(shape: readonly number[], gain: number): Float32Array {
  if (shape.length !== 2) {
    throw new InitializerShapeError(`identity needs a 2-D shape, got [${shape.join(', ')}]`);
  }
  const [rows, cols] = shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = gain;
  return out;
}

/**
 * The variance of one entry of `initialize(spec, shape, ·)`, in closed form; the theory module compares
 * it (times fan-in) with what it measures. Deterministic initializers (zeros, ones, constant) have 0;
 * identity has no single number (its entries are not identically distributed), nor has a shape an
 * initializer refuses: both give null.
 */
export function initializerVariance(spec: InitializerSpec, shape: number[]): number | null {
  if (isVarianceScaling(spec.name)) {
    const scaled = varianceScaling(spec.name, shape);
    // uniform: limit²/3 = scale/n; truncated: (sqrt(scale/n)/c)² · c² = scale/n.
    return scaled.distribution === 'uniform'
      ? (scaled.limit * scaled.limit) / 3
      : scaled.stddev * scaled.stddev * TRUNCATED_UNIT_NORMAL_STDDEV ** 2;
  }
  switch (spec.name) {
    case 'orthogonal': {
      // A Haar orthonormal frame's columns (rows ≥ cols) or rows (rows < cols) are uniform on the unit
      // sphere of dimension max(rows, cols), so each entry has mean 0 and variance 1/max(rows, cols).
      const dims = orthogonalDims(shape);
      if (dims === null) return null;
      const gain = spec.gain ?? kerasDefaults.gain;
      return (gain * gain) / Math.max(1, dims[0], dims[1]);
    }
    case 'identity':
      return null;
    case 'zeros':
    case 'ones':
    case 'constant':
      return 0;
    case 'random_normal': {
      const stddev = spec.stddev ?? kerasDefaults.stddev;
      return stddev * stddev;
    }
    case 'random_uniform': {
      const width = (spec.maxval ?? kerasDefaults.maxval) - (spec.minval ?? kerasDefaults.minval);
      return (width * width) / 12;
    }
    case 'truncated_normal': {
      // Keras's TruncatedNormal does not rescale: the truncation shrinks the variance by c².
      const stddev = spec.stddev ?? kerasDefaults.stddev;
      return stddev * stddev * TRUNCATED_UNIT_NORMAL_STDDEV ** 2;
    }
    default:
      return unknownInitializer(spec.name);
  }
}

/** Compile-time exhaustiveness; at run time, a name that validation should have refused. */
function unknownInitializer(name: never): never {
  throw new Error(`unknown initializer '${String(name)}'`);
}

/** `count` values of an input or initial state drawn from a configured distribution. */
export function sampleDistribution(
  src: Extract<DataSource, { kind: 'distribution' }>,
  count: number,
  rng: Rng,
): Float32Array {
  switch (src.distribution) {
    case 'normal':
      return rng.fillNormal(count, src.mean, src.stddev);
    case 'uniform':
      return rng.fillUniform(count, src.minval, src.maxval);
    case 'zeros':
      return new Float32Array(count);
    case 'constant':
      return new Float32Array(count).fill(src.value);
  }
}
