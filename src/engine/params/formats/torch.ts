// PyTorch weights as tensors by state-dict key, from
//   - torch.save files (.pt/.pth, the zip format of torch ≥ 1.6): `<root>/data.pkl` unpickled under an
//     allow-list (pickle.ts), its tensors pointing at raw storages `<root>/data/<key>`;
//   - safetensors files: 8-byte header length, a JSON header {name: {dtype, shape, data_offsets}}, the data.
// Tensors are described first (dtype, shape, strides, offset: every element index checked against its storage,
// every storage against its bytes in the file) and decoded to float32 only when a weight is taken.
import { ByteReader, ELEMENT_TYPES, elementCount, gather, lastIndex, WeightsFileError, type ElementType } from './binary';
import { PickleError, PyDict, PyGlobal, PyTuple, unpickle } from './pickle';
import { ZipArchive } from './zip';

/** One tensor of a state dict; `values()` decodes it (C order, float32). */
export interface TorchTensor {
  key: string;
  dtype: string;
  shape: number[];
  values(): Float32Array;
}

export type StateDict = Map<string, TorchTensor>;

/** torch.save's storage classes → element types. Integer and bool ones appear in state dicts (BatchNorm's
 * num_batches_tracked): they are read as data and refused only if asked for as a weight. */
const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: ELEMENT_TYPES.float32,
  DoubleStorage: ELEMENT_TYPES.float64,
  HalfStorage: ELEMENT_TYPES.float16,
  BFloat16Storage: ELEMENT_TYPES.bfloat16,
  LongStorage: ELEMENT_TYPES.int64,
  IntStorage: ELEMENT_TYPES.int32,
  ShortStorage: ELEMENT_TYPES.int16,
  CharStorage: ELEMENT_TYPES.int8,
  ByteStorage: ELEMENT_TYPES.uint8,
  BoolStorage: ELEMENT_TYPES.bool,
};

/** Whether the bytes start like a safetensors file: a plausible header length, then '{'. */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  return head.length >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0;
}

export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** A state dict from the bytes of a torch.save zip or a safetensors file. */
export function readStateDict(bytes: Uint8Array, file: string): StateDict {
  if (looksLikeZip(bytes)) return readTorchZip(bytes, file);
  if (looksLikeSafetensors(bytes) || file.toLowerCase().endsWith('.safetensors')) return readSafetensors(bytes, file);
  if (bytes[0] === 0x80) {
    throw new WeightsFileError(file, 'is a legacy (pre-1.6, non-zip) torch.save file; load it in PyTorch and save it again with torch.save(state_dict, path) (the zip format, the default since PyTorch 1.6) or with safetensors');
  }
  throw new WeightsFileError(file, 'is neither a torch.save zip (.pt/.pth) nor a safetensors file');
}

// ---------------------------------------------------------------------------------------------------
// torch.save zip

