// The panel's on-demand spectra through the real extension host and engine process: the request for one
// Jacobian of a run returns the numbers of a dense float64 decomposition (ml-matrix) of that same kept Jacobian,
// a superseded run is refused, and a result the engine process lost to a cancel is said to need a rerun.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RnnJacobianApi } from '../../src/extension/extension';
import { repoRoot } from '../unit/helpers/repo';
import { denseEigenvalues, denseSingularValues, eigenvalueMismatch } from '../unit/reference/spectra';

const EXTENSION_ID = 'rnn-jacobian-lab.rnn-jacobian-lab';
/** float32 Jacobian entries decomposed in float64 on both sides: only the order of operations differs. */
const REL = 1e-9;

suite('RNN Jacobian Lab: whole spectra on demand', function () {
  this.timeout(240_000);
  let api: RnnJacobianApi;
  let dir: string;
  let seed: Record<string, unknown>;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<RnnJacobianApi>(EXTENSION_ID)!.activate();
    seed = JSON.parse(readFileSync(join(repoRoot(), 'examples', 'seed-relu.jacobian.json'), 'utf8')) as Record<string, unknown>;
    dir = mkdtempSync(join(tmpdir(), 'jl-spectrum-'));
  });

  suiteTeardown(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function configFile(name: string, change: Record<string, unknown>): vscode.Uri {
    const file = join(dir, `${name}.jacobian.json`);
    // The seed example lists neither singularValues nor eigenvalues: the run's arrays hold no spectra.
    writeFileSync(file, JSON.stringify({ ...seed, ...change }, null, 2));
    return vscode.Uri.file(file);
  }

  test('the request returns the dense float64 singular values and eigenvalues of the kept Jacobian', async () => {
    const n = 24;
    const uri = configFile('dense', { units: n, timeSteps: 3, batchSize: 2 });
    assert.equal((await api.analyze(uri, 'command', false)).outcome, 'result');
    const good = api.state(uri.fsPath)!.lastGood!;
    const arrays = good.result.pairs[0];
    assert.equal(arrays.singularValues, undefined, 'the run computed whole spectra it was not asked for');
    for (const [step, b] of [[0, 0], [2, 1], [1, 1]]) {
      const outcome = await api.spectrum(uri.fsPath, good.runId, { pair: 0, step, b });
      assert.ok(outcome.ok, `step ${step}, b ${b}: ${outcome.ok ? '' : outcome.message}`);
      const offset = (step * 2 + b) * n * n;
      const sigma = denseSingularValues(arrays.jacobians!, offset, n, n);
      const got = outcome.spectrum;
      assert.equal(got.singularValues.length, n);
      got.singularValues.forEach((s, k) => assert.ok(Math.abs(s - sigma[k]) <= REL * sigma[0], `σ_${k + 1} at step ${step}, b ${b}: ${s} vs ${sigma[k]}`));
      const rho = Math.max(...denseEigenvalues(arrays.jacobians!, offset, n).map(([re, im]) => Math.hypot(re, im)));
      const mismatch = eigenvalueMismatch({ re: got.eigenRe!, im: got.eigenIm! }, denseEigenvalues(arrays.jacobians!, offset, n));
      assert.ok(mismatch <= 1e-6 * Math.max(rho, 1e-30), `eigenvalues at step ${step}, b ${b} differ by up to ${mismatch} (ρ = ${rho})`);
    }
  });

  test('a superseded run is refused; a result the engine lost to a cancel is said to need a rerun, and a rerun answers', async () => {
    const uri = configFile('lost', { units: 16, timeSteps: 2 });
    assert.equal((await api.analyze(uri, 'command', false)).outcome, 'result');
    const first = api.state(uri.fsPath)!.lastGood!;
    const superseded = await api.spectrum(uri.fsPath, first.runId + 1000, { pair: 0, step: 0, b: 0 });
    assert.ok(!superseded.ok && /superseded/.test(superseded.message), JSON.stringify(superseded));
    // A long run of another config, cancelled: its engine process is killed, and with it the held result.
    const long = configFile('long', { units: 512, timeSteps: 2000 });
    const cancelled = api.analyze(long, 'command', false);
    const deadline = Date.now() + 60_000;
    while (!api.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(api.running, 'the long run did not start');
    await api.cancel();
    assert.equal((await cancelled).outcome, 'cancelled');
    const lost = await api.spectrum(uri.fsPath, first.runId, { pair: 0, step: 1, b: 0 });
    assert.ok(!lost.ok && /no longer holds this result; rerun lost\.jacobian\.json/.test(lost.message), JSON.stringify(lost));
    assert.equal((await api.analyze(uri, 'command', false)).outcome, 'result');
    const again = api.state(uri.fsPath)!.lastGood!;
    const answer = await api.spectrum(uri.fsPath, again.runId, { pair: 0, step: 1, b: 0 });
    assert.ok(answer.ok, answer.ok ? '' : answer.message);
    const sigma = denseSingularValues(again.result.pairs[0].jacobians!, 16 * 16, 16, 16);
    assert.ok(Math.abs(answer.spectrum.singularValues[0] - sigma[0]) <= REL * sigma[0]);
  });
});
