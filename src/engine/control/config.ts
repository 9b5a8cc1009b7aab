// The `stabilize` (LSC) and `floss` blocks of a config: parsed and checked here, each problem located at its
// JSON path (line:column through the config's locator). The schema only declares the blocks as objects;
// the rules live in one place, this file.
import { parse } from 'jsonc-parser/lib/esm/main';
import type { RunSpec } from '../config/spec';
import { UserError, type SourceIssue } from '../errors';
import type { ControlMeasure } from './dominant';
import type { EigenvectorMethod } from './measureOp';

/** A target per kind; `unbalanced` is the paper's split T/(T+L) for time, L/(T+L) for depth and input. */
export type TargetSpec = number | 'unbalanced' | { time?: number; input?: number; depth?: number };

export interface CommonControl {
  /** Trainable parameters by weight name; undefined: all. */
  params?: string[];
  /** Their JSON paths, for located errors once the cell's parameters are known. */
  paramPaths: string[];
  /** States forming the joint transition Jacobian; undefined: the cell's default. */
  states?: string[];
  statesPath: string;
  learningRate: number;
  tolerance: number;
  patience: number;
  maxSteps: number;
  maxSeconds: number;
  batchSize: number;
  timeSteps: number;
  /** Whether the gradient follows the parameters' effect on the states too (else states are data). */
  throughStates: boolean;
}

export interface StabilizeSpec extends CommonControl {
  target: TargetSpec;
  measure: ControlMeasure;
  input: boolean;
  /** Where the dominant eigenvectors come from: batched Arnoldi, dense (exact, O(n³) per matrix), or auto by backend (docs/control.md). */
  eigenvectors: EigenvectorMethod;
}

export interface FlossSpec extends CommonControl {
  exponents: number;
  target: number;
  /** Steps run before the exponents are accumulated (the QR frame settles). */
  warmup: number;
  /** Steps between orthonormalisations of the frame. */
  qrEvery: number;
}

export type ControlBlock = 'stabilize' | 'floss';

/** Reads one typed key of a block, collecting located issues instead of throwing. */
class BlockReader {
  readonly issues: SourceIssue[] = [];
  private readonly known = new Set<string>();
  constructor(
    private readonly spec: RunSpec,
    readonly block: ControlBlock,
    private readonly raw: Record<string, unknown>,
  ) {}

  path(key: string): string {
    return `${this.block}.${key}`;
  }

  issue(key: string, message: string): void {
    this.issues.push(this.spec.locator.issueAt(key ? this.path(key) : this.block, message));
  }

  value(key: string): unknown {
    this.known.add(key);
    return this.raw[key];
  }

