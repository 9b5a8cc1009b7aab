// What a control run optimises, from a config: the cell's graph, its parameters (initial values), which of them
// train, the Jacobian kinds with their targets, and the data of each optimisation step.
import type { RunSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph } from '../graph/graph';
import { buildNetwork, initNetworkParams, type BuiltNetwork } from '../network/network';
import { initialStates, inputSeries } from '../run/data';
import type { RolloutInputs } from '../run/rollout';
import { checkMemory } from '../run/memory';
import type { ControlMeasure } from './dominant';
import type { ControlKind } from './kinds';
import type { StabilizeSpec, TargetSpec } from './config';

export interface ControlProblem {
  spec: RunSpec;
  /** The network (one layer, unqualified names, for a one-cell config). */
  network: BuiltNetwork;
  graph: CellGraph;
  /** Initial values by graph name. */
  initial: Map<string, Float32Array>;
  /** Graph names of the parameters that train. */
  trainable: string[];
  /** Per layer, the states of its joint transition Jacobian (network names), and its output. */
  layers: { name: string; states: string[]; output: string }[];
  /** All of them, bottom layer first. */
  states: string[];
}

/**
 * States of a layer's joint transition Jacobian by default: all of its cell's, except the seed cell's c, an
 * integrator (∂c_t/∂c_{t-1} = I): with it in the block, ρ ≥ 1 whatever the weights, so no target below 1 could be met.
 */
function defaultStates(layer: CellGraph): string[] {
  if (layer.cell === 'seed') return ['h'];
  return layer.states.map((s) => s.name);
}

/** The dimension of the joint state made of `states` (h and c of an LSTM together). */
export function jointDim(graph: CellGraph, states: string[]): number {
  return states.reduce((sum, name) => sum + graph.states.find((x) => x.name === name)!.dim, 0);
}

/**
 * Refuses, at its key, a control run that cannot fit in maxMemoryMB, before its parameters are drawn: the
 * parameters with Adam's two moments and their gradient, and per optimisation step every layer's joint Jacobian
 * at every step and batch element, about six times: the tensor and its values in JS, the tape's copy, the transpose
 * the right eigenvectors are found on, the second thread's copy and tensor for the left ones (the cotangent is
 * formed in the backward pass, after the eigenproblem's copies are gone).
 */
function checkControlMemory(spec: RunSpec, network: BuiltNetwork, jointDims: number[], size: { batchSize?: number; timeSteps?: number; statesPath: string }): void {
  const block = size.statesPath.split('.')[0];
  const paramFloats = network.graph.params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  const matrices = (size.batchSize ?? spec.batchSize) * (size.timeSteps ?? spec.timeSteps);
  const jacobianFloats = jointDims.reduce((sum, d) => sum + 2 * d * d, 0); // time and depth kinds
  checkMemory(
    [
      { what: 'parameters, Adam moments and gradient', bytes: paramFloats * 4 * 5, path: 'units' },
      { what: `Jacobians of one optimisation step (${matrices} per kind)`, bytes: matrices * jacobianFloats * 4 * 6, path: `${block}.batchSize` },
    ],
    spec.maxMemoryMB,
    spec,
  );
}

export function controlProblem(
  spec: RunSpec,
  options: Pick<StabilizeSpec, 'params' | 'paramPaths' | 'states' | 'statesPath'> & Partial<Pick<StabilizeSpec, 'batchSize' | 'timeSteps'>>,
): ControlProblem {
  const network = buildNetwork(spec);
  const graph = network.graph;
  const issues = [];
  const byWeight = new Map(graph.params.map((p) => [p.weightName ?? p.name, p.name]));
  const trainable: string[] = [];
  for (const [i, name] of (options.params ?? [...byWeight.keys()]).entries()) {
    const graphName = byWeight.get(name);
    if (graphName) trainable.push(graphName);
    else issues.push(spec.locator.issueAt(options.paramPaths[i], `the network has no parameter "${name}"; its parameters are ${[...byWeight.keys()].join(', ')}`));
  }
  // `states` names a layer's states by their local names (h, c), for every layer.
  const layers = network.layers.map((placement, l) => {
    const local = network.layerGraphs[l];
    const names = local.states.map((s) => s.name);
    for (const s of options.states ?? []) {
      if (!names.includes(s)) issues.push(spec.locator.issueAt(options.statesPath, `the ${local.cell} cell${network.layers.length > 1 ? ` of layer ${placement.name}` : ''} has no state "${s}"; its states are ${names.join(', ')}`));
    }
    const rename = (n: string) => placement.rename.get(n) ?? n;
    return { name: placement.name, states: (options.states ?? defaultStates(local)).filter((s) => names.includes(s)).map(rename), output: rename(local.outputs[0]) };
  });
  if (issues.length) throw new UserError('config', issues);
  checkControlMemory(spec, network, layers.map((l) => jointDim(graph, l.states)), options);
  const { params } = initNetworkParams(network, spec);
  return { spec, network, graph, initial: params, trainable, layers, states: layers.flatMap((l) => l.states) };
}

const joint = (names: string[]) => (names.length > 1 ? `(${names.join(',')})` : names[0]);

/**
 * The LSC kinds: per layer its joint transition Jacobian; between consecutive layers the depth Jacobian
 * ∂(layer l output)@t/∂(layer l−1 output)@t; when asked, the input Jacobian of the first layer (σ_max: not square).
 */
export function stabilizeKinds(problem: ControlProblem, options: Pick<StabilizeSpec, 'target' | 'measure' | 'input' | 'timeSteps'>): ControlKind[] {
  const L = problem.layers.length;
  const target = (kind: 'time' | 'input' | 'depth') => targetFor(kind, options.target, options.timeSteps, L);
  const kinds: ControlKind[] = problem.layers.map((layer) => ({
    name: 'time',
    label: `∂${joint(layer.states)}@t/∂${joint(layer.states)}@t-1`,
    rows: layer.states,
    cols: layer.states,
    measure: options.measure,
    target: target('time'),
  }));
  const dim = (name: string) => problem.graph.nodes.find((n) => n.name === name)!.shape[0];
  for (let l = 1; l < L; l++) {
    const [lower, upper] = [problem.layers[l - 1].output, problem.layers[l].output];
    kinds.push({
      name: 'depth',
      label: `∂${upper}@t/∂${lower}@t`,
      rows: [upper],
      cols: [lower],
      measure: dim(upper) === dim(lower) ? options.measure : 'norm',
      target: target('depth'),
    });
  }
  if (options.input) {
    const first = problem.layers[0].states;
    kinds.push({ name: 'input', label: `∂${joint(first)}@t/∂x@t`, rows: first, cols: problem.graph.inputs, measure: 'norm' as ControlMeasure, target: target('input') });
  }
  return kinds;
}

/** The unbalanced split (L layers, T steps): T/(T+L) for time, L/(T+L) for depth and input. */
export function targetFor(kind: 'time' | 'input' | 'depth', target: TargetSpec, T: number, L = 1): number {
  if (typeof target === 'number') return target;
  if (target === 'unbalanced') return kind === 'time' ? T / (T + L) : L / (T + L);
  return target[kind] ?? 1;
}

/** Fresh data for an optimisation step: the config's distributions under a seed of its own (files: the same every step). */
export function stepData(problem: ControlProblem, seed: number, batchSize: number, timeSteps: number): Omit<RolloutInputs, 'params'> {
  const spec = { ...problem.spec, seed, batchSize, timeSteps };
  return { initialStates: initialStates(problem.graph, spec), inputs: inputSeries(problem.graph, spec) };
}
