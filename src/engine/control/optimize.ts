// The optimisation loop shared by LSC and flossing: Adam on the trainable parameters, fresh data every step,
// stopping when every measured quantity's median is within the tolerance of its target for `patience`
// consecutive steps (or at the step / time budget), keeping the weights of the best step.
import type { Scalar, Variable } from '@tensorflow/tfjs-core';
import { tf, type Tensor } from '../backend/tf';
import type { RolloutInputs } from '../run/rollout';
import type { CommonControl } from './config';
import type { MeasurePurpose } from './measureOp';
import type { ControlProblem } from './problem';
import { stepData } from './problem';

/** What is optimised: a loss that also reports, per quantity, the values it measured. */
export interface Objective {
  /** One per controlled quantity (a Jacobian kind, a Lyapunov exponent). */
  quantities: { label: string; target: number }[];
  /**
   * The loss; `values[k]` receives quantity k's measured values (over steps and batch). `purpose` 'report': the values
   * are shown (before/after), so measured more tightly than an optimisation step needs.
   */
  loss(data: RolloutInputs, values: Float32Array[], purpose?: MeasurePurpose): Scalar;
}

export type LoopOptions = Pick<CommonControl, 'learningRate' | 'tolerance' | 'patience' | 'maxSteps' | 'maxSeconds' | 'batchSize' | 'timeSteps'> & {
  signal?: AbortSignal;
  onStep?: (s: StepRecord) => void;
};

export interface StepRecord {
  step: number;
  loss: number;
  /** Per quantity: median of its values at this step (before the step's update). */
  medians: number[];
  seconds: number;
}

export type StopReason = 'converged' | 'maxSteps' | 'maxSeconds' | 'cancelled';

export interface LoopResult {
  history: StepRecord[];
  stop: StopReason;
  /**
   * Parameters (graph names → values): on convergence those that closed the run within tolerance, else those of
   * the step whose medians were nearest their targets (moving average of the worst deviation).
   */
  best: Map<string, Float32Array>;
  bestStep: number;
  msPerStep: number;
}

export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The parameters as tensors: variables for the trainable ones. */
export function parameterTensors(problem: ControlProblem, values: ReadonlyMap<string, Float32Array>): Map<string, Tensor> {
  const t = tf();
  const trainable = new Set(problem.trainable);
  return new Map(
    problem.graph.params.map((p) => {
      const x = t.tensor(values.get(p.name)!, p.shape);
      if (!trainable.has(p.name)) return [p.name, x];
      // A variable keeps its own copy of the initial value.
      const v = t.variable(x, true);
      x.dispose();
      return [p.name, v];
    }),
  );
}

function snapshot(params: ReadonlyMap<string, Tensor>): Map<string, Float32Array> {
  return new Map([...params].map(([name, x]) => [name, Float32Array.from(x.dataSync() as Float32Array)]));
}

export async function optimize(problem: ControlProblem, objective: Objective, options: LoopOptions): Promise<LoopResult> {
  const t = tf();
  const params = parameterTensors(problem, problem.initial);
  const vars = problem.trainable.map((n) => params.get(n) as Variable);
  const adam = t.train.adam(options.learningRate);
  const history: StepRecord[] = [];
  const started = performance.now();
  let best = snapshot(params);
  let bestStep = 0;
  let bestWorst = Infinity;
  let smoothed = Infinity;
  let inTolerance = 0;
  let stop: StopReason = 'maxSteps';
  try {
    for (let step = 1; step <= options.maxSteps; step++) {
      if (options.signal?.aborted) {
        stop = 'cancelled';
        break;
      }
      const data = { ...stepData(problem, problem.spec.seed + step, options.batchSize, options.timeSteps), params };
      const before = snapshot(params);
      const values: Float32Array[] = [];
      const cost = adam.minimize(() => objective.loss(data, values), true, vars)!;
      const loss = cost.dataSync()[0];
      cost.dispose();
      const medians = values.map(median);
      const worst = Math.max(...medians.map((m, k) => Math.abs(m - objective.quantities[k].target)));
      const record = { step, loss, medians, seconds: (performance.now() - started) / 1000 };
      history.push(record);
      options.onStep?.(record);
      // Best by a moving average of the worst deviation: one lucky batch does not pick the weights.
      smoothed = step === 1 ? worst : 0.8 * smoothed + 0.2 * worst;
      if (smoothed < bestWorst) [best, bestStep, bestWorst] = [before, step, smoothed];
      inTolerance = worst <= options.tolerance ? inTolerance + 1 : 0;
      if (inTolerance >= options.patience) {
        // The last weights measured closed a run of `patience` steps within tolerance: those are kept.
        [best, bestStep] = [before, step];
        stop = 'converged';
        break;
      }
      if (record.seconds > options.maxSeconds) {
        stop = 'maxSeconds';
        break;
      }
      // Lets progress messages and cancellation through.
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    adam.dispose();
    params.forEach((p) => p.dispose());
  }
  const msPerStep = history.length ? (history[history.length - 1].seconds * 1000) / history.length : 0;
  return { history, stop, best, bestStep, msPerStep };
}

/** The objective's quantities (medians and all values) for given parameters, on given data, without a gradient. */
export function measureAt(
  problem: ControlProblem,
  objective: Objective,
  values: ReadonlyMap<string, Float32Array>,
  data: Omit<RolloutInputs, 'params'>,
): { medians: number[]; values: Float32Array[]; loss: number } {
  const t = tf();
  const out: Float32Array[] = [];
  const loss = t.tidy(() => {
    const params = new Map(problem.graph.params.map((p) => [p.name, t.tensor(values.get(p.name)!, p.shape)]));
    return objective.loss({ ...data, params }, out, 'report').dataSync()[0];
  });
  return { medians: out.map(median), values: out, loss };
}
