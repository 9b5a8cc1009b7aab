// The dominant spectral quantity of a square Jacobian and its cotangent (the matrix G with dρ = Σ G ⊙ dJ):
//  - spectral radius ρ = |λ|, λ the eigenvalue of largest modulus, uᴴJ = λuᴴ, Jv = λv:
//      dρ = Re((λ̄/|λ|)·uᴴ·dJ·v / (uᴴ·v))  ⇒  G_ij = Re(c·conj(u_i)·v_j), c = λ̄ / (|λ|·uᴴv);
//  - spectral norm σ_max with left/right singular vectors a, b: dσ = aᵀ·dJ·b ⇒ G = a·bᵀ.
// Where the eigenvectors come from sits behind one small interface, so that a batched Krylov source (Ritz
// vectors) can replace the dense one without touching the gradient.
import { eigenvalues } from '../wasm/linalg';
import { factorShifted, normalize, solve, solveAdjoint } from './complexLu';

export type ControlMeasure = 'radius' | 'norm';

/** A dominant eigenpair with both eigenvectors, interleaved complex (re, im) of length 2n. */
export interface DominantEigenpair {
  re: number;
  im: number;
  right: Float64Array;
  left: Float64Array;
}

export interface EigenvectorSource {
  /** The eigenvalue of largest modulus of the n×n row-major matrix at `offset`, with its left and right eigenvectors. */
  dominant(a: ArrayLike<number>, offset: number, n: number): DominantEigenpair;
}

/** A fixed start vector, not aligned with any coordinate axis. */
function startVector(n: number): Float64Array {
  const b = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) b[2 * i] = 1 + ((i * 7919) % 13) / 13;
  return normalize(b);
}

/**
 * Dense source: all eigenvalues (Hessenberg QR, values only), then inverse iteration with the dominant one as
 * the shift — one complex LU, a few solves with it and with its adjoint. O(n³) per matrix; fine for the
 * sizes LSC trains at, and the reference the Krylov source will be held to.
 */
export const denseEigenvectors: EigenvectorSource = {
  dominant(a, offset, n) {
    const { re, im } = eigenvalues(a, offset, n);
    let k = 0;
    for (let i = 1; i < n; i++) {
      const d = Math.hypot(re[i], im[i]) - Math.hypot(re[k], im[k]);
      // Of a conjugate pair take the one with Im ≥ 0 (ρ and its gradient are the same for both).
      if (d > 1e-12 * Math.hypot(re[k], im[k]) || (Math.abs(d) <= 1e-12 * Math.hypot(re[k], im[k]) && im[i] > im[k])) k = i;
    }
    return eigenvectorsAt(a, offset, n, re[k], im[k]);
  },
};

/**
 * The left and right eigenvectors of the n×n matrix at `offset` for the eigenvalue nearest (re, im), by inverse
 * iteration: one complex LU of J − λI, then solves with it and with its adjoint. O(n³). An eigenvalue known to
 * working accuracy (the dense route's) needs three; `approximate`: one known to a relative tol only (a Ritz value,
 * ρ within tol·ρ, the other dominant eigenvalue at least 3·tol·ρ away), so each solve gains a factor ≥ 3 on the
 * other eigenvector: twelve solves (3⁻¹² ≈ 2·10⁻⁶), then λ from the two-sided Rayleigh quotient uᴴJv / uᴴv
 * (error of second order in the vectors').
 */
export function eigenvectorsAt(a: ArrayLike<number>, offset: number, n: number, re: number, im: number, approximate = false): DominantEigenpair {
  const scale = Math.max(Math.hypot(re, im), 1e-30);
  // A shift a hair off λ keeps the factorisation regular; the iteration still converges in a step or two.
  const lu = factorShifted(a, offset, n, re + 1e-11 * scale, im);
  let right = startVector(n);
  let left = startVector(n);
  for (let it = 0; it < (approximate ? 12 : 3); it++) {
    right = normalize(solve(lu, right));
    left = normalize(solveAdjoint(lu, left));
  }
  return { ...(approximate ? rayleighQuotient(a, offset, n, right, left) : { re, im }), right, left };
}

/** uᴴJv / uᴴv for a real J and interleaved complex u, v. */
function rayleighQuotient(a: ArrayLike<number>, offset: number, n: number, v: Float64Array, u: Float64Array): { re: number; im: number } {
  let [numRe, numIm, denRe, denIm] = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    // (Jv)_i
    let jr = 0;
    let ji = 0;
    for (let k = 0; k < n; k++) {
      const x = a[offset + i * n + k];
      jr += x * v[2 * k];
      ji += x * v[2 * k + 1];
    }
    // conj(u_i)·(Jv)_i and conj(u_i)·v_i
    const [ur, ui] = [u[2 * i], u[2 * i + 1]];
    numRe += ur * jr + ui * ji;
    numIm += ur * ji - ui * jr;
    denRe += ur * v[2 * i] + ui * v[2 * i + 1];
    denIm += ur * v[2 * i + 1] - ui * v[2 * i];
  }
  const d = denRe * denRe + denIm * denIm;
  return { re: (numRe * denRe + numIm * denIm) / d, im: (numIm * denRe - numRe * denIm) / d };
}

