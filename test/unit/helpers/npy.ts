// .npy bytes with any header, for tests of what the reader refuses (encodeNpy writes only valid float32 files).
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** A .npy file of format `major`.0 holding `header` (padded as numpy pads it) and then `data`, unchecked. */
export function npyWithHeader(header: string, data: Uint8Array, major: 1 | 2 = 1): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const padded = header + ' '.repeat((64 - ((preamble + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(preamble + padded.length + data.length);
  out.set([...MAGIC, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(Buffer.from(padded, 'latin1'), preamble);
  out.set(data, preamble + padded.length);
  return out;
}

/** A C-order .npy of dtype `descr` ('<f8', '<i4', ...) and `shape` holding the raw bytes given. */
export function npyWithDescr(descr: string, shape: number[], bytes: Uint8Array): Uint8Array {
  const tuple = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  return npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`, bytes);
}
