// The parsed config as plain values, and the places in it that several stages look at (data sources,
// initializers, weight files), each with its path. Pure: no file access, no schema.
import type { Node } from 'jsonc-parser/lib/esm/main';
import type { PathSegment } from './positions';

export type Located<T> = { segments: PathSegment[]; value: T };

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value of a node; for duplicate keys the last wins, as in JSON.parse (duplicates are reported anyway).
 * Recursive, which is safe because the syntax stage refuses text nested deeper than MAX_DEPTH.
 */
export function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        // defineProperty, so that a key named `__proto__` is a key like any other (and reported as unknown).
        if (key && value) Object.defineProperty(out, key.value as string, { value: nodeValue(value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

export function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of segments) {
    if (typeof segment === 'number') value = Array.isArray(value) ? value[segment] : undefined;
    else value = isObject(value) ? value[segment] : undefined;
  }
  return value;
}

/** Whether `initialState` is keyed by state name (every value an object) rather than one shared source. */
export function isKeyedByState(state: Record<string, unknown>): boolean {
  return Object.keys(state).length > 0 && Object.values(state).every(isObject);
}

/** The data-source objects of a config with their paths: `inputs`, `initialState`, `initialState.h`, ... */
export function dataSourceObjects(data: unknown): Located<Record<string, unknown>>[] {
  if (!isObject(data)) return [];
  const out: Located<Record<string, unknown>>[] = [];
  if (isObject(data.inputs)) out.push({ segments: ['inputs'], value: data.inputs });
  const state = data.initialState;
  if (isObject(state)) {
    if (isKeyedByState(state)) {
      for (const [name, source] of Object.entries(state)) out.push({ segments: ['initialState', name], value: source as Record<string, unknown> });
    } else {
      out.push({ segments: ['initialState'], value: state });
    }
  }
  const custom = isObject(data.custom) ? data.custom : undefined;
  if (custom && isObject(custom.states)) {
    for (const [name, state] of Object.entries(custom.states)) {
      if (isObject(state) && isObject(state.initial)) out.push({ segments: ['custom', 'states', name, 'initial'], value: state.initial });
    }
  }
  return out;
}

/** Initializer objects of a config with their paths: `initializers.kernel`, `custom.params.W.initializer`, ... */
export function initializerObjects(data: unknown): Located<Record<string, unknown>>[] {
  if (!isObject(data)) return [];
  const out: Located<Record<string, unknown>>[] = inLayers(data, initializerObjects);
  if (isObject(data.initializers)) {
    for (const [role, initializer] of Object.entries(data.initializers)) {
      if (isObject(initializer)) out.push({ segments: ['initializers', role], value: initializer });
    }
  }
  const params = isObject(data.custom) && isObject(data.custom.params) ? data.custom.params : {};
  for (const [key, param] of Object.entries(params)) {
    if (!isObject(param)) continue;
    if (isObject(param.initializer)) out.push({ segments: ['custom', 'params', key, 'initializer'], value: param.initializer });
    if (Array.isArray(param.segments)) {
      param.segments.forEach((segment: unknown, i: number) => {
        if (isObject(segment) && isObject(segment.initializer)) out.push({ segments: ['custom', 'params', key, 'segments', i, 'initializer'], value: segment.initializer });
      });
    }
  }
  return out;
}

/** The files a config names (data sources and weights), each with the path of the key naming it. */
export function namedFiles(data: unknown): Located<string>[] {
  const out: Located<string>[] = [];
  for (const { segments, value } of dataSourceObjects(data)) {
    if (typeof value.file === 'string' && value.file !== '') out.push({ segments: [...segments, 'file'], value: value.file });
  }
  if (isObject(data)) out.push(...inLayers(data, (layer) => namedFiles({ weights: layer.weights })));
  const weights = isObject(data) ? data.weights : undefined;
  if (!isObject(weights)) return out;
  for (const key of ['model', 'npz', 'torch', 'keras'] as const) {
    if (typeof weights[key] === 'string' && weights[key] !== '') out.push({ segments: ['weights', key], value: weights[key] as string });
  }
  if (isObject(weights.files)) {
    for (const [name, file] of Object.entries(weights.files)) {
      if (typeof file === 'string' && file !== '') out.push({ segments: ['weights', 'files', name], value: file });
    }
  }
  return out;
}

/** What `find` locates inside each entry of `layers`, its paths prefixed with `layers[i]`. */
function inLayers<T>(data: Record<string, unknown>, find: (layer: Record<string, unknown>) => Located<T>[]): Located<T>[] {
  if (!Array.isArray(data.layers)) return [];
  return data.layers.flatMap((layer, i) => (isObject(layer) ? find(layer).map((x) => ({ ...x, segments: ['layers', i, ...x.segments] })) : []));
}

/**
 * A layer's name, the qualifier of its tensors: its `name`, else the Keras layer its weights come from
 * (`weights.layer` of a model), else `l` and its index.
 */
export function layerName(layer: unknown, index: number): string {
  if (!isObject(layer)) return `l${index}`;
  if (typeof layer.name === 'string') return layer.name;
  const weights = layer.weights;
  if (isObject(weights) && typeof weights.layer === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(weights.layer)) return weights.layer;
  return `l${index}`;
}
