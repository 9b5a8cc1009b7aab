// The palette commands "Stabilize RNN (LSC)…" and "Floss RNN…" and their CodeLenses ("Stabilize (LSC)" on a
// config's `stabilize` key, "Floss" on its `floss` key), wired to one ControlController.
import * as vscode from 'vscode';
import type { ControlKind } from '../protocol/messages';
import { CONFIG_SELECTOR } from './codeLens';
import { configTree, isConfigPath, spanOfPath } from './configLocations';
import type { ControlController } from './controlController';

const LENSES: { kind: ControlKind; title: string; command: string; tooltip: string }[] = [
  { kind: 'stabilize', title: '▶ Stabilize (LSC)', command: 'rnnJacobian.stabilize', tooltip: 'Drive ρ of the transition Jacobians to this block\'s target (LSC pre-training) and write the new weights beside the config' },
  { kind: 'floss', title: '▶ Floss', command: 'rnnJacobian.floss', tooltip: 'Drive the first Lyapunov exponents to this block\'s target (gradient flossing) and write the new weights beside the config' },
];

export class ControlCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly controller: ControlController) {
    // Only the running/not-running switch changes a lens, not every step.
    this.subscription = onRunningChange(controller, () => this.changed.fire());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!isConfigPath(document.uri.fsPath)) return [];
    const text = document.getText();
    const tree = configTree(text);
    const running = this.controller.running && this.controller.state?.file === document.uri.fsPath ? this.controller.state.kind : undefined;
    return LENSES.flatMap((lens) => {
      const span = spanOfPath(text, lens.kind, tree);
      if (!span) return [];
      const at = document.positionAt(span.offset);
      const range = new vscode.Range(at, at);
      if (running === lens.kind) return [new vscode.CodeLens(range, { title: '$(sync~spin) running… Cancel', command: 'rnnJacobian.stopControl' })];
      return [new vscode.CodeLens(range, { title: lens.title, tooltip: lens.tooltip, command: lens.command, arguments: [document.uri] })];
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** The commands and the CodeLens provider; `pick` finds the config when none is given (the active one, or asks). */
export function registerControlCommands(controller: ControlController, pick: (title: string) => Promise<vscode.Uri | undefined>): vscode.Disposable[] {
  const lenses = new ControlCodeLensProvider(controller);
  const command = (kind: ControlKind, title: string) => async (target?: unknown) => {
    const uri = target instanceof vscode.Uri ? target : await pick(title);
    return uri ? controller.run(uri, kind) : undefined;
  };
  return [
    lenses,
    vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, lenses),
    vscode.commands.registerCommand('rnnJacobian.stabilize', command('stabilize', 'Stabilize RNN (LSC)')),
    vscode.commands.registerCommand('rnnJacobian.floss', command('floss', 'Floss RNN')),
    vscode.commands.registerCommand('rnnJacobian.stopControl', () => controller.stop()),
    onRunningChange(controller, (running) => void vscode.commands.executeCommand('setContext', 'rnnJacobian.controlRunning', running)),
  ];
}

/** Calls `listener` when the controller starts or stops running (not at every step). */
function onRunningChange(controller: ControlController, listener: (running: boolean) => void): vscode.Disposable {
  let was = controller.running;
  return controller.onDidChange(() => {
    if (controller.running !== was) listener(controller.running);
    was = controller.running;
  });
}
