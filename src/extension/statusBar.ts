// A status bar item for the active *.jacobian.json: its last result's headline (ρ and var·fan_in of the first
// pair, or stale / error), opening the panel on click. It stays on the last config while a non-text editor (the
// panel itself) is active, and hides when another text file is.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { isConfigPath } from './configLocations';
import { statusHeadline } from './headline';
import type { RunController } from './runController';

export class ResultStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rnnJacobian.result', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private file: string | undefined;

  constructor(private readonly controller: RunController) {
    this.item.name = 'RNN Jacobian Lab: last result';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor((editor) => this.follow(editor)),
      controller.onDidChangeState((file) => file === this.file && this.update()),
    );
    this.follow(vscode.window.activeTextEditor);
  }

  private follow(editor: vscode.TextEditor | undefined): void {
    if (!editor) return; // the panel or another non-text editor: keep the config shown
    const uri = editor.document.uri;
    this.file = uri.scheme === 'file' && isConfigPath(uri.fsPath) ? uri.fsPath : undefined;
    this.update();
  }

  private update(): void {
    if (!this.file) {
      this.item.hide();
      return;
    }
    const { text, tooltip } = statusHeadline(basename(this.file), this.controller.state(this.file));
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `RNN Jacobian Lab: ${text.replace(/\$\([^)]*\)\s*/g, '')}` };
    this.item.command = { title: 'Show Panel', command: 'rnnJacobian.showPanel', arguments: [vscode.Uri.file(this.file)] };
    this.item.show();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
