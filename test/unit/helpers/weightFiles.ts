// Builders of weights files byte by byte, for the hostile-file and fuzz tests: pickles (protocol 2 opcodes as
// Python's pickle writes them), torch.save zips around them, and safetensors files. Each follows the format's
// own specification, so that a test can break exactly one thing.
import { zipSync } from 'fflate';

/** Pickle opcodes, spelled as bytes. */
export const op = {
  proto: (v: number) => [0x80, v],
  global: (module: string, name: string) => [0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')],
  stackGlobal: [0x93],
  shortUnicode: (s: string) => [0x8c, Buffer.byteLength(s), ...Buffer.from(s)],
  unicode: (s: string) => {
    const b = Buffer.from(s);
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
  },
  int1: (v: number) => [0x4b, v],
  mark: [0x28],
  tuple: [0x74],
  emptyTuple: [0x29],
  tuple2: [0x86],
  reduce: [0x52],
  binpersid: [0x51],
  newFalse: [0x89],
  emptyDict: [0x7d],
  setitems: [0x75],
  stop: [0x2e],
};

export const pickle = (...parts: (number[] | number)[]): Uint8Array => Uint8Array.from(parts.flat());

/** `_rebuild_tensor_v2(storage(key, numel), offset, size, stride, False, OrderedDict())` as torch.save writes it. */
export function tensorPickle(key: string, numel: number, offset: number, size: number[], stride: number[]): number[] {
  const intTuple = (xs: number[]) => [...op.mark, ...xs.flatMap((x) => op.int1(x)), ...op.tuple];
  return [
    ...op.global('torch._utils', '_rebuild_tensor_v2'),
    ...op.mark,
    ...op.mark, ...op.unicode('storage'), ...op.global('torch', 'FloatStorage'), ...op.unicode(key), ...op.unicode('cpu'), ...op.int1(numel), ...op.tuple,
    ...op.binpersid,
    ...op.int1(offset),
    ...intTuple(size),
    ...intTuple(stride),
    ...op.newFalse,
    ...op.global('collections', 'OrderedDict'), ...op.emptyTuple, ...op.reduce,
    ...op.tuple,
    ...op.reduce,
  ];
}

/** An OrderedDict state dict of the given (key, tensor-pickle) entries. */
export function stateDictPickle(entries: [string, number[]][]): Uint8Array {
  return pickle(
    op.proto(2),
    op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce,
    op.mark, ...entries.flatMap(([k, t]) => [...op.unicode(k), ...t]), op.setitems,
    op.stop,
  );
}

/** A torch.save zip: archive/data.pkl, archive/byteorder, and archive/data/<key> for each storage. */
export function torchZip(pkl: Uint8Array, storages: Record<string, Float32Array>): Uint8Array {
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': pkl, 'archive/byteorder': Buffer.from('little') };
  for (const [key, data] of Object.entries(storages)) files[`archive/data/${key}`] = new Uint8Array(data.buffer.slice(0));
  return zipSync(files, { level: 0 });
}

/** A safetensors file: 8-byte little-endian header length, the JSON header, the data. */
export function safetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** float32 tensors laid out one after another, with their safetensors header entries. */
export function safetensorsOf(tensors: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    parts.push(new Uint8Array(t.data.buffer.slice(0)));
    at += t.data.byteLength;
  }
  const data = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return safetensors(header, data);
}
