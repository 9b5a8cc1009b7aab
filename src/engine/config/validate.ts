// `*.jacobian.json` text → RunSpec, or a UserError listing every problem at once, each located at the
// offending value (or key) so the editor can underline it. The JSON Schema (schemas/jacobian-config.schema.json)
// is the single statement of what is allowed, shared with the editor's completion and hovers; this module
// turns ajv's errors into sentences a researcher can act on, adds the checks a schema cannot make (tensor
// names of the chosen cell, data files on disk, ranges across keys), and applies the defaults.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseTree, printParseErrorCode, visit, type Node, type ParseError } from 'jsonc-parser/lib/esm/main';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import schemaJson from '../../../schemas/jacobian-config.schema.json';
import { resolveAutoCell } from '../params/formats/autoCell';
import { UserError, type SourceIssue } from '../errors';
import { isRefError, parseTensorRef } from '../run/tensorRef';
import { buildCustomCell, customTensorNames, reporterFor } from '../cells/custom/build';
import { resolveCustomConfig, toInitializer, type RawCustomCell, type RawInitializer, type ResolvedCustom } from '../cells/custom/config';
import { kerasDefaults } from '../params/initializers';
import { closest } from './suggest';
import { ConfigLocator, STRICT_JSON, formatPath, segmentsFromPointer, type PathSegment } from './positions';
import {
  type ActivationName,
  type CellName,
  type DataSource,
  type DiagnosticName,
  type DistributionName,
  type InitializerName,
  type InitializerSpec,
  type JacobianMethod,
  type RunSpec,
  type WeightsSpec,
} from './spec';

