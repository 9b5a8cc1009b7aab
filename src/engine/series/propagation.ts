// Gradient propagation: how ‖∂s_T/∂s_t‖ decays or grows with T − t, for every t < T, from the per-step
// transitions streamed backward. P_t = J_T·J_{T−1}⋯J_{t+1} is accumulated as P_{t−1} = P_t·J_t (one batched
// matmul per step on the backend), renormalised every step with the scale kept as a float64 log, so
// neither vanishing nor exploding products leave float32 range; only the current product is held.
// ‖P‖₂ is found by power iteration on PᵀP, warm-started from the previous step's vector.
import { tf, type Tensor3D } from '../backend/tf';
import { Rng } from '../params/rng';

export interface GradientCurve {
  /** t = T−1 … 0: the start step of each product ∂s_T/∂s_t. */
  t: number[];
  /** Per batch element, per t: ln‖∂s_T/∂s_t‖₂ and ln‖·‖_F (natural logs: the norms themselves under- or overflow). */
  logSpectral: number[][];
  logFrobenius: number[][];
  /** Least-squares slope of the batch-mean ln‖·‖ against T − t: the exponential rate per step (ln units). */
  rate: { spectral: number; frobenius: number };
}

/** Least-squares slope of y against x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

const POWER_TOL = 1e-7;
const POWER_MAX = 300;

/** ‖P_b‖₂ for each batch element by power iteration on PᵀP; `v` [B, D, 1] is the warm start, updated. */
function spectralNorms(p: Tensor3D, v: Tensor3D): { sigma: Float64Array; v: Tensor3D } {
  const t = tf();
  let current = v;
  let previous: Float64Array | undefined;
  for (let it = 0; it < POWER_MAX; it++) {
    const [next, norms] = t.tidy(() => {
      const w = t.matMul(p, t.matMul(p, current), true, false);
      const n = t.norm(w, 'euclidean', [1, 2], true);
      return [t.div(w, t.maximum(n, 1e-30)) as Tensor3D, t.reshape(n, [-1])];
    });
    current.dispose();
    current = next;
    // ‖PᵀP v‖ for unit v tends to σ₁²; checked every few iterations (each check waits for the backend).
    if (it % 4 === 3 || it === POWER_MAX - 1) {
      const s = Float64Array.from(norms.dataSync() as Float32Array, (x) => Math.sqrt(x));
      norms.dispose();
      if (previous && s.every((x, b) => Math.abs(x - previous![b]) <= POWER_TOL * Math.max(x, 1e-30))) return { sigma: s, v: current };
      previous = s;
    } else norms.dispose();
  }
  return { sigma: previous!, v: current };
}

export class GradientPropagation {
  private product: Tensor3D | undefined;
  private vector: Tensor3D;
  private readonly logScale: Float64Array;
  private readonly curve: { t: number; spectral: Float64Array; frobenius: Float64Array }[] = [];

  constructor(
    private readonly B: number,
    private readonly D: number,
  ) {
    this.logScale = new Float64Array(B);
    const t = tf();
    // A seeded random start: a fixed one (all ones) can be orthogonal to the top singular vector.
    const rng = new Rng(0, 'series:power-iteration');
    const start = Float32Array.from({ length: B * D }, () => rng.normal());
    this.vector = t.tidy(() => {
      const v = t.tensor3d(start, [B, D, 1]);
      return t.div(v, t.norm(v, 'euclidean', [1, 2], true)) as Tensor3D;
    });
  }

  /** The transitions of step t (t = T, T−1, … 1, in that order), [B, D, D] row-major. */
  push(step: number, jacobians: Float32Array): void {
    const t = tf();
    const { B, D } = this;
    const j = t.tensor3d(jacobians, [B, D, D]);
    const raw = this.product ? t.matMul(this.product, j) : t.clone(j);
    j.dispose();
    this.product?.dispose();
    // Renormalise by the Frobenius norm: the product keeps its direction, its size goes to logScale.
    const [scaled, fro] = t.tidy(() => {
      const f = t.norm(raw, 'euclidean', [1, 2], true);
      return [t.div(raw, t.maximum(f, 1e-30)) as Tensor3D, t.reshape(f, [-1])];
    });
    raw.dispose();
    const f = fro.dataSync() as Float32Array;
    fro.dispose();
    for (let b = 0; b < B; b++) this.logScale[b] += Math.log(Math.max(f[b], Number.MIN_VALUE));
    this.product = scaled;
    const { sigma, v } = spectralNorms(scaled, this.vector);
    this.vector = v;
    this.curve.push({
      t: step - 1,
      frobenius: Float64Array.from(this.logScale),
      spectral: Float64Array.from(sigma, (s, b) => this.logScale[b] + Math.log(Math.max(s, Number.MIN_VALUE))),
    });
  }

  result(): GradientCurve {
    this.product?.dispose();
    this.vector.dispose();
    this.product = undefined;
    const T = this.curve.length ? this.curve[0].t + 1 : 0;
    const perBatch = (key: 'spectral' | 'frobenius') => [...Array(this.B).keys()].map((b) => this.curve.map((c) => c[key][b]));
    const distance = this.curve.map((c) => T - c.t);
    const meanLog = (key: 'spectral' | 'frobenius') => this.curve.map((c) => c[key].reduce((a, x) => a + x, 0) / this.B);
    return {
      t: this.curve.map((c) => c.t),
      logSpectral: perBatch('spectral'),
      logFrobenius: perBatch('frobenius'),
      rate: { spectral: slope(distance, meanLog('spectral')), frobenius: slope(distance, meanLog('frobenius')) },
    };
  }
}
