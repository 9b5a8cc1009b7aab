// The spectral radius ρ(J) of N square matrices at once without a dense eigensolver: restarted Arnoldi
// with a Krylov dimension of a few tens. Each step is one J·v over all rows plus two Gram–Schmidt
// passes as batched matmuls; the Hessenberg columns come back to JS, where the Ritz value of largest
// modulus (a complex-conjugate pair counts once: both have the same modulus) is found in float64.
// A matrix is converged when κ·(‖r‖ + δ) ≤ tol·|θ|: the residual h_{m+1,m}·|y_m| plus the backward error
// δ of float32 products (FLOAT32_BACKWARD·‖H‖), times the eigenvalue's condition number within the
// Krylov space (left and right Ritz vectors) — the first-order bound on the eigenvalue error. So neither a
// small residual of a strongly non-normal matrix nor a defective eigenvalue (a Jordan block, whose Ritz
// values split by δ^(1/k) and come out with a large κ) passes for accuracy.
// Otherwise it restarts from the dominant Ritz vectors; after the budget the dense method takes over.
import { tf, type Tensor2D, type Tensor3D } from '../backend/tf';
import {
  append, DEFAULT_KRYLOV, diagonalResult, keepRows, normalizeOrReplace, orthogonalize, readRows, rowNorms, startVectors,
  type KrylovOptions, type KrylovResult,
} from './krylov';
import type { BatchedOperator } from './operator';
import { topRitz } from './small';

/** A norm below this fraction of the largest Hessenberg entry seen counts as zero (an invariant subspace). */
const NEGLIGIBLE = 1e-6;
export const KRYLOV_DIMENSION = 60;
/** Dominant Ritz vectors combined into the restart vector. */
const RESTART_KEEP = 6;
/**
 * κ·‖r‖ ≤ 1e-5·|θ|: with float32 products the residual of a restarted cycle stalls near 1e-7·‖J‖·κ, so
 * 1e-6 would send well-conditioned matrices to the dense method (measured: 3 of 256 at n = 512).
 */
export const RADIUS_TOL = 1e-5;
/** Backward error of a float32 product relative to the norm: 10 unit roundoffs (2⁻²⁴). */
const FLOAT32_BACKWARD = 10 * 2 ** -24;

export function spectralRadii(op: BatchedOperator, options: KrylovOptions = DEFAULT_KRYLOV): KrylovResult {
  const tol = options.tol ?? RADIUS_TOL;
  const exact = diagonalResult(op, tol);
  if (exact) return exact;
  if (op.in !== op.out) throw new Error(`internal: spectral radius of a ${op.out}×${op.in} operator`);
  const t = tf();
  const N = op.rows;
  const nan = () => new Float64Array(N).fill(NaN);
  const result: KrylovResult = { tol, values: nan(), products: new Int32Array(N), converged: new Uint8Array(N) };
  const m = Math.min(op.in, KRYLOV_DIMENSION);
  const cycles = Math.max(1, Math.ceil(options.maxProducts / m));
  let active = Array.from({ length: N }, (_, i) => i);
  let cur = op;
  let v = startVectors(N, op.in, options.seed, 'arnoldi');
  for (let cycle = 0; cycle < cycles && active.length > 0; cycle++) {
    const R = active.length;
    const h = Array.from({ length: R }, () => new Float64Array((m + 1) * m));
    const scale = new Float64Array(R);
    let V: Tensor3D = append(undefined, v);
    let vk = v;
    for (let k = 0; k < m; k++) {
      const jv = cur.apply(vk);
      const { w, coeffs } = orthogonalize(V, jv);
      jv.dispose();
      const c = readRows(coeffs);
      coeffs.dispose();
      const norm = rowNorms(w);
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
      if (k < m - 1) {
        const next = normalizeOrReplace(w, norm, replace, V, { seed: options.seed, stream: `arnoldi-${cycle}-${k}` });
        if (vk !== v) vk.dispose();
        V = append(V, next);
        vk = next;
      }
      w.dispose();
    }
    if (vk !== v) vk.dispose();
    v.dispose();
    const stay: number[] = [];
    const restart: Float64Array[] = [];
    for (let r = 0; r < R; r++) {
      result.products[active[r]] += m;
      const ritz = topRitz(h[r].subarray(0, m * m), m, RESTART_KEEP);
      const residual = ritz ? h[r][m * m + m - 1] * ritz.lastComponent : NaN;
      const modulus = ritz ? Math.hypot(ritz.re, ritz.im) : NaN;
      const floor = FLOAT32_BACKWARD * columnNormMax(h[r], m);
      if (ritz && (modulus === 0 && residual === 0 ? true : ritz.kappa * (residual + floor) <= tol * modulus)) {
        const i = active[r];
        [result.values[i], result.converged[i]] = [modulus, 1];
      } else {
        stay.push(r);
        restart.push(ritz ? ritz.restart : Float64Array.from({ length: m }, (_, i) => (i === 0 ? 1 : 0)));
      }
    }
    if (stay.length > 0 && cycle < cycles - 1) {
      // The restart vector V_m·c per row: one batched matmul [R', 1, m] × [R', m, n].
      const kept = stay.length === R ? V : keepRows(V, stay);
      v = t.tidy(() => {
        const coeffs = t.tensor3d(Float32Array.from(restart.flatMap((c) => Array.from(c))), [stay.length, 1, m]);
        const x = t.squeeze(t.matMul(coeffs, kept), [1]) as Tensor2D;
        return t.div(x, t.norm(x, 'euclidean', 1, true)) as Tensor2D;
      });
      if (kept !== V) kept.dispose();
      if (stay.length < R) cur = cur.select(stay);
    }
    V.dispose();
    active = stay.map((r) => active[r]);
  }
  return result;
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