export interface ParseConfigOptions {
  /** The tensor names of a cell (`h`, `c`, `x`, `o`, ...), to check `of`/`wrt`; undefined skips the check. */
  tensorNames?: (cell: string) => ReadonlySet<string> | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Defaults. The schema repeats them as `default` annotations for the editor; a unit test keeps both equal.

type InitializerDefaults = Record<'kernel' | 'recurrentKernel' | 'bias', InitializerName>;

export interface CellDefaults {
  activation: ActivationName;
  recurrentActivation: ActivationName;
  initializers: InitializerDefaults;
}

/** Keras's defaults for its cells; the seed builds both of its Dense layers with one initializer. */
const KERAS_INITIALIZERS: InitializerDefaults = { kernel: 'glorot_uniform', recurrentKernel: 'orthogonal', bias: 'zeros' };

export const CELL_DEFAULTS: Readonly<Record<CellName, CellDefaults>> = {
  seed: {
    activation: 'relu',
    recurrentActivation: 'sigmoid', // unused: the seed has no gates
    initializers: { kernel: 'glorot_uniform', recurrentKernel: 'glorot_uniform', bias: 'zeros' },
  },
  simple_rnn: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  lstm: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  gru: { activation: 'tanh', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
  // Unused: a custom cell writes its activations into its equations and gives each parameter its initializer.
  custom: { activation: 'linear', recurrentActivation: 'sigmoid', initializers: KERAS_INITIALIZERS },
};

/** Arguments of a distribution that the config leaves out. */
const DISTRIBUTION_ARGUMENT_DEFAULTS = { mean: 0, stddev: 1, minval: -1, maxval: 1, value: 0 } as const;

/** Inputs and every initial state default to normal(0, 1). */
export const DEFAULT_DATA_SOURCE: Readonly<DataSource> = {
  kind: 'distribution',
  distribution: 'normal',
  ...DISTRIBUTION_ARGUMENT_DEFAULTS,
};

export const DEFAULTS = {
  useBias: true,
  seed: 0,
  timeSteps: 10,
  batchSize: 1,
  jacobians: [{ of: 'h@t', wrt: 'h@t-1' }],
  diagnostics: ['mean', 'varTimesFanIn', 'frobenius', 'spectralNorm', 'spectralRadius'] as DiagnosticName[],
  method: 'structured' as JacobianMethod,
  maxMemoryMB: 4096,
} as const;

/** The source of one initial state: its own entry when the config names states, else the shared one. */
export function initialStateSource(initialState: RunSpec['initialState'], stateName: string): DataSource {
  if (isDataSource(initialState)) return initialState;
  return initialState[stateName] ?? { ...DEFAULT_DATA_SOURCE };
}

function isDataSource(value: RunSpec['initialState']): value is DataSource {
  const kind = (value as Partial<DataSource>).kind;
  return kind === 'distribution' || kind === 'file';
}

// ---------------------------------------------------------------------------------------------------
// Entry point.

export function parseConfig(configText: string, file: string, options: ParseConfigOptions = {}): RunSpec {
  const configFile = resolve(file);
  // Editors on Windows may save a byte-order mark; a space in its place keeps every offset where it was.
  const text = configText.startsWith('\uFEFF') ? ' ' + configText.slice(1) : configText;
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, STRICT_JSON);
  const locator = new ConfigLocator(configFile, text, root);
  if (syntaxErrors.length > 0 || !root) throw new UserError('config', syntaxIssues(text, locator));

  const data = nodeValue(root);
  // "cell": "auto" becomes the model file's cell, sizes and settings before anything else is checked.
  const autoProblems = resolveAutoCell(data, locator, dirname(configFile));
  if (autoProblems.length > 0) throw new UserError('config', autoProblems);
  const schemaProblems = schemaIssues(data, locator);
  const custom = customCellIssues(data, locator, schemaProblems);
  const issues = [
    ...duplicateKeyIssues(root, locator),
    ...schemaProblems,
    ...custom.issues,
    ...crossKeyIssues(data, locator),
    ...tensorRefIssues(data, locator, options, custom.names),
    ...dataFileIssues(data, locator, dirname(configFile)),
  ];
  if (issues.length > 0) throw new UserError('config', sortAndDedupe(issues));
  return buildSpec(data as RawConfig, configFile, locator, custom.resolved);
}

/**
 * A custom cell's sizes, names and equations, checked by building its graph: every equation error is
 * reported here, located inside its expression string, so the editor shows it on save. Skipped while
 * the schema finds problems in the block itself (or in units / inputDim), which are reported instead.
 */
function customCellIssues(
  data: unknown,
  locator: ConfigLocator,
  schemaProblems: SourceIssue[],
): { issues: SourceIssue[]; names?: ReadonlySet<string>; resolved?: ResolvedCustom } {
  if (!isObject(data) || data.cell !== 'custom' || !isObject(data.custom)) return { issues: [] };
  const blocked = schemaProblems.some((i) => /^(custom|units|inputDim)\b/.test(i.path) || i.path === '');
  if (blocked) return { issues: [] };
  const report = reporterFor(locator);
  const given = { units: data.units as number | undefined, inputDim: data.inputDim as number | undefined };
  const { resolved, issues } = resolveCustomConfig(data.custom as unknown as RawCustomCell, given, report);
  if (!resolved) return { issues };
  const built = buildCustomCell(resolved.spec, { units: resolved.units, inputDim: resolved.inputDim }, report);
  const stateIssues = customInitialStateIssues(data, resolved, locator);
  if (!built.graph) return { issues: [...built.issues, ...stateIssues] };
  return { issues: stateIssues, names: customTensorNames(built.graph), resolved };
}

/** `initialState` keyed by name may only name the custom cell's states. */
function customInitialStateIssues(data: Record<string, unknown>, resolved: ResolvedCustom, locator: ConfigLocator): SourceIssue[] {
  const state = data.initialState;
  if (!isObject(state) || Object.keys(state).length === 0 || !Object.values(state).every(isObject)) return [];
  const names = resolved.spec.states.map((s) => s.name);
  // Other keys than h and c are refused by the schema already.
  return Object.keys(state)
    .filter((name) => (name === 'h' || name === 'c') && !names.includes(name))
    .map((name) =>
      locator.issueAtKey(
        formatPath(['initialState', name]),
        `the custom cell has no state "${name}"; its states are ${names.join(', ')}` + (closest(name, names) ? `; did you mean "${closest(name, names)}"?` : ''),
      ),
    );
}

/** The value of a node; for duplicate keys the last wins, as in JSON.parse (duplicates are reported anyway). */
function nodeValue(node: Node): unknown {
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

function sortAndDedupe(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((issue) => {
      const key = `${issue.offset}:${issue.length}:${issue.path}:${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.offset - b.offset);
}

// ---------------------------------------------------------------------------------------------------
// Syntax.

/**
 * Every syntax error jsonc-parser finds, in words. After the first error on a line the parser is
 * recovering, and what it reports next on that line is a consequence, not a second mistake.
 */
function syntaxIssues(text: string, locator: ConfigLocator): SourceIssue[] {
  const containers: ('object' | 'array')[] = [];
  const issues: SourceIssue[] = [];
  let lastLine = 0;
  visit(
    text,
    {
      onObjectBegin: () => void containers.push('object'),
      onObjectEnd: () => void containers.pop(),
      onArrayBegin: () => void containers.push('array'),
      onArrayEnd: () => void containers.pop(),
      onError: (code, offset, length) => {
        const described = describeSyntaxError(printParseErrorCode(code), text, offset, length, containers[containers.length - 1]);
        const issue = locator.issueAtOffset('', described.offset, described.length, described.message);
        if (issue.line === lastLine) return;
        lastLine = issue.line;
        issues.push(issue);
      },
    },
    STRICT_JSON,
  );
  if (issues.length === 0) issues.push(locator.issueAtOffset('', 0, 0, 'Expected a JSON object'));
  return issues;
}

function describeSyntaxError(
  code: ReturnType<typeof printParseErrorCode>,
  text: string,
  offset: number,
  length: number,
  container: 'object' | 'array' | undefined,
): { message: string; offset: number; length: number } {
  const at = (message: string) => ({ message, offset, length });
  const token = text.slice(offset, offset + length);
  const closing = container === 'array' ? 'closing bracket' : 'closing brace';
  // A comma before `}` or `]` is reported as a missing key or value; say what it is, at the comma.
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const comma = previousNonSpace(text, offset);
    if ((text[offset] === '}' || text[offset] === ']') && text[comma] === ',') {
      return { message: `Trailing comma: JSON allows no comma before a ${text[offset] === '}' ? 'closing brace' : 'closing bracket'}`, offset: comma, length: 1 };
    }
  }
  switch (code) {
    case 'InvalidSymbol':
      if (/^(NaN|-?Infinity)$/.test(token)) return at(`JSON has no ${token}; write a finite number`);
      if (/^(True|False|None|TRUE|FALSE|undefined)$/.test(token)) return at(`JSON has no ${token}; write true, false or null`);
      if (/^[A-Za-z_']/.test(token)) return at(`Unexpected ${JSON.stringify(token)}: keys and strings must be in double quotes`);
      return at(`Unexpected character ${JSON.stringify(token)}`);
    case 'InvalidNumberFormat':
      return at(`Invalid number ${JSON.stringify(token)}`);
    case 'PropertyNameExpected':
      return at('Expected a key in double quotes');
    case 'ValueExpected':
      return at(offset >= text.length ? 'Expected a value, but the file ends' : 'Expected a value');
    case 'ColonExpected':
      return at('Expected a colon after the key');
    case 'CommaExpected':
    case 'CloseBraceExpected':
    case 'CloseBracketExpected':
      return at(`Expected a comma or ${code === 'CommaExpected' ? closing : code === 'CloseBraceExpected' ? 'closing brace' : 'closing bracket'}`);
    case 'EndOfFileExpected':
      return at('Expected the end of the file after the closing brace');
    case 'InvalidCommentToken':
      return at('Comments are not allowed in a .jacobian.json file (strict JSON)');
    case 'UnexpectedEndOfComment':
      return at('Unterminated comment');
    case 'UnexpectedEndOfString':
      return at('Unterminated string: a closing double quote is missing');
    case 'UnexpectedEndOfNumber':
      return at('Incomplete number');
    case 'InvalidUnicode':
      return at('Invalid \\u escape: expected four hexadecimal digits');
    case 'InvalidEscapeCharacter':
      return at('Invalid escape sequence in string');
    case 'InvalidCharacter':
      return at('Invalid character in string: control characters must be escaped');
    default:
      return at('Malformed JSON');
  }
}

function previousNonSpace(text: string, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  return i;
}

function duplicateKeyIssues(root: Node, locator: ConfigLocator): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const walk = (node: Node, segments: PathSegment[]): void => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (!key) continue;
        const name = key.value as string;
        if (seen.has(name)) {
          const issue = locator.issueAtOffset(formatPath([...segments, name]), key.offset, key.length, `duplicate key "${name}"`);
          issues.push(issue);
        }
        seen.add(name);
        if (value) walk(value, [...segments, name]);
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((item, index) => walk(item, [...segments, index]));
    }
  };
  walk(root, []);
  return issues;
}

// ---------------------------------------------------------------------------------------------------
// Schema validation.

// `markdownDescription` and friends are VS Code's annotations; ajv must know them in strict mode.
// strictTypes is off because the per-cell rules annotate nested keys (`initialState.c`) without
// repeating their types, which would otherwise report one wrong type twice.
const EDITOR_KEYWORDS = ['markdownDescription', 'enumDescriptions', 'markdownEnumDescriptions', 'defaultSnippets'];
const SCHEMA_ID = schemaJson.$id;

let ajvInstance: Ajv | undefined;

function validator(ref = ''): ValidateFunction {
  if (!ajvInstance) {
    ajvInstance = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
    ajvInstance.addVocabulary(EDITOR_KEYWORDS);
    ajvInstance.addSchema(schemaJson as object);
  }
  const validate = ajvInstance.getSchema(SCHEMA_ID + ref);
  if (!validate) throw new Error(`no schema ${SCHEMA_ID}${ref}`);
  return validate;
}

/** Schema definitions by `#/definitions/...` reference. */
function definition(ref: string): Record<string, unknown> {
  const name = ref.replace('#/definitions/', '');
  return (schemaJson.definitions as Record<string, Record<string, unknown>>)[name];
}

/** An ajv error with its JSON pointer made absolute (errors of a re-validated branch start at the union). */
interface SchemaError {
  pointer: string;
  keyword: string;
  message: string;
  schemaPath: string;
  params: Record<string, unknown>;
  data: unknown;
  schema: unknown;
  parentSchema: Record<string, unknown> | undefined;
}

function fromAjv(error: ErrorObject, base: string): SchemaError {
  return {
    pointer: base + error.instancePath,
    keyword: error.keyword,
    message: error.message ?? 'is not allowed',
    schemaPath: error.schemaPath,
    params: error.params as Record<string, unknown>,
    data: error.data,
    schema: error.schema,
    parentSchema: error.parentSchema as Record<string, unknown> | undefined,
  };
}

function errorKey(e: SchemaError): string {
  return `${e.pointer}|${e.keyword}|${JSON.stringify(e.params)}`;
}

function isWithin(pointer: string, ancestor: string): boolean {
  return pointer === ancestor || pointer.startsWith(ancestor + '/');
}

function schemaIssues(data: unknown, locator: ConfigLocator): SourceIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors = resolveUnions((validate.errors ?? []).map((e) => fromAjv(e, '')));
  return describeSchemaErrors(errors, data, locator);
}

/**
 * ajv reports every branch of a failed `anyOf` (an initializer name OR an object; a distribution OR a
 * file), most of them irrelevant to what the user meant. Each union is re-validated branch by branch and
 * only the branch the value most nearly matches is kept: one not failing on the value's own type, with the
 * fewest errors at the value itself (unknown or missing keys), then the fewest inside it, then the one
 * whose required keys the value has. When every branch wants another type, one error lists them all.
 * Union branches in the schema are plain `$ref`s to definitions so that each can be validated alone.
 */
function resolveUnions(errors: SchemaError[]): SchemaError[] {
  let result = errors.filter((e) => e.keyword !== 'if');
  // Outermost first; at one pointer ajv reports the enclosing union after the unions nested in its branches.
  const unions = result
    .map((e, index) => ({ e, index }))
    .filter(({ e }) => e.keyword === 'anyOf')
    .sort((a, b) => a.e.pointer.length - b.e.pointer.length || b.index - a.index)
    .map(({ e }) => e);
  const resolvedAt: string[] = [];
  for (const union of unions) {
    if (resolvedAt.some((p) => isWithin(union.pointer, p))) continue;
    resolvedAt.push(union.pointer);
    const branches = (union.schema as { $ref: string }[]).map((branch) => validateBranch(branch.$ref, union.data, union.pointer));
    const produced = new Set([union, ...branches.flatMap((b) => b.raw)].map(errorKey));
    result = result.filter((e) => !(isWithin(e.pointer, union.pointer) && produced.has(errorKey(e))));
    const candidates = branches.filter((b) => !b.typeMismatch);
    if (candidates.length === 0) {
      result.push({ ...union, keyword: 'union', params: { alternatives: branches.flatMap((b) => alternativesOf(b.ref)) } });
      continue;
    }
    candidates.sort((a, b) => a.atValue - b.atValue || a.inside - b.inside || b.requiredPresent - a.requiredPresent);
    result.push(...candidates[0].resolved);
  }
  return result;
}

interface BranchResult {
  ref: string;
  raw: SchemaError[];
  resolved: SchemaError[];
  typeMismatch: boolean;
  atValue: number;
  inside: number;
  requiredPresent: number;
}

function validateBranch(ref: string, data: unknown, pointer: string): BranchResult {
  if (!ref?.startsWith('#/definitions/')) throw new Error(`union branches must be $refs to definitions, got ${ref}`);
  const validate = validator(ref);
  validate(data);
  const raw = (validate.errors ?? []).map((e) => fromAjv(e, pointer));
  const resolved = resolveUnions(raw);
  const atValue = resolved.filter((e) => e.pointer === pointer).length;
  const required = (definition(ref).required as string[] | undefined) ?? [];
  const present = isObject(data) ? required.filter((key) => key in data).length : 0;
  return {
    ref,
    raw,
    resolved,
    typeMismatch: resolved.some((e) => e.pointer === pointer && (e.keyword === 'type' || e.keyword === 'union')),
    atValue,
    inside: resolved.length - atValue,
    requiredPresent: present,
  };
}

/** How an error message names each alternative of a union. */
const ALTERNATIVE_WORDS: Record<string, string> = {
  '#/definitions/initializerName': 'an initializer name',
  '#/definitions/initializerObject': 'an object {"name": ...}',
  '#/definitions/distributionSource': 'a distribution {"distribution": ...}',
  '#/definitions/fileSource': 'a data file {"file": ...}',
  '#/definitions/stateSources': 'an object keyed by state name (h, c)',
  '#/definitions/weightsModel': 'a model {"model": "model.json", "layer": ...}',
  '#/definitions/weightsNpz': 'an .npz {"npz": "weights.npz"}',
  '#/definitions/weightsFiles': 'files {"files": {"kernel": "kernel.npy", ...}}',
  '#/definitions/weightsTorch': 'a PyTorch state dict {"torch": "model.pt", "prefix": ...}',
  '#/definitions/weightsKeras': 'a Keras file {"keras": "model.keras", "layer": ...}',
};

function alternativesOf(ref: string): string[] {
  const branches = definition(ref).anyOf as { $ref: string }[] | undefined;
  if (branches) return branches.flatMap((b) => alternativesOf(b.$ref));
  return [ALTERNATIVE_WORDS[ref] ?? ref.replace('#/definitions/', '')];
}

/** What an unknown enum value is called, by the key it sits under. */
const ENUM_NOUNS: Record<string, string> = {
  cell: 'cell',
  activation: 'activation',
  recurrentActivation: 'activation',
  kernel: 'initializer',
  recurrentKernel: 'initializer',
  bias: 'initializer',
  name: 'initializer',
  initializer: 'initializer',
  distribution: 'distribution',
  diagnostics: 'diagnostic',
  method: 'method',
};

/** Which arguments each initializer and distribution takes, for "does not apply" messages. */
const INITIALIZER_ARGUMENTS: Partial<Record<InitializerName, string[]>> = {
  orthogonal: ['gain'],
  identity: ['gain'],
  constant: ['value'],
  random_normal: ['mean', 'stddev'],
  truncated_normal: ['mean', 'stddev'],
  random_uniform: ['minval', 'maxval'],
};
const DISTRIBUTION_ARGUMENTS: Record<DistributionName, string[]> = {
  normal: ['mean', 'stddev'],
  uniform: ['minval', 'maxval'],
  zeros: [],
  constant: ['value'],
};

function describeSchemaErrors(errors: SchemaError[], data: unknown, locator: ConfigLocator): SourceIssue[] {
  // A value of the wrong type fails its enum, pattern, ... too; only the type is worth saying.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type' || e.keyword === 'union').map((e) => e.pointer));
  const issues: SourceIssue[] = [];
  for (const error of errors) {
    if (wrongType.has(error.pointer) && error.keyword !== 'type' && error.keyword !== 'union') continue;
    const segments = segmentsFromPointer(error.pointer, locator.root);
    const path = formatPath(segments);
    const lastKey = [...segments].reverse().find((s): s is string => typeof s === 'string') ?? '';
    const p = error.params;
    switch (error.keyword) {
      case 'type': {
        const expected = String(p.type);
        if (expected === 'integer' && typeof error.data === 'number') issues.push(locator.issueAt(path, `must be an integer, got ${error.data}`));
        else issues.push(locator.issueAt(path, `expected ${typeWords(expected)}, got ${describeValue(error.data)}`));
        break;
      }
      case 'union':
        issues.push(locator.issueAt(path, `expected ${listWords(p.alternatives as string[], 'or')}, got ${describeValue(error.data)}`));
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const relation = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[error.keyword];
        issues.push(locator.issueAt(path, `must be ${relation} ${String(p.limit)}, got ${String(error.data)}`));
        break;
      }
      case 'enum': {
        const allowed = p.allowedValues as string[];
        const noun = ENUM_NOUNS[lastKey] ?? 'value';
        const suggestion = closest(String(error.data), allowed);
        issues.push(
          locator.issueAt(
            path,
            `unknown ${noun} ${describeLiteral(error.data)}; expected one of ${allowed.join(', ')}` + (suggestion ? `; did you mean "${suggestion}"?` : ''),
          ),
        );
        break;
      }
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
        const suggestion = closest(key, allowed);
        const hint = suggestion ? `; did you mean "${suggestion}"?` : allowed.length > 0 ? `; allowed keys here: ${allowed.join(', ')}` : '';
        const customState = isObject(data) && data.cell === 'custom' && segments.length === 1 && segments[0] === 'initialState';
        const message = customState
          ? `initialState names only h and c; give a custom state its own initial value as custom.states.${key}.initial`
          : `unknown key "${key}"${hint}`;
        issues.push(locator.issueAtKey(formatPath([...segments, key]), message));
        break;
      }
      case 'required': {
        const key = String(p.missingProperty);
        issues.push(locator.issueAtAnchor(formatPath([...segments, key]), `missing required key "${key}"`));
        break;
      }
      case 'false schema':
        issues.push(locator.issueAtKey(path, notAllowedMessage(segments, data)));
        break;
      case 'uniqueItems':
        issues.push(...repeatedItemIssues(error.data, segments, locator));
        break;
      case 'minItems':
      case 'minProperties':
      case 'minLength':
        issues.push(locator.issueAt(path, 'must not be empty'));
        break;
      case 'pattern':
        // `of` / `wrt` are checked by parseTensorRef, which says what is wrong and where.
        if (!isTensorRefPath(segments)) issues.push(locator.issueAt(path, `does not match the pattern ${String(p.pattern)}`));
        break;
      default:
        issues.push(locator.issueAt(path, error.message));
    }
  }
  return issues;
}