  number(key: string, fallback: number, check: { min?: number; exclusiveMin?: number; max?: number; integer?: boolean }): number {
    const v = this.value(key);
    if (v === undefined) return fallback;
    const bad =
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      (check.integer && !Number.isInteger(v)) ||
      (check.min !== undefined && v < check.min) ||
      (check.exclusiveMin !== undefined && v <= check.exclusiveMin) ||
      (check.max !== undefined && v > check.max);
    if (!bad) return v;
    const range = [
      check.integer ? 'an integer' : 'a number',
      check.min !== undefined ? `≥ ${check.min}` : check.exclusiveMin !== undefined ? `> ${check.exclusiveMin}` : '',
      check.max !== undefined ? `≤ ${check.max}` : '',
    ].filter(Boolean).join(' ');
    this.issue(key, `must be ${range}, got ${JSON.stringify(v)}`);
    return fallback;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    this.issue(key, `must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }

  names(key: string): string[] | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) {
      this.issue(key, `must be a non-empty list of names, got ${JSON.stringify(v)}`);
      return undefined;
    }
    const dup = v.find((x, i) => v.indexOf(x) !== i);
    if (dup !== undefined) this.issue(`${key}[${v.lastIndexOf(dup)}]`, `"${dup}" is listed twice`);
    return v as string[];
  }

  unknownKeys(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.known.has(key)) this.issue(key, `unknown key "${key}"; known: ${[...this.known].join(', ')}`);
    }
  }
}

function readCommon(r: BlockReader, spec: RunSpec, defaults: { tolerance: number; maxSteps: number; throughStates: boolean }): CommonControl {
  const params = r.names('params');
  return {
    params,
    paramPaths: (params ?? []).map((_, i) => r.path(`params[${i}]`)),
    states: r.names('states'),
    statesPath: r.path('states'),
    learningRate: r.number('learningRate', 0.01, { exclusiveMin: 0, max: 10 }),
    tolerance: r.number('tolerance', defaults.tolerance, { exclusiveMin: 0 }),
    patience: r.number('patience', 20, { min: 1, integer: true }),
    maxSteps: r.number('maxSteps', defaults.maxSteps, { min: 1, integer: true }),
    maxSeconds: r.number('maxSeconds', 600, { exclusiveMin: 0 }),
    batchSize: r.number('batchSize', spec.batchSize, { min: 1, max: 4096, integer: true }),
    timeSteps: r.number('timeSteps', spec.timeSteps, { min: 1, max: 100000, integer: true }),
    throughStates: r.boolean('throughStates', defaults.throughStates),
  };
}

function readTarget(r: BlockReader): TargetSpec {
  const v = r.value('target');
  if (v === undefined) return 1;
  if (v === 'unbalanced' || (typeof v === 'number' && Number.isFinite(v) && v >= 0)) return v;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const out: { time?: number; input?: number; depth?: number } = {};
    for (const [k, x] of Object.entries(v)) {
      if (k !== 'time' && k !== 'input' && k !== 'depth') r.issue(`target.${k}`, `unknown kind "${k}"; kinds: time, depth, input`);
      else if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) r.issue(`target.${k}`, `must be a number ≥ 0, got ${JSON.stringify(x)}`);
      else out[k] = x;
    }
    return out;
  }
  r.issue('target', `must be a number ≥ 0 (1: the classical condition, 0.5 for deep networks), "unbalanced", or one per kind { "time": …, "depth": …, "input": … }; got ${JSON.stringify(v)}`);
  return 1;
}

/** The raw block, or undefined when the config has none; a block that is not an object is an issue. */
function rawBlock(spec: RunSpec, text: string, block: ControlBlock): Record<string, unknown> | undefined {
  const data = parse(text) as Record<string, unknown> | undefined;
  const raw = data?.[block];
  if (raw === undefined) return undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError('config', [spec.locator.issueAt(block, `must be an object, got ${JSON.stringify(raw)}`)]);
  }
  return raw as Record<string, unknown>;
}

/** The `stabilize` block (all defaults when the config has none). */
export function parseStabilize(spec: RunSpec, text: string): StabilizeSpec {
  const r = new BlockReader(spec, 'stabilize', rawBlock(spec, text, 'stabilize') ?? {});
  const target = readTarget(r);
  const measure = r.value('measure') ?? 'radius';
  if (measure !== 'radius' && measure !== 'norm') r.issue('measure', `must be "radius" (spectral radius) or "norm" (σ_max), got ${JSON.stringify(measure)}`);
  const input = r.boolean('input', false);
  const eigenvectors = r.value('eigenvectors') ?? 'auto';
  if (!['auto', 'dense', 'krylov'].includes(eigenvectors as string)) r.issue('eigenvectors', `must be "auto", "dense" or "krylov", got ${JSON.stringify(eigenvectors)}`);
  const common = readCommon(r, spec, { tolerance: 0.02, maxSteps: 1000, throughStates: true });
  r.unknownKeys();
  if (r.issues.length) throw new UserError('config', r.issues);
  return { ...common, target, measure: measure as ControlMeasure, input, eigenvectors: eigenvectors as EigenvectorMethod };
}

/** The `floss` block (all defaults when the config has none). */
export function parseFloss(spec: RunSpec, text: string): FlossSpec {
  const r = new BlockReader(spec, 'floss', rawBlock(spec, text, 'floss') ?? {});
  const target = r.number('target', 0, {});
  const warmup = r.number('warmup', 0, { min: 0, integer: true });
  const exponents = r.number('exponents', 1, { min: 1, integer: true });
  const qrEvery = r.number('qrEvery', 1, { min: 1, max: 100, integer: true });
  const common = readCommon(r, spec, { tolerance: 0.01, maxSteps: 1000, throughStates: false });
  // The exponents are averaged over the steps after the warm-up: none left would make them 0/0.
  if (warmup >= common.timeSteps) r.issue('warmup', `must be less than the steps of each batch (timeSteps ${common.timeSteps}), got ${warmup}`);
  r.unknownKeys();
  if (r.issues.length) throw new UserError('config', r.issues);
  return { ...common, target, warmup, exponents, qrEvery };
}
