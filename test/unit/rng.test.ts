import assert from 'node:assert/strict';
import { fnv1a64, Rng, SplitMix64, streamState, Xoshiro128StarStar } from '../../src/engine/params/rng';
import { erf, phi } from './reference/float64';

// Statistical checks use a fixed seed, so they are deterministic; each bound is Z standard errors of
// the statistic's sampling distribution (two-sided p ≈ 6e-7 for a correct generator), so a bound that
// passes is not luck and a biased generator of the sizes we care about fails.
const N = 200_000;
const Z = 5;


/** Moments of a standard normal truncated to [−a, a] (by the recurrence E z^n = (n−1) E z^(n−2) − 2a^(n−1) φ(a) / Z). */
function truncatedMoments(a: number): { variance: number; fourth: number } {
  const mass = erf(a / Math.SQRT2); // Φ(a) − Φ(−a)
  const variance = 1 - (2 * a * phi(a)) / mass;
  const fourth = 3 * variance - (2 * a ** 3 * phi(a)) / mass;
  return { variance, fourth };
}

function moments(xs: ArrayLike<number>): { mean: number; variance: number; max: number; min: number } {
  let sum = 0;
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i]!;
    max = Math.max(max, xs[i]!);
    min = Math.min(min, xs[i]!);
  }
  const mean = sum / xs.length;
  let squares = 0;
  for (let i = 0; i < xs.length; i++) squares += (xs[i]! - mean) ** 2;
  return { mean, variance: squares / (xs.length - 1), max, min };
}

function assertNear(actual: number, expected: number, standardError: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= Z * standardError,
    `${what}: ${actual} is not within ${Z}·${standardError.toExponential(3)} of ${expected}`,
  );
}

function draw(rng: Rng, method: 'uniform' | 'normal' | 'truncatedNormal', count = N): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = rng[method]();
  return out;
}

describe('rng: reference implementations', () => {
  it('xoshiro128** matches the reference C code (v1.1) from state {1, 2, 3, 4}', () => {
    // The rand_xoshiro crate's `reference` test, whose values were produced with
    // https://prng.di.unimi.it/xoshiro128starstar.c.
    const expected = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
    const gen = new Xoshiro128StarStar([1, 2, 3, 4]);
    assert.deepEqual(expected.map(() => gen.nextUint32()), expected);
  });

  it('xoshiro128** agrees with a BigInt transcription of the reference over 10 000 steps', () => {
    // The first three words of `reference` are exact small products; this covers the full 32-bit range.
    const mask = 0xffffffffn;
    const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & mask;
    const s = [0x9e3779b9n, 0x7f4a7c15n, 0xdeadbeefn, 0x00000001n];
    const gen = new Xoshiro128StarStar([0x9e3779b9, 0x7f4a7c15, 0xdeadbeef, 1]);
    for (let step = 0; step < 10_000; step++) {
      const result = (rotl((s[1]! * 5n) & mask, 7n) * 9n) & mask;
      const t = (s[1]! << 9n) & mask;
      s[2]! ^= s[0]!;
      s[3]! ^= s[1]!;
      s[1]! ^= s[2]!;
      s[0]! ^= s[3]!;
      s[2]! ^= t;
      s[3] = rotl(s[3]!, 11n);
      assert.equal(gen.nextUint32(), Number(result), `step ${step}`);
    }
  });

  it('SplitMix64 matches the reference C code', () => {
    // The rand_xoshiro crate's SplitMix64 `reference` test (produced with https://prng.di.unimi.it/splitmix64.c).
    const gen = new SplitMix64(1477776061723855037n);
    const expected = [1985237415132408290n, 2979275885539914483n, 13511426838097143398n, 8488337342461049707n, 15141737807933549159n];
    assert.deepEqual(expected.map(() => gen.next()), expected);
  });

  it('FNV-1a 64 matches the published test vectors', () => {
    // From the FNV reference test suite (http://www.isthe.com/chongo/tech/comp/fnv/): '' is the offset basis.
    assert.equal(fnv1a64(''), 0xcbf29ce484222325n);
    assert.equal(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
    assert.equal(fnv1a64('foobar'), 0x85944171f73967e8n);
  });

  it('an Rng is xoshiro128** started from streamState(seed, stream)', () => {
    const rng = new Rng(7, 'param:linear_rec/kernel');
    const gen = new Xoshiro128StarStar(streamState(7, 'param:linear_rec/kernel'));
    for (let i = 0; i < 100; i++) assert.equal(rng.nextUint32(), gen.nextUint32());
  });

  it('streamState is the documented SplitMix64 / FNV-1a construction', () => {
    const key = new SplitMix64(123n).next() ^ fnv1a64('input:x');
    const mixer = new SplitMix64(key);
    const a = mixer.next();
    const b = mixer.next();
    assert.deepEqual(streamState(123, 'input:x'), [
      Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n),
    ]);
  });

  it('refuses seeds that are not safe integers', () => {
    assert.throws(() => new Rng(0.5, 'x'), RangeError);
    assert.throws(() => new Rng(2 ** 53, 'x'), RangeError);
    assert.throws(() => new Xoshiro128StarStar([0, 0, 0, 0]), RangeError);
  });
});

