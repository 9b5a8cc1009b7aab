// Small predicates the message guards in messages.ts are written with. Messages cross process boundaries
// (IPC, postMessage) and are checked on arrival instead of trusted: a guard looks at every field the receiver
// reads, and the receiver logs and drops what fails instead of crashing on it.

export type Guard<T> = (value: unknown) => value is T;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isString: Guard<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
/** Any number, NaN and ±Infinity included (statistics of a diverging network are legitimately infinite). */
export const isNumber: Guard<number> = (v): v is number => typeof v === 'number';
export const isFiniteNumber: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
/** A non-negative safe integer: ids, counts, pids, offsets. */
export const isCount: Guard<number> = (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
export const isFloat32Array: Guard<Float32Array> = (v): v is Float32Array => v instanceof Float32Array;
export const isFloat64Array: Guard<Float64Array> = (v): v is Float64Array => v instanceof Float64Array;

export function optional<T>(guard: Guard<T>): Guard<T | undefined> {
  return (v): v is T | undefined => v === undefined || guard(v);
}

export function nullable<T>(guard: Guard<T>): Guard<T | null> {
  return (v): v is T | null => v === null || guard(v);
}

export function arrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.every((item) => guard(item));
}

export function oneOf<const T extends readonly (string | number | boolean)[]>(...values: T): Guard<T[number]> {
  return (v): v is T[number] => values.includes(v as T[number]);
}

export function anyOf<A, B, C>(a: Guard<A>, b: Guard<B>, c: Guard<C>): Guard<A | B | C> {
  return (v): v is A | B | C => a(v) || b(v) || c(v);
}

export function either<A, B>(a: Guard<A>, b: Guard<B>): Guard<A | B> {
  return (v): v is A | B => a(v) || b(v);
}

/** An object whose listed fields each pass their guard (other fields are allowed and ignored). */
export function shape<T>(fields: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const entries = Object.entries(fields) as [string, Guard<unknown>][];
  return (v): v is T => isRecord(v) && entries.every(([key, guard]) => guard(v[key]));
}

/**
 * The guard of a tagged union `{ type: ... }` from one guard per tag: the mapped type makes a message type
 * without a guard a compile error, so a new message cannot be added unchecked.
 */
export function taggedUnion<U extends { type: string }>(guards: { [K in U['type']]: Guard<Extract<U, { type: K }>> }): Guard<U> {
  return (v): v is U => isRecord(v) && typeof v.type === 'string' && Object.hasOwn(guards, v.type) && guards[v.type as U['type']](v);
}

/** A short, safe description of a rejected message for the log: never the whole (possibly huge) value. */
export function describeRejected(value: unknown): string {
  if (!isRecord(value)) return `a ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not a message object`;
  const type = typeof value.type === 'string' ? `"${value.type.slice(0, 40)}"` : `no string type`;
  return `message with ${type} and keys ${Object.keys(value).slice(0, 12).join(', ')}`;
}
