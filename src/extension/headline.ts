// The one-line summaries of a run that the CodeLenses and the log show. Pure (no `vscode`).
import type { PairReport, Report } from '../engine/run/report';

/** Mean over steps and batch elements, ignoring non-finite entries; NaN when there is nothing finite. */
export function meanOverStepsAndBatch(perStep: (number[] | undefined)[]): number {
  let sum = 0;
  let count = 0;
  for (const values of perStep) {
    for (const value of values ?? []) {
      if (Number.isFinite(value)) {
        sum += value;
        count++;
      }
    }
  }
  return count ? sum / count : Number.NaN;
}

/** Two decimals for the everyday range, three significant digits outside it (1e-5, 3.2e+4). */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 0.01 || magnitude >= 1000)) return value.toPrecision(3);
  return value.toFixed(2);
}

/** `varTimesFanIn 0.50 (expected 0.50) · ρ 0.71`: what the CodeLens above a `jacobians` entry says. */
export function pairHeadline(pair: PairReport): string {
  const parts: string[] = [];
  const varTimesFanIn = meanOverStepsAndBatch(pair.steps.map((s) => s.varTimesFanIn));
  let first = `varTimesFanIn ${formatNumber(varTimesFanIn)}`;
  if (pair.expected) first += ` (expected ${formatNumber(pair.expected.varTimesFanIn)})`;
  parts.push(first);
  if (pair.steps.some((s) => s.spectralRadius)) {
    parts.push(`ρ ${formatNumber(meanOverStepsAndBatch(pair.steps.map((s) => s.spectralRadius)))}`);
  }
  if (pair.steps.some((s) => s.spectralNorm)) {
    parts.push(`‖J‖₂ ${formatNumber(meanOverStepsAndBatch(pair.steps.map((s) => s.spectralNorm)))}`);
  }
  return parts.join(' · ');
}

/** The output channel's line for a finished run: backend, sizes and timings. */
export function runSummary(report: Report, wallMs: number, pid: number): string {
  const t = report.timings;
  const pairs = report.jacobians
    .map((p) => `∂${p.of}/∂${p.wrt} ${p.outDim}×${p.inDim} ${p.method}${p.fallbackReason ? ` (autodiff: ${p.fallbackReason})` : ''}`)
    .join(', ');
  return [
    `backend ${report.backend}`,
    `cell ${report.cell} (${report.activation}) units ${report.units} inputDim ${report.inputDim} timeSteps ${report.timeSteps} batch ${report.batchSize} seed ${report.seed}`,
    `jacobians: ${pairs || 'none'}`,
    `timings: build ${ms(t.buildMs)}, rollout ${ms(t.rolloutMs)}, jacobians ${ms(t.jacobianMs)}, diagnostics ${ms(t.diagnosticsMs)}, engine total ${ms(t.totalMs)}, wall ${ms(wallMs)} (engine pid ${pid})`,
  ].join('; ');
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

/** What the status bar item needs of a config's run state (a structural subset of runController's FileRunState). */
export interface StatusSource {
  lastGood?: { result: { report: Report } };
  issues?: unknown[];
  failure?: string;
  running?: unknown;
}

/**
 * The status bar's headline for the active config: spectral radius ρ and var·fan_in of the first Jacobian pair
 * (means over steps and batch), marked stale while the config is invalid; "error" when the last run failed.
 */
export function statusHeadline(fileName: string, state: StatusSource | undefined): { text: string; tooltip: string } {
  if (state?.running) return { text: '$(sync~spin) RNN Jacobian: analyzing…', tooltip: `RNN Jacobian Lab: analyzing ${fileName}` };
  if (state?.failure) return { text: '$(error) RNN Jacobian: error', tooltip: `RNN Jacobian Lab: the last run of ${fileName} failed: ${state.failure}` };
  const pair = state?.lastGood?.result.report.jacobians[0];
  if (!pair) {
    if (state?.issues) return { text: '$(error) RNN Jacobian: error', tooltip: `RNN Jacobian Lab: ${fileName} has problems (see the Problems panel)` };
    return { text: '$(graph) RNN Jacobian: not analyzed', tooltip: `RNN Jacobian Lab: analyze ${fileName}` };
  }
  const numbers: string[] = [];
  if (pair.steps.some((s) => s.spectralRadius)) numbers.push(`ρ ${formatNumber(meanOverStepsAndBatch(pair.steps.map((s) => s.spectralRadius)))}`);
  numbers.push(`var·fan_in ${formatNumber(meanOverStepsAndBatch(pair.steps.map((s) => s.varTimesFanIn)))}`);
  const stale = state?.issues ? ' (stale)' : '';
  const tooltip = `RNN Jacobian Lab: ${fileName}, ∂${pair.of}/∂${pair.wrt}: ${pairHeadline(pair)}${stale ? '. The config has problems now: this is the last good result.' : ''} Click to show the panel.`;
  return { text: `${state?.issues ? '$(warning)' : '$(graph)'} ${numbers.join(' · ')}${stale}`, tooltip };
}
