// Stabilize RNN (LSC)… and Floss RNN… through the real extension host and engine process, with the user's answers
// given by ControlPrompts: Cancel → keep the best weights → the files are written and compared; Cancel → discard →
// nothing written; an existing folder → asked, and each answer does what it says; a config without a block →
// a block inserted; a bad block → located Problems; flossing end to end; the commands and CodeLenses.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ControlPrompts } from '../../src/extension/controlController';
import type { RnnJacobianApi } from '../../src/extension/extension';
import type { ControlPanelState } from '../../src/protocol/messages';
import { repoRoot } from '../unit/helpers/repo';

const EXTENSION_ID = 'rnn-jacobian-lab.rnn-jacobian-lab';
const EXAMPLE = join(repoRoot(), 'examples', 'lsc-small-lstm.jacobian.json');

interface Asked {
  missingBlock: number;
  keepBest: number;
  existing: [string, string][];
}

/** Prompts that answer as told and count what they were asked; a question not expected fails the test. */
function answers(a: Partial<{ missingBlock: 'defaults' | 'insert'; keepBest: boolean; existing: 'replace' | 'beside' | 'none' }>): ControlPrompts & { asked: Asked } {
  const asked: Asked = { missingBlock: 0, keepBest: 0, existing: [] };
  const unexpected = (what: string) => assert.fail(`asked "${what}", which this case does not expect`);
  return {
    asked,
    missingBlock: async () => {
      asked.missingBlock++;
      return a.missingBlock ?? unexpected('missing block');
    },
    keepBest: async () => {
      asked.keepBest++;
      return a.keepBest ?? unexpected('keep best');
    },
    existing: async (dir, free) => {
      asked.existing.push([dir, free]);
      if (a.existing === undefined) return unexpected('existing folder');
      return a.existing === 'none' ? undefined : a.existing;
    },
  };
}

