// Reading and writing NumPy's .npy and .npz files (format spec: numpy.lib.format, NEP 1).
//
// Why our own .npy decoder rather than npyjs (1.2, installed): checked against numpy-written files,
// npyjs.parse never compares the data length with the header's shape (a file cut at a multiple of the
// item size decodes silently to fewer numbers; other cuts throw a bare RangeError), refuses every
// big-endian dtype ('Unsupported dtype: >f8'), needs the data offset aligned to the item size, and
// reports structured dtypes as 'Malformed .npy header'. Checking those ourselves needs the header parsed
// and the data read with an explicit byte order, which is all of decoding; npyjs's float16 conversion is
// what we keep. Writing is also ours: npyjs.dump pads the header to 8 bytes rather than numpy's 64 and
// writes no version-1.0 growth padding, and matching numpy byte for byte makes saved runs diffable.
import { writeFileSync } from 'node:fs';
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { DEFAULTS } from '../config/defaults';
import { FileReadError, formatBytes, readRegularFile } from '../io/files';
import { float16ToFloat32 } from 'npyjs';

/** A decoded array, always as float32 in C (row-major) order. */
export interface NpyArray {
  shape: number[];
  /** The dtype the file stored, as numpy names it ('float64', 'int32', 'bool', …), whatever its byte order. */
  dtype: string;
  /** The values converted to float32: float64 and 64-bit integers are rounded to nearest. */
  data: Float32Array;
}

/** A .npy/.npz file that cannot be used; `problem` is the message without the label, for located issues. */
export class NpyFormatError extends Error {
  constructor(
    readonly label: string,
    readonly problem: string,
  ) {
    super(`${label}: ${problem}`);
    this.name = 'NpyFormatError';
  }
}

/**
 * The most a .npy/.npz read may hold in memory: the file, an archive's arrays once inflated, and the
 * float32 arrays decoded from them. Callers pass the run's maxMemoryMB; the default is its default.
 */
export const DEFAULT_MAX_NPY_BYTES = DEFAULTS.maxMemoryMB * 2 ** 20;

/** Python literal nesting in a header: numpy writes a dict holding one tuple. */
const MAX_HEADER_NESTING = 8;
/** deflate expands at most 1032-fold (RFC 1951: 258 bytes from a 2-bit code); a zip claiming more is lying. */
const MAX_DEFLATE_RATIO = 1032;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy aligns the data of the files it writes to 64 bytes (numpy.lib.format.ARRAY_ALIGN). */
const ARRAY_ALIGN = 64;
/**
 * numpy ≥ 1.23 pads version-1.0 headers so that shape[0] can grow to this many digits in place
 * (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS); we do the same to write identical bytes.
 */
const GROWTH_AXIS_MAX_DIGITS = 21;

interface ElementType {
  name: string;
  size: number;
  read(view: DataView, offset: number, littleEndian: boolean): number;
}

