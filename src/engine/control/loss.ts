// The LSC loss: mean over kinds, steps and batch of (ρ − target)², ρ of each kind's Jacobian. The rollout is
// written with plain tfjs ops (no tidy, no await) so that a gradient tape sees the whole path from the
// parameters to ρ, through the states the parameters produced.
import type { Scalar } from '@tensorflow/tfjs-core';
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../backend/tf';
import { evaluateStep } from '../graph/evaluate';
import { referableTensors, type CellGraph } from '../graph/graph';
import { Trajectory, type RolloutInputs } from '../run/rollout';
import { kindJacobians, type ControlKind } from './kinds';
import { eigenvectorSource, spectralMeasure, type EigenvectorMethod, type MeasurePurpose } from './measureOp';

/** The rollout of `rollout.ts`, differentiable: every stored tensor stacked per step. */
export function differentiableTrajectory(graph: CellGraph, data: RolloutInputs, T: number, B: number): Trajectory {
  const t = tf();
  const stored = referableTensors(graph);
  const perStep = new Map<string, Tensor[]>(stored.map((n) => [n.name, []]));
  let states = new Map<string, Tensor>(graph.states.map((s) => [s.name, t.tensor2d(data.initialStates.get(s.name)!, [B, s.dim])]));
  for (const s of graph.states) perStep.get(s.name)!.push(states.get(s.name)!);
  const inputDims = new Map(graph.inputs.map((name) => [name, graph.nodes.find((n) => n.name === name)!.shape[0]]));
  for (let step = 1; step <= T; step++) {
    const leaves = new Map<string, Tensor>(data.params);
    for (const s of graph.states) leaves.set(s.prev, states.get(s.name)!);
    for (const [name, dim] of inputDims) {
      leaves.set(name, t.tensor2d(data.inputs.get(name)!.subarray((step - 1) * B * dim, step * B * dim), [B, dim]));
    }
    const values = evaluateStep(graph, leaves);
    for (const n of stored) perStep.get(n.name)!.push(values.get(n.name)!);
    states = new Map(graph.states.map((s) => [s.name, values.get(s.name)!]));
  }
  const series = new Map([...perStep].map(([name, list]) => [name, t.stack(list) as Tensor3D]));
  return new SlicedTrajectory(graph, T, B, series);
}

/**
 * Reads consecutive steps with a slice instead of the gather the analysis uses: gather's gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks, and these reads are always a consecutive run of steps.
 */
class SlicedTrajectory extends Trajectory {
  private readonly sliceStateOfPrev: Map<string, string>;
  private readonly sliceStateNames: Set<string>;
  constructor(graph: CellGraph, T: number, B: number, series: Map<string, Tensor3D>) {
    super(graph, T, B, series);
    this.sliceStateOfPrev = new Map(graph.states.map((s) => [s.prev, s.name]));
    this.sliceStateNames = new Set(graph.states.map((s) => s.name));
  }

  override at(name: string, steps: readonly number[]): Tensor2D {
    const t = tf();
    if (steps.some((s, i) => s !== steps[0] + i)) return super.at(name, steps);
    // Series index of step s: a previous state is its state at s − 1, a state at s (index 0 = initial), others s − 1.
    const state = this.sliceStateOfPrev.get(name);
    const series = this.series3d(state ?? name);
    const first = state ? steps[0] - 1 : this.sliceStateNames.has(name) ? steps[0] : steps[0] - 1;
    const d = series.shape[2];
    return t.reshape(t.slice(series, [first, 0, 0], [steps.length, this.B, d]), [steps.length * this.B, d]);
  }
}

export interface LossParts {
  /** Per kind: ρ (or σ_max) of each step and batch row, row k·B + b = step k+1, element b. */
  values: Float32Array[];
}

/**
 * The trajectory the Jacobians are evaluated on. `throughStates`: the gradient also follows how the parameters
 * moved the states (what a GradientTape around the whole rollout gives); otherwise the states are taken as data
 * and only the Jacobian's own dependence on the parameters is differentiated — in a chaotic network the states'
 * sensitivity grows like e^{λ₁t} and would drown the gradient.
 */
export function controlTrajectory(graph: CellGraph, data: RolloutInputs, T: number, B: number, throughStates: boolean): Trajectory {
  if (throughStates) return differentiableTrajectory(graph, data, T, B);
  const t = tf();
  // New tensors from the values: the tape has no path from them back to the parameters.
  const frozen = new Map([...data.params].map(([name, p]) => [name, t.tensor(p.dataSync(), p.shape, p.dtype)]));
  return differentiableTrajectory(graph, { ...data, params: frozen }, T, B);
}

/** Mean over kinds of mean((ρ − target)²); `parts` receives the measured values. */
export function controlLoss(
  graph: CellGraph,
  kinds: readonly ControlKind[],
  data: RolloutInputs,
  T: number,
  B: number,
  parts: LossParts,
  throughStates = true,
  eigenvectors: EigenvectorMethod = 'auto',
  purpose: MeasurePurpose = 'step',
): Scalar {
  const t = tf();
  const traj = controlTrajectory(graph, data, T, B, throughStates);
  const js = kinds.map((kind) => kindJacobians(graph, kind, traj, data.params));
  const rhos = new Array<Tensor>(kinds.length);
  // Kinds of the same shape and measure (the time kinds of stacked layers) share one measurement: one Arnoldi run
  // over all their matrices instead of one per kind.
  const groups = new Map<string, number[]>();
  kinds.forEach((kind, k) => {
    const key = `${kind.measure} ${js[k].shape.join('×')}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  });
  for (const members of groups.values()) {
    const j = members.length === 1 ? js[members[0]] : (t.concat(members.map((k) => js[k])) as Tensor3D);
    const rows = js[members[0]].shape[0];
    const seen = (v: Float32Array) => members.forEach((k, i) => (parts.values[k] = v.slice(i * rows, (i + 1) * rows)));
    const rho = spectralMeasure(j, kinds[members[0]].measure, seen, eigenvectorSource(eigenvectors, purpose));
    const split = members.length === 1 ? [rho] : t.split(rho, members.length);
    members.forEach((k, i) => (rhos[k] = split[i]));
  }
  const perKind = kinds.map((kind, k) => t.mean(t.square(t.sub(rhos[k], kind.target))));
  return t.div(t.addN(perKind), kinds.length) as Scalar;
}
