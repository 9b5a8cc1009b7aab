// "Stabilize RNN (LSC)…" and "Floss RNN…" in the editor: runs the config's control block in an engine process
// of its own (so that a save, which supersedes and kills the window's analysis process, never ends it), shows
// ρ per kind (or λ_i) per step in a cancellable notification and live in the panel, and at the end exports the
// weights beside the config and analyzes the original and the new config for the before/after view.
// Cancel stops the loop after its step; the user then decides whether the best weights so far are written.
// The questions go through ControlPrompts, which the host tests answer.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, join, normalize } from 'node:path';
import { modify, parse } from 'jsonc-parser/lib/esm/main';
import { defaultOutDir } from '../engine/control/outDir';
import type { BackendPreference, ControlKind, ControlPanelState, ControlStep, ControlSummary, HostToWebview } from '../protocol/messages';
import { EngineClient, type ControlOutcome } from './engineClient';
import { issueDiagnostic, readConfigText, type PanelSink } from './runController';

export interface ControlPrompts {
  /** The config has no block for `kind`: run with the engine's defaults, insert a block first, or neither. */
  missingBlock(kind: ControlKind, file: string): Promise<'defaults' | 'insert' | undefined>;
  /** The run was cancelled: write the best weights so far? */
  keepBest(summary: ControlSummary): Promise<boolean>;
  /** `dir` exists: replace it, write into `free` instead, or write nothing. */
  existing(dir: string, free: string): Promise<'replace' | 'beside' | undefined>;
}

export const KIND_TITLE: Record<ControlKind, { verb: string; done: string; block: string; quantity: string }> = {
  stabilize: { verb: 'Stabilizing', done: 'Stabilized', block: 'stabilize', quantity: 'ρ' },
  floss: { verb: 'Flossing', done: 'Flossed', block: 'floss', quantity: 'λ' },
};

/** What "Insert a block" writes: the engine's defaults, spelled out so the user sees what to change. */
const DEFAULT_BLOCKS: Record<ControlKind, Record<string, unknown>> = {
  stabilize: { target: 1, learningRate: 0.01, tolerance: 0.02, patience: 20, maxSteps: 1000 },
  floss: { exponents: 1, target: 0, learningRate: 0.01, tolerance: 0.01, patience: 20, maxSteps: 1000 },
};

export const windowPrompts: ControlPrompts = {
  async missingBlock(kind, file) {
    const choice = await vscode.window.showInformationMessage(
      `${basename(file)} has no "${kind}" block. Run with the defaults (docs/control.md), or write them into the config as a block you can edit later, and run?`,
      'Run with Defaults', 'Insert Block and Run',
    );
    return choice === 'Run with Defaults' ? 'defaults' : choice === 'Insert Block and Run' ? 'insert' : undefined;
  },
  async keepBest(summary) {
    const choice = await vscode.window.showInformationMessage(
      `RNN Jacobian Lab: cancelled after ${summary.steps} steps. Keep the best weights so far (step ${summary.bestStep}: ${quantityLine(summary)})?`,
      'Keep Best Weights', 'Discard',
    );
    return choice === 'Keep Best Weights';
  },
  async existing(dir, free) {
    const choice = await vscode.window.showWarningMessage(
      `RNN Jacobian Lab: ${basename(dir)} already exists beside the config. Replace it, or write ${basename(free)}?`,
      { modal: true }, 'Replace', `Write ${basename(free)}`,
    );
    return choice === 'Replace' ? 'replace' : choice ? 'beside' : undefined;
  },
};

export function quantityLine(summary: Pick<ControlSummary, 'quantities'>): string {
  return summary.quantities.map((q) => `${q.label} ${q.before.toFixed(4)} → ${q.after.toFixed(4)} (target ${q.target})`).join(', ');
}

/** The first `dir-2`, `dir-3`, … that does not exist. */
export function freeSibling(dir: string): string {
  for (let k = 2; ; k++) if (!existsSync(`${dir}-${k}`)) return `${dir}-${k}`;
}

export class ControlController implements vscode.Disposable {
  private latest: ControlPanelState | undefined;
  private stopCurrent: (() => void) | undefined;
  /** From the command to the end of the comparison (running is only the optimisation). */
  private busy = false;
  private nextId = 1;
  private readonly changed = new vscode.EventEmitter<ControlPanelState>();
  /** Fires with the state at every change (the host tests and the CodeLenses watch it). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly makeEngine: () => EngineClient,
    private readonly diagnostics: vscode.DiagnosticCollection,
    private readonly log: vscode.LogOutputChannel,
    private readonly panel: PanelSink,
    private readonly backend: () => BackendPreference,
  ) {}

  get state(): ControlPanelState | undefined {
    return this.latest;
  }

  get running(): boolean {
    return this.stopCurrent !== undefined;
  }

  /** What a freshly loaded panel needs to show the latest control run. */
  snapshot(): HostToWebview[] {
    return this.latest ? [{ type: 'control', state: this.latest }] : [];
  }

