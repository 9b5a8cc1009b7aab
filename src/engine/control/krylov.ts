// Krylov source of the dominant eigenpairs of a batch of Jacobians: the spectra module's batched thick-restart
// Arnoldi (spectra/arnoldi.ts, the project's one Arnoldi) on J and Jᵀ stacked as 2M rows of one operator, so the
// right (Jv = λv) and left (Jᵀw = λw, u = w̄: uᴴJ = λuᴴ) eigenvectors of all M matrices come from one run whose
// every step is a few batched backend ops over all 2M rows. O(products·n²) per matrix on the backend, against the
// dense route's O(n³) Hessenberg QR and complex LU in JS.
// Acceptance is Arnoldi's own: κ·(residual + float32 backward error) ≤ tol·|θ| for each side, so every pair is a
// residual-checked converged eigenpair with ρ within tol·ρ to first order. A matrix whose sides did not converge
// within the product budget, or converged to different eigenvalues (two of nearly equal modulus), gets the dense
// route instead, counted in `fallbacks`.
// Warm starts from the previous optimisation step's eigenvectors were measured and left out: each step draws fresh
// inputs and initial states, and the dominant right eigenvector of the same (batch, step) slot at two consecutive
// optimisation steps had |⟨v, v'⟩| ≈ 0.2 (LSTM n 128) — no better than a random start.
import { tf, type Tensor3D } from '../backend/tf';
import { dominantRitzPairs, type RitzPair } from '../spectra/arnoldi';
import { denseOperator } from '../spectra/operator';
import { denseEigenvectors, type DominantEigenpair } from './dominant';

export interface BatchEigenvectorSource {
  /** The dominant eigenpair of every matrix of J [M, n, n] (`data`: its values, row-major). */
  dominantAll(j: Tensor3D, data: ArrayLike<number>): DominantEigenpair[];
}

export interface KrylovEigenOptions {
  /** Relative accuracy of ρ asked of Arnoldi (κ·residual ≤ tol·ρ). */
  tol: number;
  /** Operator products per matrix and side before the dense route takes over. */
  maxProducts: number;
  /** Below this size the dense route answers for every matrix (it is then as fast and exact). */
  minSize: number;
  /** Krylov dimension (default: the spectra module's choice by n, 40 at n 256). */
  dimension?: number;
}

/**
 * ρ to 1e-4 relative: 200× inside LSC's default stopping tolerance (0.02 on ρ ≈ 1), and residuals small enough for
 * eigenvectors whose cotangent matches the dense one (unit tests); 1e-5 costs ~30 % more products at n 256, 3e-4
 * saves ~6 % and lets the cotangent drift by ~1 %. As LSC pulls ρ down, the top of the spectrum crowds and Arnoldi
 * needs more products; measured over 20 LSC steps of the LSTM n 128 towards 0.5 (640 matrices): Krylov dimension 40
 * with a 200-product budget sent 88 to the dense route, 40/400 19, 60/400 7, 80/400 1, at the same CPU time per step.
 */
export const LSC_KRYLOV: KrylovEigenOptions = { tol: 1e-4, maxProducts: 400, minSize: 96, dimension: 60 };

/** Of a conjugate pair, the member with Im ≥ 0 (what the dense route returns): for a real matrix its vector is x̄. */
function upperHalf(p: RitzPair): RitzPair {
  return p.im >= 0 ? p : { re: p.re, im: -p.im, vector: p.vector.map((x, i) => (i % 2 ? -x : x)) };
}

export function krylovEigenvectors(options: KrylovEigenOptions = LSC_KRYLOV): BatchEigenvectorSource & { fallbacks: number; calls: number } {
  const source = {
    fallbacks: 0,
    calls: 0,
    dominantAll(j: Tensor3D, data: ArrayLike<number>): DominantEigenpair[] {
      const [M, n] = j.shape;
      source.calls += M;
      const dense = (b: number) => denseEigenvectors.dominant(data, b * n * n, n);
      if (n < options.minSize) return Array.from({ length: M }, (_, b) => dense(b));
      const t = tf();
      // A scope: the operators Arnoldi narrows to its unconverged rows hold tensors of their own.
      t.engine().startScope();
      let pairs: (RitzPair | undefined)[];
      try {
        const both = t.concat([j, t.transpose(j, [0, 2, 1])]) as Tensor3D;
        ({ pairs } = dominantRitzPairs(denseOperator(both), { tol: options.tol, maxProducts: options.maxProducts, seed: 0, dimension: options.dimension }));
      } finally {
        t.engine().endScope();
      }
      return Array.from({ length: M }, (_, b) => {
        const [right, left] = [pairs[b], pairs[M + b]].map((p) => p && upperHalf(p));
        const scale = right ? Math.hypot(right.re, right.im) : 0;
        if (!right || !left || Math.hypot(left.re - right.re, left.im - right.im) > 4 * options.tol * scale) {
          source.fallbacks++;
          return dense(b);
        }
        return { re: right.re, im: right.im, right: right.vector, left: left.vector.map((x, i) => (i % 2 ? -x : x)) };
      });
    },
  };
  return source;
}
