// Our own seeded generator, so that a config gives bit-identical parameters, inputs and states on every
// tfjs backend (cpu, wasm, webgl, node) and every machine: tfjs's random ops differ between backends.
//
// Generator: xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
// ACM TOMS 2021; reference C code at https://prng.di.unimi.it/xoshiro128starstar.c). Its state is four
// 32-bit words and its step uses only shifts, xors and one multiply, which Math.imul does exactly.
// Seeding: SplitMix64 (https://prng.di.unimi.it/splitmix64.c), as the xoshiro authors recommend; it runs
// only in the constructor, so it uses BigInt for clarity rather than speed.

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** SplitMix64 (Steele, Lea & Flood 2014), exactly as the reference C code. */
export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  next(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}

/** xoshiro128** 1.1 over an explicit state of four unsigned 32-bit words (not all zero). */
export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      throw new RangeError('xoshiro128** state must not be all zero (the generator would emit only zeros)');
    }
  }

  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a, 64-bit, over the UTF-8 bytes of `text` (http://www.isthe.com/chongo/tech/comp/fnv/). */
export function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & MASK64;
  }
  return hash;
}

/**
 * The 128-bit xoshiro state for (seed, stream). The stream name is folded into the seed through a
 * SplitMix64 output and then mixed again by a second SplitMix64, so every stream's state depends on
 * the whole name, and a tensor's numbers depend only on (seed, its own name): adding a tensor never
 * shifts the numbers of another.
 */
export function streamState(seed: number, stream: string): [number, number, number, number] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const key = new SplitMix64(BigInt(seed)).next() ^ fnv1a64(stream);
  const mixer = new SplitMix64(key);
  const a = mixer.next();
  const b = mixer.next();
  // Low word first, as rand_xoshiro's seed_from_u64 lays the two u64 outputs out (little-endian).
  // Two consecutive SplitMix64 outputs are never both zero (its output function is a bijection), so
  // the state is never all zero.
  return [Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)];
}

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;
/** Keras and TensorFlow redraw truncated normals outside ±2 standard deviations. */
export const TRUNCATION_BOUND = 2;

export class Rng {
  private readonly bits: Xoshiro128StarStar;
  /** Box–Muller yields normals in pairs; the second one waits here. */
  private spareNormal: number | null = null;

  /** `stream` names what the numbers are for, e.g. `param:linear_rec/kernel`, `input:x`, `state:h`. */
  constructor(
    readonly seed: number,
    readonly stream: string,
  ) {
    this.bits = new Xoshiro128StarStar(streamState(seed, stream));
  }

  nextUint32(): number {
    return this.bits.nextUint32();
  }

  /** Uniform on [0, 1) with 53 random bits (the top 27 + 26 bits of two outputs, as genrand_res53). */
  uniform(): number {
    const high = this.bits.nextUint32() >>> 5;
    const low = this.bits.nextUint32() >>> 6;
    return (high * TWO_POW_26 + low) / TWO_POW_53;
  }

  /** Standard normal in float64 (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    // 1 − U lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Standard normal conditioned on |z| ≤ 2, by redrawing (TensorFlow's truncated_normal, Keras's TruncatedNormal). */
  truncatedNormal(): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= TRUNCATION_BOUND) return z;
    }
  }

  /**
   * `count` draws of U[low, high), computed in float64 and rounded once to float32 (the rounding can
   * land exactly on `high`, as it can in Keras).
   */
  fillUniform(count: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(count);
    const width = high - low;
    for (let i = 0; i < count; i++) out[i] = low + width * this.uniform();
    return out;
  }

  /** `count` draws of N(mean, stddev²). */
  fillNormal(count: number, mean = 0, stddev = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = mean + stddev * this.normal();
    return out;
  }

  /** `count` draws of N(mean, stddev²) redrawn beyond ±2·stddev. */
  fillTruncatedNormal(count: number, mean = 0, stddev = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = mean + stddev * this.truncatedNormal();
    return out;
  }
}
