// `npm run bench:series`: what the series diagnostics cost beside the Jacobians they consume. For an LSTM's
// joint (h, c) transition (D = 2·units) over T steps, the same run three times — Jacobians and statistics only,
// + gradientPropagation, + lyapunov (k = min(D, 64), QR every step) — printed as ratios to the first, with the
// heap growth, so a change that makes a series superlinear in T or D shows as a ratio, not a timed test.
//
//   node --expose-gc dist/bench/series.js [--backend tensorflow|wasm|cpu]
import { analyze, parseConfig } from '../src/engine';
import type { DiagnosticName } from '../src/engine/config/spec';

const backend = (process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'auto') as 'auto';

async function timed(units: number, T: number, diagnostics: DiagnosticName[]): Promise<{ ms: number; heapMB: number }> {
  const config = { cell: 'lstm', units, inputDim: 8, timeSteps: T, batchSize: 1, seed: 1, jacobians: [{ of: '(h,c)@t', wrt: '(h,c)@t-1' }] };
  const spec = { ...parseConfig(JSON.stringify(config), '/tmp/bench-series.jacobian.json'), diagnostics };
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const start = performance.now();
  await analyze(spec, { backend, keepJacobiansMB: 0 });
  return { ms: performance.now() - start, heapMB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
}

async function main(): Promise<void> {
  // Loading the backend and the first kernels is paid once, outside the timings.
  await timed(8, 4, ['varTimesFanIn', 'gradientPropagation', 'lyapunov']);
  console.log('series diagnostics against the Jacobians alone (LSTM joint (h, c) transition, batch 1)');
  console.log('units     D     T   base ms   +gradient (×)   +lyapunov (×)   heap growth MB (base/grad/lyap)');
  for (const [units, T] of [[32, 200], [64, 200], [64, 400], [128, 200]]) {
    const base = await timed(units, T, ['varTimesFanIn']);
    const grad = await timed(units, T, ['varTimesFanIn', 'gradientPropagation']);
    const lyap = await timed(units, T, ['varTimesFanIn', 'lyapunov']);
    console.log(
      `${String(units).padStart(5)} ${String(2 * units).padStart(5)} ${String(T).padStart(5)} ${base.ms.toFixed(0).padStart(9)} ` +
        `${(grad.ms / base.ms).toFixed(2).padStart(15)} ${(lyap.ms / base.ms).toFixed(2).padStart(15)}   ` +
        `${base.heapMB.toFixed(1)}/${grad.heapMB.toFixed(1)}/${lyap.heapMB.toFixed(1)}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