  /** Opens a file the latest run wrote (the panel's links); any other path is refused. */
  async open(path: string): Promise<void> {
    const files = this.latest?.files;
    const written = files ? [files.config, ...files.files.map((f) => join(files.dir, f))].map(normalize) : [];
    if (!written.includes(normalize(path))) {
      this.log.warn(`panel asked to open ${path}, which the latest control run did not write`);
      return;
    }
    if (path.endsWith('.json')) await vscode.window.showTextDocument(vscode.Uri.file(path), { viewColumn: vscode.ViewColumn.One });
    else await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path));
  }

  /** Stops the run going after its current step (the user is then asked about its best weights). */
  stop(): void {
    this.stopCurrent?.();
  }

  async run(uri: vscode.Uri, kind: ControlKind, prompts: ControlPrompts = windowPrompts): Promise<ControlPanelState | undefined> {
    if (this.busy) {
      void vscode.window.showInformationMessage(
        this.running
          ? 'RNN Jacobian Lab: a control run is going; cancel it first.'
          : 'RNN Jacobian Lab: the last control run is still finishing (a question about its weights, the export or the before/after analyses).',
      );
      return undefined;
    }
    // Taken before the first await, so that a second command while this one asks its questions is refused.
    this.busy = true;
    try {
      const text = await this.textWithBlock(uri, kind, prompts);
      if (text === undefined) return undefined;
      const engine = this.makeEngine();
      try {
        return await this.runIn(engine, uri, text, kind, prompts);
      } finally {
        await engine.dispose();
      }
    } finally {
      this.busy = false;
      this.stopCurrent = undefined;
    }
  }

  /** The config's text, once it has a block for `kind` (or the user chose the defaults); undefined if declined. */
  private async textWithBlock(uri: vscode.Uri, kind: ControlKind, prompts: ControlPrompts): Promise<string | undefined> {
    const text = await readConfigText(uri);
    if (hasBlock(text, kind)) return text;
    const choice = await prompts.missingBlock(kind, uri.fsPath);
    if (!choice) return undefined;
    if (choice === 'defaults') return text;
    await insertBlock(uri, kind);
    return readConfigText(uri);
  }

  dispose(): void {
    this.stop();
    this.changed.dispose();
  }

  private async runIn(engine: EngineClient, uri: vscode.Uri, text: string, kind: ControlKind, prompts: ControlPrompts): Promise<ControlPanelState> {
    const file = uri.fsPath;
    const name = basename(file);
    const state: ControlPanelState = { id: this.nextId++, kind, file, phase: 'running', quantities: [], history: [] };
    this.latest = state;
    this.diagnostics.delete(uri);
    this.panel.show(file);
    this.publish(state);
    const title = KIND_TITLE[kind];
    let runId = -1;
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RNN Jacobian Lab: ${title.verb.toLowerCase()} ${name}`, cancellable: true },
      async (progress, token) => {
        const run = engine.control({
          kind, file, text, backend: this.backend(),
          onStart: (quantities) => {
            state.quantities = quantities;
            this.publish(state);
          },
          onStep: (step) => {
            state.history.push(step);
            this.publish(state);
            progress.report({ message: stepLine(state, step) });
          },
        });
        runId = run.runId;
        // This run's own stop: the notification's Cancel can only ever stop the run it belongs to.
        const stop = () => {
          if (state.phase !== 'running') return;
          state.phase = 'cancelling';
          this.publish(state);
          run.stop();
        };
        this.stopCurrent = stop;
        this.publish(state); // running: the Cancel lens and the controlRunning context follow now
        token.onCancellationRequested(stop);
        return run.outcome;
      },
    );
    this.stopCurrent = undefined;
    this.publish(state);
    if (outcome.kind !== 'result') return this.unfinished(state, uri, text, outcome);
    state.summary = outcome.summary;
    this.log.info(`control ${state.id} ${name}: ${outcome.summary.stop} after ${outcome.summary.steps} steps on ${outcome.summary.backend}; ${quantityLine(outcome.summary)}`);
    const cancelled = outcome.summary.stop === 'cancelled';
    if (cancelled && outcome.summary.steps === 0) return this.finish(state, 'cancelled', 'Cancelled before the first step; nothing was written.');
    if (cancelled && !(await prompts.keepBest(outcome.summary))) {
      return this.finish(state, 'cancelled', 'Cancelled; the best weights were not kept.');
    }
    let dir = defaultOutDir(file, kind);
    let force = false;
    if (existsSync(dir)) {
      const free = freeSibling(dir);
      const choice = await prompts.existing(dir, free);
      if (!choice) return this.finish(state, 'cancelled', `${basename(dir)} exists and was kept; nothing was written.`);
      if (choice === 'replace') force = true;
      else dir = free;
    }
    state.phase = 'exporting';
    this.publish(state);
    const exported = await engine.exportControl(runId, dir, force);
    if (!exported.ok) return this.finish(state, 'failed', exported.message, true);
    state.files = exported.files;
    state.phase = 'comparing';
    this.publish(state);
    state.comparison = await engine.compareControl(runId);
    if (!state.comparison.ok) this.log.warn(`control ${state.id}: the before/after analyses failed: ${state.comparison.message}`);
    // A cancelled run's weights are the best so far, not necessarily at the target: say which.
    const done = cancelled ? `Cancelled after ${outcome.summary.steps} steps; kept the best weights (step ${outcome.summary.bestStep})` : title.done;
    const result = this.finish(state, cancelled ? 'cancelled' : 'done', `${done}: ${quantityLine(outcome.summary)}. Wrote ${exported.files.dir}.`);
    void vscode.window.showInformationMessage(`RNN Jacobian Lab: ${cancelled ? `${name}: kept the best weights so far` : `${title.done.toLowerCase()} ${name}`}: ${quantityLine(outcome.summary)}`, 'Open New Config').then(
      (choice) => choice && this.open(exported.files.config),
    );
    return result;
  }

  private unfinished(state: ControlPanelState, uri: vscode.Uri, text: string, outcome: Exclude<ControlOutcome, { kind: 'result' }>): ControlPanelState {
    const name = basename(uri.fsPath);
    if (outcome.kind === 'invalid') {
      this.diagnostics.set(uri, outcome.issues.map((issue) => issueDiagnostic(uri.fsPath, text, issue)));
      for (const issue of outcome.issues) this.log.warn(`  ${issue.file}:${issue.line}:${issue.column}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
      const count = outcome.issues.length;
      void vscode.window
        .showWarningMessage(`RNN Jacobian Lab: ${name} has ${count} problem${count === 1 ? '' : 's'}.`, 'Show Problems')
        .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return this.finish(state, 'invalid', outcome.issues.map((i) => `${basename(i.file)}:${i.line}:${i.column} ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'));
    }
    if (outcome.stack) this.log.error(outcome.stack);
    return this.finish(state, 'failed', outcome.message, true);
  }

  private finish(state: ControlPanelState, phase: ControlPanelState['phase'], message: string, error = false): ControlPanelState {
    state.phase = phase;
    state.message = message;
    this.log.info(`control ${state.id} ${basename(state.file)}: ${phase}: ${message}`);
    if (error) void vscode.window.showErrorMessage(`RNN Jacobian Lab: ${KIND_TITLE[state.kind].verb.toLowerCase()} ${basename(state.file)} failed: ${message}`);
    this.publish(state);
    return state;
  }

  private publish(state: ControlPanelState): void {
    if (this.latest === state) this.panel.post({ type: 'control', state });
    this.changed.fire(state);
  }
}

function stepLine(state: ControlPanelState, step: ControlStep): string {
  const q = KIND_TITLE[state.kind].quantity;
  const values = step.medians.map((m, k) => `${state.quantities[k]?.label ?? `${q}${k + 1}`} ${m.toFixed(4)}${state.quantities[k] ? ` → ${state.quantities[k].target}` : ''}`);
  return `step ${step.step} · loss ${step.loss.toExponential(2)} · ${values.join(' · ')}`;
}

export function hasBlock(text: string, kind: ControlKind): boolean {
  const data = parse(text) as Record<string, unknown> | undefined;
  return data !== undefined && typeof data === 'object' && data !== null && data[kind] !== undefined;
}

/**
 * Inserts the default block into the config as it is now (its editor's text, with whatever was typed while the
 * question was up), as small edits rather than a whole-text replace, and saves it.
 */
async function insertBlock(uri: vscode.Uri, kind: ControlKind): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const edits = modify(document.getText(), [kind], DEFAULT_BLOCKS[kind], { formattingOptions: { insertSpaces: true, tabSize: 2 } });
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) edit.replace(uri, new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)), e.content);
  await vscode.workspace.applyEdit(edit);
  await document.save();
}
