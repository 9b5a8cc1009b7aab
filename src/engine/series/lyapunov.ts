// Lyapunov exponents of the (joint) state transition by Benettin's method: k orthonormal directions are
// carried by the per-step Jacobians, Q ← J_t·Q, and re-orthonormalised by a QR decomposition every m steps
// (Householder, qr.ts); the log|R_ii| are summed in float64. Q stays in float64 throughout: the
// weakest directions shrink by e^(λ_1−λ_k) per step relative to the strongest, and in float32 they would
// drown in the rounding of the strong ones within a few steps (J·Q costs D²k, small beside the Jacobians).
// After a discarded transient, λ_i = Σ ln|R_ii| / steps, natural log per step. A zero pivot (a direction
// the map annihilates) is counted and clamped to ln(1e-300) instead of −∞. The running estimate is kept at
// up to CONVERGENCE_POINTS steps, so the user sees whether it has settled; the spread is over the batch.
import { thinQr } from './qr';
import { Rng } from '../params/rng';

export interface LyapunovOptions {
  /** How many exponents (k ≤ D). */
  exponents: number;
  /** Re-orthonormalise every m steps. */
  every: number;
  /** Steps iterated but not counted, so the directions first align with the dominant ones. */
  transient: number;
}

export const DEFAULT_LYAPUNOV: Omit<LyapunovOptions, 'exponents'> & { maxExponents: number } = { maxExponents: 64, every: 1, transient: 0 };

export interface LyapunovSpectrum {
  /** Mean over the batch, descending: λ_1 ≥ … ≥ λ_k (ln per step). */
  exponents: number[];
  /** Standard deviation over the batch of each exponent (0 for a batch of one). */
  spread: number[];
  /** Per batch element, descending. */
  perBatch: number[][];
  /** Steps counted (after the transient) and the settings used. */
  steps: number;
  every: number;
  transient: number;
  /** Pivots that were exactly zero (clamped to ln 1e-300). */
  zeroPivots: number;
  /** The running estimate (batch mean, descending) at the steps `t`. */
  convergence: { t: number[]; exponents: number[][] };
  /** Theory's overlays (series/theory.ts), each with the assumptions it rests on. */
  theory?: LyapunovTheory;
}

export interface LyapunovTheory {
  /** Newman's spectrum for i.i.d. Gaussian Jacobians of the measured entry variance σ². */
  newman: { n: number; sigma2: number; exponents: number[]; assumptions: string };
  /** Mean-field λ_max of a random tanh network, when the state is one `h = tanh(drive + h_prev·R)`. */
  meanField?: { gain: number; driveVariance: number; delta: number; lambdaMax: number; assumptions: string };
}

const CONVERGENCE_POINTS = 200;

/** J·Q in float64, J the [D, D] row-major block of `data` at `offset`, Q [D, k] row-major. */
function multiply(data: Float32Array, offset: number, D: number, qd: Float64Array, k: number): Float64Array {
  const out = new Float64Array(D * k);
  for (let i = 0; i < D; i++) {
    const row = offset + i * D;
    for (let l = 0; l < D; l++) {
      const a = data[row + l];
      if (a === 0) continue;
      const ql = l * k;
      const oi = i * k;
      for (let c = 0; c < k; c++) out[oi + c] += a * qd[ql + c];
    }
  }
  return out;
}
const LOG_FLOOR = Math.log(1e-300);

/** D×k with orthonormal columns, seeded: a generic start, so the directions reach the top-k subspace. */
function randomOrthonormal(D: number, k: number, rng: Rng): Float64Array {
  return thinQr(Float64Array.from({ length: D * k }, () => rng.normal()), D, k).q;
}

export class LyapunovAccumulator {
  private q: Float64Array[];
  private readonly sums: Float64Array[];
  private sinceQr = 0;
  private counted = 0;
  private seen = 0;
  private zeroPivots = 0;
  private readonly history: { t: number; exponents: number[] }[] = [];

  constructor(
    private readonly B: number,
    private readonly D: number,
    private readonly options: LyapunovOptions,
    private readonly totalSteps: number,
  ) {
    const rng = new Rng(0, 'series:lyapunov');
    this.q = [...Array(B)].map(() => randomOrthonormal(D, options.exponents, rng));
    this.sums = [...Array(B)].map(() => new Float64Array(options.exponents));
  }

  /** The transitions of step t (t = 1, 2, … in order), [B, D, D] row-major. */
  push(step: number, jacobians: Float32Array): void {
    const { D } = this;
    const k = this.options.exponents;
    this.q = this.q.map((q, b) => multiply(jacobians, b * D * D, D, q, k));
    this.seen++;
    this.sinceQr++;
    if (this.sinceQr < this.options.every && this.seen < this.totalSteps) return;
    // A block of steps is counted when it starts after the transient; its QR still re-orthonormalises.
    const block = this.sinceQr;
    this.sinceQr = 0;
    const counting = this.seen - block >= this.options.transient;
    this.q = this.q.map((q, b) => {
      const qr = thinQr(q, this.D, k);
      if (counting) {
        for (let i = 0; i < k; i++) {
          const pivot = qr.rAbsDiag[i];
          if (pivot === 0) this.zeroPivots++;
          this.sums[b][i] += pivot > 0 ? Math.max(Math.log(pivot), LOG_FLOOR) : LOG_FLOOR;
        }
      }
      return qr.q;
    });
    if (!counting) return;
    this.counted += block;
    const stride = Math.max(1, Math.ceil(this.totalSteps / CONVERGENCE_POINTS));
    if (this.history.length === 0 || step % stride === 0 || this.seen === this.totalSteps) this.history.push({ t: step, exponents: this.meanEstimate() });
  }

  private estimate(b: number): number[] {
    return [...this.sums[b]].map((s) => s / Math.max(this.counted, 1)).sort((x, y) => y - x);
  }

  private meanEstimate(): number[] {
    const per = [...Array(this.B).keys()].map((b) => this.estimate(b));
    return per[0].map((_, i) => per.reduce((a, p) => a + p[i], 0) / this.B);
  }

  result(): LyapunovSpectrum {
    const perBatch = [...Array(this.B).keys()].map((b) => this.estimate(b));
    const exponents = this.meanEstimate();
    const spread = exponents.map((m, i) => Math.sqrt(perBatch.reduce((a, p) => a + (p[i] - m) ** 2, 0) / this.B));
    return {
      exponents,
      spread,
      perBatch,
      steps: this.counted,
      every: this.options.every,
      transient: this.options.transient,
      zeroPivots: this.zeroPivots,
      convergence: { t: this.history.map((h) => h.t), exponents: this.history.map((h) => h.exponents) },
    };
  }
}
