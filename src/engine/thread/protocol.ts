// The messages between a thread of the engine and its second thread (thread/secondThread.ts, thread/worker.ts),
// with a guard per message. Jobs carry an id; the worker replies on the job port with the same id, then stamps a
// shared word with it, which wakes the waiting thread.
import type { MessagePort } from 'node:worker_threads';
import type { KrylovOptions, KrylovResult } from '../spectra/krylov';
import type { RitzPair } from '../spectra/arnoldi';

export type Side = 'right' | 'left';

/** One side's dominant Ritz pairs of `rows` matrices n×n (row-major, J itself for both sides): LSC's eigenvectors. */
export interface RitzJob {
  type: 'ritzJob';
  id: number;
  rows: number;
  n: number;
  side: Side;
  options: KrylovOptions;
  data: Float32Array;
}

/** A tensor's values and shape, as they cross threads. */
export interface WireTensor {
  shape: number[];
  data: Float32Array;
}

/** A structured Jacobian (graph/structuredJacobian.ts) as it crosses threads: its kind and factors. */
export type WireJacobian =
  | { kind: 'zero'; out: number; in: number }
  | { kind: 'identity'; n: number }
  | { kind: 'diag'; d: WireTensor }
  | { kind: 'shared'; m: WireTensor }
  | { kind: 'scaled'; m: WireTensor; row?: WireTensor; col?: WireTensor }
  | { kind: 'dense'; m: WireTensor };

/**
 * The matrix-free measurements (diagnostics by name, each with a `matrixFree` method) of `rows` structured Jacobians:
 * the worker's share of a chunk's rows.
 */
export interface MeasureJob {
  type: 'measureJob';
  id: number;
  rows: number;
  jacobian: WireJacobian;
  diagnostics: string[];
  options: KrylovOptions;
}

export type Job = RitzJob | MeasureJob;

/** Worker → thread: one entry per matrix (null: not converged), or why it failed. */
export interface RitzReply {
  type: 'ritzReply';
  id: number;
  pairs?: (RitzPair | null)[];
  error?: string;
}

/** Worker → thread: one result per diagnostic of the job, in its order, or why it failed. */
export interface MeasureReply {
  type: 'measureReply';
  id: number;
  results?: KrylovResult[];
  error?: string;
}

export type Reply = RitzReply | MeasureReply;

/**
 * Thread → worker at start: the port jobs come on, and the word the worker stamps with the id of each job it has
 * answered (after the reply is on the port), which the waiting thread sleeps on.
 */
export interface Connect {
  type: 'connect';
  port: MessagePort;
  answered: Int32Array;
}

/** Worker → thread, on the worker's own channel: TensorFlow loaded (jobs may come), or it did not. */
export type Status = { type: 'ready' } | { type: 'failed'; error: string };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

export function isWireTensor(x: unknown): x is WireTensor {
  return isObject(x) && Array.isArray(x.shape) && x.shape.every(isCount) && x.data instanceof Float32Array &&
    x.data.length === (x.shape as number[]).reduce((a, b) => a * b, 1);
}

export function isWireJacobian(x: unknown): x is WireJacobian {
  if (!isObject(x)) return false;
  const optional = (t: unknown) => t === undefined || isWireTensor(t);
  switch (x.kind) {
    case 'zero':
      return isCount(x.out) && isCount(x.in);
    case 'identity':
      return isCount(x.n);
    case 'diag':
      return isWireTensor(x.d);
    case 'shared':
    case 'dense':
      return isWireTensor(x.m);
    case 'scaled':
      return isWireTensor(x.m) && optional(x.row) && optional(x.col);
    default:
      return false;
  }
}

export function isRitzJob(x: unknown): x is RitzJob {
  return (
    isObject(x) && x.type === 'ritzJob' && Number.isInteger(x.id) && isCount(x.rows) && isCount(x.n) &&
    (x.side === 'right' || x.side === 'left') && isObject(x.options) && x.data instanceof Float32Array &&
    x.data.length === (x.rows as number) * (x.n as number) * (x.n as number)
  );
}

export function isMeasureJob(x: unknown): x is MeasureJob {
  return (
    isObject(x) && x.type === 'measureJob' && Number.isInteger(x.id) && isCount(x.rows) && isWireJacobian(x.jacobian) &&
    Array.isArray(x.diagnostics) && x.diagnostics.every((d) => typeof d === 'string') && isObject(x.options)
  );
}

export function isRitzReply(x: unknown): x is RitzReply {
  return isObject(x) && x.type === 'ritzReply' && Number.isInteger(x.id) && (Array.isArray(x.pairs) || typeof x.error === 'string');
}

export function isMeasureReply(x: unknown): x is MeasureReply {
  return isObject(x) && x.type === 'measureReply' && Number.isInteger(x.id) && (Array.isArray(x.results) || typeof x.error === 'string');
}

export function isConnect(x: unknown): x is Connect {
  return isObject(x) && x.type === 'connect' && x.answered instanceof Int32Array && isObject(x.port);
}

export function isStatus(x: unknown): x is Status {
  return isObject(x) && (x.type === 'ready' || (x.type === 'failed' && typeof x.error === 'string'));
}
