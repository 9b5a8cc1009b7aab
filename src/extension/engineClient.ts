// The extension host's side of the engine process. One process per window stays up between runs (a warm
// engine: its backend and code are loaded once), runs one analysis at a time, and is replaced on cancel: the
// engine does minutes of CPU work in tfjs, which would freeze the extension host if it ran there, and in its own
// process it can be stopped at any instant by killing it, which no cooperative AbortSignal can promise in the
// middle of a kernel. After a kill or a crash a fresh process is started in the background, so that the next
// run finds it warm; the old one has exited before the new one starts, so there is never more than one.
// Every message from the process is checked (isEngineToHost) and matched to its request: a malformed or
// unmatched one is logged and dropped.
import { fork, type ChildProcess } from 'node:child_process';
import type { SourceIssue, UserErrorKind } from '../engine/errors';
import { describeRejected } from '../protocol/guards';
import {
  isEngineToHost, type BackendPreference, type EngineToHost, type HostToEngine, type Progress, type RunOptions, type RunView,
  type SpectrumOutcome, type SpectrumSelection,
  type ControlComparison, type ControlFiles, type ControlKind, type ControlQuantity, type ControlStep, type ControlSummary,
} from '../protocol/messages';

/** After SIGTERM, how long the process gets before SIGKILL. Cancel must end the computation within 1 s. */
export const KILL_GRACE_MS = 300;

export type EngineOutcome =
  | { kind: 'result'; result: RunView; pid: number; wallMs: number }
  | { kind: 'invalid'; errorKind: UserErrorKind; issues: SourceIssue[] }
  | { kind: 'failed'; message: string; stack?: string }
  /** `superseded`: a newer run replaced it; `user`: the Cancel button or command. */
  | { kind: 'cancelled'; reason: 'user' | 'superseded' | 'disposed' };

export interface EngineRunRequest {
  file: string;
  text: string;
  options: RunOptions;
  onProgress?: (progress: Progress) => void;
}

export interface EngineRun {
  readonly runId: number;
  readonly outcome: Promise<EngineOutcome>;
  /** Ends this run; resolves once its process has exited (immediately if the run is already over). */
  cancel(reason?: 'user' | 'superseded' | 'disposed'): Promise<void>;
}

export interface EngineLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** An engine process that died on its own (not killed by this client), and whether a run was going. */
export interface EngineCrash {
  pid: number | undefined;
  how: string;
  duringRun: boolean;
}

interface ActiveRun {
  runId: number;
  child: ChildProcess;
  startedAt: number;
  request: EngineRunRequest;
  settle: (outcome: EngineOutcome) => void;
  settled: boolean;
}

interface PendingSave {
  child: ChildProcess;
  runId: number;
  resolve: (files: string[]) => void;
  reject: (error: Error) => void;
}

interface PendingSpectrum {
  child: ChildProcess;
  runId: number;
  resolve: (outcome: SpectrumOutcome) => void;
}

export type ControlOutcome =
  | { kind: 'result'; summary: ControlSummary }
  | { kind: 'invalid'; errorKind: UserErrorKind; issues: SourceIssue[] }
  | { kind: 'failed'; message: string; stack?: string };

export interface ControlRunRequest {
  kind: ControlKind;
  file: string;
  text: string;
  backend: BackendPreference;
  onStart?: (quantities: ControlQuantity[]) => void;
  onStep?: (step: ControlStep) => void;
}

export interface ControlRun {
  readonly runId: number;
  readonly outcome: Promise<ControlOutcome>;
  /** Asks the loop to stop after its current step; the outcome then carries the best weights so far (stop 'cancelled'). */
  stop(): void;
}

interface ActiveControl {
  runId: number;
  child: ChildProcess;
  request: ControlRunRequest;
  settle: (outcome: ControlOutcome) => void;
}

interface PendingReply<T> {
  child: ChildProcess;
  runId: number;
  resolve: (value: T) => void;
}

type ExportOutcome = { ok: true; files: ControlFiles } | { ok: false; message: string };

