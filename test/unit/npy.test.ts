import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/repo';
import {
  assertFinite,
  decodeNpy,
  decodeNpz,
  encodeNpy,
  NpyFormatError,
  readNpyFile,
  readNpzFile,
  writeNpyFile,
  type NpyArray,
} from '../../src/engine/params/npy';

// Fixtures are written by real numpy (test/fixtures/npy/make_fixtures.py); their values are formulas of
// the flat C-order index i, restated here, so decoded numbers are checked against the formula.
const FIXTURES = join(repoRoot(), 'test/fixtures/npy');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const decodeFixture = (name: string): NpyArray => decodeNpy(fixture(name), name);

/** float32 values of f(i) for i = 0 … count−1, as numpy's astype(float32) rounds them. */
const expected = (count: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: count }, (_, i) => f(i));
const sevenths = (i: number): number => i / 7 - 1;
const megas = (i: number): number => (i - 2) * 1000003;

function assertDecodes(name: string, shape: number[], dtype: string, values: Float32Array): void {
  const arr = decodeFixture(name);
  assert.deepEqual(arr.shape, shape, `${name}: shape`);
  assert.equal(arr.dtype, dtype, `${name}: dtype`);
  assert.ok(arr.data instanceof Float32Array);
  assert.deepEqual(arr.data, values, `${name}: values`);
}

function assertNpyError(fn: () => unknown, label: string, problem: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NpyFormatError, `not an NpyFormatError: ${String(e)}`);
    assert.equal(e.label, label);
    if (typeof problem === 'string') assert.equal(e.problem, problem);
    else assert.match(e.problem, problem);
    assert.equal(e.message, `${label}: ${e.problem}`);
    return true;
  });
}

describe('npy: decoding numpy-written files', () => {
  it('float32, little-endian, C order, in every rank', () => {
    assertDecodes('f4_2x3.npy', [2, 3], 'float32', expected(6, sevenths));
    assertDecodes('f4_vec3.npy', [3], 'float32', expected(3, sevenths));
    assertDecodes('f4_scalar.npy', [], 'float32', expected(1, () => sevenths(1)));
    assertDecodes('f4_empty_0x3.npy', [0, 3], 'float32', new Float32Array(0));
  });

  it('float64 (rounded to float32) and float16', () => {
    assertDecodes('f8_3x4.npy', [3, 4], 'float64', expected(12, sevenths));
    assertDecodes('f2_4.npy', [4], 'float16', expected(4, (i) => i / 4 - 0.5)); // exact in float16
  });

  it('integers and booleans', () => {
    assertDecodes('i4_5.npy', [5], 'int32', expected(5, megas));
    assertDecodes('i4_extremes.npy', [2], 'int32', new Float32Array([-(2 ** 31), 2 ** 31 - 1]));
    assertDecodes('i8_4.npy', [4], 'int64', expected(4, megas));
    assertDecodes('u1_4.npy', [4], 'uint8', expected(4, (i) => i * 60));
    assertDecodes('b1_4.npy', [4], 'bool', new Float32Array([1, 0, 0, 1]));
  });

  it('big-endian float64, float32 and int32', () => {
    assertDecodes('be_f8_2x2.npy', [2, 2], 'float64', expected(4, sevenths));
    assertDecodes('be_f4_3.npy', [3], 'float32', expected(3, sevenths));
    assertDecodes('be_i4_5.npy', [5], 'int32', expected(5, megas));
  });

  it('Fortran-order arrays, reordered to C order', () => {
    assertDecodes('fortran_f4_3x2x4.npy', [3, 2, 4], 'float32', expected(24, (i) => i));
  });

  it('format version 2.0', () => {
    assertDecodes('v2_f4_2x3.npy', [2, 3], 'float32', expected(6, sevenths));
  });
});

