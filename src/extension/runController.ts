// Runs analyses and puts their outcome where the user looks: the panel, the Problems panel, the CodeLenses,
// the output channel, and a notification on failure. It keeps, per config file, the last good result (shown
// as stale while the config is invalid) and whether the config is invalid now.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { SourceIssue, UserErrorKind } from '../engine/errors';
import type { BackendPreference, HostToWebview, Progress, RunOptions, RunView, SpectrumOutcome, SpectrumSelection } from '../protocol/messages';
import { overallFraction } from '../protocol/progress';
import { rootSpan, spanOfPath } from './configLocations';
import type { EngineClient, EngineOutcome } from './engineClient';
import { runSummary } from './headline';

/** Whole Jacobians are kept for heatmaps and export up to this total size; bigger runs show statistics only. */
export const KEEP_JACOBIANS_MB = 256;
/**
 * A run gets its progress notification and its "Analyzing…" CodeLens only once it has lasted this long, and its
 * progress reaches the panel and the notification at most this often. A rerun on save of a small config ends in
 * tens of ms: a toast shown and removed, two CodeLens refreshes and a progress message per stage cost the
 * browser's main thread (which delivers the result to the panel) more than the run itself in code-server
 * (test/e2e/load.ts).
 */
export const PROGRESS_QUIET_MS = 400;
const PROGRESS_EVERY_MS = 100;

export type RunTrigger = 'command' | 'codelens' | 'save' | 'dataFile' | 'panel' | 'revive' | 'export';

export interface GoodRun {
  runId: number;
  result: RunView;
  /** The config text that produced it (rerun for an export when the engine process is gone). */
  text: string;
}

export interface FileRunState {
  file: string;
  lastGood?: GoodRun;
  /** Set while the config is invalid: the last good result is then stale. */
  issues?: SourceIssue[];
  /** What the issues are about: the config, a data file it names, or the memory limit. */
  issuesKind?: UserErrorKind;
  failure?: string;
  running?: { runId: number; progress?: Progress };
}

export interface RunFinished {
  file: string;
  /** The config text the run read ('' when it never started). */
  text: string;
  trigger: RunTrigger;
  runId: number;
  pid: number | undefined;
  outcome: EngineOutcome['kind'];
  cancelReason?: 'user' | 'superseded' | 'disposed';
}

/** What the controller needs from the panel, kept narrow so that the two do not import each other's classes. */
export interface PanelSink {
  /** The file the panel shows, undefined when there is no panel. */
  readonly file: string | undefined;
  show(file: string): void;
  post(message: HostToWebview): void;
}

export class RunController implements vscode.Disposable {
  private readonly states = new Map<string, FileRunState>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly finished = new vscode.EventEmitter<RunFinished>();
  private latestRequest = 0;
  /** Per config, the text whose run began at will-save (see saveStarting). */
  private readonly startedAtWillSave = new Map<string, string>();
  private current: { cancel(reason?: 'user' | 'superseded' | 'disposed'): Promise<void> } | undefined;
  panel: PanelSink | undefined;

  /** Fires with a config's path whenever its state changes (CodeLenses refresh on it). */
  readonly onDidChangeState = this.changed.event;
  /** Fires once per run, with how it ended. */
  readonly onDidFinishRun = this.finished.event;

