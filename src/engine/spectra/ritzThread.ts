// The dominant Ritz pairs of a stack of dense matrices, one side (J or Jᵀ) of them on a second thread. LSC needs
// both eigenvectors of every Jacobian (control/krylov.ts): the right ones from Arnoldi on J, the left ones from
// Arnoldi on Jᵀ, two independent runs of the same size. Run one after the other they leave a core idle: each
// Arnoldi step is a few small TensorFlow ops, a read-back and a small float64 problem in JS, which one thread
// cannot spread over two cores. So the left side runs in a worker thread with a TensorFlow context of its own
// while this thread runs the right side (LSTM n 128, 32 joint 256×256 Jacobians: 260 → 165 ms on the 2-core machine).
// The caller's thread waits for the worker synchronously (Atomics.wait, then receiveMessageOnPort): the eigenpairs
// are computed inside a tfjs op's forward pass, which cannot await. Jobs go to the worker only once it has said it
// loaded TensorFlow (a message seen between optimisation steps), so a worker that cannot start never makes anyone
// wait; until then, and without the worker (not on tensorflow, no worker bundle, a worker that failed), the same
// code runs both sides here, one after the other, with the same seeds and so the same numbers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { activeBackend } from '../backend/backend';
import { bundleDirectories } from '../bundleDirectories';
import { tf, type Tensor3D } from '../backend/tf';
import { dominantRitzPairs, type RitzPair } from './arnoldi';
import type { KrylovOptions } from './krylov';
import { denseOperatorOfTranspose } from './operator';

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

/** Worker → thread, on the job port: one entry per matrix (null: not converged), or why it failed. */
export interface RitzReply {
  type: 'ritzReply';
  id: number;
  pairs?: (RitzPair | null)[];
  error?: string;
}

/**
 * Thread → worker at start: the port jobs come on, and the word the worker stamps with the id of each job it has
 * answered (after the reply is on the port), which the waiting thread sleeps on.
 */
export interface RitzConnect {
  type: 'ritzConnect';
  port: MessagePort;
  answered: Int32Array;
}

/** Worker → thread, on the worker's own channel: TensorFlow loaded (jobs may come), or it did not. */
export type RitzStatus = { type: 'ritzReady' } | { type: 'ritzFailed'; error: string };

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
  return isObject(x) && x.type === 'ritzConnect' && x.answered instanceof Int32Array && isObject(x.port);
}

export function isRitzStatus(x: unknown): x is RitzStatus {
  return isObject(x) && (x.type === 'ritzReady' || (x.type === 'ritzFailed' && typeof x.error === 'string'));
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
    // J·v is fastest as a row vector times the stored transpose (operator.ts): the right side transposes J once; the
    // left side is Arnoldi on Jᵀ, whose transpose is J itself.
    const op = side === 'right' ? denseOperatorOfTranspose(t.transpose(j, [0, 2, 1]) as Tensor3D) : denseOperatorOfTranspose(j);
    return dominantRitzPairs(op, options).pairs;
  } finally {
    t.engine().endScope();
  }
}

/** A job handed to the worker; `wait` gives its pairs, or undefined if the worker failed (then compute them here). */
export interface PendingSide {
  wait(): (RitzPair | undefined)[] | undefined;
}

/** Longest wait for one job (LSC's LSTM n 128: ~0.2 s; a job never waits for the worker's start, see above). */
const WAIT_MS = 120_000;

/** The worker bundle beside this bundle (dist/), or above it (dist/test/unit, dist/bench). */
function defaultWorkerScript(): string | undefined {
  return bundleDirectories(2).map((d) => path.join(d, 'ritzWorker.js')).find((f) => fs.existsSync(f));
}

class RitzThread {
  private readonly port: MessagePort;
  private readonly answered = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private ready = false;
  private broken: string | undefined;