const ELEMENT_TYPES: Record<string, ElementType> = {
  f2: { name: 'float16', size: 2, read: (v, o, le) => float16ToFloat32(v.getUint16(o, le)) },
  f4: { name: 'float32', size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { name: 'float64', size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  i1: { name: 'int8', size: 1, read: (v, o) => v.getInt8(o) },
  i2: { name: 'int16', size: 2, read: (v, o, le) => v.getInt16(o, le) },
  i4: { name: 'int32', size: 4, read: (v, o, le) => v.getInt32(o, le) },
  i8: { name: 'int64', size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u1: { name: 'uint8', size: 1, read: (v, o) => v.getUint8(o) },
  u2: { name: 'uint16', size: 2, read: (v, o, le) => v.getUint16(o, le) },
  u4: { name: 'uint32', size: 4, read: (v, o, le) => v.getUint32(o, le) },
  u8: { name: 'uint64', size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  b1: { name: 'bool', size: 1, read: (v, o) => (v.getUint8(o) !== 0 ? 1 : 0) },
};
const SUPPORTED_DTYPES = 'float16/32/64, int8/16/32/64, uint8/16/32/64 and bool';

/** Decodes one .npy file held in memory. `label` (usually the path) prefixes every error message. */
export function decodeNpy(bytes: Uint8Array, label: string, maxBytes = DEFAULT_MAX_NPY_BYTES): NpyArray {
  const fail = (problem: string): never => {
    throw new NpyFormatError(label, problem);
  };
  if (bytes.length === 0) fail('the file is empty (0 bytes)');
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('not a .npy file (magic bytes missing)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 10) fail(`truncated: the file ends inside the .npy preamble (${bytes.length} bytes)`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(`truncated: the file ends inside the .npy preamble (${bytes.length} bytes)`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are known)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    fail(`truncated: the preamble promises a ${headerLength}-byte header but the file holds ${bytes.length - headerStart} bytes after it`);
  }
  // Versions 1 and 2 store the header in latin1, version 3 in UTF-8.
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeader(headerText, fail);

  const count = header.shape.reduce((a, b) => a * b, 1);
  const expected = header.element.size * count;
  const held = bytes.length - dataStart;
  if (held < expected) {
    fail(`truncated: the header promises ${header.element.size}·${count} = ${expected} bytes of data but the file holds ${held}`);
  }
  if (held > expected) {
    fail(
      `the header promises ${header.element.size}·${count} = ${expected} bytes of data but the file holds ${held} ` +
        `(${held - expected} too many): the header does not describe this data`,
    );
  }
  // The data is all there; its float32 copy must fit the memory limit too (int8 data grows fourfold).
  if (count * 4 > maxBytes) fail(`${count} values need ${formatBytes(count * 4)} as float32, more than the ${formatBytes(maxBytes)} allowed (maxMemoryMB)`);

  let data: Float32Array;
  if (header.element.name === 'float32' && header.littleEndian) {
    // Copy the bytes into a fresh, aligned buffer (the data offset need not be a multiple of 4, and a
    // Node Buffer may be a window on a shared pool, whose slice() does not copy).
    data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + expected));
  } else {
    data = new Float32Array(count);
    const { read, size } = header.element;
    for (let i = 0; i < count; i++) data[i] = read(view, dataStart + i * size, header.littleEndian);
  }
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { shape: header.shape, dtype: header.element.name, data };
}

interface NpyHeader {
  element: ElementType;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, fail: (problem: string) => never): NpyHeader {
  let dict: unknown;
  try {
    dict = parsePythonLiteral(text);
  } catch (e) {
    const shown = text.trim().length > 120 ? `${text.trim().slice(0, 120)}…` : text.trim();
    return fail(`malformed .npy header (${(e as Error).message}): ${shown}`);
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    return fail('malformed .npy header: it is not a dictionary');
  }
  const fields = dict as Record<string, unknown>;
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in fields)) fail(`malformed .npy header: the key '${key}' is missing`);
  }
  const { descr, fortran_order: fortranOrder, shape } = fields;
  if (typeof descr !== 'string') {
    return fail('unsupported dtype: structured arrays (record dtypes) are not supported; save a plain numeric array');
  }
  const match = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const element = match ? ELEMENT_TYPES[`${match[2]}${match[3]}`] : undefined;
  // '=' (native order) never appears in files numpy writes, and '|' marks single-byte types.
  if (!match || !element || match[1] === '=' || (match[1] === '|' && element.size !== 1)) {
    return fail(`unsupported dtype '${descr}' (supported: ${SUPPORTED_DTYPES})`);
  }
  if (typeof fortranOrder !== 'boolean') return fail("malformed .npy header: 'fortran_order' is not True or False");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return fail("malformed .npy header: 'shape' is not a tuple of non-negative integers");
  }
  return { element, littleEndian: match[1] !== '>', fortranOrder, shape: shape as number[] };
}

/**
 * The subset of Python literal syntax numpy headers use: dicts, tuples, lists, strings, integers,
 * True/False/None. Tuples and lists both become arrays.
 */
