// The small float64 problem inside Arnoldi: the Ritz value of largest modulus of the projected matrix, with its
// condition number and what a thick restart keeps. Sizes are the Krylov dimension (tens); its eigenvalues come
// from the WebAssembly kernels (wasm/linalg.ts), as does Lanczos's tridiagonal problem.
import { eigenvalues, shiftedEigenvectors, type ComplexVector } from '../wasm/linalg';

export interface TopRitz {
  re: number;
  im: number;
  /** |e_mᵀ·y| / ‖y‖ of its right eigenvector y: the residual is h_{m+1,m} times this. */
  lastComponent: number;
  /** Eigenvalue condition number within the Krylov space, ‖w‖‖y‖/|wᵀy| (w: Gᵀ·w = λ·w). */
  kappa: number;
  /** The unit right eigenvector y of G (G·y = θy), from which the Ritz vector V_m·y is formed. */
  vector: { re: Float64Array; im: Float64Array };
  /**
   * An orthonormal real basis (m-vectors, float64) of the invariant subspace of the `keep` dominant Ritz values
   * (a conjugate pair contributes its real and imaginary parts), for a thick restart.
   */
  keepBasis(keep: number): Float64Array[];
}

/** Modified Gram–Schmidt in float64; a vector that is (nearly) in the span of the others is dropped. */
function orthonormalBasis(vectors: Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v of vectors) {
    const x = Float64Array.from(v);
    const before = Math.sqrt(dot(x, x));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        const c = dot(q, x);
        for (let i = 0; i < x.length; i++) x[i] -= c * q[i];
      }
    }
    const norm = Math.sqrt(dot(x, x));
    if (norm > 1e-8 * before) basis.push(x.map((xi) => xi / norm));
  }
  return basis;
}

/** Σ a_i·b_i (plain loops: closures and spread arguments cost more than the arithmetic at these sizes). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The Ritz value of largest modulus of the m×m projected matrix G (row-major: Hessenberg after a plain
 * Arnoldi cycle, with one full row after a thick restart), with what Arnoldi needs to judge it, and (only if
 * asked, when it has not converged) what a thick restart keeps.
 */
export function topRitz(g: Float64Array, m: number): TopRitz | undefined {
  let values;
  try {
    values = eigenvalues(g, 0, m);
  } catch {
    return undefined; // the QR iteration did not converge: Arnoldi restarts, then the dense method decides
  }
  const { re, im } = values; // sorted by decreasing modulus
  if (![...re, ...im].every(Number.isFinite)) return undefined;
  // One factorisation of G − θI gives both the right (G·y = θy) and the left (Gᵀ·w = θw) eigenvector.
  const { right: y, left: w } = shiftedEigenvectors(g, m, re[0], im[0], true) as { right: ComplexVector; left: ComplexVector };
  let [dotRe, dotIm] = [0, 0];
  for (let i = 0; i < m; i++) {
    dotRe += w.re[i] * y.re[i] - w.im[i] * y.im[i];
    dotIm += w.re[i] * y.im[i] + w.im[i] * y.re[i];
  }
  const kappa = 1 / Math.hypot(dotRe, dotIm); // both unit vectors
  return {
    re: re[0],
    im: im[0],
    lastComponent: Math.hypot(y.re[m - 1], y.im[m - 1]),
    kappa: Number.isFinite(kappa) ? kappa : Infinity,
    vector: y,
    keepBasis: (keep) => {
      const kept: Float64Array[] = [y.re, ...(im[0] !== 0 ? [y.im] : [])];
      for (let j = 1; j < Math.min(keep, m); j++) {
        // One member of each conjugate pair: its real and imaginary parts span the pair's invariant subspace.
        if (im[j] < 0 && im[j - 1] === -im[j]) continue;
        const v = shiftedEigenvectors(g, m, re[j], im[j], false).right;
        kept.push(v.re);
        if (im[j] !== 0) kept.push(v.im);
      }
      return orthonormalBasis(kept);
    },
  };
}