describe('rng: determinism and streams', () => {
  it('gives the same numbers for the same (seed, stream), whatever else was drawn before', () => {
    const first = new Rng(42, 'state:h');
    const a = Array.from({ length: 1000 }, () => first.nextUint32());
    const other = new Rng(42, 'param:new_tensor');
    for (let i = 0; i < 500; i++) other.normal();
    const second = new Rng(42, 'state:h');
    assert.deepEqual(Array.from({ length: 1000 }, () => second.nextUint32()), a);
  });

  it('gives different sequences for different seeds and for different streams', () => {
    const seq = (seed: number, stream: string): number[] => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    assert.notDeepEqual(seq(1, 'input:x'), seq(2, 'input:x'));
    assert.notDeepEqual(seq(1, 'input:x'), seq(1, 'input:y'));
    assert.notDeepEqual(seq(0, 'a'), seq(0, 'b'));
    assert.notDeepEqual(seq(-1, 'a'), seq(1, 'a'));
  });

  it('gives uncorrelated streams for neighbouring names and seeds', () => {
    // The sample correlation of independent sequences has standard error 1/sqrt(N).
    const pairs: Array<[Rng, Rng]> = [
      [new Rng(5, 'param:cell/kernel'), new Rng(5, 'param:cell/kernal')],
      [new Rng(5, 'state:h'), new Rng(6, 'state:h')],
      [new Rng(5, 'state:h'), new Rng(5, 'state:c')],
    ];
    for (const [p, q] of pairs) {
      const x = draw(p, 'uniform');
      const y = draw(q, 'uniform');
      let sxy = 0;
      for (let i = 0; i < N; i++) sxy += (x[i]! - 0.5) * (y[i]! - 0.5);
      const correlation = sxy / N / (1 / 12);
      assertNear(correlation, 0, 1 / Math.sqrt(N), `correlation of ${p.stream}@${p.seed} and ${q.stream}@${q.seed}`);
    }
  });
});