export interface EngineClientOptions {
  /** Folder of an installed @tensorflow/tfjs-node for the tensorflow backend (the VSIX cannot carry it). */
  tfjsNodePath?: () => string | undefined;
  /** The backend a fresh process loads while it waits for its first run. */
  warmBackend?: () => BackendPreference;
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private active: ActiveRun | undefined;
  private disposed = false;
  private nextRunId = 1;
  private nextRequestId = 1;
  /** The run whose result the current process holds (the engine keeps only its last one). */
  private heldRunId: number | undefined;
  private readonly pendingSaves = new Map<number, PendingSave>();
  private readonly pendingSpectra = new Map<number, PendingSpectrum>();
  private activeControl: ActiveControl | undefined;
  private readonly pendingControlExports = new Map<number, PendingReply<ExportOutcome>>();
  private readonly pendingComparisons = new Map<number, PendingReply<ControlComparison>>();
  private readonly exits = new Map<ChildProcess, Promise<void>>();
  /** Processes this client is ending: their exit is not a crash. */
  private readonly ending = new Set<ChildProcess>();
  /** Processes that warmed up or answered a run: one that dies before either is not restarted (no crash loop). */
  private readonly proven = new Set<ChildProcess>();
  /** A replacement being started after a kill or crash (awaited by a run that comes meanwhile). */
  private restarting: Promise<void> | undefined;
  private readonly runListeners = new Set<(runId: number, pid: number) => void>();
  private readonly processListeners = new Set<(pid: number) => void>();
  private readonly crashListeners = new Set<(crash: EngineCrash) => void>();

  constructor(
    private readonly workerPath: string,
    private readonly log: EngineLog,
    private readonly options: EngineClientOptions = {},
  ) {}

  /** The pid of the engine process, if one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /** Whether the current process still holds the result of `runId`, so that it can save it without recomputing. */
  holdsResult(runId: number): boolean {
    return this.child !== undefined && this.heldRunId === runId;
  }

  /** Called with each run's id and engine pid as it starts (the host tests watch the pid). */
  onDidStartRun(listener: (runId: number, pid: number) => void): { dispose(): void } {
    this.runListeners.add(listener);
    return { dispose: () => this.runListeners.delete(listener) };
  }

  /** Called with the pid of each engine process as it is started. */
  onDidStartProcess(listener: (pid: number) => void): { dispose(): void } {
    this.processListeners.add(listener);
    return { dispose: () => this.processListeners.delete(listener) };
  }

  /** Called when an engine process dies on its own; the client has already started a replacement. */
  onDidCrash(listener: (crash: EngineCrash) => void): { dispose(): void } {
    this.crashListeners.add(listener);
    return { dispose: () => this.crashListeners.delete(listener) };
  }

  /** Starts the engine process now (if none is up), so that the first run finds it warm. */
  start(): void {
    if (!this.disposed) this.ensureProcess();
  }

  /** Starts a run. A run already going is cancelled first (its process is killed): one run at a time. */
  async run(request: EngineRunRequest): Promise<EngineRun> {
    // A loop: two runs requested together both wait for the same kill, and only one may then be active.
    while (this.active || this.restarting) {
      if (this.active) await this.cancelActive('superseded');
      else await this.restarting;
    }
    if (this.disposed) throw new Error('the engine client has been disposed');
    const child = this.ensureProcess();
    const runId = this.nextRunId++;
    let settle!: (outcome: EngineOutcome) => void;
    const outcome = new Promise<EngineOutcome>((resolve) => (settle = resolve));
    const active: ActiveRun = { runId, child, startedAt: Date.now(), request, settle, settled: false };
    active.settle = (value) => {
      if (active.settled) return;
      active.settled = true;
      if (this.active === active) this.active = undefined;
      settle(value);
    };
    this.active = active;
    this.post(child, { type: 'run', runId, file: request.file, text: request.text, options: request.options });
    this.log.info(`run ${runId}: engine pid ${child.pid}, ${request.file}`);
    for (const listener of this.runListeners) listener(runId, child.pid ?? -1);
    return {
      runId,
      outcome,
      cancel: async (reason = 'user') => {
        if (this.active === active) await this.cancelActive(reason);
      },
    };
  }

