// Stage 2, schema: the parsed value against the JSON Schema (schemas/jacobian-config.schema.json), the
// single statement of what is allowed, shared with the editor's completion and hovers. ajv's errors are
// narrowed here (one branch per union) and worded in schemaMessages.ts. Pure: value in, issues out.
import type { ErrorObject } from 'ajv';
import schemaJson from '../../../schemas/jacobian-config.schema.json';
import type { SourceIssue } from '../errors';
import type { ConfigLocator } from './positions';
import { describeSchemaErrors } from './schemaMessages';
import { validatorFor } from './schemaValidators';
import { isObject } from './tree';

/** An ajv error with its JSON pointer made absolute (errors of a re-validated branch start at the union). */
export interface SchemaError {
  pointer: string;
  keyword: string;
  message: string;
  schemaPath: string;
  params: Record<string, unknown>;
  data: unknown;
  schema: unknown;
  parentSchema: Record<string, unknown> | undefined;
}

export function schemaIssues(data: unknown, locator: ConfigLocator): SourceIssue[] {
  const validate = validatorFor();
  if (validate(data)) return [];
  const errors = resolveUnions((validate.errors ?? []).map((e) => fromAjv(e, '')));
  return describeSchemaErrors(errors, data, locator);
}

/** Schema definitions by `#/definitions/...` reference. */
export function definition(ref: string): Record<string, unknown> {
  const name = ref.replace('#/definitions/', '');
  return (schemaJson.definitions as Record<string, Record<string, unknown>>)[name];
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
    const schemas = union.schema as { $ref?: string; required?: string[] }[];
    if (schemas.some((b) => !b.$ref)) {
      // Inline alternatives of required keys (the root's "cell" for one layer or "layers" for a stack): one issue
      // naming every key that would do, instead of a missing-key issue per branch as if each were needed.
      const keys = schemas.flatMap((b) => b.required ?? []);
      result = result.filter((e) => e !== union && !(e.pointer === union.pointer && e.keyword === 'required' && keys.includes(String(e.params.missingProperty))));
      result.push({ ...union, keyword: 'requiredAny', params: { keys } });
      continue;
    }
    const branches = (union.schema as { $ref: string }[]).map((branch) => validateBranch(branch.$ref, union.data, union.pointer));
    const produced = new Set([union, ...branches.flatMap((b) => b.raw)].map(errorKey));
    result = result.filter((e) => !(isWithin(e.pointer, union.pointer) && produced.has(errorKey(e))));
    const candidates = branches.filter((b) => !b.typeMismatch);
    if (candidates.length === 0) {
      result.push({ ...union, keyword: 'union', params: { alternatives: branches.map((b) => b.ref) } });
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
  const validate = validatorFor(ref);
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