function isTensorRefPath(segments: PathSegment[]): boolean {
  return segments.length === 3 && segments[0] === 'jacobians' && (segments[2] === 'of' || segments[2] === 'wrt');
}

/**
 * Why a key forbidden by a rule of the schema (a `false` subschema) is forbidden here. The rule is told
 * from where the key sits: ajv's schemaPath of a re-validated union branch no longer names the definition.
 */
function notAllowedMessage(segments: PathSegment[], data: unknown): string {
  const key = String(segments[segments.length - 1]);
  const cell = isObject(data) && typeof data.cell === 'string' ? data.cell : '?';
  const parent = valueAt(data, segments.slice(0, -1));
  const takes = (name: string, args: readonly string[]) => (args.length > 0 ? `${name} takes ${args.join(', ')}` : `${name} takes no arguments`);
  if (cell === 'custom' && segments.length === 1 && ['activation', 'recurrentActivation', 'useBias', 'initializers'].includes(key)) {
    return `"${key}" does not apply to a custom cell: write activations and biases into its equations and give each parameter its initializer under custom.params`;
  }
  if (key === 'custom' && segments.length === 1) return `"custom" holds the equations of a custom cell; it applies only with "cell": "custom" (this config's cell is ${cell})`;
  const inInitializer = segments[0] === 'initializers' ? segments.length === 3 : segments[0] === 'custom' && segments[segments.length - 2] === 'initializer';
  if (inInitializer && isObject(parent)) {
    const name = String(parent.name);
    return `"${key}" does not apply to initializer ${name}; ${takes(name, INITIALIZER_ARGUMENTS[name as InitializerName] ?? [])}`;
  }
  const inSource = segments[0] === 'inputs' || segments[0] === 'initialState' || (segments[0] === 'custom' && segments[segments.length - 2] === 'initial');
  if (inSource && key in DISTRIBUTION_ARGUMENT_DEFAULTS && isObject(parent)) {
    const given = typeof parent.distribution === 'string' ? (parent.distribution as DistributionName) : undefined;
    const name = given ?? 'normal';
    return `"${key}" does not apply to distribution ${name}${given ? '' : ' (the default)'}; ${takes(name, DISTRIBUTION_ARGUMENTS[name] ?? [])}`;
  }
  if (key === 'recurrentActivation') return `recurrentActivation is the gate activation of lstm and gru; cell ${cell} has no gates`;
  if (segments[0] === 'initialState' && segments.length === 2) return `cell ${cell} has no state "${key}"; its only state is h`;
  return `"${key}" is not allowed here`;
}

