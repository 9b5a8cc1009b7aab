// The panel's deep-network views, their pure data shaping: the depth × time grid of ρ picked out of a real
// network run's pairs, the gradient curve and its fit line, the Lyapunov series with overlays and notes.
import { strict as assert } from 'node:assert';
import { analyze } from '../../src/engine';
import { circularLawRadius, depthTimeGrid, gradientSeries, lyapunovSeries } from '../../webview/seriesData';
import { networkSpec } from './helpers/network';

describe('webview: deep-network view data', () => {
  it('grid, gradient curve and Lyapunov series from a two-layer run', async () => {
    const spec = {
      ...networkSpec({ inputDim: 3, timeSteps: 6, batchSize: 2, seed: 1 }, [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3 }], [
        ['l0.h@t', 'l0.h@t-1'], ['l1.h@t', 'l1.h@t-1'], ['l1.h@t', 'l0.h@t'], ['l0.h@t', 'x@t'], ['state@t', 'state@t-1'],
      ]),
      diagnostics: ['spectralRadius' as const, 'spectralNorm' as const, 'varTimesFanIn' as const, 'gradientPropagation' as const, 'lyapunov' as const],
      lyapunov: { transient: 1 },
    };
    const { report } = await analyze(spec);
    const grid = depthTimeGrid(report)!;
    assert.deepEqual([grid.layers, grid.steps, grid.state], [['l0', 'l1'], [1, 2, 3, 4, 5, 6], 'h']);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    report.jacobians[1].steps.forEach((s, k) => assert.equal(grid.time[1][k]!.rho, mean(s.spectralRadius!)));
    // The depth edge is 3×4: no ρ, so its spectral norm.
    report.jacobians[2].steps.forEach((s, k) => assert.deepEqual([grid.depth[1][k]!.rho, grid.depth[1][k]!.norm], [mean(s.spectralNorm!), true]));
    assert.ok(grid.depth[0].every((c) => c === undefined), 'layer 0 has no layer below');
    assert.equal(grid.time[0][0]!.pairIndex, 0);

    const g = gradientSeries(report.jacobians[4])!;
    assert.deepEqual(g.spectral.map((p) => p.x), [1, 2, 3, 4, 5, 6]);
    const slope = (g.fit[1].y - g.fit[0].y) / (g.fit[1].x - g.fit[0].x);
    assert.ok(Math.abs(slope - report.jacobians[4].gradient!.rate.spectral) < 1e-12);
    assert.equal(gradientSeries(report.jacobians[3]), undefined, 'an input pair has no curve');

    const l = lyapunovSeries(report.jacobians[4])!;
    assert.equal(l.spectrum.length, 4 + 4 + 3);
    assert.equal(l.newman.length, l.spectrum.length);
    assert.ok(l.convergence.length === 4 && l.convergence[0].points.length > 0);
    const transition = report.jacobians[4];
    assert.equal(circularLawRadius(transition, 2, 1), Math.sqrt(transition.steps[2].varTimesFanIn[1]));
    assert.equal(circularLawRadius(report.jacobians[2], 0, 0), undefined, 'no disk for a non-square Jacobian');
    assert.ok(l.notes[0].startsWith('11 of 11 exponents · 5 steps after a transient of 1'), l.notes[0]);
  });

  it('a one-cell report has no grid', async () => {
    const { parseConfig } = await import('../../src/engine');
    const spec = parseConfig(JSON.stringify({ cell: 'gru', units: 3, inputDim: 2, timeSteps: 2 }), '/tmp/x.jacobian.json');
    assert.equal(depthTimeGrid((await analyze(spec)).report), undefined);
  });
});