describe('npy: decoding .npz archives', () => {
  for (const name of ['savez.npz', 'savez_compressed.npz']) {
    it(`${name}: keys without .npy, every array decoded`, () => {
      const arrays = decodeNpz(fixture(name), name);
      assert.deepEqual([...arrays.keys()].sort(), ['a', 'b']);
      assert.deepEqual(arrays.get('a'), { shape: [2, 3], dtype: 'float32', data: expected(6, sevenths) });
      assert.deepEqual(arrays.get('b'), { shape: [4], dtype: 'float64', data: expected(4, sevenths) });
    });
  }

  it('readNpzFile reads from disk', () => {
    const path = join(FIXTURES, 'savez_compressed.npz');
    assert.deepEqual(readNpzFile(path).get('a')?.data, expected(6, sevenths));
  });

  it('refuses bytes that are not a zip archive, and names the member that is broken', () => {
    assertNpyError(() => decodeNpz(fixture('f4_2x3.npy'), 'x.npz'), 'x.npz', /^not a readable \.npz \(zip\) archive/);
    const npz = fixture('savez.npz');
    // Cut the archive in the middle: the end-of-central-directory record is lost.
    assertNpyError(() => decodeNpz(npz.subarray(0, npz.length >> 1), 'x.npz'), 'x.npz', /^not a readable \.npz \(zip\) archive/);
    // A stored (uncompressed) member with a corrupted magic byte: find it by its magic and break it.
    const broken = npz.slice();
    const at = broken.findIndex((b, i) => b === 0x93 && broken[i + 1] === 0x4e && broken[i + 2] === 0x55);
    broken[at + 1] = 0x00;
    assertNpyError(() => decodeNpz(broken, 'x.npz'), 'x.npz', "array 'a': not a .npy file (magic bytes missing)");
  });
});