  constructor(private readonly worker: Worker) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    worker.on('message', (m: unknown) => {
      if (!isRitzStatus(m)) return;
      if (m.type === 'ritzReady') this.ready = true;
      else this.fail(`it could not load TensorFlow: ${m.error}`);
    });
    worker.on('error', (e: Error) => this.fail(e.message));
    worker.on('exit', (code) => this.fail(`it exited (code ${code})`));
    worker.postMessage({ type: 'ritzConnect', port: port2, answered: this.answered } satisfies RitzConnect, [port2]);
    // The worker must not keep a finished CLI or test process alive.
    worker.unref();
    port1.unref();
  }

  get failure(): string | undefined {
    return this.broken;
  }

  get usable(): boolean {
    return this.ready && !this.broken;
  }

  start(j: ArrayLike<number>, rows: number, n: number, side: Side, options: KrylovOptions): PendingSide {
    const id = this.nextId++;
    // A copy, moved rather than cloned: the caller keeps its values (the dense fallback reads them).
    const data = Float32Array.from(j);
    this.port.postMessage({ type: 'ritzJob', id, rows, n, side, options, data } satisfies RitzJob, [data.buffer]);
    return { wait: () => this.wait(id) };
  }

  private wait(id: number): (RitzPair | undefined)[] | undefined {
    const deadline = performance.now() + WAIT_MS;
    for (let seen = Atomics.load(this.answered, 0); seen < id; seen = Atomics.load(this.answered, 0)) {
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.answered, 0, seen, left) === 'timed-out') return this.fail(`no answer within ${WAIT_MS / 1000} s`);
    }
    // Replies to earlier jobs whose caller gave up waiting (it threw meanwhile) come first: dropped.
    for (let received = receiveMessageOnPort(this.port)?.message; received !== undefined; received = receiveMessageOnPort(this.port)?.message) {
      if (!isRitzReply(received)) return this.fail('a message that is not a reply');
      if (received.id !== id) continue;
      if (received.error !== undefined || !received.pairs) return this.fail(received.error ?? 'no pairs');
      return received.pairs.map((p) => p ?? undefined);
    }
    return this.fail('the reply was not on the port');
  }

  fail(why: string): undefined {
    if (!this.broken) {
      this.broken = why;
      void this.worker.terminate();
    }
    return undefined;
  }
}

let thread: RitzThread | undefined;
let lastFailure: string | undefined;
let workerScript: () => string | undefined = defaultWorkerScript;
let enabled = true;

/** A worker that failed is let go, and why is kept (a new one is not started: it would fail the same way). */
function noteFailure(): void {
  if (thread?.failure) [lastFailure, thread] = [thread.failure, undefined];
}

/**
 * The second thread, started on first use where it can help: on the tensorflow backend (the cpu backend's ops are
 * plain JS on this thread; wasm runs its own threads), with the worker bundle present. Undefined until the worker
 * has loaded TensorFlow, and for good after it failed (`ritzThreadStatus` says why).
 */
function ritzThread(): RitzThread | undefined {
  noteFailure();
  if (lastFailure || !enabled || activeBackend() !== 'tensorflow') return undefined;
  if (!thread) {
    const script = workerScript();
    if (!script) {
      lastFailure = 'no ritzWorker.js beside the bundle';
      return undefined;
    }
    thread = new RitzThread(new Worker(script));
  }
  return thread.usable ? thread : undefined;
}

/** Starts the second thread ahead of its first job (a control run calls this before measuring), so it is ready sooner. */
export function startRitzThread(): void {
  ritzThread();
}

/**
 * Resolves once a started second thread can take jobs, has failed, or `timeoutMs` has passed (at once when none was
 * started): a control run awaits it between its first measurement and its loop, so that the loop's steps do not
 * run on one thread while the worker is still loading TensorFlow.
 */
export async function ritzThreadSettled(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (thread && !thread.usable && !thread.failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** How the two sides run, for reports and benchmarks. */
export function ritzThreadStatus(): string {
  noteFailure();
  if (lastFailure) return `one thread (the second failed: ${lastFailure})`;
  if (!enabled || activeBackend() !== 'tensorflow') return 'one thread';
  return thread?.usable ? 'two threads' : 'one thread (the second is starting)';
}

/**
 * For tests: whether to use a second thread, and which worker script; ends the current worker. Defaults restored
 * by calling it with no options.
 */
export function configureRitzThread(options: { enabled?: boolean; script?: string } = {}): void {
  thread?.fail('replaced');
  [thread, lastFailure] = [undefined, undefined];
  enabled = options.enabled ?? true;
  workerScript = options.script ? () => options.script : defaultWorkerScript;
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
