// The spectral radius ρ(J) of N square matrices at once without a dense eigensolver: restarted Arnoldi
// with a Krylov dimension of a few tens. Each step is one J·v over all rows on the backend, then Gram–Schmidt
// of each row against its own basis in WebAssembly (rowBasis.ts), which gives the Hessenberg column; the Ritz
// value of largest modulus (a complex-conjugate pair counts once: both have the same modulus) is found in float64.
// A matrix is converged when κ·(‖r‖ + δ) ≤ tol·|θ|: the residual h_{m+1,m}·|y_m| plus the backward error
// δ of float32 products (FLOAT32_BACKWARD·‖H‖), times the eigenvalue's condition number within the
// Krylov space (left and right Ritz vectors) — the first-order bound on the eigenvalue error. So neither a
// small residual of a strongly non-normal matrix nor a defective eigenvalue (a Jordan block, whose Ritz
// values split by δ^(1/k) and come out with a large κ) passes for accuracy.
// Otherwise it restarts thickly, keeping the invariant subspace of the dominant Ritz values (see thickRestart);
// after the budget the dense method takes over.
import { tf } from '../backend/tf';
import { DEFAULT_KRYLOV, diagonalResult, randomUnitRows, type KrylovOptions, type KrylovResult } from './krylov';
import type { BatchedOperator } from './operator';
import { basisBytesPerRow, withBasis, type RowBasis } from './rowBasis';
import { dot, topRitz, type TopRitz } from './small';

/** A norm below this fraction of the largest Hessenberg entry seen counts as zero (an invariant subspace). */
const NEGLIGIBLE = 1e-6;
/**
 * Krylov dimension: n/10, at least 40. The eigenvalues at the rim of a random-like Jacobian's spectrum crowd
 * as n grows, so the space must too (unrestarted Arnoldi needs ~100 products at n 512, ~200 at n 2048); the
 * small float64 problems then cost ~m³ per matrix against ~m·n² on the backend. Measured at n 512 (bench W6,
 * cpu time of the ρ-only run): m 30 5.6 s, 40 5.8 s, 50 7.0 s, 60 6.0 s, 80 6.5 s; at n 2048, m 40 needed
 * 510 products per matrix and left 7 of 16 to the dense method.
 */
export const KRYLOV_DIMENSION = 40;
const krylovDimension = (n: number) => Math.min(n, Math.max(KRYLOV_DIMENSION, Math.ceil(n / 10)));
/**
 * Memory Arnoldi holds per matrix of order n: the basis of m+1 vectors in float32 (WebAssembly memory, rowBasis.ts),
 * the restart's kept vectors while they are formed, and the few [rows, n] tensors of a step's product on the
 * backend. Lanczos on JᵀJ stops well within this many steps. Sizes chunks.
 */
export const krylovBytesPerRow = (n: number): number => basisBytesPerRow(n, krylovDimension(n) + 1) + (RESTART_KEEP + 1 + 3) * n * 4;
/** Dominant Ritz values whose invariant subspace a restart keeps. */
const RESTART_KEEP = 6;
/**
 * κ·‖r‖ ≤ 1e-5·|θ|: with float32 products the residual of a restarted cycle stalls near 1e-7·‖J‖·κ, so
 * 1e-6 would send well-conditioned matrices to the dense method (measured: 3 of 256 at n = 512).
 */
export const RADIUS_TOL = 1e-5;
/** Backward error of a float32 product relative to the norm: 10 unit roundoffs (2⁻²⁴). */
const FLOAT32_BACKWARD = 10 * 2 ** -24;

export function spectralRadii(op: BatchedOperator, options: KrylovOptions = DEFAULT_KRYLOV): KrylovResult {
  return restartedArnoldi(op, options);
}

/** A converged dominant Ritz pair: θ and its unit Ritz vector V_m·y, interleaved complex (re, im), length 2n. */
export interface RitzPair {
  re: number;
  im: number;
  vector: Float64Array;
}

/**
 * spectralRadii with, for every converged row, the Ritz value θ of largest modulus and its Ritz vector (which
 * of a conjugate pair comes back is not specified: for a real operator the other is the complex conjugate).
 * Same acceptance test, so each pair's eigenvalue error is within tol·|θ| to first order and its residual
 * ‖A·x − θx‖ ≤ tol·|θ|. Rows that did not converge have no pair (`undefined`).
 */