function repeatedItemIssues(items: unknown, segments: PathSegment[], locator: ConfigLocator): SourceIssue[] {
  if (!Array.isArray(items)) return [];
  const seen = new Map<string, number>();
  const issues: SourceIssue[] = [];
  items.forEach((item, index) => {
    const key = JSON.stringify(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else issues.push(locator.issueAt(formatPath([...segments, index]), `${describeLiteral(item)} is listed twice (also at ${formatPath([...segments, first])})`));
  });
  return issues;
}

function typeWords(type: string): string {
  const words: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    null: 'null',
  };
  return listWords(type.split(',').map((t) => words[t] ?? t), 'or');
}

function listWords(words: string[], conjunction: string): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

/** `the string "100"`, `the number 2.5`, `an object`: how a wrong value is named in a message. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${describeLiteral(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

function describeLiteral(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------------
// Checks a schema cannot make.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of segments) {
    if (typeof segment === 'number') value = Array.isArray(value) ? value[segment] : undefined;
    else value = isObject(value) ? value[segment] : undefined;
  }
  return value;
}

/** The data-source objects of a config with their paths: `inputs`, `initialState`, `initialState.h`, ... */
function dataSourceObjects(data: unknown): { segments: PathSegment[]; value: Record<string, unknown> }[] {
  if (!isObject(data)) return [];
  const out: { segments: PathSegment[]; value: Record<string, unknown> }[] = [];
  if (isObject(data.inputs)) out.push({ segments: ['inputs'], value: data.inputs });
  const state = data.initialState;
  if (isObject(state)) {
    const byName = Object.keys(state).length > 0 && Object.values(state).every(isObject);
    if (byName) {
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
function initializerObjects(data: unknown): { segments: PathSegment[]; value: Record<string, unknown> }[] {
  if (!isObject(data)) return [];
  const out: { segments: PathSegment[]; value: Record<string, unknown> }[] = [];
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

/** Bounds that must be ordered: uniform distributions and random_uniform initializers. */
function crossKeyIssues(data: unknown, locator: ConfigLocator): SourceIssue[] {
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

/** `of` / `wrt`: the NAME@TIME syntax, located inside the string, and the name among the cell's tensors. */
function tensorRefIssues(data: unknown, locator: ConfigLocator, options: ParseConfigOptions, customNames?: ReadonlySet<string>): SourceIssue[] {
  if (!isObject(data) || !Array.isArray(data.jacobians)) return [];
  // Names are checked only against a cell the schema knows; an unknown cell is reported on its own.
  // A custom cell's names come from its own equations (when they build).
  const cells: readonly string[] = schemaJson.properties.cell.enum;
  const cell = typeof data.cell === 'string' && cells.includes(data.cell) ? data.cell : undefined;
  const names = cell === 'custom' ? customNames : cell && options.tensorNames ? options.tensorNames(cell) : undefined;
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
      } else if (names && !names.has(ref.name)) {
        const suggestion = closest(ref.name, [...names]);
        const message =
          `unknown tensor "${ref.name}" in cell ${cell}; its tensors are ${[...names].join(', ')}` + (suggestion ? `; did you mean "${suggestion}"?` : '');
        issues.push(locator.issueInString(path, 0, ref.name.length, message));
      }
    }
  });
  return issues;
}

/** Data files must exist now; their contents (shape, dtype, NaN) are checked by the engine when it reads them. */
function dataFileIssues(data: unknown, locator: ConfigLocator, configDir: string): SourceIssue[] {
  const issues: SourceIssue[] = [];
  for (const { segments, value } of dataSourceObjects(data)) {
    if (typeof value.file !== 'string' || value.file === '') continue;
    const file = resolve(configDir, value.file);
    const path = formatPath([...segments, 'file']);
    if (!existsSync(file)) issues.push(locator.issueAt(path, `file not found: ${file}`));
    else if (!statSync(file).isFile()) issues.push(locator.issueAt(path, `not a file: ${file}`));
  }
  for (const { segments, file: given } of weightFiles(data)) {
    const file = resolve(configDir, given);
    const path = formatPath(segments);
    if (!existsSync(file)) issues.push(locator.issueAt(path, `file not found: ${file}`));
    else if (!statSync(file).isFile()) issues.push(locator.issueAt(path, `not a file: ${file}`));
  }
  return issues;
}

/** The files `weights` names, with the path of the key naming each. */
function weightFiles(data: unknown): { segments: PathSegment[]; file: string }[] {
  const weights = isObject(data) ? data.weights : undefined;
  if (!isObject(weights)) return [];
  const out: { segments: PathSegment[]; file: string }[] = [];
  for (const key of ['model', 'npz', 'torch', 'keras'] as const) {
    if (typeof weights[key] === 'string' && weights[key] !== '') out.push({ segments: ['weights', key], file: weights[key] as string });
  }
  if (isObject(weights.files)) {
    for (const [name, file] of Object.entries(weights.files)) {
      if (typeof file === 'string' && file !== '') out.push({ segments: ['weights', 'files', name], file });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Defaults → RunSpec. Everything below runs on a config that passed every check above.

type RawDataSource = { file: string } | ({ distribution?: DistributionName } & Partial<typeof DISTRIBUTION_ARGUMENT_DEFAULTS>);

type RawWeights =
  | { model: string; layer?: string }
  | { npz: string }
  | { files: Record<string, string> }
  | { torch: string; prefix?: string }
  | { keras: string; layer?: string };

interface RawConfig {
  cell: CellName;
  /** Absent only for custom cells, which then take them from their first state and first input. */
  units?: number;
  inputDim?: number;
  custom?: RawCustomCell;
  weights?: RawWeights;
  activation?: ActivationName;
  recurrentActivation?: ActivationName;
  useBias?: boolean;
  initializers?: Partial<Record<'kernel' | 'recurrentKernel' | 'bias', RawInitializer>>;
  seed?: number;
  timeSteps?: number;
  batchSize?: number;
  inputs?: RawDataSource;
  initialState?: RawDataSource | Record<string, RawDataSource>;
  jacobians?: { of: string; wrt: string }[];
  diagnostics?: DiagnosticName[];
  method?: JacobianMethod;
  maxMemoryMB?: number;
}

function buildSpec(raw: RawConfig, configFile: string, locator: ConfigLocator, custom?: ResolvedCustom): RunSpec {
  const cellDefaults = CELL_DEFAULTS[raw.cell];
  const configDir = dirname(configFile);
  const initializer = (role: keyof InitializerDefaults): InitializerSpec => {
    return toInitializer(raw.initializers?.[role] ?? cellDefaults.initializers[role]);
  };
  const source = (given: RawDataSource | undefined, segments: PathSegment[]): DataSource => {
    if (given && 'file' in given) {
      return { kind: 'file', file: resolve(configDir, given.file), configPath: formatPath([...segments, 'file']) };
    }
    return { ...DEFAULT_DATA_SOURCE, ...(given as object | undefined) } as DataSource;
  };
  let initialState: RunSpec['initialState'];
  const rawState = raw.initialState;
  if (rawState && Object.keys(rawState).length > 0 && Object.values(rawState).every(isObject)) {
    initialState = Object.fromEntries(
      Object.entries(rawState as Record<string, RawDataSource>).map(([name, s]) => [name, source(s, ['initialState', name])]),
    );
  } else {
    initialState = source(rawState as RawDataSource | undefined, ['initialState']);
  }
  // A custom state's own `initial` wins over `initialState`.
  const ownInitial = Object.entries(raw.custom?.states ?? {}).filter(([, s]) => s.initial !== undefined);
  if (raw.cell === 'custom' && ownInitial.length > 0) {
    const shared = initialState;
    initialState = Object.fromEntries(
      Object.keys(raw.custom!.states).map((name) => {
        const own = raw.custom!.states[name].initial as RawDataSource | undefined;
        return [name, own !== undefined ? source(own, ['custom', 'states', name, 'initial']) : initialStateSource(shared, name)];
      }),
    );
  }
  const cell: CellName = raw.cell;
  return {
    configFile,
    cell,
    units: raw.units ?? custom?.units ?? 0,
    inputDim: raw.inputDim ?? custom?.inputDim ?? 0,
    ...(custom ? { custom: custom.spec } : {}),
    ...(raw.weights ? { weights: weightsSpec(raw.weights, configDir) } : {}),
    activation: raw.activation ?? cellDefaults.activation,
    recurrentActivation: raw.recurrentActivation ?? cellDefaults.recurrentActivation,
    useBias: raw.useBias ?? DEFAULTS.useBias,
    initializers: { kernel: initializer('kernel'), recurrentKernel: initializer('recurrentKernel'), bias: initializer('bias') },
    seed: raw.seed ?? DEFAULTS.seed,
    timeSteps: raw.timeSteps ?? DEFAULTS.timeSteps,
    batchSize: raw.batchSize ?? DEFAULTS.batchSize,
    inputs: source(raw.inputs, ['inputs']),
    initialState,
    jacobians: (raw.jacobians ?? DEFAULTS.jacobians).map((r, index) => ({ of: r.of, wrt: r.wrt, path: formatPath(['jacobians', index]) })),
    diagnostics: [...(raw.diagnostics ?? DEFAULTS.diagnostics)],
    method: raw.method ?? DEFAULTS.method,
    maxMemoryMB: raw.maxMemoryMB ?? DEFAULTS.maxMemoryMB,
    locator,
  };
}

function weightsSpec(raw: RawWeights, configDir: string): WeightsSpec {
  if ('model' in raw) {
    return { kind: 'model', file: resolve(configDir, raw.model), ...(raw.layer !== undefined ? { layer: raw.layer } : {}), path: 'weights.model', layerPath: raw.layer !== undefined ? 'weights.layer' : 'weights.model' };
  }
  if ('npz' in raw) return { kind: 'npz', file: resolve(configDir, raw.npz), path: 'weights.npz' };
  if ('torch' in raw) {
    return { kind: 'torch', file: resolve(configDir, raw.torch), ...(raw.prefix !== undefined ? { prefix: raw.prefix } : {}), path: 'weights.torch', prefixPath: raw.prefix !== undefined ? 'weights.prefix' : 'weights.torch' };
  }
  if ('keras' in raw) {
    return { kind: 'keras', file: resolve(configDir, raw.keras), ...(raw.layer !== undefined ? { layer: raw.layer } : {}), path: 'weights.keras', layerPath: raw.layer !== undefined ? 'weights.layer' : 'weights.keras' };
  }
  return {
    kind: 'files',
    files: Object.entries(raw.files).map(([param, file]) => ({ param, file: resolve(configDir, file), path: formatPath(['weights', 'files', param]) })),
    path: 'weights.files',
  };
}
