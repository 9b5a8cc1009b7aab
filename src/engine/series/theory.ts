// What theory says about a Lyapunov spectrum, drawn beside the measured one:
//  - Newman (1986): for products of independent n×n matrices with i.i.d. N(0, σ²) entries,
//      λ_i = ½·[ln(2σ²) + ψ((n − i + 1)/2)],  i = 1..n  (ψ: digamma),
//    here with σ² the measured Var(J_ij) — what the spectrum would be if the Jacobians were i.i.d. Gaussian;
//  - mean-field theory of random tanh networks h_t = tanh(W·h_{t−1} + drive) with W_ij ~ N(0, g²/n)
//    (Molgedey, Schuchhardt & Schuster 1992; Engelken, Wolf & Abbott 2023, discrete time):
//      Δ = g²·E[tanh(√Δ·z)²] + E[drive²],   λ_max = ½·ln(g²·E[tanh′(√Δ·z)²]),  z ~ N(0, 1),
//    valid for large n with weights independent of the state (an annealed approximation).
import type { Tensor } from '../backend/tf';
import { tf } from '../backend/tf';
import type { CellGraph, GraphNode } from '../graph/graph';
import type { Trajectory } from '../run/rollout';

/** Digamma ψ(x) for x > 0: recurrence up to x ≥ 10, then the asymptotic series (error < 1e-12). */
export function digamma(x: number): number {
  let shift = 0;
  while (x < 10) {
    shift -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))));
  return shift + Math.log(x) - 1 / (2 * x) - series;
}

/** Newman's exponents λ_1..λ_k of products of i.i.d. N(0, σ²) n×n matrices (natural log per step). */
export function newmanExponents(n: number, sigma2: number, k: number): number[] {
  return [...Array(k).keys()].map((i) => 0.5 * (Math.log(2 * sigma2) + digamma((n - i) / 2)));
}

/** E[f(√Δ·z)] for z ~ N(0, 1), by the trapezoid rule on [−10, 10] (the Gaussian tail beyond is < 1e-22). */
function gaussianMean(f: (x: number) => number, delta: number): number {
  const points = 4001;
  const h = 20 / (points - 1);
  let s = 0;
  for (let i = 0; i < points; i++) {
    const z = -10 + i * h;
    s += f(Math.sqrt(delta) * z) * Math.exp(-z * z / 2) * (i === 0 || i === points - 1 ? 0.5 : 1);
  }
  return (s * h) / Math.sqrt(2 * Math.PI);
}

export interface MeanField {
  gain: number;
  driveVariance: number;
  delta: number;
  lambdaMax: number;
}

/** The mean-field λ_max of a random tanh network with gain g and a drive of second moment `drive`. */
export function meanFieldLambdaMax(gain: number, drive: number): MeanField {
  const g2 = gain * gain;
  // Δ = g²·E[tanh²] + drive: a contraction for the iteration from Δ = 1 (tanh² ≤ 1 keeps it bounded).
  let delta = Math.max(drive, 1);
  for (let it = 0; it < 2000; it++) {
    const next = g2 * gaussianMean((x) => Math.tanh(x) ** 2, delta) + drive;
    if (Math.abs(next - delta) < 1e-13 * Math.max(1, delta)) {
      delta = next;
      break;
    }
    delta = next;
  }
  const slope = gaussianMean((x) => (1 - Math.tanh(x) ** 2) ** 2, delta);
  return { gain, driveVariance: drive, delta, lambdaMax: 0.5 * Math.log(g2 * slope) };
}

/**
 * A state `h = tanh(drive + h_prev·R)` in the graph (SimpleRNN's form, a layer's or a custom cell's): its
 * recurrent kernel and drive node, else undefined (the mean-field prediction then does not apply).
 */
export function tanhRecurrence(graph: CellGraph, state: string): { kernel: string; drive: string } | undefined {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const decl = graph.states.find((s) => s.name === state);
  const h = byName.get(state);
  if (!decl || h?.op !== 'activation' || h.attrs?.activation !== 'tanh') return undefined;
  const z = byName.get(h.inputs![0]);
  if (z?.op !== 'add') return undefined;
  const isRecurrent = (n: GraphNode | undefined) => n?.op === 'matmul' && n.inputs![0] === decl.prev && byName.get(n.inputs![1])?.role === 'param';
  const [a, b] = z.inputs!.map((i) => byName.get(i));
  const rec = isRecurrent(a) ? a : isRecurrent(b) ? b : undefined;
  const drive = rec === a ? b : a;
  if (!rec || !drive?.batched) return undefined;
  return { kernel: rec.inputs![1], drive: drive.name };
}

/** E[drive²] over the whole run: the second moment the mean-field recursion adds each step. */
export function driveSecondMoment(traj: Trajectory, drive: string): number {
  const t = tf();
  return t.tidy(() => t.mean(t.square(traj.series3d(drive))).dataSync()[0]);
}

/** Var of a parameter's entries (population), from its tensor. */
export function entryVariance(w: Tensor): number {
  const t = tf();
  return t.tidy(() => t.moments(w).variance.dataSync()[0]);
}
