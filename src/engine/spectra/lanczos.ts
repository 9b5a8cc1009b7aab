// The spectral norm ‖J‖₂ of N matrices at once without an SVD: Golub–Kahan–Lanczos bidiagonalisation
// (Lanczos on JᵀJ, but working with J itself, so σ and not σ² is resolved) with full
// reorthogonalisation. Each step is one J·v and one Jᵀ·u over all rows; the bidiagonal's
// entries come back to JS, where the top singular triplet of B_k is found in float64 and the
// residual β_k·|p_k| (exact for the recurrence) decides convergence per matrix. Converged matrices
// leave the block, so the rest iterate on a smaller one.
import { tf, type Tensor2D } from '../backend/tf';
import type { BatchedOperator } from './operator';
import { topTridiagonal } from '../wasm/linalg';
import { DEFAULT_KRYLOV, diagonalResult, randomUnitRows, type KrylovOptions, type KrylovResult } from './krylov';
import { withBasis } from './rowBasis';

/** A norm below this fraction of the largest seen in the row counts as zero (an invariant subspace). */
const NEGLIGIBLE = 1e-6;
const CHECK_EVERY = 2;
/** Residual ≤ 1e-6·σ: the error of σ is at most the residual (and second order in it near convergence). */
export const NORM_TOL = 1e-6;

/** σ_max of B_k (diag alphas, superdiagonal betas[0..k−2]) and the residual with betas[k−1]. */
function bidiagonalTop(alphas: number[], betas: number[]): { sigma: number; residual: number } {
  const k = alphas.length;
  // B·Bᵀ is tridiagonal: diag α_i² + β_i² (α_k² last), off-diagonal β_i·α_{i+1}.
  const a = Float64Array.from(alphas, (al, i) => al * al + (i < k - 1 ? betas[i] ** 2 : 0));
  const b = Float64Array.from({ length: k - 1 }, (_, i) => betas[i] * alphas[i + 1]);
  const top = topTridiagonal(a, b);
    // β_k = 0: the Krylov space is invariant and the Ritz values are exact.
  const residual = betas[k - 1] === 0 ? 0 : Math.abs(betas[k - 1] * top.lastComponent);
  return { sigma: Math.sqrt(Math.max(top.value, 0)), residual };
}

/**
 * The rows still iterating, with their recurrence coefficients (α, β per step) and largest entry seen; a check
 * writes the converged rows' values into the result, and `keep` drops them.
 */
class ActiveRows {
  active: number[];
  alphas: number[][];
  betas: number[][];
  scale: Float64Array;

  constructor(n: number) {
    this.active = Array.from({ length: n }, (_, i) => i);
    this.alphas = this.active.map(() => []);
    this.betas = this.active.map(() => []);
    this.scale = new Float64Array(n);
  }

  /** Appends a step's α and β to each row (β = 0 where the row was replaced) and counts its products. */
  push(result: KrylovResult, alpha: ArrayLike<number>, beta: ArrayLike<number>, replaced: boolean[], products: number): void {
    for (let r = 0; r < this.active.length; r++) {
      this.alphas[r].push(alpha[r]);
      this.betas[r].push(replaced[r] ? 0 : beta[r]);
      this.scale[r] = Math.max(this.scale[r], Math.abs(alpha[r]), beta[r]);
      result.products[this.active[r]] += products;
    }
  }

  /** Writes each converged row's value; returns the positions of the rows that go on. */
  check(result: KrylovResult, estimate: (r: number) => { value: number; converged: boolean }): number[] {
    const stay: number[] = [];
    for (let r = 0; r < this.active.length; r++) {
      const e = estimate(r);
      if (e.converged) {
        result.values[this.active[r]] = e.value;
        result.converged[this.active[r]] = 1;
      } else stay.push(r);
    }
    return stay;
  }

  keep(stay: number[]): void {
    this.active = stay.map((r) => this.active[r]);
    this.alphas = stay.map((r) => this.alphas[r]);
    this.betas = stay.map((r) => this.betas[r]);
    this.scale = Float64Array.from(stay, (r) => this.scale[r]);
  }
}