  /** Asks the engine process to write the result of `runId` as .npy files and a manifest into `dir`. */
  save(runId: number, dir: string): Promise<string[]> {
    const child = this.child;
    if (!child || this.heldRunId !== runId) {
      return Promise.reject(new Error(`the engine process no longer holds run ${runId}`));
    }
    if (this.active) return Promise.reject(new Error('an analysis is running; export when it has finished'));
    const requestId = this.nextRequestId++;
    return new Promise<string[]>((resolve, reject) => {
      this.pendingSaves.set(requestId, { child, runId, resolve, reject });
      this.post(child, { type: 'save', requestId, runId, dir });
    });
  }

  /**
   * The whole spectrum of one Jacobian of the held run `runId`, computed in the engine process. Never rejects:
   * a run no longer held, Jacobians not kept or a process that exits meanwhile come back as `{ ok: false }`.
   */
  spectrum(runId: number, at: SpectrumSelection): Promise<SpectrumOutcome> {
    const child = this.child;
    if (!child || this.heldRunId !== runId) {
      return Promise.resolve({ ok: false, message: `the engine process no longer holds run ${runId}` });
    }
    const requestId = this.nextRequestId++;
    return new Promise<SpectrumOutcome>((resolve) => {
      this.pendingSpectra.set(requestId, { child, runId, resolve });
      this.post(child, { type: 'spectrum', requestId, runId, ...at });
    });
  }

  /**
   * Starts a control run (LSC or flossing) in this client's process. Unlike an analysis it is not killed to be
   * stopped: stop() lets the loop end after its step, so that its best weights so far can still be exported.
   */
  control(request: ControlRunRequest): ControlRun {
    if (this.disposed) throw new Error('the engine client has been disposed');
    if (this.activeControl) throw new Error('a control run is already going in this engine process');
    const child = this.ensureProcess();
    const runId = this.nextRunId++;
    let settled = false;
    const outcome = new Promise<ControlOutcome>((resolve) => {
      this.activeControl = {
        runId, child, request,
        settle: (value) => {
          if (settled) return;
          settled = true;
          if (this.activeControl?.runId === runId) this.activeControl = undefined;
          resolve(value);
        },
      };
    });
    this.post(child, { type: 'control', runId, kind: request.kind, file: request.file, text: request.text, options: { backend: request.backend } });
    this.log.info(`control ${runId} (${request.kind}): engine pid ${child.pid}, ${request.file}`);
    return {
      runId,
      outcome,
      stop: () => {
        if (this.activeControl?.runId === runId) this.post(child, { type: 'controlCancel', runId });
      },
    };
  }

  /** Writes the held result of control run `runId` into `dir` (replacing it only with `force`). */
  exportControl(runId: number, dir: string, force: boolean): Promise<ExportOutcome> {
    return this.controlRequest(this.pendingControlExports, runId, (requestId) => ({ type: 'controlExport', requestId, runId, dir, force }));
  }

  /** The before/after analyses of control run `runId` (after its export). */
  compareControl(runId: number): Promise<ControlComparison> {
    return this.controlRequest(this.pendingComparisons, runId, (requestId) => ({ type: 'controlCompare', requestId, runId }));
  }