describe('rng: distributions', () => {
  it('uniform() lies in [0, 1) on a grid of 2^-53 and uses more than 32 bits', () => {
    const rng = new Rng(3, 'grid');
    let usesLowBits = false;
    for (let i = 0; i < 1000; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1);
      const scaled = u * 2 ** 53;
      assert.ok(Number.isInteger(scaled));
      if (scaled % 2 ** 21 !== 0) usesLowBits = true;
    }
    assert.ok(usesLowBits, 'no draw had bits below 2^-32');
  });

  it('uniform() has mean 1/2 and variance 1/12', () => {
    const { mean, variance, min, max } = moments(draw(new Rng(2024, 'test:uniform'), 'uniform'));
    // Var(mean) = σ²/N; Var(s²) ≈ (μ4 − σ⁴)/N with μ4 = 1/80 for U(0, 1).
    assertNear(mean, 1 / 2, Math.sqrt(1 / 12 / N), 'mean');
    assertNear(variance, 1 / 12, Math.sqrt((1 / 80 - 1 / 144) / N), 'variance');
    assert.ok(min >= 0 && max < 1);
  });

  it('normal() has mean 0, variance 1, and P(|z| > 2) = 1 − erf(√2)', () => {
    const xs = draw(new Rng(2024, 'test:normal'), 'normal');
    const { mean, variance } = moments(xs);
    assertNear(mean, 0, Math.sqrt(1 / N), 'mean');
    assertNear(variance, 1, Math.sqrt((3 - 1) / N), 'variance'); // μ4 = 3
    const tail = 1 - erf(Math.SQRT2);
    const observed = xs.filter((x) => Math.abs(x) > 2).length / N;
    assertNear(observed, tail, Math.sqrt((tail * (1 - tail)) / N), 'P(|z| > 2)');
  });

  it('truncatedNormal() stays within ±2 with variance 1 − 4φ(2)/(Φ(2) − Φ(−2))', () => {
    const { variance: expected, fourth } = truncatedMoments(2);
    // Sanity check of erf(): the closed form is the commonly quoted 0.7737413 (Keras's constant
    // 0.87962566103423978 is its square root; the initializer tests check that to 1e-15).
    assert.ok(Math.abs(expected - 0.7737413) < 5e-8, `closed form gave ${expected}`);
    const xs = draw(new Rng(2024, 'test:truncated'), 'truncatedNormal');
    const { mean, variance, min, max } = moments(xs);
    assert.ok(min >= -2 && max <= 2, `range [${min}, ${max}]`);
    // The redraw must reach the bounds: P(max < 1.99) = (1 − P(1.99 < z ≤ 2 | |z| ≤ 2))^N is astronomically small.
    assert.ok(max > 1.99 && min < -1.99, `range [${min}, ${max}] does not reach ±2`);
    assertNear(mean, 0, Math.sqrt(expected / N), 'mean');
    assertNear(variance, expected, Math.sqrt((fourth - expected ** 2) / N), 'variance');
  });

  it('fill helpers scale and shift into Float32Arrays', () => {
    const rng = new Rng(11, 'test:fill');
    const uniform = rng.fillUniform(N, -3, 1);
    assert.ok(uniform instanceof Float32Array && uniform.length === N);
    const u = moments(uniform);
    assert.ok(u.min >= -3 && u.max <= 1);
    assertNear(u.mean, -1, Math.sqrt(16 / 12 / N), 'uniform mean'); // width 4: σ² = 16/12
    assertNear(u.variance, 16 / 12, Math.sqrt((4 ** 4 / 80 - (16 / 12) ** 2) / N), 'uniform variance');

    const normal = rng.fillNormal(N, 1.5, 0.5);
    const n = moments(normal);
    assertNear(n.mean, 1.5, Math.sqrt(0.25 / N), 'normal mean');
    assertNear(n.variance, 0.25, Math.sqrt((2 * 0.25 ** 2) / N), 'normal variance');

    const { variance: t, fourth } = truncatedMoments(2);
    const truncated = rng.fillTruncatedNormal(N, -1, 0.1);
    const tm = moments(truncated);
    assert.ok(tm.min >= Math.fround(-1 - 0.2) && tm.max <= Math.fround(-1 + 0.2));
    assertNear(tm.mean, -1, Math.sqrt((0.01 * t) / N), 'truncated mean');
    assertNear(tm.variance, 0.01 * t, 0.01 * Math.sqrt((fourth - t * t) / N), 'truncated variance');
    assert.ok(normal instanceof Float32Array && truncated instanceof Float32Array);
    assert.equal(rng.fillNormal(0).length, 0);
  });
});
