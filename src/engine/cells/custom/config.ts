// The `custom` block of a config (already checked against the JSON Schema) → CustomCellSpec: sizes
// written as "units", "4*units" or numbers resolved, initializers defaulted, weight names checked.
// `units` and `inputDim` may be left out of a custom cell's config: they are then the size of the
// first state and of the first input.
import type { SourceIssue } from '../../errors';
import type { CustomCellSpec, CustomParamSpec, InitializerSpec } from '../../config/spec';
import { toInitializer, type RawInitializer } from '../../config/defaults';
import type { ResolvedCustom } from '../../config/deps';
import { formatPath, type PathSegment } from '../../config/positions';
import type { CellSizes, CustomReporter } from './build';
import { evaluateDim, ExprError, parseDimension } from './parse';

type RawSize = number | string;

export interface RawCustomParam {
  shape: RawSize[];
  initializer?: RawInitializer;
  segments?: { size: RawSize; initializer: RawInitializer }[];
  name?: string;
}

export interface RawCustomCell {
  params?: Record<string, RawCustomParam>;
  states: Record<string, { size: RawSize; initial?: unknown }>;
  inputs?: Record<string, RawSize>;
  outputs?: string[];
  equations: Record<string, string>;
}


/** Keras Dense's defaults: glorot_uniform for a matrix, zeros for a vector. */
export function defaultInitializer(shape: readonly number[]): InitializerSpec {
  return { name: shape.length >= 2 ? 'glorot_uniform' : 'zeros' };
}

export function resolveCustomConfig(
  raw: RawCustomCell,
  given: { units?: number; inputDim?: number },
  report: CustomReporter,
): { resolved?: ResolvedCustom; issues: SourceIssue[] } {
  const issues: SourceIssue[] = [];
  const size = (value: RawSize, segments: PathSegment[], sizes: CellSizes): number | undefined => {
    const path = formatPath(segments);
    if (typeof value === 'number') return value;
    try {
      const n = evaluateDim(parseDimension(value), sizes);
      if (!Number.isInteger(n) || n < 1) {
        issues.push(report.at(path, `"${value}" is ${n}; a size must be a whole number ≥ 1`));
        return undefined;
      }
      return n;
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      issues.push(err.length > 0 ? report.inString(path, err.column, err.length, err.message) : report.at(path, err.message));
      return undefined;
    }
  };

  const states = Object.entries(raw.states);
  const inputs = Object.entries(raw.inputs ?? {});
  // units and inputDim first (each may come from the other's declarations only when given).
  const partial: CellSizes = { units: given.units, inputDim: given.inputDim };
  let units = given.units;
  if (units === undefined && states.length > 0) {
    const [name, state] = states[0];
    units = size(state.size, ['custom', 'states', name, 'size'], { units: undefined, inputDim: given.inputDim });
    if (units === undefined) return { issues };
  }
  partial.units = units;
  let inputDim = given.inputDim;
  if (inputDim === undefined && inputs.length > 0) {
    const [name, dim] = inputs[0];
    inputDim = size(dim, ['custom', 'inputs', name], { units, inputDim: undefined });
    if (inputDim === undefined) return { issues };
  }
  partial.inputDim = inputDim;

  const spec: CustomCellSpec = { params: [], states: [], inputs: [], outputs: [...(raw.outputs ?? [])], equations: [] };
  for (const [name, state] of states) {
    const n = size(state.size, ['custom', 'states', name, 'size'], partial);
    if (n !== undefined) spec.states.push({ name, size: n });
  }
  for (const [name, dim] of inputs) {
    const n = size(dim, ['custom', 'inputs', name], partial);
    if (n !== undefined) spec.inputs.push({ name, size: n });
  }
  const weightNames = new Map<string, string>();
  for (const [key, p] of Object.entries(raw.params ?? {})) {
    const base = ['custom', 'params', key];
    const shape = p.shape.map((d, i) => size(d, [...base, 'shape', i], partial));
    if (shape.some((d) => d === undefined)) continue;
    const dims = shape as number[];
    const param: CustomParamSpec = {
      key,
      name: p.name ?? key,
      shape: dims,
      initializer: p.initializer !== undefined ? toInitializer(p.initializer) : p.segments?.length ? toInitializer(p.segments[0].initializer) : defaultInitializer(dims),
    };
    const other = weightNames.get(param.name);
    if (other !== undefined) {
      issues.push(report.at(formatPath(p.name !== undefined ? [...base, 'name'] : base), `weight name "${param.name}" is already the weight name of parameter "${other}"; weight names must be unique`));
      continue;
    }
    weightNames.set(param.name, key);
    if (p.segments) {
      if (p.initializer !== undefined) {
        issues.push(report.atKey(formatPath([...base, 'initializer']), 'give either "initializer" or "segments", not both: segments initialise the parameter piece by piece'));
        continue;
      }
      if (dims.length !== 1) {
        issues.push(report.atKey(formatPath([...base, 'segments']), `segments initialise a vector piece by piece, but "${key}" has shape [${dims.join(', ')}]`));
        continue;
      }
      const segments: { size: number; initializer: InitializerSpec }[] = [];
      p.segments.forEach((s, i) => {
        const n = size(s.size, [...base, 'segments', i, 'size'], partial);
        if (n !== undefined) segments.push({ size: n, initializer: toInitializer(s.initializer) });
      });
      if (segments.length !== p.segments.length) continue;
      const total = segments.reduce((a, s) => a + s.size, 0);
      if (total !== dims[0]) {
        issues.push(report.atKey(formatPath([...base, 'segments']), `the segments' sizes add up to ${total} (${segments.map((s) => s.size).join(' + ')}), but "${key}" has ${dims[0]} entries`));
        continue;
      }
      param.segments = segments;
    }
    spec.params.push(param);
  }
  for (const [name, expression] of Object.entries(raw.equations)) {
    spec.equations.push({ name, expression, path: formatPath(['custom', 'equations', name]) });
  }
  if (issues.length > 0) return { issues };
  return { resolved: { spec, units: units ?? 0, inputDim: inputDim ?? 0 }, issues };
}