function parsePythonLiteral(text: string): unknown {
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[pos] !== char) throw new Error(`expected '${char}' at character ${pos}`);
    pos++;
  };
  const sequence = (close: string, item: () => void): void => {
    for (;;) {
      skipSpace();
      if (text[pos] === close) break;
      item();
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) throw new Error(`expected ',' or '${close}' at character ${pos}`);
    }
    pos++;
  };
  let nesting = 0;
  const value = (): unknown => {
    skipSpace();
    const c = text[pos];
    if ((c === '{' || c === '(' || c === '[') && ++nesting > MAX_HEADER_NESTING) {
      throw new Error(`nested more than ${MAX_HEADER_NESTING} levels at character ${pos}`);
    }
    if (c === '{') {
      pos++;
      const out: Record<string, unknown> = {};
      sequence('}', () => {
        const key = value();
        if (typeof key !== 'string') throw new Error(`a dictionary key is not a string at character ${pos}`);
        expect(':');
        out[key] = value();
      });
      nesting--;
      return out;
    }
    if (c === '(' || c === '[') {
      pos++;
      const out: unknown[] = [];
      sequence(c === '(' ? ')' : ']', () => out.push(value()));
      nesting--;
      return out;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) throw new Error(`unterminated string at character ${pos}`);
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const word = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(pos));
    if (!word) throw new Error(`unexpected ${c === undefined ? 'end of header' : `'${c}'`} at character ${pos}`);
    pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', '')); // Python 2 wrote long integers with an L suffix
  };
  const result = value();
  skipSpace();
  if (pos !== text.length) throw new Error(`unexpected '${text[pos]}' after the dictionary at character ${pos}`);
  return result;
}

/** Reorders data stored column-major (first axis fastest) into row-major order. */
function fortranToC(src: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length < 2 || src.length === 0) return src;
  const rank = shape.length;
  const cStrides = new Array<number>(rank);
  cStrides[rank - 1] = 1;
  for (let axis = rank - 2; axis >= 0; axis--) cStrides[axis] = cStrides[axis + 1]! * shape[axis + 1]!;
  const out = new Float32Array(src.length);
  const index = new Array<number>(rank).fill(0);
  let c = 0;
  for (let f = 0; f < src.length; f++) {
    out[c] = src[f]!;
    // Advance the multi-index in Fortran order (axis 0 fastest), keeping c its C-order offset.
    for (let axis = 0; axis < rank; axis++) {
      index[axis]!++;
      c += cStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      c -= cStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** A .npy file (format 1.0, '<f4', C order) byte-identical to what numpy.save writes for a float32 array. */
export function encodeNpy(shape: number[], data: Float32Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== data.length) {
    throw new RangeError(`encodeNpy: shape [${shape.join(', ')}] does not hold ${data.length} values`);
  }
  const pythonShape = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pythonShape}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // numpy's _wrap_header: pad with spaces and end with '\n' so that magic (6) + version (2) + length (2)
  // + header is a multiple of 64; a header that already fits gets a whole 64 more, as numpy does.
  const padding = ARRAY_ALIGN - ((10 + header.length + 1) % ARRAY_ALIGN);
  header += ' '.repeat(padding) + '\n';
  if (header.length > 0xffff) throw new RangeError(`encodeNpy: a ${shape.length}-dimensional header does not fit format 1.0`);

  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i); // ASCII
  const dataStart = 10 + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat32(dataStart + 4 * i, data[i]!, true);
  return out;
}

/**
 * Decodes a .npz archive (numpy.savez: stored entries; numpy.savez_compressed: deflated; both zip64).
 * Keys are the entry names without '.npy'; entries that are not .npy files are skipped, as numpy
 * does not write any.
 */
