// Stage 3, semantic checks: what a schema cannot say. Keys repeated in one object, bounds that must be
// ordered, tensor names of the chosen cell, a custom cell's equations (built by the check passed in), the
// files a config names (checked by the file access passed in). Each check is a function of one context
// and returns located issues; a new top-level key adds its check to SEMANTIC_CHECKS.
import type { Node } from 'jsonc-parser/lib/esm/main';
import { resolve } from 'node:path';
import schemaJson from '../../../schemas/jacobian-config.schema.json';
import type { SourceIssue } from '../errors';
import { isRefError, parseTensorRef } from '../run/tensorRef';
import { kerasDefaults } from '../params/initializers';
import { DISTRIBUTION_ARGUMENT_DEFAULTS } from './defaults';
import type { ConfigDeps, CustomCellCheckResult } from './deps';
import { formatPath, type ConfigLocator, type PathSegment } from './positions';
import { didYouMean } from './suggest';
import { dataSourceObjects, initializerObjects, isKeyedByState, isObject, layerName, namedFiles } from './tree';

export interface SemanticContext {
  data: unknown;
  root: Node;
  locator: ConfigLocator;
  configDir: string;
  deps: ConfigDeps;
  /** The custom cell's check, when the config has one that the schema passed. */
  custom: CustomCellCheckResult;
}

export type SemanticCheck = (context: SemanticContext) => SourceIssue[];

export const SEMANTIC_CHECKS: readonly SemanticCheck[] = [
  duplicateKeyIssues,
  crossKeyIssues,
  (context) => context.custom.issues,
  customInitialStateIssues,
  tensorRefIssues,
  layerNameIssues,
  fileIssues,
];

/**
 * Every semantic issue of a config, and the custom cell resolved on the way. The custom cell is checked
 * only when the schema found nothing wrong in its block (or in units / inputDim), which is reported instead.
 */
export function semanticIssues(
  data: unknown,
  root: Node,
  locator: ConfigLocator,
  schemaProblems: readonly SourceIssue[],
  deps: ConfigDeps,
  configDir: string,
): { issues: SourceIssue[]; custom: CustomCellCheckResult } {
  const custom = checkCustomCell(data, locator, schemaProblems, deps);
  const context: SemanticContext = { data, root, locator, configDir, deps, custom };
  return { issues: SEMANTIC_CHECKS.flatMap((check) => check(context)), custom };
}

function checkCustomCell(data: unknown, locator: ConfigLocator, schemaProblems: readonly SourceIssue[], deps: ConfigDeps): CustomCellCheckResult {
  if (!isObject(data) || data.cell !== 'custom' || !isObject(data.custom)) return { issues: [] };
  if (schemaProblems.some((i) => /^(custom|units|inputDim)\b/.test(i.path) || i.path === '')) return { issues: [] };
  if (!deps.customCell) throw new Error('parseConfig: a custom cell needs ConfigDeps.customCell');
  return deps.customCell(data.custom, { units: data.units as number | undefined, inputDim: data.inputDim as number | undefined }, locator);
}

export function duplicateKeyIssues({ root, locator }: Pick<SemanticContext, 'root' | 'locator'>): SourceIssue[] {
  const issues: SourceIssue[] = [];
  // An explicit stack: the syntax stage bounds the depth, but nothing here needs the call stack.
  const stack: { node: Node; segments: PathSegment[] }[] = [{ node: root, segments: [] }];
  while (stack.length > 0) {
    const { node, segments } = stack.pop()!;
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (!key) continue;
        const name = key.value as string;
        if (seen.has(name)) issues.push(locator.issueAtOffset(formatPath([...segments, name]), key.offset, key.length, `duplicate key "${name}"`));
        seen.add(name);
        if (value) stack.push({ node: value, segments: [...segments, name] });
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((item, index) => stack.push({ node: item, segments: [...segments, index] }));
    }
  }
  return issues;
}

/** `initialState` keyed by name may only name the custom cell's states. */
function customInitialStateIssues({ data, locator, custom }: SemanticContext): SourceIssue[] {
  const state = isObject(data) ? data.initialState : undefined;
  if (!custom.resolved || !isObject(state) || !isKeyedByState(state)) return [];
  const names = custom.resolved.spec.states.map((s) => s.name);
  // Other keys than h and c are refused by the schema already.
  return Object.keys(state)
    .filter((name) => (name === 'h' || name === 'c') && !names.includes(name))
    .map((name) =>
      locator.issueAtKey(formatPath(['initialState', name]), `the custom cell has no state "${name}"; its states are ${names.join(', ')}` + didYouMean(name, names)),
    );
}

