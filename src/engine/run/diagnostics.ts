// Per-Jacobian diagnostics. Moments and norms are reduced on the backend over [N, out, in] chunks;
// decompositions run in float64 on each matrix (tfjs has no general eigensolver): singular values with
// ml-matrix's SVD, eigenvalues with the values-only routine of the WebAssembly kernels (wasm/linalg.ts; README, Libraries, says why).
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { tf, type Tensor3D } from '../backend/tf';
import { eigenvalues, largestSingularValue, matrixMoments } from '../wasm/linalg';

// A type alias, not an interface, so that it can be returned from tf.tidy (a TensorContainer).
export type ChunkMoments = {
  mean: Float32Array;
  variance: Float32Array;
  frobenius: Float32Array;
};

/** Mean, population variance (np.var) and Frobenius norm of each matrix of a chunk. */
export function chunkMoments(j: Tensor3D): ChunkMoments {
  const t = tf();
  // The cpu backend's tensors already live in JS memory, and its broadcasting kernels index every element
  // through per-element arrays: two float64 passes over the data are ~10× faster there (seed example: 70 ms).
  if (t.getBackend() === 'cpu') return hostMoments(j.dataSync() as Float32Array, j.shape[0], j.shape[1] * j.shape[2]);
  const [mean, variance, frobenius] = t.tidy(() => {
    // Three passes over J (tf.moments makes a full copy first): mean, then the mean squared deviation;
    // ‖J‖_F² = count·(var + mean²).
    const count = j.shape[1] * j.shape[2];
    const m = t.mean(j, [1, 2], true);
    const v = t.mean(t.squaredDifference(j, m), [1, 2]);
    const flatMean = t.reshape(m, [j.shape[0]]);
    return [flatMean, v, t.sqrt(t.mul(t.add(v, t.square(flatMean)), count))];
  });
  const out = {
    mean: mean.dataSync() as Float32Array,
    variance: variance.dataSync() as Float32Array,
    frobenius: frobenius.dataSync() as Float32Array,
  };
  t.dispose([mean, variance, frobenius]);
  return out;
}

/** chunkMoments of `count` row-major matrices of `size` entries each, in float64 (two passes, in WebAssembly). */
export const hostMoments = (data: Float32Array, count: number, size: number): ChunkMoments => matrixMoments(data, count, size);

/**
 * Moments from per-matrix Σ J and Σ J² (the structured method's factored sums). Undefined when the variance
 * would come from cancellation (mean² a sizeable part of E[J²]): then the matrices are reduced directly.
 */
export function momentsFromSums(sum: Float32Array, sumSq: Float32Array, count: number): ChunkMoments | undefined {
  const n = sum.length;
  const mean = new Float32Array(n);
  const variance = new Float32Array(n);
  const frobenius = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = sum[i] / count;
    const e2 = sumSq[i] / count;
    if (m * m > 0.1 * e2) return undefined;
    mean[i] = m;
    variance[i] = Math.max(e2 - m * m, 0);
    frobenius[i] = Math.sqrt(sumSq[i]);
  }
  return { mean, variance, frobenius };
}

export interface MatrixSpectrum {
  /** Descending; σ₁ alone when only the largest was asked for. */
  singularValues?: Float64Array;
  /** Sorted by decreasing modulus. */
  eigenRe?: Float64Array;
  eigenIm?: Float64Array;
}

function matrixAt(data: Float32Array, offset: number, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) m.set(i, k, data[offset + i * cols + k]);
  }
  return m;
}

export function spectrumOf(
  data: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  want: { singular: boolean | 'largest'; eigen: boolean },
): MatrixSpectrum {
  const result: MatrixSpectrum = {};
  // Only σ₁ (spectral norm without singularValues): no SVD, see wasm/linalg.ts.
  if (want.singular === 'largest') result.singularValues = Float64Array.of(largestSingularValue(data, offset, rows, cols));
  else if (want.singular) {
    const m = matrixAt(data, offset, rows, cols);
    const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
    result.singularValues = Float64Array.from(svd.diagonal).sort().reverse();
  }
  if (want.eigen && rows === cols) {
    let eig;
    try {
      eig = eigenvalues(data, offset, rows);
    } catch {
      // The QR iteration gave up (60 sweeps): ml-matrix's slower decomposition is the fallback.
      const evd = new EigenvalueDecomposition(matrixAt(data, offset, rows, cols));
      const [re, im] = [evd.realEigenvalues, evd.imaginaryEigenvalues];
      const order = re.map((_, i) => i).sort((a, b) => Math.hypot(re[b], im[b]) - Math.hypot(re[a], im[a]));
      eig = { re: Float64Array.from(order, (i) => re[i]), im: Float64Array.from(order, (i) => im[i]) };
    }
    result.eigenRe = eig.re;
    result.eigenIm = eig.im;
  }
  return result;
}

export function spectralRadius(s: MatrixSpectrum): number {
  return s.eigenRe && s.eigenRe.length ? Math.hypot(s.eigenRe[0], s.eigenIm![0]) : NaN;
}

export function spectralNorm(s: MatrixSpectrum): number {
  return s.singularValues && s.singularValues.length ? s.singularValues[0] : NaN;
}
