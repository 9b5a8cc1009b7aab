// The progress bar's stages are the ones the engine reports: one shared list (src/protocol/progress.ts). A run
// reports every listed stage, in order, and nothing else, so the bar ends at 100 % and never stops short.
import { strict as assert } from 'node:assert';
import { analyzeText } from '../../src/engine';
import { overallFraction, PROGRESS_STAGES, type Progress } from '../../src/protocol/progress';

const config = JSON.stringify({
  cell: 'seed', units: 6, inputDim: 2, timeSteps: 3, batchSize: 2, seed: 3,
  jacobians: [{ of: 'h@t', wrt: 'h@t-1' }, { of: 'h@t', wrt: 'h@t-2' }],
  diagnostics: ['varTimesFanIn', 'spectralRadius', 'spectralNorm'],
});

describe('progress: the stages the engine reports are the stages the bar weights', () => {
  it('the weights cover the whole bar', () => {
    const total = PROGRESS_STAGES.reduce((s, x) => s + x.weight, 0);
    assert.ok(Math.abs(total - 1) < 1e-12, `weights sum to ${total}`);
  });

  it('a run reports every listed stage in order, and the bar ends at 100 %', async () => {
    const seen: Progress[] = [];
    await analyzeText(config, 'progress.jacobian.json', { onProgress: (p) => seen.push({ ...p }) });
    const order = seen.map((p) => p.stage).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    assert.deepEqual(order, PROGRESS_STAGES.map((s) => s.stage));
    const fractions = seen.map(overallFraction);
    fractions.forEach((f, i) => assert.ok(i === 0 || f >= fractions[i - 1], `the bar went back at report ${i}: ${JSON.stringify(seen)}`));
    assert.equal(fractions[fractions.length - 1], 1, `the bar ends at ${fractions[fractions.length - 1]}`);
  });

  it('a stage outside the list counts as nothing rather than as a wrong share', () => {
    assert.equal(overallFraction({ stage: 'save' as never, step: 1, total: 1 }), 0);
  });
});
