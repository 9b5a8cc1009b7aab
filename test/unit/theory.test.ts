// Theory for any cell: the expected varTimesFanIn from the structured form (weight paths with measured
// activations) against the measured value for LSTM and GRU, for joint-state and depth pairs of a network,
// and with trained weights (the loaded matrix's variance, not the initializer's) — on every backend.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, analyzeText, parseConfig, type RunResult } from '../../src/engine';
import { writeNpyFile } from '../../src/engine/params/npy';
import { Rng } from '../../src/engine/params/rng';
import { forEachBackend } from './helpers/backends';
import { networkSpec, TEST_CONFIG } from './helpers/network';

/** Measured varTimesFanIn of pair i, averaged over steps and batch. */
function measured(r: RunResult, i: number): number {
  const steps = r.report.jacobians[i].steps;
  return steps.reduce((a, s) => a + s.varTimesFanIn.reduce((x, y) => x + y, 0) / s.varTimesFanIn.length, 0) / steps.length;
}

function assertWithin(r: RunResult, i: number, rel: number): void {
  const p = r.report.jacobians[i];
  assert.ok(p.expected, `${p.of} wrt ${p.wrt}: a prediction`);
  const m = measured(r, i);
  assert.ok(Math.abs(m / p.expected.varTimesFanIn - 1) <= rel, `${p.of} wrt ${p.wrt}: measured ${m} vs expected ${p.expected.varTimesFanIn} (±${rel * 100} %)`);
}

forEachBackend('theory for any cell', () => {
  for (const cell of ['lstm', 'gru']) {
    it(`${cell} (Keras default initializers, n = 128): transition and input pairs within ±5 % of the measured value`, async () => {
      const pairs = [{ of: 'h@t', wrt: 'h@t-1' }, { of: 'h@t', wrt: 'x@t' }, ...(cell === 'lstm' ? [{ of: 'c@t', wrt: 'h@t-1' }] : [])];
      const r = await analyzeText(JSON.stringify({ cell, units: 128, inputDim: 16, timeSteps: 4, batchSize: 2, seed: 2, diagnostics: ['varTimesFanIn'], jacobians: pairs }), TEST_CONFIG);
      pairs.forEach((_, i) => assertWithin(r, i, 0.05));
      assert.ok(r.report.jacobians[0].expected!.formula.includes('recurrent_kernel'));
    });
  }

  it('a network: joint-state, whole-state and depth pairs within ±5 %; no prediction across several steps', async () => {
    const spec = networkSpec({ inputDim: 8, timeSteps: 3, batchSize: 2, seed: 4, diagnostics: ['varTimesFanIn'] }, [{ cell: 'lstm', units: 96 }, { cell: 'gru', units: 96 }], [
      ['l0.(h,c)@t', 'l0.(h,c)@t-1'], ['state@t', 'state@t-1'], ['l1.h@t', 'l0.h@t'], ['l1.h@T', 'l1.h@0'],
    ]);
    const r = await analyze(spec);
    [0, 1, 2].forEach((i) => assertWithin(r, i, 0.05));
    assert.equal(r.report.jacobians[3].expected, null);
  });

  it("trained weights: the loaded matrix's variance, not the initializer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-jacobian-theory-'));
    try {
      const n = 64;
      const rng = new Rng(9, 'test:trained');
      // Three times Glorot's standard deviation: the initializer's variance would be 9× too small.
      const data = Float32Array.from({ length: n * n }, () => rng.normal() * 3 * Math.sqrt(1 / n));
      writeNpyFile(join(dir, 'rec.npy'), [n, n], data);
      const text = JSON.stringify({ cell: 'simple_rnn', units: n, inputDim: 2, activation: 'linear', timeSteps: 2, weights: { files: { recurrent_kernel: join(dir, 'rec.npy') } }, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }] });
      const r = await analyze(parseConfig(text, TEST_CONFIG));
      // Linear: J = Rᵀ, so the prediction is n·(mean over columns of each column's variance), in float64.
      let sum = 0;
      for (let c = 0; c < n; c++) {
        let m = 0;
        for (let k = 0; k < n; k++) m += data[k * n + c];
        m /= n;
        let v = 0;
        for (let k = 0; k < n; k++) v += (data[k * n + c] - m) ** 2;
        sum += v / n;
      }
      const expected = n * (sum / n);
      const got = r.report.jacobians[0].expected!.varTimesFanIn;
      assert.ok(Math.abs(got - expected) <= 1e-4 * expected, `${got} vs ${expected}`);
      assert.ok(Math.abs(expected - 9) < 1.5, `the loaded weights have about 9× Glorot's variance: ${expected}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