export function dominantRitzPairs(op: BatchedOperator, options: KrylovOptions = DEFAULT_KRYLOV): KrylovResult & { pairs: (RitzPair | undefined)[] } {
  const pairs: (RitzPair | undefined)[] = Array.from({ length: op.rows }, () => undefined);
  const result = restartedArnoldi(op, options, pairs);
  return { ...result, pairs };
}

function restartedArnoldi(op: BatchedOperator, options: KrylovOptions, pairs?: (RitzPair | undefined)[]): KrylovResult {
  if (op.in !== op.out) throw new Error(`internal: spectral radius of a ${op.out}×${op.in} operator`);
  const tol = options.tol ?? RADIUS_TOL;
  const exact = diagonalResult(op, tol);
  if (exact) return exact;
  const m = options.dimension ? Math.min(op.in, options.dimension) : krylovDimension(op.in);
  return withBasis(op.rows, op.in, m + 1, (basis) => arnoldiCycles(op, basis, m, { ...options, tol }, pairs));
}

/** restartedArnoldi's cycles on its basis (m + 1 vectors), until every row has converged or spent its budget. */
function arnoldiCycles(op: BatchedOperator, basis: RowBasis, m: number, options: KrylovOptions & { tol: number }, pairs?: (RitzPair | undefined)[]): KrylovResult {
  const t = tf();
  const [N, n, tol] = [op.rows, op.in, options.tol];
  const result: KrylovResult = { tol, values: new Float64Array(N).fill(NaN), products: new Int32Array(N), converged: new Uint8Array(N) };
  // At least four cycles' worth of products before the dense method takes over.
  const budget = Math.max(options.maxProducts, 4 * m);
  // A thick restart keeps P vectors (RESTART_KEEP Ritz values; a conjugate pair at the edge adds one), zero-padded
  // per row; with a Krylov space too small to add anything after them there is no restart.
  const P = m > RESTART_KEEP + 3 ? RESTART_KEEP + 1 : 0;
  let active = Array.from({ length: N }, (_, i) => i);
  let cur = op;
  basis.start(randomUnitRows(N, n, options.seed, 'arnoldi', options.firstRow));
  let start = 0;
  let prefilled: Float64Array[] | undefined;
  for (let cycle = 0; active.length > 0; cycle++) {
    const R = active.length;
    const h = prefilled ?? Array.from({ length: R }, () => new Float64Array((m + 1) * m));
    const scale = Float64Array.from(h, maxAbs);
    for (let k = start; k < m; k++) {
      const jv = t.tidy(() => cur.apply(basis.tensor(k)));
      const { coeffs: c, norms: norm } = basis.orthogonalize(jv);
      jv.dispose();
      const replace: boolean[] = [];
      for (let r = 0; r < R; r++) {
        for (let i = 0; i <= k; i++) {
          h[r][i * m + k] = c[r * (k + 1) + i];
          scale[r] = Math.max(scale[r], Math.abs(c[r * (k + 1) + i]));
        }
        replace.push(norm[r] <= NEGLIGIBLE * Math.max(scale[r], norm[r]));
        h[r][(k + 1) * m + k] = replace[r] ? 0 : norm[r];
        scale[r] = Math.max(scale[r], norm[r]);
      }
      basis.append(norm, replace, { seed: options.seed, stream: `arnoldi-${cycle}-${k}` });
    }
    const stay: number[] = [];
    const kept: Float64Array[][] = [];
    const done: { row: number; ritz: TopRitz }[] = [];
    for (let r = 0; r < R; r++) {
      result.products[active[r]] += m - start;
      const ritz = topRitz(h[r].subarray(0, m * m), m);
      const residual = ritz ? h[r][m * m + m - 1] * ritz.lastComponent : NaN;
      const modulus = ritz ? Math.hypot(ritz.re, ritz.im) : NaN;
      const floor = FLOAT32_BACKWARD * columnNormMax(h[r], m);
      if (ritz && (modulus === 0 && residual === 0 ? true : ritz.kappa * (residual + floor) <= tol * modulus)) {
        [result.values[active[r]], result.converged[active[r]]] = [modulus, 1];
        if (pairs) done.push({ row: r, ritz: ritz! });
      } else if (ritz && P > 0) {
        stay.push(r);
        kept.push(ritz.keepBasis(RESTART_KEEP).slice(0, P));
      }
      // (A row whose small eigenproblem failed stops here, unconverged: the dense method takes it.)
    }
    if (pairs && done.length) ritzVectors(basis, done, m, (r, pair) => (pairs[active[r]] = pair));
    const more = stay.length > 0 && P > 0 && result.products[active[stay[0]]] + (m - P) <= budget;
    if (more) {
      if (stay.length < R) {
        basis.keep(stay);
        cur = cur.select(stay);
      }
      prefilled = thickRestart(basis, h, stay, kept, m, P);
      start = P;
    }
    active = more ? stay.map((r) => active[r]) : [];
  }
  return result;
}

