// What every binary weight reader shares: one error type whose message is the problem (the caller adds the
// place: the config key and its line:column), reading the file through io/files.ts, bounds-checked views,
// and the element types weights come in. Every offset and length a file declares is checked against the
// bytes really there before anything is allocated from it.
import { float16ToFloat32 } from 'npyjs';
import { FileReadError, formatBytes, readRegularFile } from '../../io/files';
import type { NpyArray } from '../npy';

/** A weights file that cannot be used; `message` names the file and the problem in words for the user. */
export class WeightsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'WeightsFileError';
  }
}

/** Largest weights file read (the engine holds the whole file in memory while it decodes it). */
export const MAX_WEIGHTS_FILE_BYTES = 2 ** 31 - 1;

/** The whole file, regular files only, its size taken from the open handle. */
export function readWeightsFile(file: string): Uint8Array {
  try {
    return readRegularFile(file, { maxBytes: MAX_WEIGHTS_FILE_BYTES, what: 'weights file' });
  } catch (e) {
    if (e instanceof FileReadError) throw new WeightsFileError(file, e.message);
    throw e;
  }
}

/** A little-endian reader over bytes that fails with a located message instead of reading past the end. */
export class ByteReader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (problem: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless [offset, offset + length) lies inside the bytes. */
  need(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      this.fail(`${what} (bytes ${offset}..${offset + length}) lies outside the file's ${formatBytes(this.bytes.length)}: the file is truncated or corrupt`);
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.bytes[offset]!;
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, true);
  }

  /** A 64-bit length or offset; above 2^53 it cannot be a position in a file we hold, so it is refused. */
  u64(offset: number, what: string): number {
    this.need(offset, 8, what);
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${value}, larger than any file`);
    return Number(value);
  }

  slice(offset: number, length: number, what: string): Uint8Array {
    this.need(offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }
}

/** The element types weights are stored in; `read` converts one element at a byte offset to a number. */
export interface ElementType {
  name: string;
  size: number;
  float: boolean;
  read(view: DataView, offset: number, littleEndian: boolean): number;
}

const bfloat16 = (bits: number): number => {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
};

export const ELEMENT_TYPES = {
  float32: { name: 'float32', size: 4, float: true, read: (v, o, le) => v.getFloat32(o, le) },
  float64: { name: 'float64', size: 8, float: true, read: (v, o, le) => v.getFloat64(o, le) },
  float16: { name: 'float16', size: 2, float: true, read: (v, o, le) => float16ToFloat32(v.getUint16(o, le)) },
  bfloat16: { name: 'bfloat16', size: 2, float: true, read: (v, o, le) => bfloat16(v.getUint16(o, le)) },
  int64: { name: 'int64', size: 8, float: false, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  int32: { name: 'int32', size: 4, float: false, read: (v, o, le) => v.getInt32(o, le) },
  int16: { name: 'int16', size: 2, float: false, read: (v, o, le) => v.getInt16(o, le) },
  int8: { name: 'int8', size: 1, float: false, read: (v, o) => v.getInt8(o) },
  uint8: { name: 'uint8', size: 1, float: false, read: (v, o) => v.getUint8(o) },
  bool: { name: 'bool', size: 1, float: false, read: (v, o) => (v.getUint8(o) ? 1 : 0) },
} satisfies Record<string, ElementType>;

/** The number of elements of a shape, refusing shapes whose count is not a safe integer. */
export function elementCount(shape: readonly number[], fail: (problem: string) => never, what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`${what} has a dimension ${String(d)} that is not a non-negative integer`);
    n *= d;
    if (!Number.isSafeInteger(n)) fail(`${what} has shape [${shape.join(', ')}], more elements than any file holds`);
  }
  return n;
}

/**
 * A strided tensor gathered into C order as float32: element (i₀, i₁, …) is at
 * offset + Σ iₖ·strideₖ (in elements) in `data`. The caller has checked that every index lies inside.
 */
export function gather(
  data: Uint8Array,
  type: ElementType,
  littleEndian: boolean,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const contiguous = strides.every((s, axis) => s === shape.slice(axis + 1).reduce((a, b) => a * b, 1) || shape[axis] === 1);
  if (type.name === 'float32' && littleEndian && contiguous) {
    // The common case (a state dict's own tensors): one copy of the bytes, at any alignment.
    new Uint8Array(out.buffer).set(data.subarray(offset * 4, (offset + count) * 4));
    return out;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let i = 0; i < count; i++) {
    out[i] = type.read(view, at * type.size, littleEndian);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      at += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      at -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** The largest element index a strided view reaches (−1 for an empty one); strides may not be negative. */
export function lastIndex(shape: readonly number[], strides: readonly number[], offset: number): number {
  if (shape.some((d) => d === 0)) return -1;
  return shape.reduce((at, d, axis) => at + (d - 1) * strides[axis]!, offset);
}

/** An array for the weight checks: values as float32 in C order, the dtype the file stored. */
export function weightArray(shape: number[], dtype: string, data: Float32Array): NpyArray {
  return { shape, dtype, data };
}
