// CodeLenses on `*.jacobian.json`: "▶ Analyze RNN Jacobian" above the root object, and after a run the headline
// numbers above each `jacobians` entry. Entries are matched by the PairReport's `path` (`jacobians[i]`) and
// located in the current text, so the lenses follow edits; while the config is invalid they say "stale".
import * as vscode from 'vscode';
import { configTree, isConfigPath, rootSpan, spanOfPath } from './configLocations';
import { pairHeadline } from './headline';
import type { RunController } from './runController';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.jacobian.json' },
  { scheme: 'untitled', pattern: '**/*.jacobian.json' },
];

export class JacobianCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly controller: RunController) {
    this.subscription = controller.onDidChangeState(() => this.changed.fire());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!isConfigPath(document.uri.fsPath)) return [];
    const text = document.getText();
    const tree = configTree(text);
    const root = rootSpan(text, tree);
    const rootRange = new vscode.Range(document.positionAt(root.offset), document.positionAt(root.offset));
    const state = this.controller.state(document.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    if (state?.running) {
      lenses.push(new vscode.CodeLens(rootRange, { title: '$(sync~spin) Analyzing…', command: 'rnnJacobian.showPanel', arguments: [document.uri] }));
      lenses.push(new vscode.CodeLens(rootRange, { title: 'Cancel', command: 'rnnJacobian.cancel' }));
    } else {
      lenses.push(new vscode.CodeLens(rootRange, {
        title: '▶ Analyze RNN Jacobian',
        tooltip: 'Compute the Jacobians this config asks for and show them in the RNN Jacobian Lab panel',
        command: 'rnnJacobian.analyze',
        arguments: [document.uri, 'codelens'],
      }));
    }
    if (state?.issues) {
      const count = state.issues.length;
      lenses.push(new vscode.CodeLens(rootRange, {
        title: `$(warning) config invalid: ${count} problem${count === 1 ? '' : 's'}${state.lastGood ? ' (results below are stale)' : ''}`,
        command: 'workbench.actions.view.problems',
      }));
    }
    const report = state?.lastGood?.result.report;
    if (!report) return lenses;
    const stale = state?.issues ? ' (stale)' : '';
    report.jacobians.forEach((pair, index) => {
      const span = spanOfPath(text, pair.path, tree);
      if (!span) return;
      const at = document.positionAt(span.offset);
      lenses.push(new vscode.CodeLens(new vscode.Range(at, at), {
        title: `${pairHeadline(pair)}${stale}`,
        tooltip: `∂${pair.of}/∂${pair.wrt} (${pair.outDim}×${pair.inDim}, ${pair.method})${pair.expected ? `; expected from ${pair.expected.formula}` : ''}. Open the panel.`,
        command: 'rnnJacobian.showPanel',
        arguments: [document.uri, index],
      }));
    });
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
