// Extension-host tests: the wiring of the extension inside a real VS Code (command, CodeLenses, Problems,
// run-on-save, cancel). The numbers themselves are the engine's unit tests' business; here the engine runs for
// real only so that the wiring is exercised end to end. Configs live in a temp folder, outside any workspace.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { applyEdits, findNodeAtLocation, modify, parseTree, type JSONPath } from 'jsonc-parser/lib/esm/main';
import { encodeNpy } from '../../src/engine/params/npy';
import type { RnnJacobianApi } from '../../src/extension/extension';
import type { RunFinished } from '../../src/extension/runController';
import { alive, engineChildren } from '../unit/helpers/processes';
import { repoRoot } from '../unit/helpers/repo';

const EXTENSION_ID = 'rnn-jacobian-lab.rnn-jacobian-lab';
/** dist/test/host/<this>.js → the repository root, where examples/ lives. */
const REPO_ROOT = repoRoot();
const SEED_RELU = join(REPO_ROOT, 'examples', 'seed-relu.jacobian.json');

function edit(text: string, path: JSONPath, value: unknown): string {
  return applyEdits(text, modify(text, path, value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
}

/**
 * A config that runs for a minute or more on any backend (2000 steps of 512×512 Jacobians with their spectra),
 * yet stays within the default memory limit because the whole Jacobians are not kept.
 */
function longRunning(text: string): string {
  return edit(edit(text, ['units'], 512), ['timeSteps'], 2000);
}

/** A little-endian float32 .npy (format 1.0) of `shape`, entry i = value(i), written by the engine's encoder. */
function npyFloat32(shape: number[], value: (i: number) => number): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  return Buffer.from(encodeNpy(shape, Float32Array.from({ length: count }, (_, i) => value(i))));
}



async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function bounded(what: string, step: () => Thenable<unknown> | Promise<unknown> | undefined, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs)));
  try {
    await Promise.race([Promise.resolve(step()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function nextFinished(api: RnnJacobianApi, match: (f: RunFinished) => boolean, timeoutMs: number): Promise<RunFinished> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`no matching run finished within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = api.onDidFinishRun((finished) => {
      if (!match(finished)) return;
      clearTimeout(timer);
      listener.dispose();
      resolvePromise(finished);
    });
  });
}

/** Replaces the whole text of an open document without saving it (no run-on-save). */
async function replaceText(document: vscode.TextDocument, text: string): Promise<void> {
  const workspaceEdit = new vscode.WorkspaceEdit();
  workspaceEdit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), text);
  assert.ok(await vscode.workspace.applyEdit(workspaceEdit), 'the edit was not applied');
  assert.equal(document.getText(), text);
}

async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  // Resolves unresolved lenses too (ours are always resolved).
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
}

function meanVarTimesFanIn(finished: RunFinished, api: RnnJacobianApi): number {
  const pair = api.state(finished.file)?.lastGood?.result.report.jacobians[0];
  assert.ok(pair, 'the run left no report');
  const values = pair.steps.flatMap((s) => s.varTimesFanIn);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

suite('RNN Jacobian Lab in the extension host', function () {
  this.timeout(240_000);
  let api: RnnJacobianApi;
  let dir: string;
  let seedText: string;
  let counter = 0;

  /** A fresh config file in the temp folder, opened as a document. */
  async function config(text: string): Promise<{ uri: vscode.Uri; document: vscode.TextDocument }> {
    const file = join(dir, `case-${++counter}.jacobian.json`);
    writeFileSync(file, text);
    const uri = vscode.Uri.file(file);
    const document = await vscode.workspace.openTextDocument(uri);
    return { uri, document };
  }

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<RnnJacobianApi>(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this VS Code`);
    api = await extension.activate();
    seedText = readFileSync(SEED_RELU, 'utf8');
    dir = mkdtempSync(join(tmpdir(), 'jl-host-'));
  });

  suiteTeardown(async () => {
    // Each step bounded, so that a teardown that hangs names itself instead of eating the suite's timeout.
    await bounded('cancelling any run', () => api?.cancel(), 5_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('registers "Analyze RNN Jacobian" in the category "RNN Jacobian Lab"', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['rnnJacobian.analyze', 'rnnJacobian.cancel', 'rnnJacobian.showPanel']) {
      assert.ok(commands.includes(id), `command ${id} is not registered`);
    }
    const contributed = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string; title: string; category: string }[];
    const analyze = contributed.find((c) => c.command === 'rnnJacobian.analyze');
    assert.deepEqual({ title: analyze?.title, category: analyze?.category }, { title: 'Analyze RNN Jacobian', category: 'RNN Jacobian Lab' });
    const activation = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.activationEvents as string[];
    assert.ok(!activation.includes('*'), 'the extension must not activate on *');
  });

  test('a config gets "▶ Analyze RNN Jacobian" above its root object', async () => {
    const { uri, document } = await config(seedText);
    const lenses = await lensesOf(uri);
    const analyze = lenses.find((l) => l.command?.title === '▶ Analyze RNN Jacobian');
    assert.ok(analyze, `no Analyze lens; lenses: ${JSON.stringify(lenses.map((l) => l.command?.title))}`);
    assert.equal(analyze.range.start.line, document.positionAt(seedText.indexOf('{')).line);
    assert.equal(analyze.command?.command, 'rnnJacobian.analyze');
  });

  test('after a run, each jacobians entry gets a CodeLens with its headline numbers', async () => {
    const { uri, document } = await config(seedText);
    const finished = await api.analyze(uri, 'command', false);
    assert.equal(finished.outcome, 'result', `the run ended with ${finished.outcome}`);
    const report = api.state(uri.fsPath)!.lastGood!.result.report;
    const lenses = await lensesOf(uri);
    assert.ok(report.jacobians.length > 0, 'the seed config asks for no Jacobian');
    for (const pair of report.jacobians) {
      const index = Number(/\[(\d+)\]/.exec(pair.path)?.[1]);
      const entry = jacobiansEntryLine(document, index);
      const lens = lenses.find((l) => l.range.start.line === entry && /^varTimesFanIn /.test(l.command?.title ?? ''));
      assert.ok(lens, `no headline lens on line ${entry} for ${pair.path}; lenses: ${JSON.stringify(lenses.map((l) => [l.range.start.line, l.command?.title]))}`);
      if (index === 0) {
        const shown = Number(/^varTimesFanIn (\S+)/.exec(lens.command!.title)![1]);
        assert.ok(Math.abs(shown - 0.5) <= 0.1, `relu seed: varTimesFanIn ${shown}, expected 0.5 ± 0.1 (${lens.command!.title})`);
      }
    }
  });

  test('an invalid config puts a diagnostic at the exact range of the offending value, and the last result goes stale', async () => {
    const { uri, document } = await config(seedText);
    assert.equal((await api.analyze(uri, 'command', false)).outcome, 'result');
    // Unsaved edits count: a run reads the editor's text, as the user sees it.
    const invalidText = edit(seedText, ['activation'], 'relux');
    await replaceText(document, invalidText);
    const finished = await api.analyze(uri, 'command', false);
    assert.equal(finished.outcome, 'invalid');
    const state = api.state(uri.fsPath)!;
    assert.ok(state.issues && state.issues.length > 0, 'no issues recorded');
    assert.ok(state.lastGood, 'the last good result must stay (shown as stale)');
    const diagnostics = vscode.languages.getDiagnostics(uri);
    assert.equal(diagnostics.length, state.issues.length, 'one diagnostic per issue');
    const issue = state.issues[0];
    assert.deepEqual(
      [diagnostics[0].range.start, diagnostics[0].range.end].map((p) => [p.line, p.character]),
      [issue.offset, issue.offset + issue.length].map((o) => document.positionAt(o)).map((p) => [p.line, p.character]),
      'the diagnostic is not at the issue\'s offset/length',
    );
    const valueOffset = invalidText.indexOf('"relux"');
    assert.ok(diagnostics[0].range.contains(document.positionAt(valueOffset + 1)), `the diagnostic ${JSON.stringify(diagnostics[0].range)} does not cover "relux" at ${JSON.stringify(document.positionAt(valueOffset))}`);
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    const lenses = await lensesOf(uri);
    assert.ok(lenses.some((l) => /config invalid/.test(l.command?.title ?? '')), 'no "config invalid" lens');
    assert.ok(lenses.some((l) => /\(stale\)$/.test(l.command?.title ?? '')), 'the headline lens is not marked stale');

    // Fixing it clears the Problems entry.
    await replaceText(document, seedText);
    assert.equal((await api.analyze(uri, 'command', false)).outcome, 'result');
    assert.equal(vscode.languages.getDiagnostics(uri).length, 0, 'diagnostics stay after the config was fixed');
  });

  test('the command opens the panel on the config it analyzed', async () => {
    const { uri } = await config(seedText);
    const finished = await vscode.commands.executeCommand<RunFinished>('rnnJacobian.analyze', uri);
    assert.equal(finished?.outcome, 'result');
    assert.equal(api.panelFile, uri.fsPath, 'the panel does not show the analyzed config');
  });

  test('a missing .npy is reported on the config key naming it, and creating the file reruns the config', async () => {
    const text = edit(seedText, ['inputs'], { file: 'inputs.npy' });
    const { uri, document } = await config(text);
    const dataFile = join(dir, 'inputs.npy');
    const finished = await api.analyze(uri, 'command', false);
    assert.equal(finished.outcome, 'invalid');
    const diagnostics = vscode.languages.getDiagnostics(uri);
    assert.ok(diagnostics.length > 0, 'no diagnostic for the missing data file');
    const expectedLine = document.positionAt(text.indexOf('"inputs.npy"')).line;
    assert.equal(diagnostics[0].range.start.line, expectedLine, `diagnostic "${diagnostics[0].message}" is not on the line naming the file`);
    assert.deepEqual(api.watchedDataFiles(uri.fsPath), [dataFile]);
    const rerun = nextFinished(api, (f) => f.file === uri.fsPath && f.trigger === 'dataFile', 60_000);
    const { timeSteps, batchSize, inputDim } = JSON.parse(seedText) as { timeSteps: number; batchSize: number; inputDim: number };
    const npy = npyFloat32([timeSteps, batchSize, inputDim], (i) => Math.sin(i));
    // The watcher is set up asynchronously (in another process) after the run; a file written before it is
    // listening goes unseen, so the file is written again each second until a rerun comes.
    let rerunFinished: RunFinished | undefined;
    void rerun.then((f) => (rerunFinished = f), () => undefined);
    for (let attempt = 0; attempt < 30 && !rerunFinished; attempt++) {
      writeFileSync(dataFile, npy);
      await Promise.race([rerun, new Promise((r) => setTimeout(r, 1000))]);
    }
    rerunFinished = await rerun;
    assert.equal(rerunFinished.outcome, 'result', 'the rerun after the data file appeared did not succeed');
    assert.equal(vscode.languages.getDiagnostics(uri).length, 0);
  });

  test('saving a config reruns it (rnnJacobian.runOnSave, on by default)', async () => {
    const { uri, document } = await config(seedText);
    await replaceText(document, edit(seedText, ['activation'], 'linear'));
    const finishedPromise = nextFinished(api, (f) => f.file === uri.fsPath && f.trigger === 'save', 180_000);
    assert.ok(await document.save(), 'the document did not save');
    const finished = await finishedPromise;
    assert.equal(finished.outcome, 'result');
    assert.equal(api.state(uri.fsPath)!.lastGood!.result.report.activation, 'linear');
    const mean = meanVarTimesFanIn(finished, api);
    assert.ok(Math.abs(mean - 1.0) <= 0.15, `linear seed: varTimesFanIn ${mean}, expected ≈ 1.0`);
  });

  test('with rnnJacobian.runOnSave off, saving runs nothing', async () => {
    const settings = vscode.workspace.getConfiguration('rnnJacobian');
    await settings.update('runOnSave', false, vscode.ConfigurationTarget.Global);
    try {
      const { uri, document } = await config(seedText);
      let ran = false;
      const listener = api.onDidStartRun(() => (ran = true));
      const workspaceEdit = new vscode.WorkspaceEdit();
      workspaceEdit.insert(uri, document.positionAt(document.getText().length), '\n');
      assert.ok(await vscode.workspace.applyEdit(workspaceEdit));
      assert.ok(await document.save());
      // Absence can only be observed over a while; a save-triggered run starts within milliseconds.
      await new Promise((r) => setTimeout(r, 1500));
      listener.dispose();
      assert.equal(ran, false, 'a run started although runOnSave is off');
    } finally {
      await settings.update('runOnSave', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('one warm engine process serves consecutive runs (same pid)', async () => {
    const { uri } = await config(seedText);
    const first = await api.analyze(uri, 'command', false);
    const second = await api.analyze(uri, 'command', false);
    const third = await api.analyze(uri, 'save', false);
    assert.deepEqual([first, second, third].map((f) => f.outcome), ['result', 'result', 'result']);
    assert.ok(first.pid !== undefined && alive(first.pid));
    assert.deepEqual([second.pid, third.pid], [first.pid, first.pid], 'a run did not reuse the warm engine process');
    assert.deepEqual(engineChildren(), [first.pid], 'the extension host has other engine processes');
  });

  test('Cancel ends the run\'s engine process within 1 s; a fresh one is started in the background, never two at once', async () => {
    const { uri } = await config(longRunning(seedText));
    let pid: number | undefined;
    const started = api.onDidStartRun((_runId, enginePid) => (pid = enginePid));
    const finishedPromise = api.analyze(uri, 'command', false);
    await until('the engine process to start', () => pid, 30_000);
    started.dispose();
    // Let it get into the computation, so that the kill lands mid-kernel and not during start-up.
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(api.running, 'the long run ended before it could be cancelled; make it longer');
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, engineChildren().length)), 10);
    try {
      const cancelledAt = Date.now();
      await vscode.commands.executeCommand('rnnJacobian.cancel');
      await until(`engine pid ${pid} to exit`, () => !alive(pid!), 1000, 10);
      const exitMs = Date.now() - cancelledAt;
      const finished = await finishedPromise;
      assert.equal(finished.outcome, 'cancelled');
      assert.equal(finished.cancelReason, 'user');
      assert.ok(exitMs <= 1000, `the engine process took ${exitMs} ms to exit`);
      const fresh = await until('a fresh engine process', () => api.enginePid !== undefined && api.enginePid !== pid && api.enginePid, 10_000);
      const now = engineChildren();
      most = Math.max(most, now.length);
      assert.deepEqual(now, [fresh]);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(most, 1, `${most} engine processes at once`);
  });

  test('a killed engine process is restarted in the background and the next run uses it', async () => {
    const { uri } = await config(seedText);
    const before = await api.analyze(uri, 'command', false);
    assert.equal(before.outcome, 'result');
    const pid = before.pid!;
    process.kill(pid, 'SIGKILL');
    const fresh = await until('a restarted engine process', () => api.enginePid !== undefined && api.enginePid !== pid && api.enginePid, 15_000);
    const after = await api.analyze(uri, 'command', false);
    assert.equal(after.outcome, 'result');
    assert.equal(after.pid, fresh, 'the run after the crash did not use the restarted process');
    assert.deepEqual(engineChildren(), [fresh]);
  });

  test('a save storm: 50 saves in 5 s (valid, invalid, too large) end on the last text, never two engine processes, no unhandled rejection', async () => {
    const { uri, document } = await config(seedText);
    await vscode.window.showTextDocument(document);
    const texts = Array.from({ length: 50 }, (_, i) =>
      [edit(seedText, ['seed'], 2000 + i), edit(seedText, ['activation'], 'relux'), edit(seedText, ['units'], 50_000)][(i + 2) % 3]);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, engineChildren().length)), 10);
    const finished: RunFinished[] = [];
    const listener = api.onDidFinishRun((f) => f.file === uri.fsPath && finished.push(f));
    try {
      const t0 = Date.now();
      for (let i = 0; i < texts.length; i++) {
        await replaceText(document, texts[i]);
        assert.ok(await document.save(), `save ${i} failed`);
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + (i + 1) * 100 - Date.now())));
      }
      const stormMs = Date.now() - t0;
      const last = await until('the run of the last text', () => finished.find((f) => f.text === texts[texts.length - 1] && f.outcome !== 'cancelled'), 120_000);
      await new Promise((r) => setTimeout(r, 500));
      console.log(`      (host storm: 50 saves in ${stormMs} ms, ${finished.length} runs finished, ${finished.filter((f) => f.outcome === 'cancelled').length} superseded; at most ${most} engine process(es))`);
      assert.equal(last.outcome, 'result');
      const state = api.state(uri.fsPath)!;
      assert.equal(state.lastGood?.result.report.seed, 2049, 'the kept result is not the last text\'s');
      assert.equal(state.issues, undefined, 'the config is still marked invalid');
      assert.equal(vscode.languages.getDiagnostics(uri).length, 0, 'Problems still holds an entry for the config');
      assert.deepEqual(rejections, [], 'unhandled rejections during the storm');
    } finally {
      clearInterval(sampler);
      listener.dispose();
      process.off('unhandledRejection', onRejection);
    }
    assert.ok(most <= 1, `${most} engine processes at once`);
  });

  test('a save while a run is going cancels it and starts a new one', async () => {
    const { uri, document } = await config(longRunning(seedText));
    let firstPid: number | undefined;
    const started = api.onDidStartRun((_runId, enginePid) => (firstPid ??= enginePid));
    const first = api.analyze(uri, 'command', false);
    await until('the engine process to start', () => firstPid, 30_000);
    started.dispose();
    await new Promise((r) => setTimeout(r, 1000));
    const secondPromise = nextFinished(api, (f) => f.file === uri.fsPath && f.trigger === 'save', 180_000);
    await replaceText(document, seedText);
    assert.ok(await document.save());
    const firstFinished = await first;
    assert.equal(firstFinished.outcome, 'cancelled');
    assert.equal(firstFinished.cancelReason, 'superseded');
    await until(`the superseded run's engine pid ${firstPid} to exit`, () => !alive(firstPid!), 1000, 10);
    const second = await secondPromise;
    assert.equal(second.outcome, 'result');
    assert.notEqual(second.pid, firstPid, 'the new run must start a fresh engine process');
  });
});

/** The line where `jacobians[index]` starts in the document. */
function jacobiansEntryLine(document: vscode.TextDocument, index: number): number {
  const root = parseTree(document.getText());
  const node = root && findNodeAtLocation(root, ['jacobians', index]);
  return node ? document.positionAt(node.offset).line : -1;
}
