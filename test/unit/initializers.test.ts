import assert from 'node:assert/strict';
import type { DataSource, InitializerSpec } from '../../src/engine/config/spec';
import {
  computeFans,
  initialize,
  initializerVariance,
  InitializerShapeError,
  sampleDistribution,
  TRUNCATED_UNIT_NORMAL_STDDEV,
} from '../../src/engine/params/initializers';
import { Rng } from '../../src/engine/params/rng';
import { erf, phi } from './reference/float64';

// Every expectation below is a closed form computed here in float64 from the textbook definitions
// (Glorot & Bengio 2010, He et al. 2015, LeCun et al. 1998, Keras's documented defaults); bounds are
// Z standard errors of the statistic's sampling distribution (two-sided p ≈ 6e-7 for a correct sampler).
const Z = 5;
const FLOAT32_RELATIVE_ULP = 2 ** -23;

/** Variance and fourth moment of a standard normal truncated to [−2, 2]. */
const TRUNC = (() => {
  const mass = erf(2 / Math.SQRT2);
  const variance = 1 - (2 * 2 * phi(2)) / mass;
  return { variance, fourth: 3 * variance - (2 * 2 ** 3 * phi(2)) / mass };
})();

interface Law {
  mean: number;
  variance: number;
  /** Fourth central moment, for the standard error of the sample variance: sqrt((μ4 − σ⁴)/N). */
  fourth: number;
  /** Support [low, high] that draws must respect and come close to. */
  low: number;
  high: number;
}
const uniformLaw = (low: number, high: number): Law => ({
  mean: (low + high) / 2,
  variance: (high - low) ** 2 / 12,
  fourth: (high - low) ** 4 / 80,
  low,
  high,
});
const truncatedLaw = (mean: number, stddev: number): Law => ({
  mean,
  variance: stddev ** 2 * TRUNC.variance,
  fourth: stddev ** 4 * TRUNC.fourth,
  low: mean - 2 * stddev,
  high: mean + 2 * stddev,
});
const normalLaw = (mean: number, stddev: number): Law => ({
  mean,
  variance: stddev ** 2,
  fourth: 3 * stddev ** 4,
  low: -Infinity,
  high: Infinity,
});

function sampleMoments(xs: Float32Array): { mean: number; variance: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / xs.length;
  let squares = 0;
  for (const x of xs) squares += (x - mean) ** 2;
  return { mean, variance: squares / (xs.length - 1), min, max };
}

function assertFollows(xs: Float32Array, law: Law, what: string): void {
  const n = xs.length;
  const { mean, variance, min, max } = sampleMoments(xs);
  const meanError = Math.sqrt(law.variance / n);
  const varianceError = Math.sqrt((law.fourth - law.variance ** 2) / n);
  assert.ok(Math.abs(mean - law.mean) <= Z * meanError, `${what}: mean ${mean}, expected ${law.mean} ± ${Z}·${meanError}`);
  assert.ok(
    Math.abs(variance - law.variance) <= Z * varianceError,
    `${what}: variance ${variance}, expected ${law.variance} ± ${Z}·${varianceError}`,
  );
  if (Number.isFinite(law.low)) {
    const slack = FLOAT32_RELATIVE_ULP * Math.max(Math.abs(law.low), Math.abs(law.high));
    assert.ok(min >= law.low - slack && max <= law.high + slack, `${what}: range [${min}, ${max}] leaves [${law.low}, ${law.high}]`);
    // With n draws, no draw within 1% of the width from an end has probability below e^-20 for these laws.
    const near = 0.01 * (law.high - law.low);
    assert.ok(min < law.low + near && max > law.high - near, `${what}: range [${min}, ${max}] does not reach [${law.low}, ${law.high}]`);
  }
}

const matrixShape = [256, 512]; // fan_in 256, fan_out 512
const [fanIn, fanOut] = [256, 512];

