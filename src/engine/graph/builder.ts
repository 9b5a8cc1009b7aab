// Builds a CellGraph node by node, checking shapes as it goes. Built-in cells use it directly; the
// equation parser of custom cells uses it too, so both produce the same form.
import type { InitializerSpec } from '../config/spec';
import type { CellGraph, GraphNode, OpAttrs, ParamDecl, StateDecl, TensorRole } from './graph';
import { opDef } from './ops';

export class GraphBuildError extends Error {
  constructor(
    message: string,
    readonly node: string,
  ) {
    super(message);
  }
}

export class CellBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly states: StateDecl[] = [];
  private readonly inputs: string[] = [];
  private readonly outputs: string[] = [];
  private readonly params: ParamDecl[] = [];
  private anonymous = 0;

  constructor(private readonly cell: string) {}

  private addLeaf(node: GraphNode): string {
    if (this.nodes.has(node.name)) throw new GraphBuildError(`"${node.name}" is defined twice`, node.name);
    this.nodes.set(node.name, node);
    return node.name;
  }

  /** Declares a state; returns the name of the leaf holding its previous value (`NAME_prev`). */
  state(name: string, dim: number): string {
    const prev = `${name}_prev`;
    this.states.push({ name, prev, dim });
    return this.addLeaf({ name: prev, role: 'state', shape: [dim], batched: true });
  }

  input(name: string, dim: number): string {
    this.inputs.push(name);
    return this.addLeaf({ name, role: 'input', shape: [dim], batched: true });
  }

  param(name: string, shape: number[], initializer: InitializerSpec, role: ParamDecl['role'], segments?: ParamDecl['segments']): string {
    this.params.push({ name, shape, initializer, role, ...(segments ? { segments } : {}) });
    return this.addLeaf({ name, role: 'param', shape, batched: false });
  }

  constant(value: number): string {
    const name = `${value}`;
    if (this.nodes.has(name)) return name;
    return this.addLeaf({ name, role: 'const', shape: [], batched: false, attrs: { value } });
  }

  /** The node named `name`, with its inferred shape, if it has been added. */
  node(name: string): GraphNode | undefined {
    return this.nodes.get(name);
  }

  /** Adds `name = op(inputs)`; an empty name gets a generated one. Returns the node's name. */
  op(name: string, op: string, inputs: string[], attrs: OpAttrs = {}, role: TensorRole = 'intermediate'): string {
    const nodeName = name || `_${op}${this.anonymous++}`;
    const def = opDef(op);
    const inputNodes = inputs.map((i) => {
      const n = this.nodes.get(i);
      if (!n) throw new GraphBuildError(`"${i}" is not defined before "${nodeName}"`, nodeName);
      return n;
    });
    if (def.arity !== 'variadic' && def.arity !== inputs.length) {
      throw new GraphBuildError(`${op} takes ${def.arity} inputs, got ${inputs.length}`, nodeName);
    }
    let shape;
    try {
      shape = def.inferShape(inputNodes, attrs);
    } catch (e) {
      throw new GraphBuildError((e as Error).message, nodeName);
    }
    if (this.nodes.has(nodeName)) throw new GraphBuildError(`"${nodeName}" is defined twice`, nodeName);
    this.nodes.set(nodeName, { name: nodeName, role, shape: shape.shape, batched: shape.batched, op, inputs, attrs });
    return nodeName;
  }

  // Shorthands used by the built-in cells.
  activation(name: string, act: string, z: string): string {
    return this.op(name, 'activation', [z], { activation: act });
  }

  /** Keras Dense: x·kernel (+ bias). */
  dense(name: string, x: string, kernel: string, bias?: string): string {
    if (!bias) return this.op(name, 'matmul', [x, kernel]);
    return this.op(name, 'add', [this.op(`${name}_matmul`, 'matmul', [x, kernel]), bias]);
  }

  /** Marks a computed node as an output of the cell. */
  output(name: string): void {
    const n = this.nodes.get(name);
    if (!n) throw new GraphBuildError(`output "${name}" is not defined`, name);
    if (n.role === 'intermediate') n.role = 'output';
    this.outputs.push(name);
  }

  build(): CellGraph {
    for (const s of this.states) {
      const next = this.nodes.get(s.name);
      if (!next) throw new GraphBuildError(`state "${s.name}" has no update`, s.name);
      if (!next.batched || next.shape[0] !== s.dim) {
        throw new GraphBuildError(`state "${s.name}" is updated to [${next.shape.join(', ')}], expected [${s.dim}]`, s.name);
      }
      if (next.role === 'intermediate') next.role = 'state';
    }
    return {
      cell: this.cell,
      nodes: [...this.nodes.values()],
      states: this.states,
      inputs: this.inputs,
      outputs: this.outputs,
      params: this.params,
    };
  }
}
