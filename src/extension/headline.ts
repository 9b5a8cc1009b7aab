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
