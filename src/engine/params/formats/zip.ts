// A zip reader for weights archives (torch.save's .pt/.pth, Keras's .keras). Why not fflate's unzipSync: it
// trusts the archive — a stored member whose declared size runs past the end is cut short silently, and the
// entry count of a (zip64) directory is looped over unchecked. Here the central directory is read with every
// offset and size checked against the file first, and a member is inflated (by fflate's inflateSync) only
// into a buffer of its declared size, which is itself bounded by what its compressed bytes can expand to.
import { inflateSync } from 'fflate';
import { ByteReader } from './binary';

export interface ZipMember {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the member's data (after its local header). */
  dataOffset: number;
}

/** deflate's largest expansion: 258 bytes out of a 2-bit code, so at most 1032 bytes per compressed byte. */
const MAX_DEFLATE_RATIO = 1032;

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipArchive {
  readonly members = new Map<string, ZipMember>();
  private readonly reader: ByteReader;

  constructor(bytes: Uint8Array, fail: (problem: string) => never) {
    this.reader = new ByteReader(bytes, fail);
    const { count, offset } = this.directory();
    let at = offset;
    for (let i = 0; i < count; i++) at = this.readEntry(at, i);
  }

  private fail(problem: string): never {
    return this.reader.fail(problem);
  }

  /** The end-of-central-directory record: within the last 22 + 65535 bytes (its comment may follow it). */
  private directory(): { count: number; offset: number } {
    const r = this.reader;
    const bytes = r.bytes;
    if (bytes.length < 22) this.fail(`not a zip archive: ${bytes.length} bytes is shorter than a zip's end record (22)`);
    let eocd = -1;
    for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
      if (r.view.getUint32(at, true) === EOCD && at + 22 + r.view.getUint16(at + 20, true) === bytes.length) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) this.fail('not a zip archive, or a truncated one: its end-of-central-directory record is missing');
    let count = r.u16(eocd + 10, 'the zip entry count');
    let size = r.u32(eocd + 12, 'the zip central directory size');
    let offset = r.u32(eocd + 16, 'the zip central directory offset');
    if (eocd >= 20 && r.view.getUint32(eocd - 20, true) === EOCD64_LOCATOR) {
      const at = r.u64(eocd - 12, 'the zip64 end record offset');
      if (r.u32(at, 'the zip64 end record') !== EOCD64) this.fail('the zip64 end record is missing where its locator points');
      count = r.u64(at + 32, 'the zip64 entry count');
      size = r.u64(at + 40, 'the zip64 central directory size');
      offset = r.u64(at + 48, 'the zip64 central directory offset');
    }
    r.need(offset, size, 'the zip central directory');
    // A central entry takes at least 46 bytes: more entries than fit are a lie, refused before looping.
    if (count * 46 > size) this.fail(`the zip claims ${count} entries in a ${size}-byte central directory`);
    return { count, offset };
  }

  private readEntry(at: number, index: number): number {
    const r = this.reader;
    const what = `zip entry ${index}`;
    if (r.u32(at, what) !== CENTRAL) this.fail(`${what}: central directory record missing (corrupt archive)`);
    const method = r.u16(at + 10, what);
    const crc32 = r.u32(at + 16, what);
    let compressedSize = r.u32(at + 20, what);
    let size = r.u32(at + 24, what);
    const nameLength = r.u16(at + 28, what);
    const extraLength = r.u16(at + 30, what);
    const commentLength = r.u16(at + 32, what);
    let localOffset = r.u32(at + 42, what);
    const name = new TextDecoder('utf-8').decode(r.slice(at + 46, nameLength, `${what}'s name`));
    // zip64: the sizes and offset that overflow 32 bits are in the 0x0001 extra field, in this order.
    const extra = r.slice(at + 46 + nameLength, extraLength, `${what}'s extra field`);
    const ex = new ByteReader(extra, (p) => this.fail(`${name}: ${p}`));
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = ex.u16(e, 'extra field id');
      const length = ex.u16(e + 2, 'extra field length');
      if (id === 0x0001) {
        let f = e + 4;
        if (size === 0xffffffff) {
          size = ex.u64(f, 'zip64 size');
          f += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = ex.u64(f, 'zip64 compressed size');
          f += 8;
        }
        if (localOffset === 0xffffffff) localOffset = ex.u64(f, 'zip64 offset');
      }
      e += 4 + length;
    }
    if (r.u32(localOffset, `${name}'s local header`) !== LOCAL) this.fail(`${name}: local header missing where the directory points (corrupt archive)`);
    const dataOffset = localOffset + 30 + r.u16(localOffset + 26, name) + r.u16(localOffset + 28, name);
    r.need(dataOffset, compressedSize, `the data of ${name}`);
    if (method !== 0 && method !== 8) this.fail(`${name} uses zip compression method ${method}; only stored (0) and deflate (8) are read`);
    if (method === 0 && size !== compressedSize) this.fail(`${name} is stored uncompressed but declares ${size} bytes in ${compressedSize}`);
    if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      this.fail(`${name} declares ${size} bytes inflated from ${compressedSize}, more than deflate can produce`);
    }
    this.members.set(name, { name, method, compressedSize, size, crc32, dataOffset });
    return at + 46 + nameLength + extraLength + commentLength;
  }

  /**
   * A member's bytes: a view for a stored one, inflated into exactly its declared size for a deflated one
   * (fflate writes no further than the buffer it is given); either way checked against the member's CRC-32.
   */
  read(member: ZipMember): Uint8Array {
    const data = this.reader.slice(member.dataOffset, member.compressedSize, `the data of ${member.name}`);
    const out = member.method === 0 ? data : this.inflate(member, data);
    if (crc32(out) !== member.crc32) this.fail(`${member.name} does not match its CRC-32: the archive is corrupt`);
    return out;
  }

  private inflate(member: ZipMember, data: Uint8Array): Uint8Array {
    let out: Uint8Array;
    try {
      out = inflateSync(data, { out: new Uint8Array(member.size) });
    } catch (e) {
      return this.fail(`${member.name} cannot be inflated (${(e as Error).message}): the archive is corrupt`);
    }
    if (out.length !== member.size) this.fail(`${member.name} inflates to ${out.length} bytes, not the ${member.size} it declares`);
    return out;
  }

  /** The member whose name ends with `suffix` after a folder (torch.save nests everything in one). */
  find(suffix: string): ZipMember | undefined {
    const direct = this.members.get(suffix);
    if (direct) return direct;
    for (const m of this.members.values()) if (m.name.endsWith('/' + suffix)) return m;
    return undefined;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The zip (IEEE 802.3) CRC-32 of some bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