export function spectralNorms(op: BatchedOperator, options: KrylovOptions = DEFAULT_KRYLOV): KrylovResult {
  const t = tf();
  const N = op.rows;
  const tol = options.tol ?? NORM_TOL;
  const exact = diagonalResult(op, tol);
  if (exact) return exact;
  if (op.gram) return gramNorms(op.gram(), tol, options);
  const result: KrylovResult = { tol, values: new Float64Array(N).fill(NaN), products: new Int32Array(N), converged: new Uint8Array(N) };
  const maxSteps = Math.max(1, Math.min(op.in, op.out, Math.floor(options.maxProducts / 2)));
  const rows = new ActiveRows(N);
  let cur = op;
  return withBasis(N, op.in, maxSteps + 1, (V) => withBasis(N, op.out, maxSteps, (U) => {
    V.start(randomUnitRows(N, op.in, options.seed, 'lanczos', options.firstRow));
    for (let step = 0; step < maxSteps && rows.active.length > 0; step++) {
      const R = rows.active.length;
      // u = J·v − β·u_prev, orthogonal to every earlier u.
      const betaPrev = step > 0 ? Float32Array.from(rows.betas, (b) => b[b.length - 1]) : undefined;
      // v_step, fetched from the basis once: J·v now, α·v below.
      const v = V.tensor(step);
      const raw = t.tidy(() => {
        const jv = cur.apply(v);
        return betaPrev ? (t.sub(jv, t.mul(t.tensor2d(betaPrev, [R, 1]), U.tensor(step - 1))) as Tensor2D) : jv;
      });
      const { norms: alpha } = U.orthogonalize(raw);
      raw.dispose();
      const replaceU = Array.from(alpha, (a, r) => a <= NEGLIGIBLE * Math.max(rows.scale[r], a));
      U.append(alpha, replaceU, { seed: options.seed, stream: `lanczos-u${step}` });
      // w = Jᵀ·u − α·v, orthogonal to every earlier v.
      const wRaw = t.tidy(() => t.sub(cur.applyT(U.tensor(step)), t.mul(t.tensor2d(Float32Array.from(alpha), [R, 1]), v)) as Tensor2D);
      v.dispose();
      const { norms: beta } = V.orthogonalize(wRaw);
      wRaw.dispose();
      const replaceV = Array.from(beta, (b, r) => b <= NEGLIGIBLE * Math.max(rows.scale[r], alpha[r], b));
      V.append(beta, replaceV, { seed: options.seed, stream: `lanczos-v${step}` });
      rows.push(result, Float64Array.from(alpha, (a, r) => (replaceU[r] ? 0 : a)), beta, replaceV, 2);
      const last = step === maxSteps - 1;
      if ((step + 1) % CHECK_EVERY !== 0 && !last) continue;
      const stay = rows.check(result, (r) => {
        const { sigma, residual } = bidiagonalTop(rows.alphas[r], rows.betas[r]);
        return { value: sigma, converged: residual <= tol * sigma || (sigma === 0 && residual === 0) };
      });
      if (stay.length === R || last) continue;
      rows.keep(stay);
      if (stay.length === 0) break;
      cur = cur.select(stay);
      U.keep(stay);
      V.keep(stay);
    }
    return result;
  }));
}

/**
 * ‖J‖₂ as √λ_max(G) of the Gram operator G = JᵀJ (operator.ts `gram`): symmetric Lanczos with full
 * reorthogonalisation, one G·v per step (one matmul with the precomputed MᵀM, counted as one product) and one
 * basis, where Golub–Kahan takes J·v and Jᵀ·u and keeps two: the same Krylov space in exact arithmetic, so the
 * same number of steps, at about half the work (W6: ‖J‖₂ products 71 → 36 per matrix). Converged when the
 * residual ‖G·y − θ·y‖ = β_k·|y_k| ≤ tol·θ: there is an eigenvalue λ of G within it, so |σ − √θ| ≤ tol·√θ.
 */
function gramNorms(op: BatchedOperator, tol: number, options: KrylovOptions): KrylovResult {
  const t = tf();
  const N = op.rows;
  const result: KrylovResult = { tol, values: new Float64Array(N).fill(NaN), products: new Int32Array(N), converged: new Uint8Array(N) };
  const maxSteps = Math.max(1, Math.min(op.in, options.maxProducts));
  const rows = new ActiveRows(N);
  let cur = op;
  return withBasis(N, op.in, maxSteps + 1, (V) => {
    V.start(randomUnitRows(N, op.in, options.seed, 'lanczos', options.firstRow));
    for (let step = 0; step < maxSteps && rows.active.length > 0; step++) {
      const R = rows.active.length;
      const gv = t.tidy(() => cur.apply(V.tensor(step)));
      // Against the whole basis: the coefficient on v_k is α_k; those on earlier vectors are β_{k−1} and roundoff.
      const { coeffs: c, norms: beta } = V.orthogonalize(gv);
      gv.dispose();
      const k = step + 1;
      const alpha = Float64Array.from({ length: R }, (_, r) => c[r * k + step]);
      const replace = Array.from(beta, (b, r) => b <= NEGLIGIBLE * Math.max(rows.scale[r], Math.abs(alpha[r]), b));
      V.append(beta, replace, { seed: options.seed, stream: `lanczos-gram${step}` });
      rows.push(result, alpha, beta, replace, 1);
      const last = step === maxSteps - 1;
      if ((step + 1) % CHECK_EVERY !== 0 && !last) continue;
      const stay = rows.check(result, (r) => {
        const betas = rows.betas[r];
        const top = topTridiagonal(Float64Array.from(rows.alphas[r]), Float64Array.from(betas.slice(0, -1)));
        const theta = Math.max(top.value, 0);
        const residual = betas[betas.length - 1] === 0 ? 0 : Math.abs(betas[betas.length - 1] * top.lastComponent);
        return { value: Math.sqrt(theta), converged: residual <= tol * theta || (theta === 0 && residual === 0) };
      });
      if (stay.length === R || last) continue;
      rows.keep(stay);
      if (stay.length === 0) break;
      cur = cur.select(stay);
      V.keep(stay);
    }
    return result;
  });
}
