// Lowers a custom cell's equations into CellBuilder calls: the same graph form, from the same fixed
// op set, as the built-in cells, so rollout, structured Jacobians and autodiff need nothing new.
// Equations may come in any order; they are sorted by what they read. Every problem is collected
// (not just the first) and located inside the expression string it comes from.
import type { SourceIssue } from '../../errors';
import { ACTIVATIONS, type CustomCellSpec } from '../../config/spec';
import { didYouMean } from '../../config/suggest';
import { formatPath } from '../../config/positions';
import { CellBuilder, GraphBuildError } from '../../graph/builder';
import { referableTensors, type CellGraph, type OpAttrs } from '../../graph/graph';
import type { SourceLocator } from '../../config/spec';
import { DIM_SYMBOLS, evaluateDim, ExprError, namesIn, parseExpression, type Dim, type DimSymbol, type Expr } from './parse';

/** Where custom-cell problems are reported: inside an expression string, at a key, or at a value. */
export interface CustomReporter {
  inString(path: string, column: number, length: number, message: string): SourceIssue;
  atKey(path: string, message: string): SourceIssue;
  at(path: string, message: string): SourceIssue;
}

/** A reporter over any locator: inside strings and at keys where it can, else at the value. */
export function reporterFor(locator: SourceLocator): CustomReporter {
  return {
    inString: (path, column, length, message) => locator.issueInString?.(path, column, length, message) ?? locator.issueAt(path, message),
    atKey: (path, message) => locator.issueAtKey?.(path, message) ?? locator.issueAt(path, message),
    at: (path, message) => locator.issueAt(path, message),
  };
}

/** Names usable in `of`/`wrt`: states, inputs and every equation computing a batched tensor. */
export function customTensorNames(graph: CellGraph): ReadonlySet<string> {
  return new Set(referableTensors(graph).filter((n) => !n.name.startsWith('_')).map((n) => n.name));
}

export type CellSizes = Record<DimSymbol, number | undefined>;

export const CUSTOM_FUNCTIONS: readonly string[] = [...ACTIVATIONS, 'concat', 'row'];

/** Names of tensors, params and equations: a letter first, then letters, digits and underscores. */
export const CUSTOM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface CustomBuildResult {
  graph?: CellGraph;
  issues: SourceIssue[];
}

/** A lowered value: the graph node holding it, its shape, and the source text it came from. */
interface Val {
  node: string;
  shape: number[];
  batched: boolean;
  text: string;
  /** Whether the node was created for this expression (false: an existing leaf or equation). */
  fresh: boolean;
}

type NameKind = 'state_prev' | 'input' | 'param' | 'equation';

/** Raised while lowering an equation that reads one that failed: already reported, so stays silent. */
class Skip extends Error {}

const fmtShape = (shape: number[]) => `[${shape.join(', ')}]`;

function describe(v: Val): string {
  const what = v.batched ? '' : v.shape.length === 0 ? ' (a constant)' : ' (a parameter)';
  const text = v.text.length > 40 ? v.text.slice(0, 37) + '...' : v.text;
  return `"${text}" is ${fmtShape(v.shape)}${what}`;
}

