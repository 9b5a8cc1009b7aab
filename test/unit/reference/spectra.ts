// Float64 spectra of dense matrices by ml-matrix (its own SVD and eigendecomposition, not the engine's
// WebAssembly kernels): the reference that the matrix-free spectral norm and radius are held to.
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';

function matrixAt(data: ArrayLike<number>, offset: number, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) m.set(i, k, data[offset + i * cols + k]);
  return m;
}

export function denseSpectralNorm(data: ArrayLike<number>, offset: number, rows: number, cols: number): number {
  const svd = new SingularValueDecomposition(matrixAt(data, offset, rows, cols), {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  return Math.max(...svd.diagonal);
}

export function denseSpectralRadius(data: ArrayLike<number>, offset: number, n: number): number {
  const evd = new EigenvalueDecomposition(matrixAt(data, offset, n, n));
  return Math.max(...evd.realEigenvalues.map((re, i) => Math.hypot(re, evd.imaginaryEigenvalues[i])));
}

/** All singular values, descending. */
export function denseSingularValues(data: ArrayLike<number>, offset: number, rows: number, cols: number): number[] {
  const svd = new SingularValueDecomposition(matrixAt(data, offset, rows, cols), {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  return [...svd.diagonal].sort((a, b) => b - a);
}

/** All eigenvalues as [re, im] pairs, in ml-matrix's order. */
export function denseEigenvalues(data: ArrayLike<number>, offset: number, n: number): [number, number][] {
  const evd = new EigenvalueDecomposition(matrixAt(data, offset, n, n));
  return evd.realEigenvalues.map((re, i) => [re, evd.imaginaryEigenvalues[i]]);
}

/**
 * The largest distance from a reference eigenvalue to the computed one matched with it (each used once, nearest
 * first): zero for the same multiset in any order, which sorting by modulus cannot promise for ties.
 */
export function eigenvalueMismatch(got: { re: ArrayLike<number>; im: ArrayLike<number> }, want: [number, number][]): number {
  const free = Array.from({ length: got.re.length }, (_, i) => i);
  if (free.length !== want.length) return Infinity;
  let worst = 0;
  for (const [re, im] of want) {
    let best = 0;
    for (let j = 1; j < free.length; j++) {
      const d = (i: number) => Math.hypot(got.re[free[i]] - re, got.im[free[i]] - im);
      if (d(j) < d(best)) best = j;
    }
    worst = Math.max(worst, Math.hypot(got.re[free[best]] - re, got.im[free[best]] - im));
    free.splice(best, 1);
  }
  return worst;
}
