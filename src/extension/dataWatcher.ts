// Reruns a config when a .npy/.npz file it names changes on disk (the user regenerated inputs or weights).
// The files are found in the config text (configLocations.referencedDataFiles) after every run attempt.
import * as vscode from 'vscode';
import { basename, dirname } from 'node:path';
import { referencedDataFiles } from './configLocations';

/** Saving a large .npy fires several change events; one rerun follows the last of them. */
const DEBOUNCE_MS = 400;

export class DataFileWatcher implements vscode.Disposable {
  private readonly watched = new Map<string, { files: string; watchers: vscode.Disposable[] }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onDataChanged: (configFile: string, dataFile: string) => void) {}

  /** Watches exactly the data files `text` names for `configFile`, replacing what was watched before. */
  update(configFile: string, text: string): void {
    const files = referencedDataFiles(configFile, text);
    const key = files.join('\n');
    const previous = this.watched.get(configFile);
    if (previous?.files === key) return;
    previous?.watchers.forEach((w) => w.dispose());
    const watchers = files.map((file) => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(file)), basename(file)));
      const fire = () => this.schedule(configFile, file);
      watcher.onDidChange(fire);
      watcher.onDidCreate(fire);
      watcher.onDidDelete(fire);
      return watcher;
    });
    this.watched.set(configFile, { files: key, watchers });
  }

  /** The data files watched for a config (for the log and the tests). */
  watchedFiles(configFile: string): string[] {
    const entry = this.watched.get(configFile);
    return entry && entry.files ? entry.files.split('\n') : [];
  }

  dispose(): void {
    for (const entry of this.watched.values()) entry.watchers.forEach((w) => w.dispose());
    this.watched.clear();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(configFile: string, dataFile: string): void {
    clearTimeout(this.timers.get(configFile));
    this.timers.set(configFile, setTimeout(() => {
      this.timers.delete(configFile);
      this.onDataChanged(configFile, dataFile);
    }, DEBOUNCE_MS));
  }
}
