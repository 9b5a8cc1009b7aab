// Krylov source of the dominant eigenpairs of a batch of Jacobians: the spectra module's batched thick-restart
// Arnoldi (spectra/arnoldi.ts, the project's one Arnoldi) on J for the right eigenvectors (Jv = λv) and on Jᵀ for
// the left ones (Jᵀw = λw, u = w̄: uᴴJ = λuᴴ), each one run over all M matrices whose every step is a few batched
// backend ops; the two runs go on two threads where there are (spectra/bothSides.ts). O(products·n²) per matrix on
// the backend, against the dense route's O(n³) Hessenberg QR and complex LU in JS.
// Acceptance is Arnoldi's own: κ·(residual + float32 backward error) ≤ tol·|θ| for each side, so every pair is a
// residual-checked converged eigenpair with ρ within tol·ρ to first order. A matrix whose sides did not converge
// within the product budget gets the dense route instead, counted in `fallbacks`; one whose sides converged to
// different eigenvalues (two of nearly equal modulus) takes the larger, with inverse iteration for its vectors
// (`ties`).
// Warm starts from the previous optimisation step's eigenvectors were measured and left out: each step draws fresh
// inputs and initial states, and the dominant right eigenvector of the same (batch, step) slot at two consecutive
// optimisation steps had |⟨v, v'⟩| ≈ 0.2 (LSTM n 128) — no better than a random start.
import type { Tensor3D } from '../backend/tf';
import type { RitzPair } from '../spectra/arnoldi';
import { bothSides } from '../spectra/bothSides';
import { denseEigenvectors, eigenvectorsAt, type DominantEigenpair } from './dominant';

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
 * For each optimisation step: ρ to 3·10⁻³ relative. A step's loss is itself an estimate on fresh random inputs and
 * states, whose ρ varies from batch to batch by ~±0.05, 15× this error, and LSC stops at ±0.02 of the target (7× it
 * at ρ = 1); the unit tests hold the gradient through these eigenvectors to float64 central differences at 2·10⁻³.
 * Measured over steps 3–10 of the LSTM n 128 towards 0.5 (2-core machine, two threads): tol 10⁻³ ~335 ms per step,
 * 2·10⁻³ ~315, 3·10⁻³ ~293 (and over steps 2–20: 10⁻⁴ ~360, 3·10⁻⁴ ~330, 10⁻³ ~305); the two-layer LSTM reaches
 * both targets at full size (bench C2D). As LSC pulls ρ down, the top of the spectrum crowds and Arnoldi needs more
 * products; Krylov dimension 40 with a 200-product budget sent 88 of 640 matrices to the dense route, 40/400 19,
 * 60/400 7, 80/400 1, at the same CPU time per step; dimensions 45, 75 and 90 and keeping 3 or 12 Ritz values at a
 * restart instead of 6 changed nothing measurable.
 */
export const LSC_STEP_KRYLOV: KrylovEigenOptions = { tol: 3e-3, maxProducts: 400, minSize: 96, dimension: 60 };

/**
 * For the reported ρ (before and after, on the config's own data) and the tests: 1e-4 relative, 200× inside LSC's
 * stopping tolerance, with residuals small enough for eigenvectors whose cotangent matches the dense one; 1e-5
 * costs ~30 % more products at n 256.
 */
export const LSC_REPORT_KRYLOV: KrylovEigenOptions = { ...LSC_STEP_KRYLOV, tol: 1e-4 };

/** Of a conjugate pair, the member with Im ≥ 0 (what the dense route returns): for a real matrix its vector is x̄. */
export function upperHalf(p: RitzPair): RitzPair {
  return p.im >= 0 ? p : { re: p.re, im: -p.im, vector: p.vector.map((x, i) => (i % 2 ? -x : x)) };
}

export interface SideCounts {
  fallbacks: number;
  ties: number;
}

/**
 * Matrix b's dominant eigenpair from the two sides' Ritz pairs (upper halves of conjugate pairs): both converged to
 * the same λ → the pair; to two eigenvalues of nearly equal modulus → the larger is ρ (each side's Krylov space held
 * only its own), with inverse iteration for its vectors — the dense route without its O(n³) Hessenberg QR, which would
 * only confirm what the two sides measured; a side that did not converge → the dense route.
 */
export function combineSides(
  right: RitzPair | undefined,
  left: RitzPair | undefined,
  data: ArrayLike<number>,
  b: number,
  n: number,
  tol: number,
  counts: SideCounts,
): DominantEigenpair {
  if (!right || !left) {
    counts.fallbacks++;
    return denseEigenvectors.dominant(data, b * n * n, n);
  }
  if (Math.hypot(left.re - right.re, left.im - right.im) > 4 * tol * Math.hypot(right.re, right.im)) {
    counts.ties++;
    const top = Math.hypot(left.re, left.im) > Math.hypot(right.re, right.im) ? left : right;
    return eigenvectorsAt(data, b * n * n, n, top.re, top.im, true);
  }
  return { re: right.re, im: right.im, right: right.vector, left: left.vector.map((x, i) => (i % 2 ? -x : x)) };
}

export function krylovEigenvectors(options: KrylovEigenOptions = LSC_REPORT_KRYLOV): BatchEigenvectorSource & SideCounts & { calls: number } {
  const source = {
    fallbacks: 0,
    ties: 0,
    calls: 0,
    dominantAll(j: Tensor3D, data: ArrayLike<number>): DominantEigenpair[] {
      const [M, n] = j.shape;
      source.calls += M;
      if (n < options.minSize) return Array.from({ length: M }, (_, b) => denseEigenvectors.dominant(data, b * n * n, n));
      const sides = bothSides(j, data, { tol: options.tol, maxProducts: options.maxProducts, seed: 0, dimension: options.dimension });
      return Array.from({ length: M }, (_, b) => {
        const [right, left] = [sides.right[b], sides.left[b]].map((p) => p && upperHalf(p));
        return combineSides(right, left, data, b, n, options.tol, source);
      });
    },
  };
  return source;
}