export function buildCustomCell(spec: CustomCellSpec, sizes: CellSizes, report: CustomReporter): CustomBuildResult {
  const issues: SourceIssue[] = [];
  const b = new CellBuilder('custom');
  const kinds = new Map<string, NameKind>();
  const where = new Map<string, string>(); // name → JSON path of its declaration, for messages
  const sectionOf: Record<NameKind, string> = { state_prev: 'the previous value of a state', input: 'an input', param: 'a parameter', equation: 'an equation' };

  const declare = (name: string, kind: NameKind, path: string, keyName = name): boolean => {
    if (!CUSTOM_NAME.test(keyName)) {
      issues.push(report.atKey(path, `"${keyName}" is not a valid name: a name starts with a letter and holds only letters, digits and _`));
      return false;
    }
    const before = kinds.get(name);
    if (before) {
      issues.push(report.atKey(path, `"${name}" is already ${sectionOf[before]} (${where.get(name)}); names must be unique`));
      return false;
    }
    kinds.set(name, kind);
    where.set(name, path);
    return true;
  };

  // Leaves, in the order built-in cells declare them: states, inputs, params.
  const stateNames = new Set<string>();
  for (const s of spec.states) {
    const path = formatPath(['custom', 'states', s.name]);
    if (!declare(`${s.name}_prev`, 'state_prev', path, s.name)) continue;
    b.state(s.name, s.size);
    stateNames.add(s.name);
  }
  for (const x of spec.inputs) {
    const path = formatPath(['custom', 'inputs', x.name]);
    if (stateNames.has(x.name)) {
      issues.push(report.atKey(path, `"${x.name}" is already a state; names must be unique`));
      continue;
    }
    if (declare(x.name, 'input', path)) b.input(x.name, x.size);
  }
  for (const p of spec.params) {
    const path = formatPath(['custom', 'params', p.key]);
    if (stateNames.has(p.key)) {
      issues.push(report.atKey(path, `"${p.key}" is already a state; names must be unique`));
      continue;
    }
    if (declare(p.key, 'param', path)) b.param(p.key, p.shape, p.initializer, 'custom', p.segments);
  }

  // Equations: parse each, then sort by dependency.
  interface Eq {
    name: string;
    text: string;
    path: string;
    ast?: Expr;
  }
  const equations = new Map<string, Eq>();
  for (const e of spec.equations) {
    const isState = stateNames.has(e.name);
    if (!isState && !declare(e.name, 'equation', e.path)) continue;
    if (isState) {
      kinds.set(e.name, 'equation');
      where.set(e.name, e.path);
    }
    const eq: Eq = { name: e.name, text: e.expression, path: e.path };
    try {
      eq.ast = parseExpression(e.expression);
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      issues.push(report.inString(e.path, err.column, err.length, `${e.name}: ${err.message}`));
    }
    equations.set(e.name, eq);
  }

  const failed = new Set<string>([...equations.values()].filter((e) => !e.ast).map((e) => e.name));
  const order = sortEquations(equations, failed, issues, report);

  const sizeOf = (d: Dim | undefined, fallback: number): number => (d ? evaluateDim(d, sizes) : fallback);

  const lowerEquation = (eq: Eq): void => {
    const text = eq.text;
    const span = (start: number, end: number) => text.slice(start, end).trim();

    const lookup = (name: string, start: number, end: number): Val => {
      const kind = kinds.get(name);
      if (kind === 'equation') {
        if (failed.has(name)) throw new Skip();
        if (!equations.has(name)) throw new Skip();
      }
      if (kind) {
        const node = b.node(name);
        if (!node) throw new Skip();
        return { node: name, shape: node.shape, batched: node.batched, text: name, fresh: false };
      }
      if (stateNames.has(name)) {
        throw new ExprError(`state "${name}" has no equation, so it has no new value to read here; its previous value is ${name}_prev`, start, end - start);
      }
      if ((DIM_SYMBOLS as readonly string[]).includes(name)) {
        throw new ExprError(`"${name}" is a size, usable only inside slice brackets [a:b]`, start, end - start);
      }
      const hint = didYouMean(name, [...kinds.keys()]);
      const isFn = CUSTOM_FUNCTIONS.includes(name) ? ` (${name} is a function: write ${name}(...))` : '';
      throw new ExprError(`unknown name "${name}"${isFn}${hint}`, start, end - start);
    };

    const op = (target: string, name: string, inputs: Val[], attrs: OpAttrs, at: number, length: number, text: string): Val => {
      let node: string;
      try {
        node = b.op(target, name, inputs.map((i) => i.node), attrs);
      } catch (err) {
        if (!(err instanceof GraphBuildError)) throw err;
        throw new ExprError(err.message, at, length);
      }
      const { shape, batched } = b.node(node)!;
      return { node, shape, batched, text, fresh: true };
    };

    const lower = (e: Expr, target: string): Val => {
      const text = span(e.start, e.end);
      switch (e.kind) {
        case 'number': {
          const node = b.constant(e.value);
          return { node, shape: [], batched: false, text, fresh: false };
        }
        case 'name':
          return lookup(e.name, e.start, e.end);
        case 'neg': {
          const x = lower(e.operand, '');
          const zero: Val = { node: b.constant(0), shape: [], batched: false, text: '0', fresh: false };
          return op(target, 'sub', [zero, x], {}, e.start, 1, text);
        }
        case 'binary': {
          const l = lower(e.left, '');
          const r = lower(e.right, '');
          const symbol = e.op;
          if (symbol === '@') {
            if (!l.batched || r.batched || r.shape.length !== 2) {
              throw new ExprError(
                `"@" multiplies a tensor by a parameter matrix (x @ W, Keras layout), but ${describe(l)} and ${describe(r)}`,
                e.opAt,
                1,
              );
            }
            if (l.shape[0] !== r.shape[0]) {
              throw new ExprError(
                `shape mismatch in "@": ${describe(l)} but ${describe(r)}; x @ W needs W's first dimension to equal x's size ${l.shape[0]}`,
                e.opAt,
                1,
              );
            }
            return op(target, 'matmul', [l, r], {}, e.opAt, 1, text);
          }
          const elementwise = { '+': 'add', '-': 'sub', '*': 'mul' }[symbol];
          if (!elementwiseOk(l, r)) {
            throw new ExprError(`shape mismatch in "${symbol}": ${describe(l)} but ${describe(r)}`, e.opAt, 1);
          }
          return op(target, elementwise, [l, r], {}, e.opAt, 1, text);
        }
        case 'slice': {
          const x = lower(e.target, '');
          const len = e.bracket.end - e.bracket.start;
          if (x.shape.length !== 1) throw new ExprError(`a slice [a:b] takes features of a vector, but ${describe(x)}`, e.bracket.start, len);
          const n = x.shape[0];
          const begin = sizeOf(e.from, 0);
          const end = sizeOf(e.to, n);
          if (begin < 0 || end > n || begin >= end) {
            throw new ExprError(`slice [${begin}:${end}] is outside "${x.text}", which has ${n} features (a slice needs 0 ≤ begin < end ≤ ${n})`, e.bracket.start, len);
          }
          if (begin === 0 && end === n && !target) return x; // the whole vector
          return op(target, 'slice', [x], { begin, size: end - begin }, e.bracket.start, len, text);
        }
        case 'call': {
          const fnLen = e.fnSpan.end - e.fnSpan.start;
          if ((ACTIVATIONS as readonly string[]).includes(e.fn)) {
            if (e.args.length !== 1) throw new ExprError(`${e.fn}() takes one argument, got ${e.args.length}`, e.start, e.end - e.start);
            const x = lower(e.args[0], '');
            return op(target, 'activation', [x], { activation: e.fn }, e.fnSpan.start, fnLen, text);
          }
          if (e.fn === 'concat') {
            const parts = e.args.map((a) => lower(a, ''));
            const bad = parts.findIndex((p) => !p.batched || p.shape.length !== 1);
            if (bad >= 0) throw new ExprError(`concat joins tensors along their features, but ${describe(parts[bad])}`, e.args[bad].start, e.args[bad].end - e.args[bad].start);
            return op(target, 'concat', parts, {}, e.fnSpan.start, fnLen, text);
          }
          if (e.fn === 'row') {
            if (e.args.length !== 2) throw new ExprError(`row(param, i) takes two arguments, got ${e.args.length}`, e.start, e.end - e.start);
            const p = lower(e.args[0], '');
            const index = e.args[1];
            if (p.batched || p.shape.length !== 2) throw new ExprError(`row(param, i) takes a row of a 2-D parameter, but ${describe(p)}`, e.args[0].start, e.args[0].end - e.args[0].start);
            if (index.kind !== 'number' || !Number.isInteger(index.value) || index.value < 0 || index.value >= p.shape[0]) {
              throw new ExprError(`row index must be a whole number from 0 to ${p.shape[0] - 1} ("${p.text}" has ${p.shape[0]} rows)`, index.start, index.end - index.start);
            }
            return op(target, 'row', [p], { begin: index.value }, e.fnSpan.start, fnLen, text);
          }
          throw new ExprError(
            `unknown function "${e.fn}"` + didYouMean(e.fn, CUSTOM_FUNCTIONS, `; functions are ${CUSTOM_FUNCTIONS.join(', ')}`),
            e.fnSpan.start,
            fnLen,
          );
        }
      }
    };

    const root = lower(eq.ast!, eq.name);
    if (!root.fresh || root.node !== eq.name) {
      // The equation only names another value: copy it (a full slice), so the equation is a node of its own.
      if (root.shape.length !== 1) {
        throw new ExprError(`an equation must compute a tensor, but ${describe(root)}`, 0, text.length);
      }
      op(eq.name, 'slice', [root], { begin: 0, size: root.shape[0] }, 0, text.length, text);
    }
  };

  for (const name of order) {
    if (failed.has(name)) continue;
    const eq = equations.get(name)!;
    try {
      lowerEquation(eq);
      const node = b.node(name)!;
      const state = spec.states.find((s) => s.name === name);
      if (state && (!node.batched || node.shape[0] !== state.size)) {
        failed.add(name);
        const got = node.batched ? fmtShape(node.shape) : `${fmtShape(node.shape)}, which does not depend on any state or input`;
        issues.push(report.inString(eq.path, 0, eq.text.length, `${name}: state "${name}" has size ${state.size} (${fmtShape([state.size])}) but its equation gives ${got}`));
      }
    } catch (err) {
      failed.add(name);
      if (err instanceof Skip) continue;
      if (!(err instanceof ExprError)) throw err;
      issues.push(report.inString(eq.path, err.column, err.length, `${name}: ${err.message}`));
    }
  }

  for (const s of spec.states) {
    if (stateNames.has(s.name) && !equations.has(s.name)) {
      issues.push(
        report.atKey(
          formatPath(['custom', 'states', s.name]),
          `state "${s.name}" has no update: add an equation "${s.name}": "..." (it may read its previous value as ${s.name}_prev)`,
        ),
      );
    }
  }

  spec.outputs.forEach((name, index) => {
    const path = formatPath(['custom', 'outputs', index]);
    if (!equations.has(name)) {
      issues.push(report.at(path, `unknown output "${name}": outputs name equations (${[...equations.keys()].join(', ')})` + didYouMean(name, [...equations.keys()])));
      return;
    }
    if (failed.has(name)) return;
    const node = b.node(name);
    if (node && !node.batched) issues.push(report.at(path, `output "${name}" does not depend on any state or input: it is ${fmtShape(node.shape)} for every example`));
    else if (node) b.output(name);
  });

  if (issues.length > 0) return { issues };
  const graph = b.build();
  const aliases = new Map(spec.params.map((p) => [p.key, p.name]));
  for (const decl of graph.params) {
    const alias = aliases.get(decl.name);
    if (alias !== undefined && alias !== decl.name) decl.weightName = alias;
  }
  return { graph, issues };
}