  constructor(
    private readonly engine: EngineClient,
    private readonly diagnostics: vscode.DiagnosticCollection,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  state(file: string): FileRunState | undefined {
    return this.states.get(file);
  }

  get running(): boolean {
    return this.engine.running;
  }

  /** Messages that bring a freshly loaded panel up to date on `file`. */
  snapshot(file: string): HostToWebview[] {
    const state = this.states.get(file);
    const messages: HostToWebview[] = [];
    if (state?.lastGood) messages.push(resultMessage(file, state.lastGood.result, state.lastGood.runId));
    if (state?.issues) messages.push({ type: 'invalid', file, issues: state.issues, kind: state.issuesKind });
    else if (state?.failure) messages.push({ type: 'failed', file, message: state.failure });
    if (state?.running) messages.push({ type: 'running', file, progress: state.running.progress });
    return messages;
  }

  /**
   * A save is about to write `document` (onWillSaveTextDocument): its run starts now, on the text being saved. In a
   * remote window (code-server) the write and the did-save event take two or three more round trips; the e2e
   * measured 350 ms from the key press to the run under load. The did-save that follows reruns only if a save
   * participant (format on save) changed the text.
   */
  saveStarting(document: vscode.TextDocument): void {
    // The log's ms timestamps split a save's latency: key press → this event → run sent (test/e2e/load.ts).
    this.log.info(`will-save ${basename(document.uri.fsPath)}`);
    this.startedAtWillSave.set(document.uri.fsPath, document.getText());
    void this.analyze(document.uri, 'save', false);
  }

  /** The save is written (onDidSaveTextDocument): a run is needed only if the text is not what saveStarting ran. */
  saved(document: vscode.TextDocument): void {
    const file = document.uri.fsPath;
    const started = this.startedAtWillSave.get(file);
    this.startedAtWillSave.delete(file);
    if (started !== document.getText()) void this.analyze(document.uri, 'save', false);
  }

  /** Cancels the run going, if any (the Cancel command). */
  async cancel(): Promise<void> {
    await this.current?.cancel('user');
  }

  /**
   * Analyzes a config: reads its text (the editor's when it is open), runs it in the engine process with a
   * cancellable progress notification, and reports the outcome. A run already going is superseded.
   */
  async analyze(uri: vscode.Uri, trigger: RunTrigger, reveal: boolean): Promise<RunFinished> {
    const file = uri.fsPath;
    const request = ++this.latestRequest;
    const text = await readConfigText(uri);
    if (request !== this.latestRequest) {
      // A newer request came while this one read its text; it alone runs.
      return { file, text, trigger, runId: -1, pid: undefined, outcome: 'cancelled', cancelReason: 'superseded' };
    }
    if (reveal) this.panel?.show(file);
    const state = this.stateOf(file);
    // Progress can arrive before the notification exists; it goes to the panel then, and to the bar once it is up.
    let reportProgress: (progress: Progress) => void = () => undefined;
    const startedAt = Date.now();
    let forwardedAt = startedAt;
    const run = await this.engine.run({
      file,
      text,
      options: runOptions(uri, text),
      onProgress: (progress) => {
        if (state.running) state.running.progress = progress;
        const now = Date.now();
        if (now - forwardedAt < PROGRESS_EVERY_MS) return;
        forwardedAt = now;
        this.postIfShown(file, { type: 'running', file, progress });
        reportProgress(progress);
      },
    });
    const pid = this.engine.pid;
    this.current = run;
    state.running = { runId: run.runId };
    this.postIfShown(file, { type: 'running', file });

    let outcome = await quickOutcome(run.outcome, PROGRESS_QUIET_MS);
    if (!outcome) {
      // A run that lasts: its CodeLens says "Analyzing…" (a state change) and a notification with Cancel comes up.
      this.changed.fire(file);
      outcome = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `RNN Jacobian Lab: analyzing ${basename(file)}`,
          cancellable: true,
        },
        async (progress, token) => {
          token.onCancellationRequested(() => void run.cancel('user'));
          let reported = 0;
          reportProgress = (p) => {
            const fraction = overallFraction(p);
            const increment = Math.max(0, (fraction - reported) * 100);
            reported = Math.max(reported, fraction);
            progress.report({ message: `${p.stage} ${p.step}/${p.total}`, increment });
          };
          // The notification comes up late: it starts from the progress the run has reached.
          const sofar = state.running?.runId === run.runId ? state.running.progress : undefined;
          if (sofar) reportProgress(sofar);
          return run.outcome;
        },
      );
    }
    if (this.current === run) this.current = undefined;
    if (state.running?.runId === run.runId) state.running = undefined;
    this.settle(uri, text, run.runId, outcome, trigger);
    this.changed.fire(file);
    const finished: RunFinished = {
      file, text, trigger, runId: run.runId, pid, outcome: outcome.kind,
      cancelReason: outcome.kind === 'cancelled' ? outcome.reason : undefined,
    };
    this.finished.fire(finished);
    return finished;
  }

  /** Writes the .npy files of `file`'s last good result into `dir`, rerunning it first if the engine lost it. */
  async saveArrays(file: string, dir: string): Promise<string[]> {
    let good = this.states.get(file)?.lastGood;
    if (!good) throw new Error(`there is no result for ${basename(file)} to export yet`);
    if (!this.engine.holdsResult(good.runId)) {
      this.log.info(`export: the engine process no longer holds run ${good.runId}; recomputing it from the same config text`);
      const run = await this.engine.run({ file, text: good.text, options: runOptions(vscode.Uri.file(file), good.text) });
      const outcome = await run.outcome;
      if (outcome.kind !== 'result') throw new Error(`recomputing ${basename(file)} for the export ended with: ${outcome.kind}`);
      good = { ...good, runId: run.runId, result: outcome.result };
      this.stateOf(file).lastGood = good;
      // The panel's spectrum requests name the run: it learns the new id (the same numbers) with the result.
      this.postIfShown(file, resultMessage(file, outcome.result, run.runId));
    }
    return this.engine.save(good.runId, dir);
  }

  /**
   * The whole spectrum of one Jacobian of `file`'s last good run `runId`, computed in the engine process. A run
   * that is no longer the last good one is answered as superseded (the panel drops it). A result the engine lost
   * (its process was replaced after a cancel or a crash) is not recomputed here: a rerun started for a panel
   * request could supersede the run the user just started, so the panel says to rerun instead.
   */
  async spectrum(file: string, runId: number, at: SpectrumSelection): Promise<SpectrumOutcome> {
    const good = this.states.get(file)?.lastGood;
    if (good?.runId !== runId) return { ok: false, message: `run ${runId} of ${basename(file)} was superseded` };
    if (!this.engine.holdsResult(runId)) {
      return { ok: false, message: `the engine process was restarted (after a cancel or a crash) and no longer holds this result; rerun ${basename(file)} to see its spectra` };
    }
    return this.engine.spectrum(runId, at);
  }

  dispose(): void {
    this.changed.dispose();
    this.finished.dispose();
  }

  private stateOf(file: string): FileRunState {
    let state = this.states.get(file);
    if (!state) {
      state = { file };
      this.states.set(file, state);
    }
    return state;
  }

  private postIfShown(file: string, message: HostToWebview): void {
    if (this.panel?.file === file) this.panel.post(message);
  }

  private settle(uri: vscode.Uri, text: string, runId: number, outcome: EngineOutcome, trigger: RunTrigger): void {
    const file = uri.fsPath;
    const state = this.stateOf(file);
    const name = basename(file);
    switch (outcome.kind) {
      case 'result': {
        state.lastGood = { runId, result: outcome.result, text };
        state.issues = undefined;
        state.issuesKind = undefined;
        state.failure = undefined;
        // The panel first: it is what the user waits for, and each call below is a message to the window too.
        this.postIfShown(file, resultMessage(file, outcome.result, runId));
        if (this.diagnostics.has(uri)) this.diagnostics.delete(uri);
        this.log.info(`run ${runId} ${name} (${trigger}): ${runSummary(outcome.result.report, outcome.wallMs, outcome.pid)}`);
        return;
      }
      case 'invalid': {
        state.issues = outcome.issues;
        state.issuesKind = outcome.errorKind;
        state.failure = undefined;
        this.setDiagnostics(uri, text, outcome.issues);
        this.log.warn(`run ${runId} ${name} (${trigger}): ${outcome.errorKind} error, ${outcome.issues.length} issue(s):`);
        for (const issue of outcome.issues) this.log.warn(`  ${issue.file}:${issue.line}:${issue.column}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
        this.postIfShown(file, { type: 'invalid', file, issues: outcome.issues, kind: outcome.errorKind });
        if (trigger === 'command' || trigger === 'codelens' || trigger === 'panel') {
          const count = outcome.issues.length;
          void vscode.window
            .showWarningMessage(`RNN Jacobian Lab: ${name} has ${count} problem${count === 1 ? '' : 's'}.`, 'Show Problems')
            .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
        }
        return;
      }
      case 'failed': {
        state.failure = outcome.message;
        this.log.error(`run ${runId} ${name} (${trigger}) failed: ${outcome.message}`);
        if (outcome.stack) this.log.error(outcome.stack);
        this.postIfShown(file, { type: 'failed', file, message: outcome.message });
        void vscode.window
          .showErrorMessage(`RNN Jacobian Lab: the analysis of ${name} failed: ${outcome.message}`, 'Show Log')
          .then((choice) => choice && this.log.show(true));
        return;
      }
      case 'cancelled': {
        this.log.info(`run ${runId} ${name} (${trigger}): cancelled (${outcome.reason})`);
        // A superseded run's panel is about to show the next run; only a real cancel is news to it.
        if (outcome.reason !== 'superseded') this.postIfShown(file, { type: 'cancelled', file });
        return;
      }
    }
  }

  private setDiagnostics(uri: vscode.Uri, text: string, issues: SourceIssue[]): void {
    const diagnostics = issues.map((issue) => issueDiagnostic(uri.fsPath, text, issue));
    this.diagnostics.set(uri, diagnostics);
  }
}

/**
 * A Diagnostic at the issue's exact offset and length in the text the engine read. An issue in another file
 * (a .npy the config names) is shown on the config key that names it, with the data file as related information,
 * because the Problems panel cannot point into a binary file.
 */
export function issueDiagnostic(configFile: string, text: string, issue: SourceIssue): vscode.Diagnostic {
  const sameFile = issue.file === configFile;
  const span = sameFile
    ? { offset: issue.offset, length: issue.length }
    : ((issue.path && spanOfPath(text, issue.path)) || rootSpan(text));
  const range = new vscode.Range(positionAt(text, span.offset), positionAt(text, span.offset + span.length));
  const where = issue.path && !issue.message.startsWith(issue.path) ? `${issue.path}: ` : '';
  const message = sameFile ? `${where}${issue.message}` : `${basename(issue.file)}: ${where}${issue.message}`;
  const diagnostic = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'RNN Jacobian Lab';
  if (!sameFile) {
    diagnostic.relatedInformation = [
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(vscode.Uri.file(issue.file), new vscode.Position(Math.max(0, issue.line - 1), Math.max(0, issue.column - 1))),
        `data file ${issue.file}`,
      ),
    ];
  }
  return diagnostic;
}

/** Line and character of a 0-based UTF-16 offset in `text` (what a TextDocument would say for the same text). */
export function positionAt(text: string, offset: number): vscode.Position {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let character = clamped - lineStart;
  // A CRLF's CR belongs to the line it ends, like in TextDocument.
  if (character > 0 && text.charCodeAt(clamped - 1) === 13 && clamped === text.length) character--;
  return new vscode.Position(line, character);
}

export function resultMessage(file: string, result: RunView, runId: number): HostToWebview {
  return { type: 'result', file, report: result.report, pairs: result.pairs, runId };
}

/** The outcome if it comes within `ms`, else undefined (the timer is cleared either way). */
async function quickOutcome(outcome: Promise<EngineOutcome>, ms: number): Promise<EngineOutcome | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([outcome, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function readConfigText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
  if (open) return open.getText();
  return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
}

/**
 * The settings for one run. The memory limit: a `rnnJacobian.maxMemoryMB` the user set wins; otherwise the
 * config's own `maxMemoryMB` counts, and the setting's default applies only to configs that name none.
 */
export function runOptions(uri: vscode.Uri, text: string): RunOptions {
  const settings = vscode.workspace.getConfiguration('rnnJacobian', uri);
  const backend = settings.get<BackendPreference>('backend', 'auto');
  const memory = settings.inspect<number>('maxMemoryMB');
  const explicit = memory?.workspaceFolderValue ?? memory?.workspaceValue ?? memory?.globalValue;
  const configNamesLimit = spanOfPath(text, 'maxMemoryMB') !== undefined;
  const limit = explicit ?? (configNamesLimit ? undefined : memory?.defaultValue);
  return {
    backend: (['auto', 'tensorflow', 'wasm', 'cpu'] as const).includes(backend) ? backend : 'auto',
    maxMemoryMB: typeof limit === 'number' && limit > 0 ? limit : undefined,
    keepJacobiansMB: KEEP_JACOBIANS_MB,
  };
}