interface StorageRef {
  key: string;
  type: ElementType;
  numel: number;
  bytes: Uint8Array;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

function intTuple(value: unknown, what: string): number[] {
  if (!(value instanceof PyTuple) || !value.items.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new Error(`${what} is not a tuple of non-negative integers`);
  }
  return value.items as number[];
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset] = args;
  if (!(storage instanceof Object) || !('numel' in storage)) throw new Error('the tensor has no storage');
  const ref = storage as StorageRef;
  const shape = intTuple(args[2], 'the tensor size');
  const strides = intTuple(args[3], 'the tensor stride');
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error('the storage offset is not a non-negative integer');
  if (strides.length !== shape.length) throw new Error(`size (${shape.join(', ')}) and stride (${strides.join(', ')}) differ in rank`);
  const last = lastIndex(shape, strides, offset as number);
  if (last >= ref.numel) {
    throw new Error(
      `a tensor of size (${shape.join(', ')}), stride (${strides.join(', ')}) at offset ${String(offset)} reaches element ${last}, ` +
        `past the end of storage ${ref.key} (${ref.numel} elements): the storage is shorter than its tensor`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > ref.numel) {
    // Only an expanded (stride-0) view holds more elements than its storage; decoding it would allocate more than
    // the file holds, so it is refused.
    throw new Error(`a tensor of size (${shape.join(', ')}) has ${count} elements but its storage ${ref.key} only ${ref.numel}: save tensor.contiguous() instead of an expanded view`);
  }
  return new TensorRef(ref, offset as number, shape, strides);
}

function readTorchZip(bytes: Uint8Array, file: string): StateDict {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const zip = new ZipArchive(bytes, fail);
  const pkl = zip.find('data.pkl');
  if (!pkl) fail(`is a zip archive without data.pkl, so not a torch.save file (it holds ${[...zip.members.keys()].slice(0, 8).join(', ')})`);
  const root = pkl!.name.slice(0, -'data.pkl'.length);
  const order = zip.members.get(`${root}byteorder`);
  const littleEndian = order ? new TextDecoder().decode(zip.read(order)) !== 'big' : true;

  const storages = new Map<string, StorageRef>();
  const persistentLoad = (id: unknown): StorageRef => {
    const items = id instanceof PyTuple ? id.items : [];
    const [tag, type, key, , numel] = items;
    if (tag !== 'storage' || !(type instanceof PyGlobal) || typeof key !== 'string' || !Number.isSafeInteger(numel)) {
      throw new Error('a persistent id that is not a torch storage');
    }
    const element = STORAGE_TYPES[type.name.replace(/^torch\./, '')];
    if (!element) throw new Error(`a persistent id whose storage type is ${type.name}`);
    const member = zip.members.get(`${root}data/${key}`);
    if (!member) throw new Error(`storage ${key} is missing from the archive (no ${root}data/${key})`);
    const needed = (numel as number) * element.size;
    if (member.size < needed) {
      throw new Error(`storage ${key} declares ${String(numel)} ${element.name} elements (${needed} bytes), but ${member.name} holds ${member.size} bytes: the storage is truncated`);
    }
    let ref = storages.get(key);
    if (!ref) {
      ref = { key, type: element, numel: numel as number, bytes: zip.read(member) };
      storages.set(key, ref);
    }
    return ref;
  };
  const globals = new Map<string, PyGlobal>([
    ['collections.OrderedDict', new PyGlobal('collections.OrderedDict', (args) => {
      if (args.length !== 0) throw new Error('OrderedDict with arguments');
      return new PyDict();
    })],
    ['torch._utils._rebuild_tensor_v2', new PyGlobal('torch._utils._rebuild_tensor_v2', rebuildTensor)],
    ['torch._utils._rebuild_parameter', new PyGlobal('torch._utils._rebuild_parameter', (args) => {
      if (!(args[0] instanceof TensorRef)) throw new Error('a parameter without a tensor');
      return args[0];
    })],
    ...Object.keys(STORAGE_TYPES).map((name): [string, PyGlobal] => [`torch.${name}`, new PyGlobal(`torch.${name}`)]),
  ]);
  let top: unknown;
  try {
    top = unpickle(zip.read(pkl!), { globals, persistentLoad, what: pkl!.name });
  } catch (e) {
    if (e instanceof PickleError) fail(e.problem);
    throw e;
  }
  if (!(top instanceof PyDict)) {
    fail('holds a pickled object that is not a state dict; save model.state_dict() (torch.save(model.state_dict(), path)), not the model');
  }
  const out: StateDict = new Map();
  for (const [key, value] of (top as PyDict).entries) {
    if (typeof key !== 'string') fail(`the state dict has a key that is not a string (${String(key)})`);
    if (!(value instanceof TensorRef)) continue; // nested dicts (optimizer state and the like) are not weights
    const { storage, shape, strides, offset } = value;
    out.set(key as string, {
      key: key as string,
      dtype: storage.type.name,
      shape,
      values: () => gather(storage.bytes, storage.type, littleEndian, shape, strides, offset),
    });
  }
  if (out.size === 0) fail('holds a dict without tensors; save model.state_dict()');
  return out;
}

// ---------------------------------------------------------------------------------------------------
// safetensors (https://github.com/huggingface/safetensors: "Format")

const SAFETENSORS_DTYPES: Record<string, ElementType> = {
  F32: ELEMENT_TYPES.float32,
  F64: ELEMENT_TYPES.float64,
  F16: ELEMENT_TYPES.float16,
  BF16: ELEMENT_TYPES.bfloat16,
  I64: ELEMENT_TYPES.int64,
  I32: ELEMENT_TYPES.int32,
  I16: ELEMENT_TYPES.int16,
  I8: ELEMENT_TYPES.int8,
  U8: ELEMENT_TYPES.uint8,
  BOOL: ELEMENT_TYPES.bool,
};

function readSafetensors(bytes: Uint8Array, file: string): StateDict {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const r = new ByteReader(bytes, fail);
  const headerLength = r.u64(0, 'the safetensors header length');
  const headerBytes = r.slice(8, headerLength, `the ${headerLength}-byte safetensors header`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    return fail(`the safetensors header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the safetensors header is not a JSON object');
  const dataStart = 8 + headerLength;
  const out: StateDict = new Map();
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') continue;
    out.set(key, safetensor(key, entry, r, dataStart, fail));
  }
  return out;
}

function safetensor(key: string, entry: unknown, r: ByteReader, dataStart: number, fail: (p: string) => never): TorchTensor {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const type = typeof e.dtype === 'string' ? SAFETENSORS_DTYPES[e.dtype] : undefined;
  if (!type) fail(`tensor "${key}" has dtype ${JSON.stringify(e.dtype)}, not one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
  if (!Array.isArray(e.shape)) fail(`tensor "${key}" has no shape`);
  const shape = e.shape as number[];
  const count = elementCount(shape, fail, `tensor "${key}"`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    fail(`tensor "${key}" has no data_offsets [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end - begin !== count * type!.size) {
    fail(`tensor "${key}" has data_offsets [${begin}, ${end}] (${end - begin} bytes), but ${count} ${type!.name} elements take ${count * type!.size}`);
  }
  const data = r.slice(dataStart + begin, end - begin, `tensor "${key}" (data_offsets [${begin}, ${end}])`);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  return { key, dtype: type!.name, shape, values: () => gather(data, type!, true, shape, strides, 0) };
}
