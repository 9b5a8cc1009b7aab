// The Get Started walkthrough's commands (the steps themselves are in package.json, contributes.walkthroughs):
// open the seed example (written into the workspace, so that it is there even in an empty folder), analyze it,
// and the context key that marks "change the activation and save" done.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { templateText } from '../engine/config/templates';
import { schemaReference, storageFolder } from './newConfig';
import type { RunController } from './runController';

export const WALKTHROUGH_ID = 'rnn-jacobian-lab.rnn-jacobian-lab#getStarted';
const SEED_FILE = 'seed-relu.jacobian.json';
/** Set once a save reran a config with another activation than its previous result had. */
const ACTIVATION_CHANGED = 'rnnJacobian.walkthrough.activationChanged';

export function registerWalkthrough(
  context: vscode.ExtensionContext,
  controller: RunController,
  analyze: (uri: vscode.Uri) => Promise<unknown>,
): vscode.Disposable[] {
  const activations = new Map<string, string>();
  return [
    vscode.commands.registerCommand('rnnJacobian.getStarted', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false)),
    vscode.commands.registerCommand('rnnJacobian.openSeedExample', async () => {
      const uri = await seedExample(context);
      await vscode.window.showTextDocument(uri, { preview: false });
      return uri;
    }),
    vscode.commands.registerCommand('rnnJacobian.analyzeSeedExample', async () => {
      const uri = await seedExample(context);
      await vscode.window.showTextDocument(uri, { preview: false });
      return analyze(uri);
    }),
    controller.onDidFinishRun((finished) => {
      const activation = controller.state(finished.file)?.lastGood?.result.report.activation;
      if (finished.outcome !== 'result' || !activation) return;
      const before = activations.get(finished.file);
      activations.set(finished.file, activation);
      if (finished.trigger === 'save' && before !== undefined && before !== activation) {
        void vscode.commands.executeCommand('setContext', ACTIVATION_CHANGED, true);
      }
    }),
  ];
}

/**
 * The seed example of the README (`seed-relu.jacobian.json`) at the root of the first workspace folder, written
 * there when it is not (in the extension's storage when no folder is open); an existing file is kept as it is.
 */
async function seedExample(context: vscode.ExtensionContext): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri ?? (await storageFolder(context));
  const uri = vscode.Uri.joinPath(folder, SEED_FILE);
  if (!existsSync(join(folder.fsPath, SEED_FILE))) {
    const text = templateText('seed', { schema: await schemaReference(context, uri) });
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    void vscode.window.setStatusBarMessage(`RNN Jacobian Lab: wrote ${basename(uri.fsPath)}`, 5000);
  }
  return uri;
}