describe('initializers: fan-based (VarianceScaling)', () => {
  it('Keras\'s 0.87962566103423978 is the standard deviation of a unit normal truncated at ±2', () => {
    assert.ok(Math.abs(TRUNCATED_UNIT_NORMAL_STDDEV - Math.sqrt(TRUNC.variance)) < 1e-15);
  });

  it('computes fans as Keras\'s compute_fans', () => {
    assert.deepEqual(computeFans([]), [1, 1]);
    assert.deepEqual(computeFans([7]), [7, 7]);
    assert.deepEqual(computeFans([3, 5]), [3, 5]);
    // Convolution kernels (..., in, out): the receptive field multiplies both.
    assert.deepEqual(computeFans([2, 3, 4, 5]), [2 * 3 * 4, 2 * 3 * 5]);
  });

  // Glorot: Var = 2/(fan_in + fan_out); He: 2/fan_in; LeCun: 1/fan_in. Uniform variants on ±sqrt(3·Var);
  // normal variants truncated at ±2σ with σ chosen so that the truncated variance is Var.
  const cases: Array<{ name: InitializerSpec['name']; variance: number; uniform: boolean }> = [
    { name: 'glorot_uniform', variance: 2 / (fanIn + fanOut), uniform: true },
    { name: 'glorot_normal', variance: 2 / (fanIn + fanOut), uniform: false },
    { name: 'he_uniform', variance: 2 / fanIn, uniform: true },
    { name: 'he_normal', variance: 2 / fanIn, uniform: false },
    { name: 'lecun_uniform', variance: 1 / fanIn, uniform: true },
    { name: 'lecun_normal', variance: 1 / fanIn, uniform: false },
  ];
  for (const { name, variance, uniform } of cases) {
    it(`${name} on [${matrixShape.join(', ')}] has variance ${uniform ? 'limit²/3' : 'scale/n'} = ${variance.toPrecision(6)}`, () => {
      const xs = initialize({ name }, matrixShape, new Rng(1, `test:${name}`));
      assert.equal(xs.length, fanIn * fanOut);
      const limit = Math.sqrt(3 * variance);
      const law = uniform ? uniformLaw(-limit, limit) : truncatedLaw(0, Math.sqrt(variance / TRUNC.variance));
      assertFollows(xs, law, name);
      const predicted = initializerVariance({ name }, matrixShape)!;
      assert.ok(Math.abs(predicted - variance) <= 1e-12 * variance, `initializerVariance ${predicted} ≠ ${variance}`);
    });
  }

  it('uses fan_in = product of all axes but the last for 3-D shapes', () => {
    // [3, 4, 5]: receptive field 3, fan_in 4·3 = 12, fan_out 5·3 = 15.
    assert.ok(Math.abs(initializerVariance({ name: 'he_uniform' }, [3, 4, 5])! - 2 / 12) < 1e-15);
    assert.ok(Math.abs(initializerVariance({ name: 'glorot_normal' }, [3, 4, 5])! - 2 / (12 + 15)) < 1e-15);
  });

  it('handles unit, scalar and empty shapes as Keras does (n floored at 1)', () => {
    for (const shape of [[1, 1], [1], []]) {
      // fan_in = fan_out = 1, so glorot_uniform's limit is sqrt(3).
      const xs = initialize({ name: 'glorot_uniform' }, shape, new Rng(1, 'unit'));
      assert.equal(xs.length, 1);
      assert.ok(Math.abs(xs[0]!) <= Math.sqrt(3));
      assert.ok(Math.abs(initializerVariance({ name: 'glorot_uniform' }, shape)! - 1) < 1e-15);
    }
    for (const name of ['glorot_uniform', 'he_normal', 'orthogonal', 'zeros', 'random_normal'] as const) {
      assert.equal(initialize({ name }, [0, 4], new Rng(1, 'empty')).length, 0);
    }
  });
});

