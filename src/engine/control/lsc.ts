// LSC pre-training (Herranz-Celotti & Rouat, arXiv 2308.12075): drive the spectral radius of the transition
// Jacobians to a target before training on a task. Config → problem → Adam loop → best weights, with ρ per kind
// measured before and after on the config's own data (its seed), the same data `analyze` uses.
import type { RunSpec } from '../config/spec';
import { initBackend, type BackendName, type BackendPreference } from '../backend/backend';
import { parseRunConfig } from '../runConfig';
import { nodeMap } from '../graph/graph';
import { secondThreadSettled, startSecondThread } from '../thread/secondThread';
import { LSC_STEP_KRYLOV } from './krylov';
import { type CommonControl, type StabilizeSpec, parseStabilize } from './config';
import type { ControlKind } from './kinds';
import { controlLoss } from './loss';
import { measureAt, optimize, type LoopResult, type Objective, type StepRecord } from './optimize';
import { controlProblem, stabilizeKinds, stepData, type ControlProblem } from './problem';

export interface ControlRunOptions {
  backend?: BackendPreference;
  signal?: AbortSignal;
  onStep?: (s: StepRecord) => void;
  /** Called once the quantities are known and measured on the config's own data, before the first step. */
  onStart?: (quantities: { label: string; target: number; before: number }[]) => void;
  /** Overrides of the block's budget (tests, benchmarks). */
  maxSteps?: number;
}

export interface QuantityReport {
  label: string;
  target: number;
  /** Medians over batch and steps, on the config's own data. */
  before: number;
  after: number;
}

export interface ControlResult {
  kind: 'stabilize' | 'floss';
  backend: BackendName;
  problem: ControlProblem;
  quantities: QuantityReport[];
  loop: LoopResult;
  /** The best parameters by graph name. */
  weights: Map<string, Float32Array>;
}

export function lscObjective(problem: ControlProblem, kinds: ControlKind[], options: Pick<StabilizeSpec, 'batchSize' | 'timeSteps' | 'throughStates' | 'eigenvectors'>): Objective {
  return {
    quantities: kinds.map((k) => ({ label: k.label, target: k.target })),
    loss: (data, values, purpose) =>
      controlLoss(problem.graph, kinds, data, options.timeSteps, options.batchSize, { values }, options.throughStates, options.eigenvectors, purpose),
  };
}

/** Runs the loop and reports every quantity before and after on the config's own data. */
export async function runControl(
  kind: ControlResult['kind'],
  problem: ControlProblem,
  objective: Objective,
  block: CommonControl,
  options: ControlRunOptions,
  backend: BackendName,
): Promise<ControlResult> {
  const evalData = stepData(problem, problem.spec.seed, block.batchSize, block.timeSteps);
  const before = measureAt(problem, objective, problem.initial, evalData);
  options.onStart?.(objective.quantities.map((q, k) => ({ ...q, before: before.medians[k] })));
  // The eigenproblems' second thread (started by stabilize) loaded TensorFlow during the measurement above.
  await secondThreadSettled(10_000);
  const loop = await optimize(problem, objective, { ...block, maxSteps: options.maxSteps ?? block.maxSteps, signal: options.signal, onStep: options.onStep });
  const after = measureAt(problem, objective, loop.best, evalData);
  const quantities = objective.quantities.map((q, k) => ({ ...q, before: before.medians[k], after: after.medians[k] }));
  return { kind, backend, problem, quantities, loop, weights: loop.best };
}

export async function stabilizeText(text: string, file: string, options: ControlRunOptions = {}): Promise<ControlResult> {
  const spec: RunSpec = parseRunConfig(text, file);
  const block = parseStabilize(spec, text);
  const backend = await initBackend(options.backend ?? 'auto');
  const problem = controlProblem(spec, block);
  const kinds = stabilizeKinds(problem, block);
  // The second thread of the eigenproblems loads TensorFlow while the first measurement runs here: where Arnoldi
  // will run (below its minimum size the dense route answers on this thread alone).
  const byName = nodeMap(problem.graph);
  const size = (names: string[]) => names.reduce((sum, name) => sum + byName.get(name)!.shape[0], 0);
  if (block.eigenvectors !== 'dense' && kinds.some((k) => k.measure === 'radius' && size(k.rows) >= LSC_STEP_KRYLOV.minSize)) startSecondThread();
  return runControl('stabilize', problem, lscObjective(problem, kinds, block), block, options, backend);
}
