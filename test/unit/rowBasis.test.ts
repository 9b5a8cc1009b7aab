// The Krylov bases in WebAssembly (spectra/rowBasis.ts over wasm/krylov.ts) against float64 arithmetic done here:
// orthonormality, the projection coefficients, the second pass where a vector lies nearly in the span, rows that
// leave, restarts and combinations, a replaced (negligible) vector; at a length that is not a multiple of the SIMD
// width and across the storage's blocks of 16 vectors.
import { strict as assert } from 'node:assert';
import { randomUnitRows } from '../../src/engine/spectra/krylov';
import { RowBasis } from '../../src/engine/spectra/rowBasis';
import { Rng } from '../../src/engine/params/rng';

const N_ODD = 37; // not a multiple of 4: the kernels' scalar tails run
const dot64 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const row = (x: Float32Array, r: number, n: number) => Array.from(x.subarray(r * n, (r + 1) * n));

/** Every row's basis as float64 arrays: basis[r][i] is vector i of row r. */
function read(basis: RowBasis): number[][][] {
  const out: number[][][] = Array.from({ length: basis.rows }, () => []);
  for (let i = 0; i < basis.size; i++) {
    const v = basis.vectors(i);
    for (let r = 0; r < basis.rows; r++) out[r].push(row(v, r, basis.n));
  }
  return out;
}

/** max |V·Vᵀ − I| over every row's basis, in float64. */
function orthonormalityError(basis: RowBasis): number {
  let worst = 0;
  for (const vs of read(basis)) {
    vs.forEach((a, i) => vs.forEach((b, j) => (worst = Math.max(worst, Math.abs(dot64(a, b) - (i === j ? 1 : 0))))));
  }
  return worst;
}

/** Grows a basis by `steps` random vectors per row, checking each step's coefficients and norm against float64. */
function growChecked(basis: RowBasis, steps: number, rng: Rng): void {
  const [R, n] = [basis.rows, basis.n];
  for (let step = 0; step < steps; step++) {
    const w = rng.fillNormal(R * n);
    const before = read(basis);
    const k = basis.size;
    const { coeffs, norms } = basis.orthogonalize(w);
    for (let r = 0; r < R; r++) {
      const wr = row(w, r, n);
      // Coefficients: v_i·w in float64 (the basis is orthonormal to float32 precision, so one pass suffices here).
      for (let i = 0; i < k; i++) assert.ok(Math.abs(coeffs[r * k + i] - dot64(before[r][i], wr)) < 1e-5 * Math.sqrt(dot64(wr, wr)), `step ${step}, row ${r}, c_${i}`);
      // The norm of what is left: ‖w‖² − Σ c_i².
      const left = Math.sqrt(Math.max(0, dot64(wr, wr) - before[r].reduce((s, v) => s + dot64(v, wr) ** 2, 0)));
      assert.ok(Math.abs(norms[r] - left) < 1e-4 * Math.sqrt(dot64(wr, wr)), `step ${step}, row ${r}: norm ${norms[r]} against ${left}`);
    }
    basis.append(norms, Array(R).fill(false), { seed: 1, stream: `test-${step}` });
  }
}