/** x = V_m·y for the listed rows of the basis (positions among its rows). */
function ritzVectors(basis: RowBasis, done: { row: number; ritz: TopRitz }[], m: number, set: (row: number, pair: RitzPair) => void): void {
  const n = basis.n;
  const y = new Float32Array(done.length * 2 * m);
  done.forEach(({ ritz }, k) => {
    y.set(Float32Array.from(ritz.vector.re), 2 * k * m);
    y.set(Float32Array.from(ritz.vector.im), (2 * k + 1) * m);
  });
  const x = basis.linearCombinations(done.map((d) => d.row), y, 2, m);
  done.forEach(({ row, ritz }, k) => {
    const vector = new Float64Array(2 * n);
    let norm = 0;
    for (let i = 0; i < n; i++) {
      [vector[2 * i], vector[2 * i + 1]] = [x[2 * k * n + i], x[(2 * k + 1) * n + i]];
      norm += vector[2 * i] ** 2 + vector[2 * i + 1] ** 2;
    }
    norm = Math.sqrt(norm);
    set(row, { re: ritz.re, im: ritz.im, vector: vector.map((v) => v / norm) });
  });
}

/**
 * Thick restart (Krylov–Schur in spirit): with Q an orthonormal basis of an invariant subspace of G (the kept Ritz
 * vectors), A·(V_m·Q) = (V_m·Q)·S + v_{m+1}·bᵀ with S = QᵀGQ and b = h_{m+1,m}·Qᵀe_m. So the new basis is
 * [V_m·Q, v_{m+1}] (the basis holds the staying rows only), and the new projected matrix starts with S over bᵀ
 * (returned), from which Arnoldi continues from v_{m+1}. Rows with fewer than P kept vectors are padded with zero
 * vectors (they add zero rows and columns to G).
 */
function thickRestart(basis: RowBasis, h: Float64Array[], stay: number[], kept: Float64Array[][], m: number, P: number): Float64Array[] {
  const qt = new Float32Array(stay.length * P * m);
  const prefilled = stay.map((r, s) => {
    const q = kept[s];
    q.forEach((col, j) => qt.set(Float32Array.from(col), (s * P + j) * m));
    const g = h[r];
    const next = new Float64Array((m + 1) * m);
    // S = Qᵀ·G·Q: (G·q_j) first, then its components on each q_i.
    const gq = new Float64Array(m);
    q.forEach((qj, j) => {
      for (let a = 0; a < m; a++) gq[a] = dot(g.subarray(a * m, (a + 1) * m), qj);
      q.forEach((qi, i) => (next[i * m + j] = dot(qi, gq)));
      next[P * m + j] = g[m * m + m - 1] * qj[m - 1];
    });
    return next;
  });
  basis.restart(qt, P, m);
  return prefilled;
}

/** max |x_i| (a plain loop: a reduce with a closure costs more than the arithmetic). */
function maxAbs(x: Float64Array): number {
  let best = 0;
  for (let i = 0; i < x.length; i++) best = Math.max(best, Math.abs(x[i]));
  return best;
}

/** max_j ‖H[:, j]‖₂ over the (m+1)×m Hessenberg matrix: each column is A·v_j in the basis, so this is ≤ ‖A‖₂. */
function columnNormMax(h: Float64Array, m: number): number {
  let best = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let i = 0; i <= m; i++) s += h[i * m + j] ** 2;
    best = Math.max(best, s);
  }
  return Math.sqrt(best);
}
