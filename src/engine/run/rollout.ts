// Runs the cell for T steps over a batch and keeps every batched tensor at every step: the
// structured Jacobians of all steps are then independent of each other and can be computed in a few
// large batched ops, and the autodiff method can restart from any step.
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../backend/tf';
import { throwIfAborted } from '../errors';
import { referableTensors, type CellGraph } from '../graph/graph';
import { evaluateStep } from '../graph/evaluate';

export interface RolloutInputs {
  params: ReadonlyMap<string, Tensor>;
  /** Per state: [B, dim]. */
  initialStates: ReadonlyMap<string, Float32Array>;
  /** Per input: [T, B, dim]. */
  inputs: ReadonlyMap<string, Float32Array>;
}

/** Every batched tensor of the rollout. States hold [T+1, B, d] (index 0 = initial); others [T, B, d]. */
export class Trajectory {
  private readonly prevOf: Map<string, string>;
  private readonly stateNames: Set<string>;

  constructor(
    readonly graph: CellGraph,
    readonly T: number,
    readonly B: number,
    private readonly series: Map<string, Tensor3D>,
  ) {
    this.prevOf = new Map(graph.states.map((s) => [s.prev, s.name]));
    this.stateNames = new Set(graph.states.map((s) => s.name));
  }

  /** The whole series of a tensor (states: [T+1, B, d]; others: [T, B, d]). */
  series3d(name: string): Tensor3D {
    const s = this.series.get(name);
    if (!s) throw new Error(`internal: no series for ${name}`);
    return s;
  }

  /** Index into the stored series of the value node `name` takes in the graph of step `step` (1-based). */
  private index(name: string, step: number): { series: string; index: number } {
    const state = this.prevOf.get(name);
    if (state) return { series: state, index: step - 1 };
    if (this.stateNames.has(name)) return { series: name, index: step };
    return { series: name, index: step - 1 };
  }

  /** Values of a batched node in the graphs of the given steps, stacked as [steps·B, d]. */
  at(name: string, steps: readonly number[]): Tensor2D {
    const t = tf();
    const first = this.index(name, steps[0]);
    const s = this.series3d(first.series);
    const d = s.shape[2];
    const offset = first.index - steps[0];
    // Always a gather, even for consecutive steps: the wasm backend's slice kernel copies its whole input
    // out of the wasm heap on every call, which made long runs quadratic in T; gather reads only its rows.
    const picked = t.gather(s, t.tensor1d(steps.map((st) => st + offset), 'int32'));
    return t.reshape(picked, [steps.length * this.B, d]);
  }

  dispose(): void {
    for (const s of this.series.values()) s.dispose();
    this.series.clear();
  }
}

const STACK_EVERY = 256;

export async function rollout(
  graph: CellGraph,
  data: RolloutInputs,
  T: number,
  B: number,
  onStep?: (step: number) => void,
  signal?: AbortSignal,
): Promise<Trajectory> {
  const t = tf();
  // Every tensor of/wrt can name is kept per step.
  const stored = referableTensors(graph);
  const pending = new Map<string, Tensor2D[]>(stored.map((n) => [n.name, []]));
  const chunks = new Map<string, Tensor3D[]>(stored.map((n) => [n.name, []]));
  let states = new Map<string, Tensor2D>(
    graph.states.map((s) => [s.name, t.tensor2d(data.initialStates.get(s.name)!, [B, s.dim])]),
  );
  for (const s of graph.states) chunks.get(s.name)!.push(t.expandDims(states.get(s.name)!, 0) as Tensor3D);
  const inputDims = new Map(graph.inputs.map((name) => [name, graph.nodes.find((n) => n.name === name)!.shape[0]]));

  const flush = () => {
    for (const [name, list] of pending) {
      if (list.length === 0) continue;
      chunks.get(name)!.push(t.stack(list) as Tensor3D);
      list.forEach((x) => x.dispose());
      pending.set(name, []);
    }
  };

  for (let step = 1; step <= T; step++) {
    throwIfAborted(signal);
    const kept = t.tidy(() => {
      const leaves = new Map<string, Tensor>(data.params);
      for (const s of graph.states) leaves.set(s.prev, states.get(s.name)!);
      // Each step's input is made from its own slice of the host array: slicing one [T, B, d] tensor per
      // step would copy the whole series out of the wasm heap every time (quadratic in T).
      for (const [name, dim] of inputDims) {
        leaves.set(name, t.tensor2d(data.inputs.get(name)!.subarray((step - 1) * B * dim, step * B * dim), [B, dim]));
      }
      const values = evaluateStep(graph, leaves);
      // tidy keeps exactly what is returned: the stored nodes' values for this step. Cloned, because a
      // node may be its own input's tensor (linear activation, an input leaf) and each kept value must
      // be owned once.
      return stored.map((n) => t.clone(values.get(n.name)! as Tensor2D));
    });
    const next = new Map<string, Tensor2D>();
    stored.forEach((n, i) => {
      pending.get(n.name)!.push(kept[i]);
      // A clone shares the data but lives independently of the pending list, which flush() disposes.
      if (states.has(n.name)) next.set(n.name, t.clone(kept[i]));
    });
    states.forEach((x) => x.dispose());
    states = next;
    if (step % STACK_EVERY === 0) flush();
    onStep?.(step);
    // Let progress messages and cancellation through on long runs.
    if (step % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  flush();
  states.forEach((x) => x.dispose());
  const series = new Map<string, Tensor3D>();
  for (const [name, list] of chunks) {
    series.set(name, list.length === 1 ? list[0] : (t.concat(list, 0) as Tensor3D));
    if (list.length > 1) list.forEach((x) => x.dispose());
  }
  return new Trajectory(graph, T, B, series);
}