suite('RNN Jacobian Lab: Stabilize RNN (LSC)… and Floss RNN…', function () {
  this.timeout(300_000);
  let api: RnnJacobianApi;
  let dir: string;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<RnnJacobianApi>(EXTENSION_ID)!.activate();
    dir = mkdtempSync(join(tmpdir(), 'jl-control-host-'));
  });

  suiteTeardown(() => {
    api?.stopControl();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(name: string, change: (c: Record<string, unknown>) => void): vscode.Uri {
    const data = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    delete data.$schema;
    change(data);
    const file = join(dir, `${name}.jacobian.json`);
    writeFileSync(file, JSON.stringify(data, null, 2));
    return vscode.Uri.file(file);
  }

  /** Runs `kind` on `uri`, pressing Cancel once `stopAfter` steps have arrived (if given). */
  async function run(uri: vscode.Uri, kind: 'stabilize' | 'floss', prompts: ControlPrompts, stopAfter?: number): Promise<ControlPanelState> {
    const watch = api.onDidChangeControl((s) => {
      if (stopAfter !== undefined && s.phase === 'running' && s.history.length >= stopAfter) api.stopControl();
    });
    try {
      const state = await api.control(uri, kind, prompts);
      assert.ok(state, 'the run did not start');
      return state;
    } finally {
      watch.dispose();
    }
  }

  const long = (d: Record<string, unknown>) => (d.stabilize = { target: 0.5, learningRate: 0.0005, patience: 1000, maxSteps: 100000 });

  test('the commands are registered, and a config gets "Stabilize (LSC)" on its stabilize key and "Floss" on its floss key', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['rnnJacobian.stabilize', 'rnnJacobian.floss', 'rnnJacobian.stopControl']) assert.ok(commands.includes(id), id);
    const contributed = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string; title: string }[];
    assert.equal(contributed.find((c) => c.command === 'rnnJacobian.stabilize')?.title, 'Stabilize RNN (LSC)…');
    assert.equal(contributed.find((c) => c.command === 'rnnJacobian.floss')?.title, 'Floss RNN…');
    const uri = config('lenses', (d) => (d.floss = { exponents: 2 }));
    const document = await vscode.workspace.openTextDocument(uri);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
    const at = (title: RegExp) => lenses.find((l) => title.test(l.command?.title ?? ''));
    const stabilize = at(/Stabilize \(LSC\)/);
    const floss = at(/^▶ Floss$/);
    assert.ok(stabilize && floss, lenses.map((l) => l.command?.title).join(' | '));
    assert.equal(stabilize.range.start.line, document.positionAt(document.getText().indexOf('"stabilize"')).line);
    assert.equal(floss.range.start.line, document.positionAt(document.getText().indexOf('"floss"')).line);
    assert.deepEqual([stabilize.command!.command, floss.command!.command], ['rnnJacobian.stabilize', 'rnnJacobian.floss']);
  });

  test('Cancel → keep the best weights: the loop stops, the files are written beside the config and compared', async () => {
    const uri = config('keep', long);
    const prompts = answers({ keepBest: true });
    const state = await run(uri, 'stabilize', prompts, 5);
    assert.equal(prompts.asked.keepBest, 1);
    assert.equal(state.summary?.stop, 'cancelled');
    assert.ok(state.history.length >= 5 && state.history.length < 100000, `${state.history.length} steps`);
    const out = join(dir, 'keep.stabilized');
    assert.equal(state.files?.dir, out);
    for (const f of ['weights.npz', 'manifest.json', 'keep.stabilized.jacobian.json']) assert.ok(existsSync(join(out, f)), f);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { stop: string; bestStep: number };
    assert.deepEqual([manifest.stop, manifest.bestStep], ['cancelled', state.summary!.bestStep]);
    assert.ok(state.comparison?.ok, JSON.stringify(state.comparison && !state.comparison.ok ? state.comparison.message : ''));
  });

  test('Cancel → discard: nothing is written', async () => {
    const uri = config('discard', long);
    const prompts = answers({ keepBest: false });
    const state = await run(uri, 'stabilize', prompts, 2);
    assert.equal(prompts.asked.keepBest, 1);
    assert.equal(state.phase, 'cancelled');
    assert.equal(state.files, undefined);
    assert.ok(!existsSync(join(dir, 'discard.stabilized')));
  });

  test('an existing output folder is never replaced silently: asked, and replace / write beside / keep do what they say', async () => {
    const uri = config('again', (d) => (d.stabilize = { target: 0.5, maxSteps: 3 }));
    const out = join(dir, 'again.stabilized');
    const first = await run(uri, 'stabilize', answers({}));
    assert.equal(first.files?.dir, out);
    const stamp = () => readFileSync(join(out, 'weights.npz')).toString('base64');
    const original = stamp();

    const keep = answers({ existing: 'none' });
    const kept = await run(uri, 'stabilize', keep);
    assert.deepEqual(keep.asked.existing, [[out, `${out}-2`]]);
    assert.equal(kept.files, undefined);
    assert.ok(!existsSync(`${out}-2`));
    assert.equal(stamp(), original, 'the folder was touched although the user kept it');

    const beside = answers({ existing: 'beside' });
    assert.equal((await run(uri, 'stabilize', beside)).files?.dir, `${out}-2`);
    assert.ok(existsSync(join(`${out}-2`, 'again.stabilized.jacobian.json')));

    writeFileSync(join(out, 'marker.txt'), 'an older result');
    const replace = answers({ existing: 'replace' });
    assert.equal((await run(uri, 'stabilize', replace)).files?.dir, out);
    assert.equal(replace.asked.existing.length, 1);
    assert.ok(!existsSync(join(out, 'marker.txt')), 'the replaced folder still holds the old files');
  });

  test('a config without a block: "Insert Block" writes the defaults into it, then runs them', async () => {
    const uri = config('noblock', (d) => delete d.stabilize);
    const prompts = answers({ missingBlock: 'insert', keepBest: false });
    const state = await run(uri, 'stabilize', prompts, 1);
    assert.equal(prompts.asked.missingBlock, 1);
    const written = JSON.parse(readFileSync(uri.fsPath, 'utf8')) as { stabilize?: Record<string, unknown> };
    assert.deepEqual(written.stabilize, { target: 1, learningRate: 0.01, tolerance: 0.02, patience: 20, maxSteps: 1000 });
    assert.equal(state.quantities[0]?.target, 1);
  });

  test('while a run asks its first question, a second run is refused; "Insert Block" keeps what was typed meanwhile', async () => {
    const uri = config('meanwhile', (d) => delete d.stabilize);
    let second: ControlPanelState | undefined | 'not asked' = 'not asked';
    const prompts: ControlPrompts = {
      ...answers({ keepBest: false }),
      missingBlock: async () => {
        second = await api.control(config('other', () => {}), 'stabilize', answers({}));
        // The user edits the config while the question is up.
        const document = await vscode.workspace.openTextDocument(uri);
        const edit = new vscode.WorkspaceEdit();
        edit.insert(uri, document.positionAt(document.getText().indexOf('{') + 1), '\n  "$schema": "typed meanwhile",');
        await vscode.workspace.applyEdit(edit);
        return 'insert';
      },
    };
    const state = await run(uri, 'stabilize', prompts, 1);
    assert.equal(second, undefined, 'a second control run started while the first asked its question');
    const written = JSON.parse(readFileSync(uri.fsPath, 'utf8')) as { $schema?: string; stabilize?: unknown };
    assert.equal(written.$schema, 'typed meanwhile');
    assert.ok(written.stabilize, 'the block was not inserted');
    assert.equal(state.phase, 'cancelled');
  });

  test('a bad block: located errors in the Problems panel, nothing written', async () => {
    const uri = config('bad', (d) => (d.stabilize = { target: 'high', learningRate: -1 }));
    const state = await run(uri, 'stabilize', answers({}));
    assert.equal(state.phase, 'invalid');
    const problems = vscode.languages.getDiagnostics(uri);
    const text = readFileSync(uri.fsPath, 'utf8');
    const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length - 1;
    assert.deepEqual(problems.map((p) => p.range.start.line).sort(), [lineOf('"learningRate"'), lineOf('"target"')].sort(), problems.map((p) => p.message).join(' | '));
    assert.ok(problems.some((p) => /stabilize\.target/.test(p.message)));
    assert.ok(!existsSync(join(dir, 'bad.stabilized')));
  });

  test('Floss RNN…: λ_i per step, the .flossed folder and the before/after Lyapunov spectra', async () => {
    const uri = config('chaos', (d) => {
      delete d.stabilize;
      Object.assign(d, { cell: 'simple_rnn', units: 12, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], initializers: { recurrentKernel: { name: 'random_normal', stddev: 0.6 } } });
      d.floss = { exponents: 2, maxSteps: 4 };
    });
    const state = await run(uri, 'floss', answers({}));
    assert.equal(state.phase, 'done', state.message);
    assert.deepEqual(state.quantities.map((q) => q.label), ['λ1', 'λ2']);
    assert.equal(state.history.length, 4);
    assert.equal(state.files?.dir, join(dir, 'chaos.flossed'));
    assert.ok(existsSync(join(dir, 'chaos.flossed', 'chaos.flossed.jacobian.json')));
    assert.ok(state.comparison?.ok && state.comparison.before.report.jacobians[0].lyapunov && state.comparison.after.report.jacobians[0].lyapunov);
  });
});
