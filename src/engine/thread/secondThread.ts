// A second thread with a TensorFlow context of its own, for work that one thread cannot spread over two cores: each
// Krylov step is a few small TensorFlow ops, a read-back and a small float64 problem, all issued from one thread.
// Two kinds of jobs go to it (thread/protocol.ts): one side of LSC's eigenpairs (spectra/bothSides.ts), and half the
// rows of a chunk's matrix-free spectra (run/measureRows.ts); meanwhile this thread does the other half.
// The caller waits for the worker synchronously (Atomics.wait, then receiveMessageOnPort): its work runs inside a
// tensor scope or a tfjs op's forward pass, which cannot await. Jobs go to the worker only once it has said it loaded
// TensorFlow, so a worker that cannot start never makes anyone wait; without the worker (not on tensorflow, no worker
// bundle, a worker that failed) the caller does the worker's share itself, with the same seeds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { activeBackend, type BackendName } from '../backend/backend';
import { bundleDirectories } from '../bundleDirectories';
import { isStatus, type Connect, type MeasureJob, type Reply, type RitzJob } from './protocol';

/** A job as a caller hands it over: the thread gives it its id. */
export type JobWithoutId = Omit<RitzJob, 'id'> | Omit<MeasureJob, 'id'>;

/** A job handed to the worker; `wait` gives its reply, or undefined if the worker failed (then do the work here). */
export interface Pending<R extends Reply> {
  wait(): R | undefined;
}

/** Longest wait for one job (LSC's LSTM n 128: ~0.2 s; W6's half: ~1 s; a job never waits for the worker's start). */
const WAIT_MS = 120_000;

/**
 * The worker's entry beside this bundle (dist/), or above it (dist/test/unit, dist/bench): threadStart.js, which
 * compiles threadWorker.js with V8's code cache, or threadWorker.js itself where the entry is not there.
 */
function defaultWorkerScript(): string | undefined {
  const dir = bundleDirectories(2).find((d) => fs.existsSync(path.join(d, 'threadWorker.js')));
  if (!dir) return undefined;
  const start = path.join(dir, 'threadStart.js');
  return fs.existsSync(start) ? start : path.join(dir, 'threadWorker.js');
}

class SecondThread {
  private readonly port: MessagePort;
  private readonly answered = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private ready = false;
  private broken: string | undefined;

  constructor(private readonly worker: Worker) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    worker.on('message', (m: unknown) => {
      if (!isStatus(m)) return;
      if (m.type === 'ready') this.ready = true;
      else this.fail(`it could not load TensorFlow: ${m.error}`);
    });
    worker.on('error', (e: Error) => this.fail(e.message));
    worker.on('exit', (code) => this.fail(`it exited (code ${code})`));
    worker.postMessage({ type: 'connect', port: port2, answered: this.answered } satisfies Connect, [port2]);
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

  /**
   * Sends a job (its id is set here); `isReply` checks the reply that comes back for it. `transfer`: buffers moved
   * to the worker rather than copied (the caller must not use them again).
   */
  submit<R extends Reply>(job: JobWithoutId, isReply: (x: unknown) => x is R, transfer: ArrayBuffer[] = []): Pending<R> {
    const id = this.nextId++;
    this.port.postMessage({ ...job, id }, transfer);
    return { wait: () => this.wait(id, isReply) };
  }

  private wait<R extends Reply>(id: number, isReply: (x: unknown) => x is R): R | undefined {
    const deadline = performance.now() + WAIT_MS;
    for (let seen = Atomics.load(this.answered, 0); seen < id; seen = Atomics.load(this.answered, 0)) {
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.answered, 0, seen, left) === 'timed-out') return this.fail(`no answer within ${WAIT_MS / 1000} s`);
    }
    // Replies to earlier jobs whose caller gave up waiting (it threw meanwhile) come first: dropped.
    for (let received = receiveMessageOnPort(this.port)?.message; received !== undefined; received = receiveMessageOnPort(this.port)?.message) {
      if (!isReply(received)) return this.fail('a message that is not a reply');
      if (received.id !== id) continue;
      if (received.error !== undefined) return this.fail(received.error);
      return received;
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

let thread: SecondThread | undefined;
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
 * has loaded TensorFlow, and for good after it failed (`secondThreadStatus` says why).
 */
export function secondThread(backend = activeBackend()): SecondThread | undefined {
  noteFailure();
  if (lastFailure || !enabled || backend !== 'tensorflow') return undefined;
  if (!thread) {
    const script = workerScript();
    if (!script) {
      lastFailure = 'no threadWorker.js beside the bundle';
      return undefined;
    }
    thread = new SecondThread(new Worker(script));
  }
  return thread.usable ? thread : undefined;
}

/**
 * Starts the second thread ahead of its first job, so that it has loaded TensorFlow by then. `backend`: the one this
 * thread is about to load (the worker then loads TensorFlow while this thread does), else the active one.
 */
export function startSecondThread(backend?: BackendName): void {
  secondThread(backend);
}

/**
 * Resolves once a started second thread can take jobs, has failed, or `timeoutMs` has passed (at once when none was
 * started). Callers await it before work they would split, so that whether the work is split depends on whether
 * the worker works, not on how soon it loaded (the same run then gives the same numbers).
 */
export async function secondThreadSettled(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (thread && !thread.usable && !thread.failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** How work runs, for reports and benchmarks. */
export function secondThreadStatus(): string {
  noteFailure();
  if (lastFailure) return `one thread (the second failed: ${lastFailure})`;
  if (!enabled || activeBackend() !== 'tensorflow') return 'one thread';
  return thread?.usable ? 'two threads' : 'one thread (the second is starting)';
}

/**
 * For tests: whether to use a second thread, and which worker script; ends the current worker. Defaults restored
 * by calling it with no options.
 */
export function configureSecondThread(options: { enabled?: boolean; script?: string } = {}): void {
  thread?.fail('replaced');
  [thread, lastFailure] = [undefined, undefined];
  enabled = options.enabled ?? true;
  workerScript = options.script ? () => options.script : defaultWorkerScript;
}
