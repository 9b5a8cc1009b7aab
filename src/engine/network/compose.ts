// A stacked network is one CellGraph: every layer's graph with its names qualified by the layer
// (`l0.h`, `l1.c`, leaves `l0.h_prev`, params `l1.kernel`), and layer l's input replaced by layer l−1's
// output of the same step (Keras return_sequences=True). Rollout, both Jacobian methods, memory and
// theory walk this graph unchanged: a depth pair `l1.h@t wrt l0.h@t` is a same-step pair like any other.
// The network's own input keeps its name (`x`), and a one-cell config is that cell's graph, unqualified.
import type { CellGraph, GraphNode } from '../graph/graph';

export interface NetworkLayer {
  /** The layer's name, the qualifier of its tensors (`l0`, or the Keras layer name). */
  name: string;
  /** The layer's own graph, with unqualified names. */
  graph: CellGraph;
}

/** Where each layer's tensors and parameters went in the composed graph. */
export interface LayerPlacement {
  name: string;
  /** Layer-local name → name in the network graph. */
  rename: ReadonlyMap<string, string>;
}

export interface Network {
  graph: CellGraph;
  layers: LayerPlacement[];
}

/** A layer that cannot be stacked; `layer` is its index, for the caller to locate. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly layer: number,
  ) {
    super(message);
  }
}

/** The qualified name of a layer's tensor. */
export const qualify = (layer: string, name: string): string => `${layer}.${name}`;

/** The layer a qualified name belongs to, and its local name; undefined for an unqualified one. */
export function splitQualified(name: string): { layer: string; local: string } | undefined {
  const dot = name.indexOf('.');
  return dot > 0 ? { layer: name.slice(0, dot), local: name.slice(dot + 1) } : undefined;
}

function layerRenames(layer: NetworkLayer, index: number, previousOutput: string | undefined): Map<string, string> {
  const { graph } = layer;
  const rename = new Map<string, string>();
  for (const n of graph.nodes) rename.set(n.name, qualify(layer.name, n.name));
  if (index === 0) {
    for (const x of graph.inputs) rename.set(x, x);
    return rename;
  }
  if (graph.inputs.length !== 1) {
    throw new NetworkError(`layer "${layer.name}" has ${graph.inputs.length} inputs; a stacked layer reads exactly one, the previous layer's output`, index);
  }
  rename.set(graph.inputs[0], previousOutput!);
  return rename;
}

/**
 * Composes layers into one network graph. A single unnamed layer (a one-cell config) is returned as it is;
 * named layers are qualified even when there is one (`layers: [{…}]` names its tensors `l0.h`).
 */
export function composeNetwork(layers: NetworkLayer[]): Network {
  if (layers.length === 1 && layers[0].name === '') {
    const graph = layers[0].graph;
    return { graph, layers: [{ name: layers[0].name, rename: new Map(graph.nodes.map((n) => [n.name, n.name])) }] };
  }
  const nodes: GraphNode[] = [];
  const composed: CellGraph = { cell: layers.map((l) => l.graph.cell).join('→'), nodes, states: [], inputs: [], outputs: [], params: [] };
  const placements: LayerPlacement[] = [];
  let previousOutput: string | undefined;
  layers.forEach((layer, index) => {
    const { graph } = layer;
    const rename = layerRenames(layer, index, previousOutput);
    const r = (name: string) => rename.get(name)!;
    const replacedInput = index > 0 ? graph.inputs[0] : undefined;
    for (const n of graph.nodes) {
      if (n.name === replacedInput) continue;
      nodes.push({ ...n, name: r(n.name), ...(n.inputs ? { inputs: n.inputs.map(r) } : {}) });
    }
    composed.states.push(...graph.states.map((s) => ({ name: r(s.name), prev: r(s.prev), dim: s.dim })));
    if (index === 0) composed.inputs.push(...graph.inputs);
    composed.outputs.push(...graph.outputs.map(r));
    // A parameter's weight name is qualified with `/`, as Keras names a layer's weights (`l1/kernel`):
    // it is the --save name and the random stream, so layers of equal shape never share numbers.
    composed.params.push(...graph.params.map((p) => ({ ...p, name: r(p.name), weightName: `${layer.name}/${p.weightName ?? p.name}` })));
    if (graph.outputs.length === 0) {
      throw new NetworkError(`layer "${layer.name}" has no output for the next layer to read`, index);
    }
    previousOutput = r(graph.outputs[0]);
    placements.push({ name: layer.name, rename });
  });
  return { graph: composed, layers: placements };
}