describe('RowBasis: Krylov bases in WebAssembly against float64', () => {
  it('grows orthonormal across blocks, with each step\'s coefficients and norm those of float64 projection (n = 37)', () => {
    const basis = new RowBasis(3, N_ODD, 36);
    basis.start(randomUnitRows(3, N_ODD, 7, 'test'));
    growChecked(basis, 35, new Rng(11, 'grow'));
    assert.equal(basis.size, 36);
    assert.ok(orthonormalityError(basis) < 2e-6, `orthonormality ${orthonormalityError(basis)}`);
    assert.throws(() => basis.append(new Float64Array(3).fill(1), [false, false, false], { seed: 1, stream: 'full' }), /36 vectors/);
  });

  it('a basis made after others were released (their instances reused, memory not cleared) is as right as a fresh one', () => {
    for (const [rows, n, steps] of [[6, 64, 20], [2, 13, 9], [5, 40, 30]]) {
      const basis = new RowBasis(rows, n, steps + 1);
      basis.start(randomUnitRows(rows, n, 9, `reuse-${n}`));
      growChecked(basis, steps, new Rng(n, 'reuse'));
      assert.ok(orthonormalityError(basis) < 2e-6, `n ${n}: orthonormality ${orthonormalityError(basis)}`);
      basis.release();
    }
  });

  it('a vector almost in the span (cancellation) gets the second pass: what is left is orthogonal to float32 precision', () => {
    const n = 64;
    const basis = new RowBasis(2, n, 8);
    basis.start(randomUnitRows(2, n, 3, 'span'));
    growChecked(basis, 3, new Rng(5, 'span'));
    const vs = read(basis);
    // Row 0: Σ v_i + 1e-6·noise (cancellation takes almost all of its norm); row 1: a random vector (one pass).
    const noise = new Rng(9, 'noise').fillNormal(n);
    const w = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) w[j] = vs[0].reduce((s, v) => s + v[j], 0) + 1e-6 * noise[j];
    w.set(new Rng(10, 'other').fillNormal(n), n);
    const { coeffs, norms } = basis.orthogonalize(w);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(coeffs[i] - 1) < 1e-5, `c_${i} = ${coeffs[i]}`);
    basis.append(norms, [false, false], { seed: 1, stream: 'span' });
    assert.ok(orthonormalityError(basis) < 1e-5, `orthonormality after cancellation ${orthonormalityError(basis)}`);
  });

  it('a negligible vector is replaced by a random unit vector orthogonal to the basis', () => {
    const n = 20;
    const basis = new RowBasis(2, n, 6);
    basis.start(randomUnitRows(2, n, 3, 'replace'));
    growChecked(basis, 2, new Rng(5, 'replace'));
    const { norms } = basis.orthogonalize(new Rng(6, 'w').fillNormal(2 * n));
    basis.append(norms, [true, false], { seed: 2, stream: 'fresh' });
    assert.ok(orthonormalityError(basis) < 2e-6);
  });

  it('keep, restart and linear combinations address the right rows (float64 combinations of what was stored)', () => {
    const [R, n, m, p] = [4, 30, 20, 3];
    const basis = new RowBasis(R, n, m + 1);
    basis.start(randomUnitRows(R, n, 4, 'restart'));
    growChecked(basis, m, new Rng(8, 'restart'));
    const before = read(basis);
    basis.keep([3, 1]);
    const kept = [before[3], before[1]];
    assert.deepEqual(read(basis).map((vs) => vs[5]), kept.map((vs) => vs[5]), 'rows 3 and 1, in that order');
    const q = new Rng(12, 'q').fillNormal(2 * p * m);
    const combined = basis.linearCombinations([1], q.subarray(p * m), p, m);
    for (let j = 0; j < p; j++) {
      for (let x = 0; x < n; x++) {
        const want = kept[1].slice(0, m).reduce((s, v, i) => s + q[p * m + j * m + i] * v[x], 0);
        assert.ok(Math.abs(combined[j * n + x] - want) < 1e-5, `combination ${j}, entry ${x}`);
      }
    }
    basis.restart(q, p, m);
    assert.equal(basis.size, p + 1);
    const after = read(basis);
    after.forEach((vs, r) => {
      for (let j = 0; j < p; j++) {
        const want = Array.from({ length: n }, (_, x) => kept[r].slice(0, m).reduce((s, v, i) => s + q[r * p * m + j * m + i] * v[x], 0));
        assert.ok(want.every((w, x) => Math.abs(vs[j][x] - w) < 1e-5), `row ${r}, restarted vector ${j}`);
      }
      assert.deepEqual(vs[p], kept[r][m], `row ${r}: vector m moved to position p`);
    });
  });
});
