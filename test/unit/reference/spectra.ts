// Float64 spectra of dense matrices by ml-matrix (its own SVD and eigendecomposition, not the engine's
// eigenvalues.ts): the reference that the matrix-free spectral norm and radius are held to.
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
