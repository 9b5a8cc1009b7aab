// The extension host's side of the engine process: starts it lazily, runs one analysis at a time, and ends
// it for good on cancel. The engine does minutes of CPU work in tfjs, which would freeze the extension host
// if it ran there; in its own process it can also be stopped at any instant by killing it, which no
// cooperative AbortSignal can promise in the middle of a kernel.
import { fork, type ChildProcess } from 'node:child_process';
import type { SourceIssue, UserErrorKind } from '../engine/errors';
import type { EngineToHost, HostToEngine, Progress, RunOptions, RunView } from '../protocol/messages';

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

interface ActiveRun {
  runId: number;
  child: ChildProcess;
  startedAt: number;
  request: EngineRunRequest;
  settle: (outcome: EngineOutcome) => void;
  settled: boolean;
}

interface PendingSave {
  resolve: (files: string[]) => void;
  reject: (error: Error) => void;
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private active: ActiveRun | undefined;
  private nextRunId = 1;
  /** The run whose result the current process holds (the engine keeps only its last one). */
  private heldRunId: number | undefined;
  private readonly pendingSaves = new Map<number, PendingSave>();
  private readonly exits = new Map<ChildProcess, Promise<void>>();
  private readonly runListeners = new Set<(runId: number, pid: number) => void>();

  constructor(
    private readonly workerPath: string,
    private readonly log: EngineLog,
    /** Folder of an installed @tensorflow/tfjs-node for the tensorflow backend (the VSIX cannot carry it). */
    private readonly tfjsNodePath: () => string | undefined = () => undefined,
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

  /** Starts a run. A run already going is cancelled first (its process is killed): one run at a time. */
  async run(request: EngineRunRequest): Promise<EngineRun> {
    // A loop: two runs requested together both wait for the same kill, and only one may then be active.
    while (this.active) await this.cancelActive('superseded');
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
    return new Promise<string[]>((resolve, reject) => {
      this.pendingSaves.set(runId, { resolve, reject });
      this.post(child, { type: 'save', runId, dir });
    });
  }

  /** Kills the engine process (if any) and waits for it to exit. */
  async dispose(): Promise<void> {
    if (this.active) await this.cancelActive('disposed');
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
  }

  /** SIGTERM, then SIGKILL after KILL_GRACE_MS; resolves when the process has exited. */
  private kill(child: ChildProcess): Promise<void> {
    if (this.child === child) {
      this.child = undefined;
      this.heldRunId = undefined;
    }
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
    const child = fork(this.workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inspector flags of the extension host (when it is being debugged) must not be inherited.
      execArgv: [],
      // Under desktop VS Code process.execPath is the Electron binary; this makes it behave as plain Node.
      env: {
        ...process.env,
        ELECTRON_RUN_AS_NODE: '1',
        ...(this.tfjsNodePath() ? { RNN_JACOBIAN_TFJS_NODE: this.tfjsNodePath() } : {}),
      },
    });
    this.child = child;
    this.heldRunId = undefined;
    this.log.info(`engine process started: pid ${child.pid} (${this.workerPath})`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.exits.set(child, exited);
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (error) => this.log.error(`engine pid ${child.pid}: ${error.message}`));
    child.on('message', (message: EngineToHost) => this.onMessage(child, message));
    pipeLines(child.stdout, (line) => this.log.info(`[engine stdout] ${line}`));
    pipeLines(child.stderr, (line) => this.log.warn(`[engine stderr] ${line}`));
    return child;
  }

  private onMessage(child: ChildProcess, message: EngineToHost): void {
    const active = this.active && this.active.child === child ? this.active : undefined;
    switch (message.type) {
      case 'ready':
        this.log.info(`engine pid ${message.pid} ready`);
        return;
      case 'log':
        this.log.info(`[engine] ${message.line}`);
        return;
        return;
      case 'progress':
        if (active?.runId === message.runId) active.request.onProgress?.(message.progress);
        return;
      case 'result':
        if (active?.runId !== message.runId) return;
        if (this.child === child) this.heldRunId = message.runId;
        active.settle({ kind: 'result', result: message.result, pid: child.pid ?? -1, wallMs: Date.now() - active.startedAt });
        return;
      case 'invalid':
        if (active?.runId === message.runId) active.settle({ kind: 'invalid', errorKind: message.kind, issues: message.issues });
        return;
      case 'failed':
        if (active?.runId === message.runId) active.settle({ kind: 'failed', message: message.message, stack: message.stack });
        return;
      case 'saved':
        this.pendingSaves.get(message.runId)?.resolve(message.files);
        this.pendingSaves.delete(message.runId);
        return;
      case 'saveFailed':
        this.pendingSaves.get(message.runId)?.reject(new Error(message.message));
        this.pendingSaves.delete(message.runId);
        return;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.exits.delete(child);
    if (this.child === child) {
      this.child = undefined;
      this.heldRunId = undefined;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.log.info(`engine pid ${child.pid} exited (${how})`);
    if (this.active?.child === child) {
      // Not a cancel (that settles first): the process died under the run, e.g. out of memory.
      this.active.settle({ kind: 'failed', message: `the engine process exited unexpectedly (${how})` });
    }
    for (const [runId, pending] of this.pendingSaves) {
      pending.reject(new Error(`the engine process exited (${how}) before saving run ${runId}`));
    }
    this.pendingSaves.clear();
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