/**
 * A measured value and its cotangent G (dvalue = Σ_ij G_ij dJ_ij), kept as the factors of G = Σ_r rows[r]·cols[r]ᵀ:
 * it has rank ≤ 2 (Re of a complex outer product, or a·bᵀ), so the gradient is formed on the backend by one small
 * batched product instead of n² numbers per matrix built in JS (at 32 matrices of 256×256, 16 MB of garbage per
 * LSC step).
 */
export interface MeasureWithCotangent {
  value: number;
  /** Column vectors (length out). */
  rows: Float64Array[];
  /** Row vectors (length in), one per entry of `rows`. */
  cols: Float64Array[];
}

/** G itself, out×in row-major (for tests and checks). */
export function denseCotangent(m: MeasureWithCotangent): Float64Array {
  const [out, inn] = [m.rows[0]?.length ?? 0, m.cols[0]?.length ?? 0];
  const G = new Float64Array(out * inn);
  m.rows.forEach((p, r) => {
    const q = m.cols[r];
    for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) G[i * inn + j] += p[i] * q[j];
  });
  return G;
}

/** ρ(J) and its cotangent from a dominant eigenpair: G_ij = Re(a_i·v_j), a = c·ū, so G = Re(a)·Re(v)ᵀ − Im(a)·Im(v)ᵀ. */
export function radiusCotangent(pair: DominantEigenpair, n: number): MeasureWithCotangent {
  const rho = Math.hypot(pair.re, pair.im);
  const { left: u, right: v } = pair;
  // uᴴv
  let sr = 0;
  let si = 0;
  for (let i = 0; i < n; i++) {
    sr += u[2 * i] * v[2 * i] + u[2 * i + 1] * v[2 * i + 1];
    si += u[2 * i] * v[2 * i + 1] - u[2 * i + 1] * v[2 * i];
  }
  const s2 = sr * sr + si * si;
  const [aRe, minusAIm, vRe, vIm] = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const factors = { value: rho, rows: [aRe, minusAIm], cols: [vRe, vIm] };
  if (rho === 0 || s2 === 0) return factors;
  // c = conj(λ) / (|λ| · uᴴv)
  const lr = pair.re / rho;
  const li = -pair.im / rho;
  const cr = (lr * sr + li * si) / s2;
  const ci = (li * sr - lr * si) / s2;
  for (let i = 0; i < n; i++) {
    // a_i = c · conj(u_i)
    aRe[i] = cr * u[2 * i] + ci * u[2 * i + 1];
    minusAIm[i] = -(ci * u[2 * i] - cr * u[2 * i + 1]);
    [vRe[i], vIm[i]] = [v[2 * i], v[2 * i + 1]];
  }
  return factors;
}

/**
 * σ_max of an out×in matrix and its cotangent a·bᵀ (factors a, b), by power iteration on JᵀJ (symmetric, so it converges to
 * the top singular pair; stops when σ changes by less than 1e-12 relative).
 */
export function normCotangent(a: ArrayLike<number>, offset: number, out: number, inn: number): MeasureWithCotangent {
  let b = new Float64Array(inn).fill(1 / Math.sqrt(inn));
  const left = new Float64Array(out);
  let sigma = 0;
  for (let it = 0; it < 1000; it++) {
    for (let i = 0; i < out; i++) {
      let s = 0;
      for (let j = 0; j < inn; j++) s += a[offset + i * inn + j] * b[j];
      left[i] = s;
    }
    const next = new Float64Array(inn);
    for (let i = 0; i < out; i++) {
      const li = left[i];
      for (let j = 0; j < inn; j++) next[j] += a[offset + i * inn + j] * li;
    }
    const norm = Math.hypot(...next);
    const est = Math.sqrt(norm);
    b = norm > 0 ? next.map((x) => x / norm) : next;
    const done = Math.abs(est - sigma) <= 1e-12 * est;
    sigma = est;
    if (done || norm === 0) break;
  }
  // Final left vector from the converged right one: a = J b / σ.
  const leftVector = new Float64Array(out);
  if (sigma === 0) return { value: 0, rows: [leftVector], cols: [new Float64Array(inn)] };
  for (let i = 0; i < out; i++) {
    let s = 0;
    for (let j = 0; j < inn; j++) s += a[offset + i * inn + j] * b[j];
    leftVector[i] = s / sigma;
  }
  return { value: sigma, rows: [leftVector], cols: [Float64Array.from(b)] };
}
