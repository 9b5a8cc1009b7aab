// The spectral radius (or spectral norm) of a batch of Jacobians as a tfjs op with its own gradient: the
// forward pass decomposes each matrix in float64 and keeps the cotangent G of each; the backward pass is
// dy·G. Chained after the engine's Jacobian computation, tfjs's reverse mode then carries G to the
// parameters in one vector–Jacobian product — no Jacobian entry is differentiated on its own.
import type { GradSaveFunc } from '@tensorflow/tfjs-core';
import { tf, type Tensor, type Tensor1D, type Tensor3D } from '../backend/tf';
import { normCotangent, radiusCotangent, type ControlMeasure, type EigenvectorSource } from './dominant';
import { krylovEigenvectors } from './krylov';

/** The eigenvector source of every control run: Krylov, with the dense route as its fallback (counted). */
export const controlEigenvectors = krylovEigenvectors();

/** ρ (or σ_max) of every matrix of J [M, out, in]; `seen` receives the values (for reports and stopping). */
export function spectralMeasure(
  j: Tensor3D,
  measure: ControlMeasure,
  seen?: (values: Float32Array) => void,
  source: EigenvectorSource = controlEigenvectors,
): Tensor1D {
  const t = tf();
  const op = t.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const x = args[0] as Tensor;
    const [m, out, inn] = x.shape as [number, number, number];
    if (measure === 'radius' && out !== inn) throw new Error(`internal: spectral radius of a ${out}×${inn} matrix`);
    const data = x.dataSync();
    const values = new Float32Array(m);
    const cotangents = new Float32Array(m * out * inn);
    for (let k = 0; k < m; k++) {
      const offset = k * out * inn;
      const r =
        measure === 'radius' ? radiusCotangent(source.dominant(data, offset, out), out) : normCotangent(data, offset, out, inn);
      values[k] = r.value;
      cotangents.set(r.cotangent, offset);
    }
    seen?.(values);
    return {
      value: t.tensor1d(values),
      gradFunc: (dy: Tensor) => t.mul(t.reshape(dy, [m, 1, 1]), t.tensor3d(cotangents, [m, out, inn])),
    };
  });
  return op(j) as Tensor1D;
}
