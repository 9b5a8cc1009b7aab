// The webview panel's host side. One panel shows one config's last run. The webview is not kept alive while
// hidden (retainContextWhenHidden: false, which saves the memory of a million-entry heatmap); instead it keeps
// its selections with setState, says 'ready' when it has loaded, and the host then re-sends what it shows.
// After a window reload the serializer revives the panel from that same state and reruns its config.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { isWebviewToHost, type ExportKind, type HostToWebview, type PanelState, type WebviewToHost } from '../protocol/messages';
import { describeRejected } from '../protocol/guards';
import { writeFileAtomic } from '../engine/run/save';
import { exportFailureMessage } from './writeErrors';
import { makeNonce, panelHtml } from './panelHtml';
import type { PanelSink, RunController, RunTrigger } from './runController';

export const PANEL_VIEW_TYPE = 'rnnJacobian.panel';

export class JacobianPanel implements PanelSink, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** True between the webview's 'ready' and its next unload: posts before it are lost, so they wait for it. */
  private webviewReady = false;
  private shownFile: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The control runs' view (controlController.ts): replayed with the rest, and the files its links open. */
  control: { snapshot(): HostToWebview[]; open(path: string): Promise<void> } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: RunController,
    private readonly log: vscode.LogOutputChannel,
    private readonly analyze: (uri: vscode.Uri, trigger: RunTrigger, reveal: boolean) => Promise<unknown>,
  ) {}

  get file(): string | undefined {
    return this.panel ? this.shownFile : undefined;
  }

  /** Opens the panel on `file` (beside the editor), or reveals it and switches it to `file`. */
  show(file: string): void {
    if (!this.panel) {
      this.attach(
        vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, panelTitle(file), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(this.extensionUri)),
        file,
      );
      return;
    }
    const switched = this.shownFile !== file;
    this.shownFile = file;
    this.panel.title = panelTitle(file);
    if (!this.panel.visible) this.panel.reveal(undefined, true);
    if (switched) this.replay();
  }

  /** Called by the serializer after a window reload, with what the webview had saved. */
  revive(panel: vscode.WebviewPanel, state: PanelState | undefined): void {
    panel.webview.options = webviewOptions(this.extensionUri);
    const file = state?.file;
    this.attach(panel, file);
    if (!file) return;
    // The results lived in the old extension host; recompute them (the panel shows 'running' meanwhile).
    void vscode.workspace.fs.stat(vscode.Uri.file(file)).then(
      () => this.analyze(vscode.Uri.file(file), 'revive', false),
      () => this.post({ type: 'failed', file, message: `${file} no longer exists` }),
    );
  }

  post(message: HostToWebview): void {
    // Hidden or still loading: dropped on purpose; 'ready' brings the webview up to date with a snapshot.
    if (!this.panel || !this.webviewReady) return;
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private attach(panel: vscode.WebviewPanel, file: string | undefined): void {
    this.panel = panel;
    this.shownFile = file;
    this.webviewReady = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    if (file) panel.title = panelTitle(file);
    panel.webview.html = panelHtml(panel.webview, this.extensionUri, makeNonce());
    const subscriptions: vscode.Disposable[] = [
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (isWebviewToHost(message)) void this.onMessage(message);
        else this.log.warn(`panel: dropped a malformed ${describeRejected(message)}`);
      }),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden a hidden webview is unloaded; it says 'ready' again when shown.
        if (!panel.visible) this.webviewReady = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.shownFile = undefined;
          this.webviewReady = false;
        }
        for (const d of subscriptions) d.dispose();
      }),
    ];
    this.disposables.push(...subscriptions);
  }

  private replay(): void {
    if (!this.shownFile) return;
    for (const message of this.controller.snapshot(this.shownFile)) this.post(message);
    for (const message of this.control?.snapshot() ?? []) this.post(message);
  }

  private async onMessage(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.webviewReady = true;
        this.replay();
        return;
      case 'rerun':
        if (this.shownFile) await this.analyze(vscode.Uri.file(this.shownFile), 'panel', false);
        return;
      case 'spectrum': {
        const { requestId, runId, pair, step, b } = message;
        const file = this.shownFile;
        const outcome = file
          ? await this.controller.spectrum(file, runId, { pair, step, b })
          : { ok: false as const, message: 'the panel shows no config' };
        if (!outcome.ok) this.log.info(`panel: spectrum of run ${runId} (pair ${pair}, step ${step}, b ${b}): ${outcome.message}`);
        // Posted only if the panel still shows that file; the webview drops a reply for a selection it left.
        if (file === this.shownFile) this.post({ type: 'spectrum', requestId, runId, pair, step, b, outcome });
        return;
      }
      case 'openControlFile':
        await this.control?.open(message.path);
        return;
      case 'export':
        try {
          await this.export(message);
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          this.log.error(`export ${message.what} failed: ${text}`);
          void vscode.window.showErrorMessage(`RNN Jacobian Lab: export failed: ${text}`, 'Show Log').then((c) => c && this.log.show(true));
        }
        return;
    }
  }

  private async export(message: Extract<WebviewToHost, { type: 'export' }>): Promise<void> {
    const file = this.shownFile;
    if (!file) throw new Error('the panel shows no config');
    const stem = basename(file).replace(/\.jacobian\.json$/, '');
    const folder = dirname(file);
    switch (message.what) {
      case 'png': {
        const match = /^data:image\/png;base64,(.*)$/s.exec(message.dataUrl);
        if (!match) throw new Error('the view did not arrive as a PNG data URL');
        const view = /^[a-z-]+$/.test(message.view ?? '') ? message.view : 'heatmap';
        const target = await askSavePath(join(folder, `${stem}-${view}.png`), { 'PNG image': ['png'] });
        if (target) await this.write('png', target, Buffer.from(match[1], 'base64'));
        return;
      }
      case 'csv': {
        const target = await askSavePath(join(folder, `${stem}-steps.csv`), { CSV: ['csv'] });
        if (target) await this.write('csv', target, Buffer.from(message.csv, 'utf8'));
        return;
      }
      case 'json': {
        const report = this.controller.state(file)?.lastGood?.result.report;
        if (!report) throw new Error(`there is no result for ${basename(file)} to export yet`);
        const target = await askSavePath(join(folder, `${stem}-report.json`), { JSON: ['json'] });
        if (target) await this.write('json', target, Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8'));
        return;
      }
      case 'npy': {
        // A new folder named like the config (saveRun refuses a folder holding other files, such as the
        // config's own folder, and replaces an earlier save in place).
        const dir = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(join(folder, `${stem}-arrays`)),
          saveLabel: 'Save .npy files here',
          title: 'RNN Jacobian Lab: new folder for the .npy files and manifest.json',
        });
        if (!dir) return;
        const files = await this.controller.saveArrays(file, dir.fsPath);
        this.log.info(`exported ${files.length} file(s) to ${dir.fsPath}: ${files.join(', ')}`);
        this.post({ type: 'exported', what: 'npy', path: dir.fsPath });
        return;
      }
    }
  }

  private async write(what: ExportKind, target: vscode.Uri, bytes: Uint8Array): Promise<void> {
    // A temp file renamed into place, removed on failure: a full disk never leaves a truncated export.
    if (target.scheme === 'file') {
      try {
        writeFileAtomic(target.fsPath, bytes);
      } catch (error) {
        throw new Error(exportFailureMessage(what.toUpperCase(), target.fsPath, error));
      }
    } else {
      await vscode.workspace.fs.writeFile(target, bytes);
    }
    this.log.info(`exported ${what} to ${target.fsPath} (${bytes.byteLength} bytes)`);
    this.post({ type: 'exported', what, path: target.fsPath });
  }
}

/** Registers the serializer that revives the panel after a window reload. Must run during activation. */
export function registerPanelSerializer(panel: JacobianPanel): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
    deserializeWebviewPanel: async (webviewPanel: vscode.WebviewPanel, state: unknown) => {
      panel.revive(webviewPanel, isPanelState(state) ? state : undefined);
    },
  });
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    enableFindWidget: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function panelTitle(file: string): string {
  return `RNN Jacobian Lab: ${basename(file).replace(/\.jacobian\.json$/, '')}`;
}

async function askSavePath(defaultPath: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
  return vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(defaultPath), filters, title: 'RNN Jacobian Lab: export' });
}

function isPanelState(value: unknown): value is PanelState {
  return !!value && typeof value === 'object' && (typeof (value as PanelState).file === 'string' || (value as PanelState).file === undefined);
}
