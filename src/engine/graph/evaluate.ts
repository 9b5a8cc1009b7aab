// Evaluates one step of a cell graph on batched tensors. Used by the rollout (plain values) and by
// the autodiff method (inside tf.grad, with the perturbed tensor substituted for its node).
import { tf, type Tensor } from '../backend/tf';
import { nodeMap, type CellGraph, type GraphNode } from './graph';
import { opDef } from './ops';

/**
 * Returns the value of every node in `wanted` (default: all). `leaves` holds params, inputs and previous
 * states; `overrides` replaces a node's value (its op is then not run), which is how a Jacobian treats an
 * intermediate as an independent variable.
 */
export function evaluateStep(
  graph: CellGraph,
  leaves: ReadonlyMap<string, Tensor>,
  overrides?: ReadonlyMap<string, Tensor>,
  wanted?: ReadonlySet<string>,
): Map<string, Tensor> {
  const values = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (wanted && !wanted.has(node.name)) continue;
    const override = overrides?.get(node.name);
    if (override) {
      values.set(node.name, override);
      continue;
    }
    if (!node.op) {
      values.set(node.name, leafValue(node, leaves));
      continue;
    }
    const inputs = node.inputs!.map((i) => {
      const v = values.get(i);
      if (!v) throw new Error(`internal: ${i} not evaluated before ${node.name}`);
      return v;
    });
    values.set(node.name, opDef(node.op).evaluate(inputs, node.attrs ?? {}));
  }
  return values;
}

function leafValue(node: GraphNode, leaves: ReadonlyMap<string, Tensor>): Tensor {
  if (node.role === 'const') return tf().scalar(node.attrs?.value ?? 0);
  const v = leaves.get(node.name);
  if (!v) throw new Error(`internal: no value for leaf ${node.name}`);
  return v;
}

/** Names of `targets` and every node they depend on. */
export function ancestors(graph: CellGraph, targets: Iterable<string>): Set<string> {
  const byName = nodeMap(graph);
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const i of byName.get(name)?.inputs ?? []) stack.push(i);
  }
  return seen;
}

/** Names of `sources` and every node that depends on one of them within one step. */
export function descendants(graph: CellGraph, sources: Iterable<string>): Set<string> {
  const out = new Set<string>(sources);
  for (const n of graph.nodes) {
    if (n.inputs?.some((i) => out.has(i))) out.add(n.name);
  }
  return out;
}
