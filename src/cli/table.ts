// The CLI's table: one block per Jacobian pair, one row per step, like the seed's printout but with
// the prediction and the spectrum beside the measured variance. Batch > 1 shows means over the batch.
import type { PairReport, Report, StepStats } from '../engine';
import { diagnosticDef, type DiagnosticName } from '../engine/diagnostics';

const mean = (xs: number[] | undefined) => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function num(x: number, width: number): string {
  const s = Number.isNaN(x) ? '—' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4);
  return s.padStart(width);
}

/** How the spectral norm and radius were computed: method, iterations, and any dense fallbacks. */
function spectraLine(pair: PairReport): string {
  const sp = pair.spectra;
  if (!sp) return '';
  const parts = (['spectralNorm', 'spectralRadius'] as const).flatMap((name) => {
    const k = sp[name];
    if (!k) return [];
    const fallbacks = k.denseFallbacks.length ? `, ${k.denseFallbacks.length} by the dense method (not converged)` : '';
    return [`${diagnosticDef(name).cli!.header} ${k.products.min}–${k.products.max} products (tol ${k.tol.toExponential(0)})${fallbacks}`];
  });
  return `spectra ${sp.method}: ${parts.length ? parts.join('; ') : sp.reason}`;
}

function pairTable(pair: PairReport, batch: number, diagnostics: DiagnosticName[]): string {
  const head = `${pair.of} wrt ${pair.wrt}  [${pair.outDim}×${pair.inDim}]  method ${pair.method}${pair.fallbackReason ? ` (${pair.fallbackReason})` : ''}`;
  const expected = pair.expected
    ? `expected varTimesFanIn ${pair.expected.varTimesFanIn.toFixed(4)}  (${pair.expected.formula})`
    : 'expected varTimesFanIn: no closed form for this pair';
  // One column per listed diagnostic that the registry shows in the CLI, in the config's order; the
  // prediction sits beside varTimesFanIn.
  const shown = diagnostics.map(diagnosticDef).filter((d) => d.cli && pair.steps[0]?.[d.name as keyof StepStats] !== undefined);
  const columns: { header: string; value: (s: StepStats) => number }[] = shown.flatMap((d) => [
    { header: d.cli!.header, value: (s: StepStats) => mean(s[d.name as keyof StepStats] as number[] | undefined) },
    ...(d.name === 'varTimesFanIn' ? [{ header: 'expected', value: () => pair.expected?.varTimesFanIn ?? NaN }] : []),
  ]);
  const cols = ['step', ...columns.map((c) => c.header)];
  const widths = cols.map((c) => Math.max(c.length, 10));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const rows = pair.steps.map((s) => line([String(s.t), ...columns.map((c, i) => num(c.value(s), widths[i + 1]))]));
  const note = batch > 1 ? `(means over the batch of ${batch})` : '';
  return [head, expected, spectraLine(pair), line(cols), ...rows, note, ...seriesLines(pair)].filter(Boolean).join('\n');
}

const fixed = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** Gradient propagation and Lyapunov exponents of a state transition pair, when computed. */
function seriesLines(pair: PairReport): string[] {
  const lines: string[] = [];
  const g = pair.gradient;
  if (g) {
    const T = g.t.length ? g.t[0] + 1 : 0;
    const mean = (rows: number[][], k: number) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
    const picks = [0, Math.floor((g.t.length - 1) / 2), g.t.length - 1].filter((k, i, a) => k >= 0 && a.indexOf(k) === i);
    lines.push(
      `gradient propagation: ‖∂s_T/∂s_t‖₂ changes by ×${fixed(Math.exp(g.rate.spectral))} per step ` +
        `(rate ${fixed(g.rate.spectral)} ln/step; ‖·‖_F rate ${fixed(g.rate.frobenius)})`,
      '  ' + picks.map((k) => `T−t=${T - g.t[k]}: ln‖·‖₂ ${fixed(mean(g.logSpectral, k), 3)}`).join('   '),
    );
  }
  const l = pair.lyapunov;
  if (l) {
    const shown = l.exponents.slice(0, 8).map((x, i) => `${fixed(x)}±${fixed(l.spread[i], 4)}`);
    lines.push(
      `Lyapunov exponents (ln/step, ${l.exponents.length} of ${pair.outDim}, ${l.steps} steps after a transient of ${l.transient}, QR every ${l.every}): ` +
        `λ_max ${fixed(l.exponents[0])}, Σλ ${fixed(l.exponents.reduce((a, b) => a + b, 0))}`,
      `  ${shown.join('  ')}${l.exponents.length > 8 ? '  …' : ''}${l.zeroPivots ? `  (${l.zeroPivots} zero pivots clamped)` : ''}`,
    );
  }
  return lines;
}

/** `cell lstm · units 64 · …` for one cell; `layers l0 lstm(32) → l1 gru(24) · …` for a network. */
function modelLine(report: Report): string {
  if (report.layers) return `layers ${report.layers.map((l) => `${l.name} ${l.cell}(${l.units}, ${l.activation})`).join(' → ')} · inputDim ${report.inputDim} · `;
  return `cell ${report.cell} · units ${report.units} · inputDim ${report.inputDim} · ` + (report.cell === 'custom' ? '' : `activation ${report.activation} · `);
}

export function formatReport(report: Report): string {
  const header =
    `RNN Jacobian Lab · ${report.config}\n` +
    modelLine(report) +
    `T ${report.timeSteps} · batch ${report.batchSize} · seed ${report.seed}\n` +
    `backend ${report.backend} · method ${report.method} · ${report.timings.totalMs.toFixed(0)} ms`;
  return [header, ...report.jacobians.map((p) => pairTable(p, report.batchSize, report.diagnostics))].join('\n\n');
}
