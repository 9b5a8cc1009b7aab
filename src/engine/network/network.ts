// From a RunSpec to the network it describes: every layer's cell built with its own settings, composed
// into one graph (compose.ts), and its parameters drawn or loaded per layer. A one-cell config is a
// network of one layer whose names stay unqualified, so everything written for one cell keeps working.
import { buildCell } from '../cells';
import type { LayerSpec, RunSpec } from '../config/spec';
import { UserError } from '../errors';
import type { CellGraph } from '../graph/graph';
import { loadWeights } from '../params/weights';
import { initParams } from '../run/data';
import { composeNetwork, NetworkError, type Network, type NetworkLayer } from './compose';

/** The RunSpec of one layer: the run's settings with the layer's cell, sizes and weights. */
export function layerRunSpec(spec: RunSpec, layer: LayerSpec, inputDim: number): RunSpec {
  const { name: _name, path: _path, ...cell } = layer;
  return { ...spec, ...cell, inputDim, weights: layer.weights, custom: layer.custom, layers: undefined };
}

/** The layers' cells, each built on the previous one's output size. */
export function buildLayers(spec: RunSpec): { layers: NetworkLayer[]; specs: RunSpec[] } {
  if (!spec.layers) return { layers: [{ name: '', graph: buildCell(spec) }], specs: [spec] };
  const layers: NetworkLayer[] = [];
  const specs: RunSpec[] = [];
  let inputDim = spec.inputDim;
  for (const layer of spec.layers) {
    const layerSpec = layerRunSpec(spec, layer, inputDim);
    const graph = buildCell(layerSpec);
    layers.push({ name: layer.name, graph });
    specs.push(layerSpec);
    const output = graph.nodes.find((n) => n.name === graph.outputs[0]);
    inputDim = output?.shape[0] ?? 0;
  }
  return { layers, specs };
}

export interface BuiltNetwork extends Network {
  /** Each layer's RunSpec, in order (the run's own spec for a one-cell config). */
  specs: RunSpec[];
  /** Each layer's graph with unqualified names (what its weights are checked against). */
  layerGraphs: CellGraph[];
}

export function buildNetwork(spec: RunSpec): BuiltNetwork {
  const { layers, specs } = buildLayers(spec);
  try {
    return { ...composeNetwork(layers), specs, layerGraphs: layers.map((l) => l.graph) };
  } catch (e) {
    if (!(e instanceof NetworkError) || !spec.layers) throw e;
    throw new UserError('config', [spec.locator.issueAt(spec.layers[e.layer].path, e.message)]);
  }
}

/**
 * Per-layer parameters under their network names: what "these per-layer params make a network" needs.
 * `perLayer[l]` maps layer l's local parameter names (`kernel`) to values.
 */
export function networkParams(network: Network, perLayer: ReadonlyMap<string, Float32Array>[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  network.layers.forEach((placement, l) => {
    for (const [local, value] of perLayer[l]) out.set(placement.rename.get(local) ?? local, value);
  });
  return out;
}

/**
 * Every parameter of the network: trained where a layer's `weights` gives it, else drawn from its
 * initializer; `trained` names the loaded ones (theory measures their variance instead of the initializer's).
 */
export function initNetworkParams(network: BuiltNetwork, spec: RunSpec): { params: Map<string, Float32Array>; trained: Set<string> } {
  const loaded = networkParams(
    network,
    network.specs.map((layerSpec, l) => (layerSpec.weights ? loadWeights(network.layerGraphs[l], layerSpec) : new Map())),
  );
  return { params: initParams(network.graph, spec, loaded), trained: new Set(loaded.keys()) };
}
