// Activation: wires the command, CodeLenses, run-on-save, the data-file watcher, the Problems panel, the
// output channel and the panel to one RunController, which runs the engine in its own process.
// Activation events (package.json): workspaceContains:**/*.jacobian.json, the panel's serializer, and the
// commands (implicit). Never `*`.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { isConfigPath } from './configLocations';
import { CONFIG_SELECTOR, JacobianCodeLensProvider } from './codeLens';
import { DataFileWatcher } from './dataWatcher';
import { EngineClient } from './engineClient';
import type { BackendPreference, SpectrumOutcome, SpectrumSelection } from '../protocol/messages';
import { JacobianPanel, registerPanelSerializer } from './panel';
import { RunController, type FileRunState, type RunFinished, type RunTrigger } from './runController';
import { startTestSuiteIfRequested } from './testHook';
import { refreshWorkspaceSchemaCopies, registerNewConfig } from './newConfig';
import { ResultStatusBar } from './statusBar';
import { registerWalkthrough } from './walkthrough';
import { ControlController, type ControlPrompts } from './controlController';
import { registerControlCommands } from './controlCommands';
import type { ControlKind, ControlPanelState } from '../protocol/messages';

/** What activate() returns. The extension-host tests drive and observe the extension through it. */
export interface RnnJacobianApi {
  analyze(uri: vscode.Uri, trigger?: RunTrigger, reveal?: boolean): Promise<RunFinished>;
  cancel(): Promise<void>;
  readonly enginePid: number | undefined;
  readonly running: boolean;
  onDidStartRun(listener: (runId: number, pid: number) => void): vscode.Disposable;
  readonly onDidFinishRun: vscode.Event<RunFinished>;
  state(file: string): FileRunState | undefined;
  readonly panelFile: string | undefined;
  watchedDataFiles(configFile: string): string[];
  /** The panel's on-demand request: the whole spectrum of one Jacobian of `file`'s last good run `runId`. */
  spectrum(file: string, runId: number, at: SpectrumSelection): Promise<SpectrumOutcome>;
  /** Stabilize RNN (LSC)… / Floss RNN… on `uri`, with the questions answered by `prompts` (the windows' by default). */
  control(uri: vscode.Uri, kind: ControlKind, prompts?: ControlPrompts): Promise<ControlPanelState | undefined>;
  /** Cancel of the control run going (it stops after its step; the user is asked about its best weights). */
  stopControl(): void;
  readonly onDidChangeControl: vscode.Event<ControlPanelState>;
}

let engine: EngineClient | undefined;

