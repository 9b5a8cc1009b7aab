// The dominant Ritz pairs of a stack of dense matrices, one side (J or Jᵀ) of them on a second thread. LSC needs
// both eigenvectors of every Jacobian (control/krylov.ts): the right ones from Arnoldi on J, the left ones from
// Arnoldi on Jᵀ, two independent runs of the same size. Run one after the other they leave a core idle: each
// Arnoldi step is a few small TensorFlow ops, a read-back and a small float64 problem in JS, which one thread
// cannot spread over two cores. So the left side runs in a worker thread with a TensorFlow context of its own
// while this thread runs the right side (LSTM n 128, 32 joint 256×256 Jacobians: ~1.5× on the 2-core machine).
// The caller's thread waits for the worker synchronously (Atomics.wait, then receiveMessageOnPort): the eigenpairs
// are computed inside a tfjs op's forward pass, which cannot await. Both paths run the same code with the same
// seeds, so a run without the worker (not on tensorflow, no worker bundle, a worker that failed) gives the same
// numbers, one side after the other.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { activeBackend } from '../backend/backend';
import { tf, type Tensor3D } from '../backend/tf';
import { dominantRitzPairs, type RitzPair } from './arnoldi';
import type { KrylovOptions } from './krylov';
import { denseOperator, denseOperatorOfTranspose } from './operator';

export type Side = 'right' | 'left';

/** Thread → worker: the pairs of one side of `rows` matrices n×n (row-major, J itself for both sides). */
export interface RitzJob {
  type: 'ritzJob';
  id: number;
  rows: number;
  n: number;
  side: Side;
  options: KrylovOptions;
  data: Float32Array;
}

/** Worker → thread: one entry per matrix (null: not converged), or why it failed. */
export interface RitzReply {
  type: 'ritzReply';
  id: number;
  pairs?: (RitzPair | null)[];
  error?: string;
}

/** Thread → worker at start: where to reply, and the word that says a reply is there. */
export interface RitzConnect {
  type: 'ritzConnect';
  port: MessagePort;
  flag: Int32Array;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

export function isRitzJob(x: unknown): x is RitzJob {
  return (
    isObject(x) && x.type === 'ritzJob' && Number.isInteger(x.id) && Number.isInteger(x.rows) && Number.isInteger(x.n) &&
    (x.side === 'right' || x.side === 'left') && isObject(x.options) && x.data instanceof Float32Array &&
    x.data.length === (x.rows as number) * (x.n as number) * (x.n as number)
  );
}

export function isRitzReply(x: unknown): x is RitzReply {
  return isObject(x) && x.type === 'ritzReply' && Number.isInteger(x.id) && (Array.isArray(x.pairs) || typeof x.error === 'string');
}

export function isRitzConnect(x: unknown): x is RitzConnect {
  return isObject(x) && x.type === 'ritzConnect' && x.flag instanceof Int32Array && isObject(x.port);
}

/**
 * The dominant Ritz pair of every matrix of j [M, n, n] (`right`) or of its transpose (`left`: Jᵀw = λw), by the
 * spectra module's restarted Arnoldi; undefined where it did not converge within the budget.
 */
export function sidePairs(j: Tensor3D, side: Side, options: KrylovOptions): (RitzPair | undefined)[] {
  const t = tf();
  // A scope: the operators Arnoldi narrows to its unconverged rows hold tensors of their own.
  t.engine().startScope();
  try {
    // The left side is Arnoldi on Jᵀ, whose transpose is J itself: no copy.
    const op = side === 'right' ? denseOperator(j) : denseOperatorOfTranspose(j);
    return dominantRitzPairs(op, options).pairs;
  } finally {
    t.engine().endScope();
  }
}

/** A job handed to the worker; `wait` gives its pairs, or undefined if the worker failed (then compute them here). */
export interface PendingSide {
  wait(): (RitzPair | undefined)[] | undefined;
}

/** Longest wait for the worker: it loads TensorFlow on its first job (~0.6 s); a job itself takes well under 1 s. */
const WAIT_MS = 120_000;

/** The worker bundle beside this bundle (dist/), or above it (dist/test/unit, dist/bench). */
function workerScript(): string | undefined {
  const candidates = [__dirname, path.join(__dirname, '..'), path.join(__dirname, '../..')].map((d) => path.join(d, 'ritzWorker.js'));
  return candidates.find((f) => fs.existsSync(f));
}

class RitzThread {
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private broken: string | undefined;

  constructor(private readonly worker: Worker) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    worker.postMessage({ type: 'ritzConnect', port: port2, flag: this.flag } satisfies RitzConnect, [port2]);
    // The worker must not keep a finished CLI or test process alive.
    worker.unref();
    port1.unref();
  }

  get failure(): string | undefined {
    return this.broken;
  }

  start(j: ArrayLike<number>, rows: number, n: number, side: Side, options: KrylovOptions): PendingSide {
    const id = this.nextId++;
    Atomics.store(this.flag, 0, 0);
    // A copy, moved rather than cloned: the caller keeps its values (the dense fallback reads them).
    const data = Float32Array.from(j);
    this.port.postMessage({ type: 'ritzJob', id, rows, n, side, options, data } satisfies RitzJob, [data.buffer]);
    return { wait: () => this.wait(id) };
  }

  private wait(id: number): (RitzPair | undefined)[] | undefined {
    if (Atomics.wait(this.flag, 0, 0, WAIT_MS) === 'timed-out') return this.fail(`no answer within ${WAIT_MS / 1000} s`);
    const received = receiveMessageOnPort(this.port)?.message;
    if (!isRitzReply(received) || received.id !== id) return this.fail('an unexpected reply');
    if (received.error !== undefined || !received.pairs) return this.fail(received.error ?? 'no pairs');
    return received.pairs.map((p) => p ?? undefined);
  }

  private fail(why: string): undefined {
    this.broken = why;
    void this.worker.terminate();
    return undefined;
  }
}

let thread: RitzThread | undefined;
let unavailable: string | undefined;

/**
 * The second thread, started on first use; undefined where it cannot help or cannot run: on a backend other than
 * tensorflow (the cpu backend's ops are plain JS on this thread; wasm runs its own threads), without the worker
 * bundle, or after a failure (the reason is in `ritzThreadStatus`).
 */
function ritzThread(): RitzThread | undefined {
  if (thread?.failure) [unavailable, thread] = [`the second thread failed: ${thread.failure}`, undefined];
  if (thread || unavailable) return thread;
  if (activeBackend() !== 'tensorflow') return undefined;
  const script = workerScript();
  if (!script) {
    unavailable = 'no ritzWorker.js beside the bundle';
    return undefined;
  }
  thread = new RitzThread(new Worker(script));
  return thread;
}

/** How the two sides run, for reports and benchmarks. */
export function ritzThreadStatus(): string {
  if (unavailable) return `one thread (${unavailable})`;
  return activeBackend() === 'tensorflow' ? 'two threads' : 'one thread';
}

/**
 * The dominant pairs of every matrix of j [M, n, n] and of its transpose: the left side on the second thread
 * where there is one, the right side here meanwhile.
 */
export function bothSides(j: Tensor3D, data: ArrayLike<number>, options: KrylovOptions): { right: (RitzPair | undefined)[]; left: (RitzPair | undefined)[] } {
  const [M, n] = j.shape;
  const pending = ritzThread()?.start(data, M, n, 'left', options);
  const right = sidePairs(j, 'right', options);
  const left = pending?.wait() ?? sidePairs(j, 'left', options);
  return { right, left };
}
