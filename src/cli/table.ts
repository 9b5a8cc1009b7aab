// The CLI's table: one block per Jacobian pair, one row per step, like the seed's printout but with
// the prediction and the spectrum beside the measured variance. Batch > 1 shows means over the batch.
import type { PairReport, Report } from '../engine';

const mean = (xs: number[] | undefined) => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function num(x: number, width: number): string {
  const s = Number.isNaN(x) ? '—' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4);
  return s.padStart(width);
}

function pairTable(pair: PairReport, batch: number): string {
  const head = `${pair.of} wrt ${pair.wrt}  [${pair.outDim}×${pair.inDim}]  method ${pair.method}${pair.fallbackReason ? ` (${pair.fallbackReason})` : ''}`;
  const expected = pair.expected
    ? `expected varTimesFanIn ${pair.expected.varTimesFanIn.toFixed(4)}  (${pair.expected.formula})`
    : 'expected varTimesFanIn: no closed form for this pair';
  const cols = ['step', 'varTimesFanIn', 'expected', 'spectral radius', 'spectral norm'];
  const widths = cols.map((c) => Math.max(c.length, 10));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const rows = pair.steps.map((s) =>
    line([
      String(s.t),
      num(mean(s.varTimesFanIn), widths[1]),
      num(pair.expected?.varTimesFanIn ?? NaN, widths[2]),
      num(mean(s.spectralRadius), widths[3]),
      num(mean(s.spectralNorm), widths[4]),
    ]),
  );
  const note = batch > 1 ? `(means over the batch of ${batch})` : '';
  return [head, expected, line(cols), ...rows, note].filter(Boolean).join('\n');
}

export function formatReport(report: Report): string {
  const header =
    `RNN Jacobian Lab · ${report.config}\n` +
    `cell ${report.cell} · units ${report.units} · inputDim ${report.inputDim} · ` +
    (report.cell === 'custom' ? '' : `activation ${report.activation} · `) +
    `T ${report.timeSteps} · batch ${report.batchSize} · seed ${report.seed}\n` +
    `backend ${report.backend} · method ${report.method} · ${report.timings.totalMs.toFixed(0)} ms`;
  return [header, ...report.jacobians.map((p) => pairTable(p, report.batchSize))].join('\n\n');
}
