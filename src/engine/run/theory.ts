// What theory predicts for varTimesFanIn, beside what was measured. For a transition Jacobian of the
// form J = diag(g'(z))·Wᵀ·diag(f'(y)) with zero-mean weights independent of the activations,
//   Var(J_ij)·fan_in ≈ fan_in · Var(W) · E[f'(y)²] · E[g'(z)²],
// with the expectations taken over the measured pre-activations of the run (not assumed Gaussian).
// Glorot on a square kernel gives fan_in·Var(W) = 1, so ReLU predicts 0.5 and linear 1.0.
import { tf } from '../backend/tf';
import type { ActivationName, RunSpec } from '../config/spec';
import type { CellGraph } from '../graph/graph';
import { ACTIVATION_RULES } from '../graph/ops/activations';
import { initializerVariance } from '../params/initializers';
import type { Expected } from './report';
import type { ResolvedPair } from './pairs';
import type { Trajectory } from './rollout';

/** E[f'(v)²] over the whole series of a tensor (all steps, all batch elements). */
function meanSquaredDerivative(traj: Trajectory, series: string, act: ActivationName, from: number, count: number): number {
  const t = tf();
  return t.tidy(() => {
    const s = traj.series3d(series);
    const v = t.slice(s, [from, 0, 0], [count, s.shape[1], s.shape[2]]);
    return t.mean(t.square(ACTIVATION_RULES[act].derivative(v))).dataSync()[0];
  });
}

function weightVariance(spec: RunSpec, graph: CellGraph, name: string, params: ReadonlyMap<string, Float32Array>): number {
  const decl = graph.params.find((p) => p.name === name)!;
  const closed = initializerVariance(decl.initializer, decl.shape);
  if (closed !== null && spec.cell !== 'custom') return closed;
  // No closed form (or weights not from an initializer): the sample variance of the actual weights.
  const w = params.get(name)!;
  let mean = 0;
  for (const x of w) mean += x;
  mean /= w.length;
  let v = 0;
  for (const x of w) v += (x - mean) ** 2;
  return v / w.length;
}

const fmt = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(4) : x.toExponential(3));

/** Only one-step transition pairs of the form `X@t` wrt `Y@t-1` have a prediction. */
function isTransition(pair: ResolvedPair, of: string, wrt: string): boolean {
  return (
    pair.ofNodes.length === 1 &&
    pair.wrtNodes.length === 1 &&
    pair.ofNodes[0].name === of &&
    pair.wrtNodes[0].name === wrt &&
    pair.occurrences.every((o) => o.start === o.end) &&
    pair.request.of.replace(/\s/g, '') === `${of}@t` &&
    pair.request.wrt.replace(/\s/g, '') === `${wrt}@t-1`
  );
}

export function expectedVarTimesFanIn(
  spec: RunSpec,
  graph: CellGraph,
  pair: ResolvedPair,
  traj: Trajectory,
  params: ReadonlyMap<string, Float32Array>,
): Expected | null {
  const T = spec.timeSteps;
  const n = spec.units;
  if (graph.cell === 'seed' && (isTransition(pair, 'h', 'h') || isTransition(pair, 'c', 'h'))) {
    // ∂h_t/∂h_{t-1} = W_hᵀ·diag(act'(h_{t-1})); the previous states are h@0..h@T-1.
    const varW = weightVariance(spec, graph, 'linear_rec/kernel', params);
    const ef2 = meanSquaredDerivative(traj, 'h', spec.activation, 0, T);
    const core = n * varW * ef2;
    if (pair.ofNodes[0].name === 'h') {
      return { varTimesFanIn: core, formula: `fan_in·Var(W_h)·E[${spec.activation}'(h_{t-1})²] = ${n}·${fmt(varW)}·${fmt(ef2)}` };
    }
    // ∂c_t/∂h_{t-1} = −I + W_hᵀ·diag(act'): the identity adds (1 − 1/n) to varTimesFanIn.
    return {
      varTimesFanIn: core + 1 - 1 / n,
      formula: `fan_in·Var(W_h)·E[${spec.activation}'(h_{t-1})²] + 1 − 1/n = ${n}·${fmt(varW)}·${fmt(ef2)} + ${fmt(1 - 1 / n)}`,
    };
  }
  if (graph.cell === 'simple_rnn' && isTransition(pair, 'h', 'h')) {
    // ∂h_t/∂h_{t-1} = diag(act'(z_t))·Rᵀ with z the measured pre-activations of steps 1..T.
    const varR = weightVariance(spec, graph, 'recurrent_kernel', params);
    const eg2 = meanSquaredDerivative(traj, 'z', spec.activation, 0, T);
    return { varTimesFanIn: n * varR * eg2, formula: `fan_in·Var(R)·E[${spec.activation}'(z_t)²] = ${n}·${fmt(varR)}·${fmt(eg2)}` };
  }
  return null;
}
