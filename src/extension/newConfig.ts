// "New Jacobian Config…" (palette, explorer context menu on a folder, the walkthrough): a quick pick of the
// templates in src/engine/config/templates.ts, a file name, and the config written, opened and offered to run.
// "From a trained model…" lists the workspace's TensorFlow.js model.json files (or browses for one) and fills
// cell, units, inputDim and layer in from the model (src/engine/params/inspect.ts).
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { TEMPLATES, templateText, type TemplateInfo, type TemplateOptions } from '../engine/config/templates';
import { formatIssue, UserError } from '../engine/errors';
import { inspectModel, MODEL_FILES, type RecurrentLayer } from '../engine/params/inspect';
import { CONFIG_SUFFIX } from './configLocations';

/** Where a config's `$schema` points: a copy of the extension's schema in the workspace's .vscode folder. */
const SCHEMA_COPY = join('.vscode', 'jacobian-config.schema.json');

export type AnalyzeUri = (uri: vscode.Uri) => Promise<unknown>;

export function registerNewConfig(context: vscode.ExtensionContext, analyze: AnalyzeUri): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('rnnJacobian.newConfig', async (target?: unknown) => {
      const picked = await vscode.window.showQuickPick(
        TEMPLATES.map((t) => ({ label: t.label, detail: t.detail, template: t })),
        // ignoreFocusOut: started from the walkthrough, the page takes the focus back as it marks the step done,
        // which would close a plain quick pick under the user's cursor.
        { title: 'New Jacobian Config', placeHolder: 'Pick a cell to start from', matchOnDetail: true, ignoreFocusOut: true },
      );
      if (!picked) return undefined;
      const folder = await targetFolder(context, target);
      if (!folder) return undefined;
      return createConfig(context, picked.template, folder, analyze);
    }),
  ];
}

/** Writes a template into `folder` under a name the user confirms, opens it, and offers to analyze it. */
export async function createConfig(context: vscode.ExtensionContext, template: TemplateInfo, folder: vscode.Uri, analyze: AnalyzeUri): Promise<vscode.Uri | undefined> {
  let model: TemplateOptions['model'];
  if (template.id === 'model') {
    const chosen = await pickModel(folder);
    if (!chosen) return undefined;
    model = { path: posixRelative(folder.fsPath, chosen.file), layer: chosen.layer };
  }
  const name = await vscode.window.showInputBox({
    title: `New Jacobian Config: ${template.label}`,
    prompt: `File name in ${folder.fsPath}`,
    value: uniqueName(folder.fsPath, model ? `${model.layer.name}-trained${CONFIG_SUFFIX}` : template.fileName),
    validateInput: (value) => fileNameProblem(folder.fsPath, value),
    ignoreFocusOut: true,
  });
  if (!name) return undefined;
  const uri = vscode.Uri.joinPath(folder, name);
  const text = templateText(template.id, { schema: await schemaReference(context, uri), ...(model ? { model } : {}) });
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(uri, { preview: false });
  void vscode.window.showInformationMessage(`RNN Jacobian Lab: created ${name}. Analyze it now?`, 'Analyze').then((choice) => choice && analyze(uri));
  return uri;
}

/** The explorer's folder, else the workspace folder (picked when there are several), else the extension's own storage. */
async function targetFolder(context: vscode.ExtensionContext, target: unknown): Promise<vscode.Uri | undefined> {
  if (target instanceof vscode.Uri && target.scheme === 'file') {
    const stat = await vscode.workspace.fs.stat(target);
    return stat.type & vscode.FileType.Directory ? target : vscode.Uri.file(dirname(target.fsPath));
  }
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 1) return folders[0].uri;
  if (folders.length > 1) return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for the new config' }))?.uri;
  return storageFolder(context);
}

/** With no folder open, configs go to the extension's global storage (still files, so runs and saves work). */
export async function storageFolder(context: vscode.ExtensionContext): Promise<vscode.Uri> {
  const folder = vscode.Uri.joinPath(context.globalStorageUri, 'configs');
  await vscode.workspace.fs.createDirectory(folder);
  return folder;
}

/**
 * The `$schema` for a config at `config`: the relative path to a copy of the extension's schema in its workspace
 * folder's .vscode (or beside it, outside any folder). A `$schema` takes precedence over the schema the
 * extension associates with *.jacobian.json, so it must resolve offline: a copy does, a URL may not.
 */
export async function schemaReference(context: vscode.ExtensionContext, config: vscode.Uri): Promise<string> {
  const root = vscode.workspace.getWorkspaceFolder(config)?.uri.fsPath ?? dirname(config.fsPath);
  const copy = join(root, SCHEMA_COPY);
  await refreshSchemaCopy(context, copy, true);
  return posixRelative(dirname(config.fsPath), copy);
}

