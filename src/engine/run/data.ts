// The numbers a run starts from: parameters (seeded Keras initializers), initial states and inputs
// (seeded distributions or .npy files). Each tensor draws from its own named random stream, so adding
// a tensor or a Jacobian never changes the numbers of the others.
import type { DataSource, RunSpec } from '../config/spec';
import { initialStateSource } from '../config/validate';
import { UserError } from '../errors';
import type { CellGraph, ParamDecl } from '../graph/graph';
import { initialize, InitializerShapeError, sampleDistribution } from '../params/initializers';
import { assertFinite, NpyFormatError, readNpyFile } from '../params/npy';
import { Rng } from '../params/rng';
import { loadWeights } from '../params/weights';
import { formatPath } from '../config/positions';

export function initParam(decl: ParamDecl, seed: number): Float32Array {
  // A custom parameter draws from the stream of its weight name, so that naming a custom cell's W_h
  // "linear_rec/kernel" gives it the seed cell's very numbers.
  const rng = new Rng(seed, `param:${decl.weightName ?? decl.name}`);
  if (!decl.segments) return initialize(decl.initializer, decl.shape, rng);
  const out = new Float32Array(decl.shape.reduce((a, b) => a * b, 1));
  let at = 0;
  for (const seg of decl.segments) {
    out.set(initialize(seg.initializer, [seg.size], rng), at);
    at += seg.size;
  }
  return out;
}

/**
 * Every parameter, keyed by its graph name: trained weights where the config's `weights` provides them
 * (checked against the cell: shapes, dtypes, and for a model layer its class and settings), else drawn
 * from its initializer.
 */
export function initParams(
  graph: CellGraph,
  spec: RunSpec,
  loaded: ReadonlyMap<string, Float32Array> = spec.weights ? loadWeights(graph, spec) : new Map<string, Float32Array>(),
): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  const issues = [];
  for (const decl of graph.params) {
    const trained = loaded.get(decl.name);
    if (trained) {
      params.set(decl.name, trained);
      continue;
    }
    try {
      params.set(decl.name, initParam(decl, spec.seed));
    } catch (e) {
      if (!(e instanceof InitializerShapeError)) throw e;
      const key = decl.role === 'custom' ? formatPath(['custom', 'params', decl.name, 'initializer']) : `initializers.${decl.role}`;
      issues.push(spec.locator.issueAt(key, `${decl.name} [${decl.shape.join(', ')}]: ${e.message}`));
    }
  }
  if (issues.length) throw new UserError('config', issues);
  return params;
}

function loadFile(src: Extract<DataSource, { kind: 'file' }>, spec: RunSpec, expected: number[], what: string): Float32Array {
  try {
    const arr = readNpyFile(src.file, spec.maxMemoryMB * 2 ** 20);
    const ok = arr.shape.length === expected.length && arr.shape.every((d, i) => d === expected[i]);
    if (!ok) {
      throw new NpyFormatError(src.file, `${what} must have shape [${expected.join(', ')}], the file has [${arr.shape.join(', ')}]`);
    }
    assertFinite(arr, src.file);
    return arr.data;
  } catch (e) {
    // readNpyFile reports every failure, an unreadable file included, as an NpyFormatError.
    if (e instanceof NpyFormatError) throw new UserError('input', [spec.locator.issueAt(src.configPath, e.message)]);
    throw e;
  }
}

function fromSource(src: DataSource, spec: RunSpec, shape: number[], stream: string, what: string): Float32Array {
  if (src.kind === 'file') return loadFile(src, spec, shape, what);
  return sampleDistribution(src, shape.reduce((a, b) => a * b, 1), new Rng(spec.seed, stream));
}

export function initialStates(graph: CellGraph, spec: RunSpec): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of graph.states) {
    const source = initialStateSource(spec.initialState, s.name);
    out.set(s.name, fromSource(source, spec, [spec.batchSize, s.dim], `state:${s.name}`, `initial state ${s.name}`));
  }
  return out;
}

export function inputSeries(graph: CellGraph, spec: RunSpec): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of graph.inputs) {
    const dim = graph.nodes.find((n) => n.name === name)!.shape[0];
    out.set(name, fromSource(spec.inputs, spec, [spec.timeSteps, spec.batchSize, dim], `input:${name}`, `input ${name}`));
  }
  return out;
}