export function decodeNpz(bytes: Uint8Array, label: string, maxBytes = DEFAULT_MAX_NPY_BYTES): Map<string, NpyArray> {
  let entries: Record<string, Uint8Array>;
  const declared = { total: 0 };
  try {
    // A first pass reads every member's declared sizes from the central directory and inflates nothing (the
    // filter declines them all); only when all of them fit does the second pass inflate, each member into a
    // buffer of exactly its declared size (fflate never writes past it): a zip bomb is refused by what it claims.
    unzipSync(bytes, { filter: (member) => member.name.endsWith('.npy') && !checkMember(member, bytes.length, declared, maxBytes, label) });
    entries = unzipSync(bytes, { filter: (member) => member.name.endsWith('.npy') });
  } catch (e) {
    if (e instanceof NpyFormatError) throw e;
    throw new NpyFormatError(label, `not a readable .npz (zip) archive (${(e as Error).message})`);
  }
  const arrays = new Map<string, NpyArray>();
  for (const [name, content] of Object.entries(entries)) {
    const key = name.slice(0, -'.npy'.length);
    try {
      arrays.set(key, decodeNpy(content, label, maxBytes));
    } catch (e) {
      if (e instanceof NpyFormatError) throw new NpyFormatError(label, `array '${key}': ${e.problem}`);
      throw e;
    }
  }
  return arrays;
}

/** One .npz member's declared sizes, checked against the archive's real length and the memory limit. */
function checkMember(member: UnzipFileInfo, archiveBytes: number, declared: { total: number }, maxBytes: number, label: string): true {
  const fail = (problem: string): never => {
    throw new NpyFormatError(label, `array '${member.name.slice(0, -'.npy'.length)}': ${problem}`);
  };
  if (member.compression !== 0 && member.compression !== 8) fail(`compression method ${member.compression} (numpy writes 0, stored, or 8, deflate)`);
  if (member.size > archiveBytes) fail(`declares ${member.size} compressed bytes, but the whole archive is ${archiveBytes} bytes`);
  if (member.compression === 0 && member.size !== member.originalSize) {
    fail(`stored uncompressed, yet declares ${member.originalSize} bytes in ${member.size}: the archive is corrupt`);
  }
  if (member.originalSize > member.size * MAX_DEFLATE_RATIO + 1024) {
    fail(`declares ${formatBytes(member.originalSize)} from ${formatBytes(member.size)} compressed, more than deflate can expand: the archive is corrupt or hostile`);
  }
  declared.total += member.originalSize;
  if (declared.total > maxBytes) {
    fail(`the arrays declare ${formatBytes(declared.total)} uncompressed so far, more than the ${formatBytes(maxBytes)} allowed (maxMemoryMB)`);
  }
  return true;
}

function readBytes(path: string, maxBytes: number): Uint8Array {
  try {
    return readRegularFile(path, { maxBytes, what: 'the file' });
  } catch (e) {
    if (e instanceof FileReadError) throw new NpyFormatError(path, `cannot be read: ${e.reason}`);
    throw e;
  }
}

/** Reads and decodes a .npy file; every failure, unreadable file included, is an NpyFormatError. */
export function readNpyFile(path: string, maxBytes = DEFAULT_MAX_NPY_BYTES): NpyArray {
  return decodeNpy(readBytes(path, maxBytes), path, maxBytes);
}

/** Reads and decodes a .npz file; every failure, unreadable file included, is an NpyFormatError. */
export function readNpzFile(path: string, maxBytes = DEFAULT_MAX_NPY_BYTES): Map<string, NpyArray> {
  return decodeNpz(readBytes(path, maxBytes), path, maxBytes);
}

export function writeNpyFile(path: string, shape: number[], data: Float32Array): void {
  writeFileSync(path, encodeNpy(shape, data));
}

/** Throws an NpyFormatError naming the first NaN or ±Infinity by its multi-index, e.g. [2, 0, 5]. */
export function assertFinite(arr: NpyArray, label: string): void {
  const { data, shape } = arr;
  let first = -1;
  let nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      if (first < 0) first = i;
      nonFinite++;
    }
  }
  if (first < 0) return;
  const index = new Array<number>(shape.length);
  let rest = first;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = rest % shape[axis]!;
    rest = Math.floor(rest / shape[axis]!);
  }
  const value = data[first]!;
  const what = Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  const overflow = arr.dtype === 'float64' && !Number.isNaN(value)
    ? ' (float64 values beyond ±3.4e38 overflow float32)'
    : '';
  const others = nonFinite > 1 ? `; ${nonFinite} entries are not finite in all` : '';
  throw new NpyFormatError(label, `entry [${index.join(', ')}] is ${what}${overflow}${others}`);
}
