// The control view's pure parts: the live curves and before/after rows from a control run's state, and the
// comparison config, whose pairs must be what the panel's components read — a stacked network's comparison,
// analyzed, gives the depth × time grid both layers and both kinds of edge, and the joint pair the loop controlled.
import { strict as assert } from 'node:assert';
import { analyzeText } from '../../src/engine';
import { comparisonConfigText, comparisonPairs } from '../../src/engine/control/compare';
import { parseStabilize } from '../../src/engine/control/config';
import { controlProblem } from '../../src/engine/control/problem';
import { parseRunConfig } from '../../src/engine/runConfig';
import type { ControlPanelState } from '../../src/protocol/messages';
import { controlCurves, controlRows, controlStatus } from '../../webview/controlData';
import { depthTimeGrid, gradientSeries } from '../../webview/seriesData';

const state: ControlPanelState = {
  id: 1, kind: 'stabilize', file: '/w/a.jacobian.json', phase: 'running',
  quantities: [{ label: 'time', target: 0.5, before: 0.9 }, { label: 'depth', target: 0.25, before: 1.2 }],
  history: [{ step: 1, loss: 0.3, medians: [0.85, 1.1], seconds: 0.1 }, { step: 2, loss: 0.2, medians: [0.8, 1.0], seconds: 0.2 }],
};

describe('webview: the control view', () => {
  it('draws each quantity from its before value (step 0) through every step, with its target', () => {
    const curves = controlCurves(state);
    assert.deepEqual(curves.map((c) => [c.label, c.target]), [['time', 0.5], ['depth', 0.25]]);
    assert.deepEqual(curves[1].points, [{ x: 0, y: 1.2 }, { x: 1, y: 1.1 }, { x: 2, y: 1.0 }]);
  });

  it('shows the latest step while running and the kept weights\' value once it has ended', () => {
    assert.deepEqual(controlRows(state).map((r) => [r.before, r.latest, r.after]), [[0.9, 0.8, undefined], [1.2, 1.0, undefined]]);
    const done: ControlPanelState = {
      ...state, phase: 'done',
      summary: { kind: 'stabilize', backend: 'cpu', stop: 'converged', steps: 2, bestStep: 2, msPerStep: 100, quantities: state.quantities.map((q, k) => ({ ...q, after: [0.51, 0.26][k] })) },
    };
    assert.deepEqual(controlRows(done).map((r) => r.after), [0.51, 0.26]);
    assert.equal(controlStatus(done), 'done · 2 steps (converged), best at step 2, 100.0 ms/step on cpu');
    assert.equal(controlStatus(state), 'running · 2 steps');
  });

  it('compares a stacked network on the grid\'s edges and on the joint transitions the loop controlled', async () => {
    const text = JSON.stringify({
      layers: [{ cell: 'lstm', units: 4 }, { cell: 'gru', units: 3 }], inputDim: 2, seed: 1, timeSteps: 3, batchSize: 2,
      stabilize: { target: 0.5 },
    });
    const spec = parseRunConfig(text, '/w/two.jacobian.json');
    const problem = controlProblem(spec, parseStabilize(spec, text));
    assert.deepEqual(comparisonPairs(problem).map((p) => `${p.of} wrt ${p.wrt}`), [
      'l0.(h,c)@t wrt l0.(h,c)@t-1', 'l1.h@t wrt l1.h@t-1', 'l0.h@t wrt l0.h@t-1', 'l1.h@t wrt l0.h@t',
    ]);
    const result = await analyzeText(comparisonConfigText(text, problem, 'stabilize'), '/w/two.jacobian.json', { backend: 'cpu', keepJacobiansMB: 0 });
    const grid = depthTimeGrid(result.report)!;
    assert.deepEqual(grid.layers, ['l0', 'l1']);
    for (const l of [0, 1]) assert.ok(grid.time[l].every((c) => c && Number.isFinite(c.rho)), `layer ${l}'s time edges`);
    assert.ok(grid.depth[1].every((c) => c && c.norm), 'the 3×4 depth edge is drawn by its norm');
    assert.ok(gradientSeries(result.report.jacobians[0]), 'the joint transition has its gradient curve');
    assert.ok(result.arrays.pairs[0].eigenvaluesRe?.length, 'and its eigenvalues');
  });
});
