// The status bar's headline for a config: ρ and var·fan_in of the first pair of a real run (means over steps and
// batch, recomputed here from the report), "(stale)" while the config is invalid, "error" when the run failed.
import { strict as assert } from 'node:assert';
import { analyzeText, type Report } from '../../src/engine';
import { templateText } from '../../src/engine/config/templates';
import { statusHeadline } from '../../src/extension/headline';

describe('statusHeadline: the status bar item of the active config', () => {
  let report: Report;
  before(async () => {
    report = (await analyzeText(templateText('lstm', { schema: 'x' }), '/tmp/status-headline.jacobian.json', { keepJacobiansMB: 0 })).report;
  });

  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

  it('shows ρ and var·fan_in of the first pair, two decimals', () => {
    const first = report.jacobians[0];
    const rho = mean(first.steps.flatMap((s) => s.spectralRadius!));
    const varFanIn = mean(first.steps.flatMap((s) => s.varTimesFanIn));
    const { text, tooltip } = statusHeadline('lstm.jacobian.json', { lastGood: { result: { report } } });
    assert.equal(text, `$(graph) ρ ${rho.toFixed(2)} · var·fan_in ${varFanIn.toFixed(2)}`);
    assert.match(tooltip, /lstm\.jacobian\.json, ∂h@t\/∂h@t-1/);
  });
  it('marks the last good result stale while the config has problems', () => {
    const { text } = statusHeadline('lstm.jacobian.json', { lastGood: { result: { report } }, issues: [{}] });
    assert.match(text, /^\$\(warning\) ρ \d\.\d\d · var·fan_in \d\.\d\d \(stale\)$/);
  });
  it('says error for a failed run, or for problems with no result yet; analyzing while running; not analyzed before', () => {
    assert.equal(statusHeadline('a.jacobian.json', { lastGood: { result: { report } }, failure: 'engine exited' }).text, '$(error) RNN Jacobian: error');
    assert.equal(statusHeadline('a.jacobian.json', { issues: [{}] }).text, '$(error) RNN Jacobian: error');
    assert.equal(statusHeadline('a.jacobian.json', { running: { runId: 1 } }).text, '$(sync~spin) RNN Jacobian: analyzing…');
    assert.equal(statusHeadline('a.jacobian.json', undefined).text, '$(graph) RNN Jacobian: not analyzed');
  });
  it('leaves ρ out when the first pair has no spectral radius', () => {
    const noRadius: Report = { ...report, jacobians: [{ ...report.jacobians[0], steps: report.jacobians[0].steps.map(({ spectralRadius: _, ...s }) => s) }] };
    assert.match(statusHeadline('a.jacobian.json', { lastGood: { result: { report: noRadius } } }).text, /^\$\(graph\) var·fan_in \d\.\d\d$/);
  });
});