  private controlRequest<T>(pending: Map<number, PendingReply<T | { ok: false; message: string }>>, runId: number, message: (requestId: number) => HostToEngine): Promise<T | { ok: false; message: string }> {
    const child = this.child;
    if (!child) return Promise.resolve({ ok: false, message: `the engine process of control run ${runId} has exited` });
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      pending.set(requestId, { child, runId, resolve });
      this.post(child, message(requestId));
    });
  }

  /** Kills the engine process (if any) and waits for it to exit; no replacement is started. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.active) await this.cancelActive('disposed');
    await this.restarting;
    const child = this.child;
    if (child) await this.kill(child);
  }

  private async cancelActive(reason: 'user' | 'superseded' | 'disposed'): Promise<void> {
    const active = this.active;
    if (!active) return;
    active.settle({ kind: 'cancelled', reason });
    this.log.info(`run ${active.runId}: cancelled (${reason}); killing engine pid ${active.child.pid}`);
    const t0 = Date.now();
    await this.kill(active.child);
    this.log.info(`run ${active.runId}: engine pid ${active.child.pid} exited ${Date.now() - t0} ms after cancel`);
    if (reason !== 'disposed') this.restartInBackground();
  }

  /** A fresh process after a kill or crash, once the old one has exited (never two at once). */
  private restartInBackground(): void {
    if (this.disposed || this.restarting) return;
    this.restarting = Promise.resolve().then(() => {
      this.restarting = undefined;
      if (!this.disposed) this.ensureProcess();
    });
  }

  /** SIGTERM, then SIGKILL after KILL_GRACE_MS; resolves when the process has exited. */
  private kill(child: ChildProcess): Promise<void> {
    if (this.child === child) {
      this.child = undefined;
      this.heldRunId = undefined;
    }
    this.ending.add(child);
    const exited = this.exits.get(child) ?? Promise.resolve();
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        this.log.warn(`engine pid ${child.pid} ignored SIGTERM for ${KILL_GRACE_MS} ms; sending SIGKILL`);
        child.kill('SIGKILL');
      }
    }, KILL_GRACE_MS);
    return exited.finally(() => clearTimeout(timer));
  }

  private ensureProcess(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const tfjsNodePath = this.options.tfjsNodePath?.();
    const child = fork(this.workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inspector flags of the extension host (when it is being debugged) must not be inherited.
      execArgv: [],
      // Under desktop VS Code process.execPath is the Electron binary; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...(tfjsNodePath ? { RNN_JACOBIAN_TFJS_NODE: tfjsNodePath } : {}) },
    });
    this.child = child;
    this.heldRunId = undefined;
    this.log.info(`engine process started: pid ${child.pid} (${this.workerPath})`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.exits.set(child, exited);
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (error) => this.log.error(`engine pid ${child.pid}: ${error.message}`));
    child.on('message', (message: unknown) => this.onMessage(child, message));
    pipeLines(child.stdout, (line) => this.log.info(`[engine stdout] ${line}`));
    pipeLines(child.stderr, (line) => this.log.warn(`[engine stderr] ${line}`));
    // Queued before any run: the process loads its backend while it waits, and a run sent meanwhile follows it.
    this.post(child, { type: 'warm', requestId: this.nextRequestId++, backend: this.options.warmBackend?.() ?? 'auto' });
    for (const listener of this.processListeners) listener(child.pid ?? -1);
    return child;
  }

  private onMessage(child: ChildProcess, raw: unknown): void {
    if (!isEngineToHost(raw)) {
      this.log.warn(`engine pid ${child.pid}: dropped a malformed ${describeRejected(raw)}`);
      return;
    }
    const message: EngineToHost = raw;
    const active = this.active && this.active.child === child ? this.active : undefined;
    if (message.type === 'result' || message.type === 'invalid' || message.type === 'failed') this.proven.add(child);
    switch (message.type) {
      case 'ready':
        this.log.info(`engine pid ${message.pid} ready`);
        return;
      case 'warmed':
        this.proven.add(child);
        this.log.info(`engine pid ${child.pid} warm in ${Math.round(message.ms)} ms: ${message.reason}`);
        return;
      case 'log':
        this.log.info(`[engine] ${message.line}`);
        return;
      case 'progress':
        if (active?.runId === message.runId) active.request.onProgress?.(message.progress);
        return;
      case 'result':
        if (active?.runId !== message.runId) return this.unmatched(child, message);
        if (this.child === child) this.heldRunId = message.runId;
        active.settle({ kind: 'result', result: message.result, pid: child.pid ?? -1, wallMs: Date.now() - active.startedAt });
        return;
      case 'invalid':
        if (active?.runId !== message.runId) return this.unmatched(child, message);
        active.settle({ kind: 'invalid', errorKind: message.kind, issues: message.issues });
        return;
      case 'failed':
        if (active?.runId !== message.runId) return this.unmatched(child, message);
        active.settle({ kind: 'failed', message: message.message, stack: message.stack });
        return;
      case 'saved':
      case 'saveFailed': {
        const pending = this.pendingSaves.get(message.requestId);
        if (!pending || pending.child !== child || pending.runId !== message.runId) return this.unmatched(child, message);
        this.pendingSaves.delete(message.requestId);
        if (message.type === 'saved') pending.resolve(message.files);
        else pending.reject(new Error(message.message));
        return;
      }
      case 'controlStarted':
      case 'controlProgress':
      case 'controlResult':
      case 'controlInvalid':
      case 'controlFailed':
        return this.onControlMessage(child, message);
      case 'controlExported':
        return this.reply(child, this.pendingControlExports, message, message.outcome);
      case 'controlCompared':
        return this.reply(child, this.pendingComparisons, message, message.outcome);
      case 'spectrum': {
        const pending = this.pendingSpectra.get(message.requestId);
        if (!pending || pending.child !== child || pending.runId !== message.runId) return this.unmatched(child, message);
        this.pendingSpectra.delete(message.requestId);
        pending.resolve(message.outcome);
        return;
      }
    }
  }

  private reply<T>(child: ChildProcess, pending: Map<number, PendingReply<T>>, message: Extract<EngineToHost, { requestId: number; runId: number }>, value: T): void {
    const waiting = pending.get(message.requestId);
    if (!waiting || waiting.child !== child || waiting.runId !== message.runId) return this.unmatched(child, message);
    pending.delete(message.requestId);
    waiting.resolve(value);
  }

  private onControlMessage(child: ChildProcess, message: Extract<EngineToHost, { runId: number }>): void {
    const active = this.activeControl;
    if (!active || active.child !== child || active.runId !== message.runId) return this.unmatched(child, message);
    this.proven.add(child);
    switch (message.type) {
      case 'controlStarted':
        return active.request.onStart?.(message.quantities);
      case 'controlProgress':
        return active.request.onStep?.(message.step);
      case 'controlResult':
        return active.settle({ kind: 'result', summary: message.summary });
      case 'controlInvalid':
        return active.settle({ kind: 'invalid', errorKind: message.kind, issues: message.issues });
      case 'controlFailed':
        return active.settle({ kind: 'failed', message: message.message, stack: message.stack });
    }
  }

  /** A reply to no request this client is waiting for (a superseded run's late answer): logged, dropped. */
  private unmatched(child: ChildProcess, message: EngineToHost): void {
    this.log.info(`engine pid ${child.pid}: dropped a '${message.type}' that answers no pending request`);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.exits.delete(child);
    const expected = this.ending.delete(child);
    const wasProven = this.proven.delete(child);
    if (this.child === child) {
      this.child = undefined;
      this.heldRunId = undefined;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.log.info(`engine pid ${child.pid} exited (${how})`);
    for (const [requestId, pending] of this.pendingSaves) {
      if (pending.child !== child) continue;
      pending.reject(new Error(`the engine process exited (${how}) before saving run ${pending.runId}`));
      this.pendingSaves.delete(requestId);
    }
    for (const [requestId, pending] of this.pendingSpectra) {
      if (pending.child !== child) continue;
      pending.resolve({ ok: false, message: `the engine process exited (${how}) before computing the spectrum` });
      this.pendingSpectra.delete(requestId);
    }
    for (const map of [this.pendingControlExports, this.pendingComparisons] as Map<number, PendingReply<{ ok: false; message: string }>>[]) {
      for (const [requestId, pending] of map) {
        if (pending.child !== child) continue;
        pending.resolve({ ok: false, message: `the engine process exited (${how}) before answering` });
        map.delete(requestId);
      }
    }
    if (this.activeControl?.child === child) this.activeControl.settle({ kind: 'failed', message: `the engine process exited (${how}) during the control run` });
    if (expected) return;
    const duringRun = this.active?.child === child;
    this.log.error(`engine pid ${child.pid} died (${how})${duringRun ? ` during run ${this.active!.runId}` : ' while idle'}`);
    // The run's failure is the one message the user sees about this crash (the controller shows it).
    if (duringRun) this.active!.settle({ kind: 'failed', message: `the engine process exited unexpectedly (${how})` });
    for (const listener of this.crashListeners) listener({ pid: child.pid, how, duringRun });
    // A process that dies before it ever warmed up or answered would likely die again: the next run tries then.
    if (wasProven) this.restartInBackground();
    else this.log.warn('the engine process died before it warmed up; the next run starts a new one');
  }

  private post(child: ChildProcess, message: HostToEngine): void {
    child.send(message);
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trimEnd();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffered.trim()) onLine(buffered.trimEnd());
  });
}