export function activate(context: vscode.ExtensionContext): RnnJacobianApi {
  const log = vscode.window.createOutputChannel('RNN Jacobian Lab', { log: true });
  const diagnostics = vscode.languages.createDiagnosticCollection('rnnJacobian');
  // A machine-scoped setting: a workspace can never point the engine at native code of its choosing.
  const tfjsNodePath = () => vscode.workspace.getConfiguration('rnnJacobian').get<string>('tfjsNodePath')?.trim() || undefined;
  engine = new EngineClient(join(context.extensionPath, 'dist', 'engineWorker.js'), log, {
    tfjsNodePath,
    warmBackend: () => vscode.workspace.getConfiguration('rnnJacobian').get<BackendPreference>('backend', 'auto'),
  });
  const controller = new RunController(engine, diagnostics, log);
  const analyze = (uri: vscode.Uri, trigger: RunTrigger, reveal: boolean) => controller.analyze(uri, trigger, reveal);
  const panel = new JacobianPanel(context.extensionUri, controller, log, analyze);
  controller.panel = panel;
  const codeLenses = new JacobianCodeLensProvider(controller);
  // Control runs get an engine process of their own: a save supersedes (kills) the window's analysis process.
  const backendSetting = () => vscode.workspace.getConfiguration('rnnJacobian').get<BackendPreference>('backend', 'auto');
  const controlDiagnostics = vscode.languages.createDiagnosticCollection('rnnJacobian.control');
  const control = new ControlController(
    () => new EngineClient(join(context.extensionPath, 'dist', 'engineWorker.js'), log, { tfjsNodePath, warmBackend: backendSetting }),
    controlDiagnostics,
    log,
    panel,
    backendSetting,
  );
  panel.control = control;
  const dataWatcher = new DataFileWatcher((configFile, dataFile) => {
    if (!runOnSaveEnabled(vscode.Uri.file(configFile))) return;
    log.info(`${dataFile} changed: rerunning ${configFile}`);
    void analyze(vscode.Uri.file(configFile), 'dataFile', false);
  });
  log.info(`RNN Jacobian Lab ${context.extension.packageJSON.version as string} activated (extension host pid ${process.pid})`);

  context.subscriptions.push(
    log,
    diagnostics,
    controller,
    panel,
    codeLenses,
    dataWatcher,
    registerPanelSerializer(panel),
    vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, codeLenses),

    vscode.commands.registerCommand('rnnJacobian.analyze', async (target?: unknown, trigger?: unknown) => {
      const uri = target instanceof vscode.Uri ? target : await pickConfig();
      if (!uri) return undefined;
      const how: RunTrigger = trigger === 'codelens' ? 'codelens' : 'command';
      return analyze(uri, how, true);
    }),
    vscode.commands.registerCommand('rnnJacobian.cancel', () => controller.cancel()),
    vscode.commands.registerCommand('rnnJacobian.showPanel', async (target?: unknown) => {
      const uri = target instanceof vscode.Uri ? target : activeConfig() ?? (await pickConfig());
      if (!uri) return;
      if (controller.state(uri.fsPath)?.lastGood) panel.show(uri.fsPath);
      else await analyze(uri, 'command', true);
    }),
    vscode.commands.registerCommand('rnnJacobian.showLog', () => log.show(true)),

    // The run starts as the save begins, on the text being saved; a run still going is superseded (its process is
    // killed and this one starts). The did-save reruns only if a save participant changed the text.
    vscode.workspace.onWillSaveTextDocument((event) => runsOnSave(event.document) && controller.saveStarting(event.document)),
    vscode.workspace.onDidSaveTextDocument((document) => runsOnSave(document) && controller.saved(document)),
    // A control block's problems were found in the text of the last control run; once the config is saved again they
    // may be fixed, and the next Stabilize / Floss finds them again if not.
    vscode.workspace.onDidSaveTextDocument((document) => controlDiagnostics.delete(document.uri)),
    vscode.workspace.onDidDeleteFiles((event) => event.files.forEach((uri) => diagnostics.delete(uri))),
    controller.onDidFinishRun((finished) => {
      if (finished.text) dataWatcher.update(finished.file, finished.text);
    }),
    controller.onDidChangeState(() => void vscode.commands.executeCommand('setContext', 'rnnJacobian.running', controller.running)),
    // A crash during a run is shown once, as that run's failure; one while idle is shown here, once.
    engine.onDidCrash((crash) => {
      if (!crash.duringRun) void vscode.window.showErrorMessage(`RNN Jacobian Lab: the engine process exited unexpectedly (${crash.how}); a new one was started.`, 'Show Log').then((c) => c && log.show(true));
    }),
  );

  // Onboarding: New Jacobian Config…, the status bar headline, the Get Started walkthrough's commands.
  const analyzeFromCommand = (uri: vscode.Uri) => analyze(uri, 'command', true);
  context.subscriptions.push(
    ...registerNewConfig(context, analyzeFromCommand),
    new ResultStatusBar(controller),
    ...registerWalkthrough(context, controller, analyzeFromCommand),
    control,
    controlDiagnostics,
    ...registerControlCommands(control, (title) => pickConfig(title)),
  );
  refreshWorkspaceSchemaCopies(context);

  startTestSuiteIfRequested((line) => log.info(line));

  const engineClient = engine;
  return {
    analyze: (uri, trigger = 'command', reveal = true) => analyze(uri, trigger, reveal),
    cancel: () => controller.cancel(),
    get enginePid() {
      return engineClient.pid;
    },
    get running() {
      return engineClient.running;
    },
    onDidStartRun: (listener) => engineClient.onDidStartRun(listener),
    onDidFinishRun: controller.onDidFinishRun,
    state: (file) => controller.state(file),
    get panelFile() {
      return panel.file;
    },
    watchedDataFiles: (configFile) => dataWatcher.watchedFiles(configFile),
    spectrum: (file, runId, at) => controller.spectrum(file, runId, at),
    control: (uri, kind, prompts) => control.run(uri, kind, prompts),
    stopControl: () => control.stop(),
    onDidChangeControl: control.onDidChange,
  };
}

/** Ends the engine process: nothing of the extension outlives its host. */
export async function deactivate(): Promise<void> {
  await engine?.dispose();
  engine = undefined;
}

function runsOnSave(document: vscode.TextDocument): boolean {
  return document.uri.scheme === 'file' && isConfigPath(document.uri.fsPath) && runOnSaveEnabled(document.uri);
}

function runOnSaveEnabled(uri: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration('rnnJacobian', uri).get<boolean>('runOnSave', true);
}

function activeConfig(): vscode.Uri | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri && isConfigPath(uri.fsPath) ? uri : undefined;
}

/** The active config, else the only one in the workspace, else the user's pick among them. */
async function pickConfig(title = 'Analyze RNN Jacobian'): Promise<vscode.Uri | undefined> {
  const active = activeConfig();
  if (active) return active;
  const found = await vscode.workspace.findFiles('**/*.jacobian.json', '**/node_modules/**', 500);
  if (found.length === 0) {
    void vscode.window.showInformationMessage('RNN Jacobian Lab: no *.jacobian.json config in this workspace. Create one (see the README) and run the command again.');
    return undefined;
  }
  if (found.length === 1) return found[0];
  const items = found
    .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick a *.jacobian.json config' });
  return picked?.uri;
}
