// What a control run optimises, from a config: the cell's graph, its parameters (initial values), which of them
// train, the Jacobian kinds with their targets, and the data of each optimisation step.
import type { RunSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph } from '../graph/graph';
import { buildCell } from '../cells';
import { initialStates, initParams, inputSeries } from '../run/data';
import type { RolloutInputs } from '../run/rollout';
import type { ControlMeasure } from './dominant';
import type { ControlKind } from './kinds';
import type { StabilizeSpec, TargetSpec } from './config';

export interface ControlProblem {
  spec: RunSpec;
  graph: CellGraph;
  /** Initial values by graph name. */
  initial: Map<string, Float32Array>;
  /** Graph names of the parameters that train. */
  trainable: string[];
  /** States of the joint transition Jacobian. */
  states: string[];
}

/**
 * States of the joint transition Jacobian by default: all of the cell's, except the seed cell's c, an
 * integrator (∂c_t/∂c_{t-1} = I): with it in the block, ρ ≥ 1 whatever the weights, so no target below 1 could be met.
 */
function defaultStates(graph: CellGraph): string[] {
  if (graph.cell === 'seed') return ['h'];
  return graph.states.map((s) => s.name);
}

export function controlProblem(
  spec: RunSpec,
  options: Pick<StabilizeSpec, 'params' | 'paramPaths' | 'states' | 'statesPath'>,
): ControlProblem {
  const graph = buildCell(spec);
  const issues = [];
  const byWeight = new Map(graph.params.map((p) => [p.weightName ?? p.name, p.name]));
  const trainable: string[] = [];
  for (const [i, name] of (options.params ?? [...byWeight.keys()]).entries()) {
    const graphName = byWeight.get(name);
    if (graphName) trainable.push(graphName);
    else issues.push(spec.locator.issueAt(options.paramPaths[i], `the ${graph.cell} cell has no parameter "${name}"; its parameters are ${[...byWeight.keys()].join(', ')}`));
  }
  const stateNames = graph.states.map((s) => s.name);
  for (const s of options.states ?? []) {
    if (!stateNames.includes(s)) issues.push(spec.locator.issueAt(options.statesPath, `the ${graph.cell} cell has no state "${s}"; its states are ${stateNames.join(', ')}`));
  }
  if (issues.length) throw new UserError('config', issues);
  return { spec, graph, initial: initParams(graph, spec), trainable, states: options.states ?? defaultStates(graph) };
}

/** The LSC kinds: the joint transition Jacobian and, when asked, the input Jacobian (σ_max: it is not square). */
export function stabilizeKinds(problem: ControlProblem, options: Pick<StabilizeSpec, 'target' | 'measure' | 'input' | 'timeSteps'>): ControlKind[] {
  const joint = problem.states.join(',');
  const many = problem.states.length > 1;
  const time: ControlKind = {
    name: 'time',
    label: many ? `∂(${joint})@t/∂(${joint})@t-1` : `∂${joint}@t/∂${joint}@t-1`,
    rows: problem.states,
    cols: problem.states,
    measure: options.measure,
    target: targetFor('time', options.target, options.timeSteps),
  };
  if (!options.input) return [time];
  const input: ControlKind = {
    name: 'input',
    label: many ? `∂(${joint})@t/∂x@t` : `∂${joint}@t/∂x@t`,
    rows: problem.states,
    cols: problem.graph.inputs,
    measure: 'norm' as ControlMeasure,
    target: targetFor('input', options.target, options.timeSteps),
  };
  return [time, input];
}

/** One layer (L = 1) until stacked layers exist: the unbalanced split is T/(T+1) for time and 1/(T+1) for depth. */
export function targetFor(kind: 'time' | 'input', target: TargetSpec, T: number, L = 1): number {
  if (typeof target === 'number') return target;
  if (target === 'unbalanced') return kind === 'time' ? T / (T + L) : L / (T + L);
  return target[kind] ?? 1;
}

/** Fresh data for an optimisation step: the config's distributions under a seed of its own (files: the same every step). */
export function stepData(problem: ControlProblem, seed: number, batchSize: number, timeSteps: number): Omit<RolloutInputs, 'params'> {
  const spec = { ...problem.spec, seed, batchSize, timeSteps };
  return { initialStates: initialStates(problem.graph, spec), inputs: inputSeries(problem.graph, spec) };
}