/** Writes the schema copy when it differs from the extension's (an update changed it), or creates it when asked. */
export async function refreshSchemaCopy(context: vscode.ExtensionContext, copy: string, create: boolean): Promise<void> {
  if (!create && !existsSync(copy)) return;
  const schema = readFileSync(join(context.extensionPath, 'schemas', 'jacobian-config.schema.json'), 'utf8');
  if (existsSync(copy) && readFileSync(copy, 'utf8') === schema) return;
  await vscode.workspace.fs.writeFile(vscode.Uri.file(copy), new TextEncoder().encode(schema));
}

/** Keeps the schema copies of the open folders current after the extension is updated. */
export function refreshWorkspaceSchemaCopies(context: vscode.ExtensionContext): void {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme === 'file') void refreshSchemaCopy(context, join(folder.uri.fsPath, SCHEMA_COPY), false);
  }
}

function posixRelative(from: string, to: string): string {
  const path = relative(from, to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

export function uniqueName(folder: string, fileName: string): string {
  if (!existsSync(join(folder, fileName))) return fileName;
  const stem = fileName.slice(0, -CONFIG_SUFFIX.length);
  for (let i = 2; ; i++) {
    const candidate = `${stem}-${i}${CONFIG_SUFFIX}`;
    if (!existsSync(join(folder, candidate))) return candidate;
  }
}

function fileNameProblem(folder: string, value: string): string | undefined {
  if (!value.endsWith(CONFIG_SUFFIX)) return `The name must end in ${CONFIG_SUFFIX} (that is how the extension finds configs).`;
  if (value === CONFIG_SUFFIX || /[\\/]/.test(value)) return 'A file name, without folders.';
  if (existsSync(join(folder, value))) return `${value} already exists in ${folder}.`;
  return undefined;
}

interface ModelChoice {
  file: string;
  layer: RecurrentLayer;
}

interface ModelItem extends vscode.QuickPickItem {
  choice?: ModelChoice;
  problem?: string;
  browse?: true;
}

/** The workspace's loadable model layers, and Browse…; then the layer's model file and the layer. */
async function pickModel(folder: vscode.Uri): Promise<ModelChoice | undefined> {
  const found = await vscode.workspace.findFiles(MODEL_FILES.glob, '**/node_modules/**', 50);
  const items: ModelItem[] = found
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
    .flatMap((uri) => modelItems(uri.fsPath, vscode.workspace.asRelativePath(uri)));
  items.push({ label: '$(folder-opened) Browse…', detail: 'A model.json that tensorflowjs_converter wrote from Keras (its .bin files beside it)', browse: true });
  const picked = await vscode.window.showQuickPick(items, { title: 'New Jacobian Config: from a trained model', placeHolder: 'Pick the recurrent layer to analyze', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.problem) {
    void vscode.window.showErrorMessage(`RNN Jacobian Lab: ${picked.problem}`);
    return undefined;
  }
  if (picked.choice) return picked.choice;
  const files = await vscode.window.showOpenDialog({
    title: `Pick a ${MODEL_FILES.label}`,
    defaultUri: folder,
    canSelectMany: false,
    filters: { [MODEL_FILES.label]: MODEL_FILES.extensions },
  });
  if (!files?.length) return undefined;
  const layers = modelItems(files[0].fsPath, basename(files[0].fsPath));
  const usable = layers.filter((i) => i.choice);
  if (layers.length === 1 && layers[0].problem) {
    void vscode.window.showErrorMessage(`RNN Jacobian Lab: ${layers[0].problem}`);
    return undefined;
  }
  if (usable.length === 1) return usable[0].choice;
  const layer = await vscode.window.showQuickPick(layers, { title: 'New Jacobian Config: which layer?', ignoreFocusOut: true });
  if (layer?.problem) void vscode.window.showErrorMessage(`RNN Jacobian Lab: ${layer.problem}`);
  return layer?.choice;
}

/** One item per recurrent layer of a model file; one item saying why, when it has none or cannot be read. */
function modelItems(file: string, label: string): ModelItem[] {
  try {
    const inspection = inspectModel(file);
    if (inspection.layers.length === 0) {
      const layers = inspection.allLayers.map((l) => `${l.name} (${l.className})`).join(', ') || 'none';
      return [{ label, description: 'no recurrent layer', problem: `${file} has no SimpleRNN, LSTM or GRU layer (its layers: ${layers})` }];
    }
    return inspection.layers.map((layer) => ({
      label,
      description: `${layer.name}: ${layer.className}`,
      detail: layer.unsupported
        ? `cannot be loaded: ${layer.unsupported}`
        : `${layer.cell}, units ${layer.units}, inputDim ${layer.inputDim}, activation ${layer.activation}${layer.recurrentActivation ? `, recurrentActivation ${layer.recurrentActivation}` : ''}`,
      ...(layer.unsupported ? { problem: `layer "${layer.name}" of ${file} cannot be loaded: ${layer.unsupported}` } : { choice: { file, layer } }),
    }));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return [{ label, description: 'not a LayersModel', problem: e.issues.map(formatIssue).join('\n') }];
  }
}

