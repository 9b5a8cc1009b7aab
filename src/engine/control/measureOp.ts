// The spectral radius (or spectral norm) of a batch of Jacobians as a tfjs op with its own gradient: the
// forward pass decomposes each matrix in float64 and keeps the cotangent G of each (as its rank-2 factors); the
// backward pass is dy·G. Chained after the engine's Jacobian computation, tfjs's reverse mode then carries G to the
// parameters in one vector–Jacobian product — no Jacobian entry is differentiated on its own.
import type { GradSaveFunc } from '@tensorflow/tfjs-core';
import { tf, type Tensor, type Tensor1D, type Tensor3D } from '../backend/tf';
import { denseEigenvectors, normCotangent, radiusCotangent, type ControlMeasure, type DominantEigenpair } from './dominant';
import { krylovEigenvectors, LSC_REPORT_KRYLOV, LSC_STEP_KRYLOV, type BatchEigenvectorSource } from './krylov';

/** The dense source over a batch: each matrix on its own (exact, O(n³) each). */
export const denseAll: BatchEigenvectorSource = {
  dominantAll: (j, data) => Array.from({ length: j.shape[0] }, (_, b) => denseEigenvectors.dominant(data, b * j.shape[1] * j.shape[1], j.shape[1])),
};

/** Batched Arnoldi on the backend, with the dense route as its fallback (counted): at the optimisation steps' accuracy. */
export const krylovSteps = krylovEigenvectors(LSC_STEP_KRYLOV);
/** The same at the reported values' accuracy. */
export const krylovReports = krylovEigenvectors(LSC_REPORT_KRYLOV);

export type EigenvectorMethod = 'auto' | 'dense' | 'krylov';
/** What the measurement is for: an optimisation step's gradient, or a value the report shows. */
export type MeasurePurpose = 'step' | 'report';

/**
 * `auto`: Arnoldi where its batched backend ops beat the dense route in JS — tensorflow and wasm (LSTM n 128, 32
 * joint 256×256 per kind: tensorflow ~0.2–0.3 s on two threads against 1.5 s, wasm ~1.2 s) — and dense on the cpu backend, whose
 * plain-JS kernels make Arnoldi slower than the dense route (~2.5 s).
 */
export function eigenvectorSource(method: EigenvectorMethod, purpose: MeasurePurpose = 'step'): BatchEigenvectorSource {
  const krylov = purpose === 'step' ? krylovSteps : krylovReports;
  if (method === 'auto') return tf().getBackend() === 'cpu' ? denseAll : krylov;
  return method === 'dense' ? denseAll : krylov;
}

/** ρ (or σ_max) of every matrix of J [M, out, in]; `seen` receives the values (for reports and stopping). */
export function spectralMeasure(
  j: Tensor3D,
  measure: ControlMeasure,
  seen?: (values: Float32Array) => void,
  source: BatchEigenvectorSource = denseAll,
): Tensor1D {
  const t = tf();
  const op = t.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const x = args[0] as Tensor;
    const [m, out, inn] = x.shape as [number, number, number];
    if (measure === 'radius' && out !== inn) throw new Error(`internal: spectral radius of a ${out}×${inn} matrix`);
    const data = x.dataSync();
    const values = new Float32Array(m);
    // G_k = P_k·Q_k with P_k [out, 2] and Q_k [2, in] (rank ≤ 2; a rank-one G has a zero second pair).
    const P = new Float32Array(m * out * 2);
    const Q = new Float32Array(m * 2 * inn);
    const pairs: DominantEigenpair[] = measure === 'radius' ? source.dominantAll(x as Tensor3D, data) : [];
    for (let k = 0; k < m; k++) {
      const r = measure === 'radius' ? radiusCotangent(pairs[k], out) : normCotangent(data, k * out * inn, out, inn);
      values[k] = r.value;
      r.rows.forEach((p, c) => p.forEach((x, i) => (P[(k * out + i) * 2 + c] = x)));
      r.cols.forEach((q, c) => Q.set(q, (k * 2 + c) * inn));
    }
    seen?.(values);
    return {
      value: t.tensor1d(values),
      gradFunc: (dy: Tensor) => t.mul(t.reshape(dy, [m, 1, 1]), t.matMul(t.tensor3d(P, [m, out, 2]), t.tensor3d(Q, [m, 2, inn]))),
    };
  });
  return op(j) as Tensor1D;
}