describe('initializers: fixed-parameter distributions', () => {
  const big = [400, 400];
  // Keras's documented defaults: RandomNormal(0, 0.05), RandomUniform(−0.05, 0.05), TruncatedNormal(0, 0.05).
  const cases: Array<{ spec: InitializerSpec; law: Law }> = [
    { spec: { name: 'random_normal' }, law: normalLaw(0, 0.05) },
    { spec: { name: 'random_normal', mean: 1, stddev: 2 }, law: normalLaw(1, 2) },
    { spec: { name: 'random_uniform' }, law: uniformLaw(-0.05, 0.05) },
    { spec: { name: 'random_uniform', minval: -1, maxval: 3 }, law: uniformLaw(-1, 3) },
    { spec: { name: 'truncated_normal' }, law: truncatedLaw(0, 0.05) },
    { spec: { name: 'truncated_normal', mean: 0.5, stddev: 0.1 }, law: truncatedLaw(0.5, 0.1) },
  ];
  for (const { spec, law } of cases) {
    it(`${JSON.stringify(spec)} has mean ${law.mean} and variance ${law.variance.toPrecision(6)}`, () => {
      const xs = initialize(spec, big, new Rng(9, `test:${JSON.stringify(spec)}`));
      assertFollows(xs, law, JSON.stringify(spec));
      const predicted = initializerVariance(spec, big)!;
      assert.ok(Math.abs(predicted - law.variance) <= 1e-12 * law.variance, `initializerVariance ${predicted} ≠ ${law.variance}`);
    });
  }

  it('zeros, ones and constant fill with their value and have variance 0', () => {
    const rng = new Rng(1, 'const');
    assert.deepEqual(initialize({ name: 'zeros' }, [2, 3], rng), new Float32Array(6));
    assert.deepEqual(initialize({ name: 'ones' }, [2, 3], rng), new Float32Array(6).fill(1));
    assert.deepEqual(initialize({ name: 'constant', value: 0.25 }, [4], rng), new Float32Array(4).fill(0.25));
    assert.deepEqual(initialize({ name: 'constant' }, [4], rng), new Float32Array(4)); // Keras: value=0
    for (const name of ['zeros', 'ones', 'constant'] as const) assert.equal(initializerVariance({ name }, [2, 3]), 0);
  });

  it('is deterministic in (seed, stream)', () => {
    const a = initialize({ name: 'he_normal' }, [16, 8], new Rng(5, 'param:k'));
    const b = initialize({ name: 'he_normal' }, [16, 8], new Rng(5, 'param:k'));
    const c = initialize({ name: 'he_normal' }, [16, 8], new Rng(5, 'param:q'));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

/** max |Wᵀ W − g² I| over columns (or W Wᵀ over rows), in float64. */
function orthonormalityError(w: Float32Array, rows: number, cols: number, gain: number, over: 'columns' | 'rows'): number {
  const k = over === 'columns' ? cols : rows;
  const len = over === 'columns' ? rows : cols;
  const at = (v: number, i: number): number => (over === 'columns' ? w[i * cols + v]! : w[v * cols + i]!);
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += at(a, i) * at(b, i);
      worst = Math.max(worst, Math.abs(dot - (a === b ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('initializers: orthogonal', () => {
  const cases = [
    { shape: [64, 64], over: 'columns' as const },
    { shape: [80, 30], over: 'columns' as const },
    { shape: [30, 80], over: 'rows' as const },
    { shape: [2, 5, 4], over: 'columns' as const }, // Keras flattens leading axes: 10 × 4
  ];
  for (const { shape, over } of cases) {
    for (const gain of [1, 2]) {
      it(`[${shape.join(', ')}] with gain ${gain} has orthonormal ${over} times gain (to 1e-5 · gain²)`, () => {
        const cols = shape[shape.length - 1]!;
        const rows = shape.reduce((a, b) => a * b, 1) / cols;
        const w = initialize({ name: 'orthogonal', gain }, shape, new Rng(3, 'param:rec'));
        assert.equal(w.length, rows * cols);
        const error = orthonormalityError(w, rows, cols, gain, over);
        assert.ok(error < 1e-5 * gain * gain, `max |QᵀQ − g²I| = ${error}`);
        // Mean square entry = (number of unit vectors · g²) / entries = g² / max(rows, cols).
        let squares = 0;
        for (const x of w) squares += x * x;
        const predicted = initializerVariance({ name: 'orthogonal', gain }, shape)!;
        assert.ok(Math.abs(predicted - (gain * gain) / Math.max(rows, cols)) < 1e-15);
        assert.ok(Math.abs(squares / w.length - predicted) < 1e-5 * predicted);
      });
    }
  }

  it('is the Q of the QR of Keras\'s normal draws, with R\'s diagonal made positive', () => {
    // Redraw the same normals A (same seed and stream, shape max × min): with Q = W for tall output and
    // Q = Wᵀ for wide, Qᵀ A = R must be upper triangular with a positive diagonal.
    for (const [rows, cols] of [[12, 5], [5, 12], [7, 7]] as const) {
      const w = initialize({ name: 'orthogonal' }, [rows, cols], new Rng(8, 'param:qr'));
      const tall = Math.max(rows, cols);
      const wide = Math.min(rows, cols);
      const normals = new Rng(8, 'param:qr');
      const a = Array.from({ length: tall }, () => Array.from({ length: wide }, () => normals.normal()));
      const q = (i: number, j: number): number => (rows >= cols ? w[i * cols + j]! : w[j * cols + i]!); // tall × wide
      for (let i = 0; i < wide; i++) {
        for (let j = 0; j < wide; j++) {
          let r = 0;
          for (let k = 0; k < tall; k++) r += q(k, i) * a[k]![j]!;
          if (i > j) assert.ok(Math.abs(r) < 1e-5, `[${rows}, ${cols}]: R[${i}][${j}] = ${r} below the diagonal`);
          if (i === j) assert.ok(r > 0.1, `[${rows}, ${cols}]: R[${i}][${i}] = ${r} is not positive`);
        }
      }
    }
  });

  it('is Haar-distributed: entry [0, 0] has mean 0 and variance 1/max(rows, cols)', () => {
    // A column of a Haar frame is uniform on the sphere S^(n−1): E q² = 1/n, E q⁴ = 3/(n(n+2)).
    const draws = 4000;
    for (const shape of [[8, 3], [3, 8]]) {
      const n = 8;
      const firsts = new Float32Array(draws);
      const rng = new Rng(21, `haar:${shape.join('x')}`);
      for (let d = 0; d < draws; d++) firsts[d] = initialize({ name: 'orthogonal' }, shape, rng)[0]!;
      const variance = 1 / n;
      assertFollows(firsts, { mean: 0, variance, fourth: 3 / (n * (n + 2)), low: -Infinity, high: Infinity }, `[${shape}][0, 0]`);
    }
  });

  it('gives ±gain for a 1 × 1 shape and refuses shapes of fewer than 2 axes', () => {
    const [x] = initialize({ name: 'orthogonal', gain: 3 }, [1, 1], new Rng(2, 'one'));
    assert.equal(Math.abs(x!), 3);
    assert.throws(() => initialize({ name: 'orthogonal' }, [5], new Rng(2, 'one')), InitializerShapeError);
    assert.equal(initializerVariance({ name: 'orthogonal' }, [5]), null);
  });
});

describe('initializers: identity', () => {
  const eye = (rows: number, cols: number, gain: number): Float32Array =>
    Float32Array.from({ length: rows * cols }, (_, k) => (Math.floor(k / cols) === k % cols ? gain : 0));

  it('is gain · eye(rows, cols), also for non-square shapes', () => {
    const rng = new Rng(1, 'id');
    assert.deepEqual(initialize({ name: 'identity' }, [3, 3], rng), eye(3, 3, 1));
    assert.deepEqual(initialize({ name: 'identity', gain: 0.5 }, [2, 4], rng), eye(2, 4, 0.5));
    assert.deepEqual(initialize({ name: 'identity', gain: 2 }, [4, 2], rng), eye(4, 2, 2));
    assert.deepEqual(initialize({ name: 'identity' }, [1, 1], rng), eye(1, 1, 1));
  });

  it('refuses shapes that are not 2-D and has no single variance', () => {
    assert.throws(() => initialize({ name: 'identity' }, [3], new Rng(1, 'id')), InitializerShapeError);
    assert.throws(() => initialize({ name: 'identity' }, [2, 2, 2], new Rng(1, 'id')), InitializerShapeError);
    assert.equal(initializerVariance({ name: 'identity' }, [3, 3]), null);
  });
});

describe('sampleDistribution', () => {
  const source = (over: Partial<Extract<DataSource, { kind: 'distribution' }>>): Extract<DataSource, { kind: 'distribution' }> => ({
    kind: 'distribution', distribution: 'normal', mean: 0, stddev: 1, minval: 0, maxval: 1, value: 0, ...over,
  });
  const count = 200_000;

  it('draws normal(mean, stddev)', () => {
    const xs = sampleDistribution(source({ distribution: 'normal', mean: 1, stddev: 2 }), count, new Rng(4, 'input:x'));
    assert.equal(xs.length, count);
    assertFollows(xs, normalLaw(1, 2), 'normal');
  });

  it('draws uniform(minval, maxval)', () => {
    const xs = sampleDistribution(source({ distribution: 'uniform', minval: -3, maxval: 1 }), count, new Rng(4, 'input:x'));
    assertFollows(xs, uniformLaw(-3, 1), 'uniform');
  });

  it('fills zeros and constants', () => {
    assert.deepEqual(sampleDistribution(source({ distribution: 'zeros', value: 5 }), 6, new Rng(4, 's')), new Float32Array(6));
    assert.deepEqual(sampleDistribution(source({ distribution: 'constant', value: 0.7 }), 3, new Rng(4, 's')), new Float32Array([0.7, 0.7, 0.7]));
  });
});