describe('npy: encoding', () => {
  it('writes the same bytes as numpy.save for float32 arrays', () => {
    assert.deepEqual(encodeNpy([2, 3], expected(6, sevenths)), fixture('f4_2x3.npy'));
    assert.deepEqual(encodeNpy([3], expected(3, sevenths)), fixture('f4_vec3.npy'));
    assert.deepEqual(encodeNpy([], expected(1, () => sevenths(1))), fixture('f4_scalar.npy'));
    assert.deepEqual(encodeNpy([0, 3], new Float32Array(0)), fixture('f4_empty_0x3.npy'));
  });

  it('aligns the data to 64 bytes and ends the header with a newline', () => {
    for (const shape of [[], [1], [7, 11], [2, 3, 4, 5], [123456789, 0]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(shape, new Float32Array(count));
      const headerLength = bytes[8]! + 256 * bytes[9]!;
      assert.equal((10 + headerLength) % 64, 0, `[${shape}]`);
      assert.equal(bytes[10 + headerLength - 1], 0x0a);
      assert.equal(bytes.length, 10 + headerLength + 4 * count);
    }
  });

  it('round-trips every float32 bit pattern class', () => {
    const values = new Float32Array([0, -0, 1, -1, Math.fround(Math.PI), 2 ** -149, -(2 ** -126), 3.4028234663852886e38, Infinity, -Infinity, NaN, 1e-30]);
    const back = decodeNpy(encodeNpy([3, 4], values), 'mem');
    assert.deepEqual(back.shape, [3, 4]);
    assert.deepEqual(new Uint32Array(back.data.buffer), new Uint32Array(values.buffer)); // bit-identical, -0 and NaN included
  });

  it('writeNpyFile and readNpyFile round-trip on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
    try {
      const path = join(dir, 'x.npy');
      const data = expected(24, (i) => Math.sin(i));
      writeNpyFile(path, [2, 3, 4], data);
      assert.deepEqual(readNpyFile(path), { shape: [2, 3, 4], dtype: 'float32', data });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a shape that does not match the data', () => {
    assert.throws(() => encodeNpy([2, 2], new Float32Array(3)), RangeError);
    assert.throws(() => encodeNpy([-1], new Float32Array(0)), RangeError);
  });
});

describe('npy: errors', () => {
  it('a truncated file says how many bytes the header promised and how many there are', () => {
    // numpy wrote 800 float32 zeros; the fixture keeps half of the data.
    assertNpyError(() => decodeFixture('truncated_f4_800.npy'), 'truncated_f4_800.npy',
      `truncated: the header promises 4·800 = ${4 * 800} bytes of data but the file holds ${4 * 800 / 2}`);
  });

  it('extra bytes after the data are refused too', () => {
    const bytes = new Uint8Array([...fixture('f4_2x3.npy'), 0, 0, 0, 0]);
    assertNpyError(() => decodeNpy(bytes, 'x'), 'x', /^the header promises 4·6 = 24 bytes of data but the file holds 28 \(4 too many\)/);
  });

  it('a file that is not .npy, or empty, or cut inside the preamble or header', () => {
    assertNpyError(() => decodeFixture('bad_magic.npy'), 'bad_magic.npy', 'not a .npy file (magic bytes missing)');
    assertNpyError(() => decodeNpy(new Uint8Array(0), 'e'), 'e', 'the file is empty (0 bytes)');
    const good = fixture('f4_2x3.npy');
    assertNpyError(() => decodeNpy(good.subarray(0, 8), 'p'), 'p', /^truncated: the file ends inside the \.npy preamble/);
    assertNpyError(() => decodeNpy(good.subarray(0, 50), 'h'), 'h', new RegExp(`^truncated: the preamble promises a ${good[8]! + 256 * good[9]!}-byte header`));
  });

  it('an unknown format version', () => {
    const bytes = fixture('f4_2x3.npy').slice();
    bytes[6] = 9;
    assertNpyError(() => decodeNpy(bytes, 'v'), 'v', /^unsupported \.npy format version 9\.0/);
  });

  it('unsupported dtypes: complex and structured', () => {
    assertNpyError(() => decodeFixture('c8_2.npy'), 'c8_2.npy', /^unsupported dtype '<c8'/);
    assertNpyError(() => decodeFixture('structured_2.npy'), 'structured_2.npy', /^unsupported dtype: structured arrays/);
  });

  it('a malformed header', () => {
    const bytes = fixture('f4_2x3.npy').slice();
    const text = new TextDecoder('latin1').decode(bytes.subarray(10, 128));
    const at = 10 + text.indexOf("'shape'");
    bytes.set(new TextEncoder().encode("'shap!'"), at);
    assertNpyError(() => decodeNpy(bytes, 'm'), 'm', "malformed .npy header: the key 'shape' is missing");
    bytes.set(new TextEncoder().encode("'shape'="), at);
    assertNpyError(() => decodeNpy(bytes, 'm'), 'm', /^malformed \.npy header \(/);
  });

  it('an unreadable file', () => {
    const path = join(FIXTURES, 'does-not-exist.npy');
    assertNpyError(() => readNpyFile(path), path, 'cannot be read: file not found');
    assertNpyError(() => readNpyFile(FIXTURES), FIXTURES, 'cannot be read: not a regular file (a folder)');
  });

  it('assertFinite names the first NaN or infinity by its multi-index', () => {
    const nan = decodeFixture('nan_3x2x6.npy');
    assertNpyError(() => assertFinite(nan, 'nan.npy'), 'nan.npy', 'entry [2, 0, 5] is NaN');
    // 1e300 is finite in float64 and overflows float32.
    const overflow = decodeFixture('overflow_f8_2x3.npy');
    assertNpyError(() => assertFinite(overflow, 'o.npy'), 'o.npy', 'entry [1, 2] is Infinity (float64 values beyond ±3.4e38 overflow float32)');
    const many: NpyArray = { shape: [4], dtype: 'float32', data: new Float32Array([0, -Infinity, NaN, 1]) };
    assertNpyError(() => assertFinite(many, 'm'), 'm', 'entry [1] is -Infinity; 2 entries are not finite in all');
    assert.doesNotThrow(() => assertFinite(decodeFixture('f4_2x3.npy'), 'ok'));
  });
});