/** Bounds that must be ordered: uniform distributions and random_uniform initializers. */
export function crossKeyIssues({ data, locator }: Pick<SemanticContext, 'data' | 'locator'>): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const checkBounds = (segments: PathSegment[], value: Record<string, unknown>, defaults: { minval: number; maxval: number }) => {
    const minval = value.minval ?? defaults.minval;
    const maxval = value.maxval ?? defaults.maxval;
    if (typeof minval !== 'number' || typeof maxval !== 'number' || minval < maxval) return;
    const describe = (key: 'minval' | 'maxval', v: number) => (key in value ? `${key} (${v})` : `${key} (${v}, the default)`);
    const message =
      'maxval' in value
        ? `${describe('maxval', maxval)} must be greater than ${describe('minval', minval)}`
        : `${describe('minval', minval)} must be less than ${describe('maxval', maxval)}`;
    issues.push(locator.issueAt(formatPath([...segments, 'maxval' in value ? 'maxval' : 'minval']), message));
  };
  for (const { segments, value } of dataSourceObjects(data)) {
    if ((value.distribution ?? 'normal') === 'uniform') checkBounds(segments, value, DISTRIBUTION_ARGUMENT_DEFAULTS);
  }
  for (const { segments, value } of initializerObjects(data)) {
    if (value.name === 'random_uniform') checkBounds(segments, value, kerasDefaults);
  }
  return issues;
}

/**
 * The names `of` / `wrt` may use: one cell's tensors, or for `layers` every layer's qualified (`l1.h`) with
 * the network input `x`; undefined when they cannot be known here (an unknown cell, a custom cell that
 * does not build). `state` (and `LAYER.state`) name every state and are accepted wherever a cell is known.
 */
function referableNames(data: Record<string, unknown>, deps: ConfigDeps, custom: CustomCellCheckResult): { names: Set<string>; what: string } | undefined {
  const cells: readonly string[] = schemaJson.properties.cell.enum;
  if (Array.isArray(data.layers)) {
    const names = new Set<string>(['x', 'state']);
    for (const [i, layer] of data.layers.entries()) {
      const cell = isObject(layer) && typeof layer.cell === 'string' && cells.includes(layer.cell) ? layer.cell : undefined;
      const own = cell && deps.tensorNames ? deps.tensorNames(cell) : undefined;
      if (!own) return undefined;
      const name = layerName(layer, i);
      names.add(`${name}.state`);
      for (const n of own) if (n !== 'x') names.add(`${name}.${n}`);
    }
    return { names, what: 'the network' };
  }
  const cell = typeof data.cell === 'string' && cells.includes(data.cell) ? data.cell : undefined;
  const own = cell === 'custom' ? custom.names : cell && deps.tensorNames ? deps.tensorNames(cell) : undefined;
  return own ? { names: new Set([...own, 'state']), what: `cell ${cell}` } : undefined;
}

/** `of` / `wrt`: the NAME@TIME syntax, located inside the string, and each name among the known tensors. */
export function tensorRefIssues({ data, locator, deps, custom }: Pick<SemanticContext, 'data' | 'locator' | 'deps' | 'custom'>): SourceIssue[] {
  if (!isObject(data) || !Array.isArray(data.jacobians)) return [];
  // Names are checked only against cells the schema knows; an unknown cell is reported on its own.
  const known = referableNames(data, deps, custom);
  const issues: SourceIssue[] = [];
  data.jacobians.forEach((request, index) => {
    if (!isObject(request)) return;
    for (const end of ['of', 'wrt'] as const) {
      const text = request[end];
      if (typeof text !== 'string') continue;
      const path = formatPath(['jacobians', index, end]);
      const ref = parseTensorRef(text);
      if (isRefError(ref)) {
        const at = text.indexOf('@');
        const length = ref.column === 0 && at > 0 ? at : text.length - ref.column;
        issues.push(length > 0 ? locator.issueInString(path, ref.column, length, ref.message) : locator.issueAt(path, ref.message));
        continue;
      }
      const unknown = known ? ref.components.find((c) => !known.names.has(c)) : undefined;
      if (known && unknown !== undefined) {
        const listed = [...known.names].filter((n) => !n.endsWith('state'));
        const message = `unknown tensor "${unknown}" in ${known.what}; its tensors are ${listed.join(', ')}` + didYouMean(unknown, listed);
        const column = Math.max(0, text.indexOf(unknown.slice(unknown.indexOf('.') + 1)));
        issues.push(ref.components.length === 1 ? locator.issueInString(path, 0, ref.name.length, message) : locator.issueInString(path, column, unknown.length - unknown.indexOf('.') - 1, message));
      }
    }
  });
  return issues;
}

/** Layer names qualify tensors, so two layers may not share one. */
function layerNameIssues({ data, locator }: SemanticContext): SourceIssue[] {
  if (!isObject(data) || !Array.isArray(data.layers)) return [];
  const seen = new Map<string, number>();
  const issues: SourceIssue[] = [];
  data.layers.forEach((layer, i) => {
    const name = layerName(layer, i);
    const before = seen.get(name);
    if (before !== undefined) issues.push(locator.issueAt(formatPath(['layers', i, ...(isObject(layer) && 'name' in layer ? ['name'] : [])]), `layer name "${name}" is also layer ${before}'s; each layer needs its own name`));
    seen.set(name, i);
  });
  return issues;
}

/** Files a config names must be readable now; their contents (shape, dtype, NaN) are checked when they are read. */
function fileIssues({ data, locator, configDir, deps }: SemanticContext): SourceIssue[] {
  const problemOf = deps.fileProblem;
  if (!problemOf) return [];
  const issues: SourceIssue[] = [];
  for (const { segments, value } of namedFiles(data)) {
    const problem = problemOf(resolve(configDir, value));
    if (problem) issues.push(locator.issueAt(formatPath(segments), problem));
  }
  return issues;
}
