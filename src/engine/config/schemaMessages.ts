// ajv's errors, narrowed by schema.ts, as sentences a researcher can act on, each located at the offending
// value or key. Knows the schema's vocabulary (what an enum value is called, which arguments an
// initializer takes), not its rules.
import type { SourceIssue } from '../errors';
import { DISTRIBUTION_ARGUMENT_DEFAULTS } from './defaults';
import { formatPath, segmentsFromPointer, type ConfigLocator, type PathSegment } from './positions';
import { definition, type SchemaError } from './schema';
import type { DistributionName, InitializerName } from './spec';
import { didYouMean } from './suggest';
import { isObject, valueAt } from './tree';

/** A table's own entry for a key the user wrote: never one of Object.prototype's (`constructor`, `__proto__`). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
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
  return [own(ALTERNATIVE_WORDS, ref) ?? ref.replace('#/definitions/', '')];
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

/** At most this many "listed twice" issues per array: the first few say it all. */
const MAX_REPEATS_REPORTED = 5;

export function describeSchemaErrors(errors: SchemaError[], data: unknown, locator: ConfigLocator): SourceIssue[] {
  // A value of the wrong type fails its enum, pattern, ... too; only the type is worth saying.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type' || e.keyword === 'union').map((e) => e.pointer));
  const issues: SourceIssue[] = [];
  for (const error of errors) {
    if (wrongType.has(error.pointer) && error.keyword !== 'type' && error.keyword !== 'union') continue;
    issues.push(...describeError(error, data, locator));
  }
  return issues;
}

function describeError(error: SchemaError, data: unknown, locator: ConfigLocator): SourceIssue[] {
  const segments = segmentsFromPointer(error.pointer, locator.root);
  const path = formatPath(segments);
  const lastKey = [...segments].reverse().find((s): s is string => typeof s === 'string') ?? '';
  const p = error.params;
  const at = (message: string) => [locator.issueAt(path, message)];
  switch (error.keyword) {
    case 'type': {
      const expected = String(p.type);
      // A literal beyond a double's range (1e999) parses to ±Infinity, which JSON Schema counts as no number.
      if (typeof error.data === 'number' && !Number.isFinite(error.data)) return at(`must be a finite number; this one is beyond ±1.8e308 (parsed as ${error.data})`);
      if (expected === 'integer' && typeof error.data === 'number') return at(`must be an integer, got ${error.data}`);
      return at(`expected ${typeWords(expected)}, got ${describeValue(error.data)}`);
    }
    case 'union':
      return at(`expected ${listWords((p.alternatives as string[]).flatMap(alternativesOf), 'or')}, got ${describeValue(error.data)}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const relation = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[error.keyword];
      return at(`must be ${relation} ${String(p.limit)}, got ${String(error.data)}`);
    }
    case 'enum': {
      const allowed = p.allowedValues as string[];
      const noun = own(ENUM_NOUNS, lastKey) ?? 'value';
      return at(`unknown ${noun} ${describeLiteral(error.data)}; expected one of ${allowed.join(', ')}` + didYouMean(String(error.data), allowed));
    }
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const hint = didYouMean(key, allowed, allowed.length > 0 ? `; allowed keys here: ${allowed.join(', ')}` : '');
      const customState = isObject(data) && data.cell === 'custom' && segments.length === 1 && segments[0] === 'initialState';
      const message = customState
        ? `initialState names only h and c; give a custom state its own initial value as custom.states.${key}.initial`
        : `unknown key ${describeLiteral(key)}${hint}`;
      return [locator.issueAtKey(formatPath([...segments, key]), message)];
    }
    case 'required': {
      const key = String(p.missingProperty);
      return [locator.issueAtAnchor(formatPath([...segments, key]), `missing required key "${key}"`)];
    }
    case 'requiredAny': {
      const keys = p.keys as string[];
      return [locator.issueAtAnchor(formatPath([...segments, keys[0]]), `missing key ${listWords(keys.map((k) => `"${k}"`), 'or')}: one of them is required`)];
    }
    case 'false schema':
      return [locator.issueAtKey(path, notAllowedMessage(segments, data))];
    case 'uniqueItems':
      return repeatedItemIssues(error.data, segments, locator);
    case 'minItems':
    case 'minProperties':
    case 'minLength':
      return at('must not be empty');
    case 'pattern':
      // `of` / `wrt` are checked by parseTensorRef, which says what is wrong and where.
      return isTensorRefPath(segments) ? [] : at(`does not match the pattern ${String(p.pattern)}`);
    default:
      return at(error.message);
  }
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
  const cell = isObject(data) && typeof data.cell === 'string' ? describeLiteral(data.cell).replace(/^"|"$/g, '') : '?';
  const parent = valueAt(data, segments.slice(0, -1));
  const takes = (name: string, args: readonly string[]) => (args.length > 0 ? `${name} takes ${args.join(', ')}` : `${name} takes no arguments`);
  if (cell === 'custom' && segments.length === 1 && ['activation', 'recurrentActivation', 'useBias', 'initializers'].includes(key)) {
    return `"${key}" does not apply to a custom cell: write activations and biases into its equations and give each parameter its initializer under custom.params`;
  }
  if (key === 'custom' && segments.length === 1) return `"custom" holds the equations of a custom cell; it applies only with "cell": "custom" (this config's cell is ${cell})`;
  const inInitializer = segments[0] === 'initializers' ? segments.length === 3 : segments[0] === 'custom' && segments[segments.length - 2] === 'initializer';
  if (inInitializer && isObject(parent)) {
    const name = String(parent.name);
    return `"${key}" does not apply to initializer ${name}; ${takes(name, own(INITIALIZER_ARGUMENTS as Record<string, string[]>, name) ?? [])}`;
  }
  const inSource = segments[0] === 'inputs' || segments[0] === 'initialState' || (segments[0] === 'custom' && segments[segments.length - 2] === 'initial');
  if (inSource && Object.hasOwn(DISTRIBUTION_ARGUMENT_DEFAULTS, key) && isObject(parent)) {
    const given = typeof parent.distribution === 'string' ? (parent.distribution as DistributionName) : undefined;
    const name = given ?? 'normal';
    return `"${key}" does not apply to distribution ${name}${given ? '' : ' (the default)'}; ${takes(name, own(DISTRIBUTION_ARGUMENTS, name) ?? [])}`;
  }
  if (key === 'recurrentActivation') return `recurrentActivation is the gate activation of lstm and gru; cell ${cell} has no gates`;
  if (segments[0] === 'initialState' && segments.length === 2) return `cell ${cell} has no state ${describeLiteral(key)}; its only state is h`;
  return `${describeLiteral(key)} is not allowed here`;
}

function repeatedItemIssues(items: unknown, segments: PathSegment[], locator: ConfigLocator): SourceIssue[] {
  if (!Array.isArray(items)) return [];
  const seen = new Map<string, number>();
  const issues: SourceIssue[] = [];
  for (const [index, item] of items.entries()) {
    const key = JSON.stringify(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else issues.push(locator.issueAt(formatPath([...segments, index]), `${describeLiteral(item)} is listed twice (also at ${formatPath([...segments, first])})`));
    if (issues.length === MAX_REPEATS_REPORTED) break;
  }
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

/** A value as JSON, cut to 60 characters: a message quotes what the user wrote, never all of it. */
export function describeLiteral(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