/** Elementwise + − *: equal vectors, a vector and a bias of its size, or anything and a scalar. */
function elementwiseOk(a: Val, b: Val): boolean {
  const scalar = (v: Val) => v.shape.length === 0;
  if (scalar(a) || scalar(b)) return true;
  if (!a.batched && !b.batched) return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  return a.shape.length === 1 && b.shape.length === 1 && a.shape[0] === b.shape[0];
}

/**
 * Topological order of the equations by the names they read (previous values `NAME_prev` are leaves,
 * so recurrence goes through them). A cycle is reported once, at the reference that closes it.
 */
function sortEquations(
  equations: Map<string, { name: string; text: string; path: string; ast?: Expr }>,
  failed: Set<string>,
  issues: SourceIssue[],
  report: CustomReporter,
): string[] {
  const deps = new Map<string, { name: string; start: number; end: number }[]>();
  for (const eq of equations.values()) {
    deps.set(eq.name, eq.ast ? namesIn(eq.ast).filter((r) => equations.has(r.name)) : []);
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const inCycle = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const ref of deps.get(name) ?? []) {
      const s = state.get(ref.name);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(ref.name)), ref.name];
        cycle.forEach((n) => inCycle.add(n));
        const eq = equations.get(name)!;
        const message =
          cycle.length === 2
            ? `${name}: "${name}" reads itself; a state's previous value is written ${name}_prev`
            : `${name}: cycle ${cycle.join(' → ')}: these equations read each other; recurrence goes through previous values (NAME_prev)`;
        issues.push(report.inString(eq.path, ref.start, ref.end - ref.start, message));
      } else if (s === undefined) {
        visit(ref.name);
      }
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of equations.keys()) if (!state.has(name)) visit(name);
  inCycle.forEach((n) => failed.add(n));
  return order;
}
