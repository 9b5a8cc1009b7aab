// Spectra benchmarks (npm run bench -- --only S1,W6,N2048):
//  S1     dense decompositions against the matrix-free Krylov methods by n, in process: where the
//         crossover lies (spectra/extremes.ts DENSE_MAX_N comes from here) and how far the two agree;
//  W6     the seed cell, ReLU, n 512, T 64, B 4 with varTimesFanIn, spectralRadius and spectralNorm, as
//         whole CLI processes: varTimesFanIn only, matrix-free, dense (on T 8, per matrix), and the
//         TensorFlow program a user would write (bench/w6_tensorflow.py) when the Python venv exists;
//  N2048  the seed cell at n 2048, T 16, B 1: ρ and ‖J‖₂ of all 16 steps, whole CLI process.
//  WARM   the seed example run again and again in one process (what the warm engine does per save):
//         median run time by spectra method, with the stages of the report's timings.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childEnvironment } from '../src/engine/backend/backend';
import { analyzeText } from '../src/engine';
import type { Report } from '../src/engine/run/report';
import { DENSE_MAX_N } from '../src/engine/spectra/extremes';
import { table } from './table';

const repo = path.resolve(__dirname, '../..');
const cli = path.join(repo, 'dist/cli.js');

function seed(units: number, T: number, B: number, diagnostics: string[]): Record<string, unknown> {
  return { cell: 'seed', units, inputDim: 2, activation: 'relu', seed: 42, timeSteps: T, batchSize: B, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics };
}
const SPECTRA = ['varTimesFanIn', 'spectralRadius', 'spectralNorm'];

/** Largest relative difference of a per-matrix statistic between two reports. */
function maxRel(a: Report, b: Report, key: 'spectralNorm' | 'spectralRadius'): number {
  let worst = 0;
  a.jacobians[0].steps.forEach((s, k) =>
    s[key]!.forEach((x, i) => {
      const y = b.jacobians[0].steps[k][key]![i];
      worst = Math.max(worst, Math.abs(x - y) / Math.abs(y));
    }),
  );
  return worst;
}

export async function benchS1(backend: string): Promise<void> {
  console.log(`\nS1: spectralNorm + spectralRadius of 64 seed-relu Jacobians (T 16, B 4), dense vs matrix-free, backend ${backend}`);
  const rows: string[][] = [];
  for (const n of [16, 32, 48, 64, 96, 128, 160, 192, 256]) {
    const text = JSON.stringify(seed(n, 16, 4, ['spectralNorm', 'spectralRadius']));
    const run = async (spectra: 'dense' | 'matrix-free') => {
      let best: Report | undefined;
      for (let i = 0; i < 2; i++) {
        const r = (await analyzeText(text, '/tmp/s1.jacobian.json', { spectra })).report;
        if (!best || r.timings.diagnosticsMs < best.timings.diagnosticsMs) best = r;
      }
      return best!;
    };
    const dense = await run('dense');
    const free = await run('matrix-free');
    const [d, f] = [dense.timings.diagnosticsMs, free.timings.diagnosticsMs];
    const sp = free.jacobians[0].spectra!;
    rows.push([
      String(n),
      `${d.toFixed(0)} ms`,
      `${f.toFixed(0)} ms`,
      `${(d / f).toFixed(2)}×`,
      `‖J‖ ${sp.spectralNorm!.products.mean.toFixed(0)}, ρ ${sp.spectralRadius!.products.mean.toFixed(0)}; dense fallbacks ${sp.spectralRadius!.denseFallbacks.length + sp.spectralNorm!.denseFallbacks.length}`,
      `‖J‖ ${maxRel(free, dense, 'spectralNorm').toExponential(1)}, ρ ${maxRel(free, dense, 'spectralRadius').toExponential(1)}`,
    ]);
    console.error(`  S1 n ${n}: dense ${d.toFixed(0)} ms, matrix-free ${f.toFixed(0)} ms`);
  }
  console.log(table(['n', 'dense', 'matrix-free', 'dense/matrix-free', 'products per matrix (mean)', 'max rel diff'], rows));
  console.log(`  (diagnostics stage only, best of 2; the engine uses dense for n ≤ DENSE_MAX_N = ${DENSE_MAX_N})`);
}

interface ProcessRun {
  wallS: number;
  cpuS: number;
  report?: Report;
  stdout: string;
}

/** A whole process, timed by /usr/bin/time (wall, user + system of the process and its threads). */
function timed(argv: string[], env: NodeJS.ProcessEnv = {}): ProcessRun {
  const timeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-bench-')), 'time');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, ...argv], { encoding: 'utf8', env: { ...childEnvironment(), ...env }, maxBuffer: 2 ** 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [wall, user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallS: wall, cpuS: user + sys, stdout: r.stdout };
}

function cliRun(config: Record<string, unknown>, backend: string, extra: string[] = []): ProcessRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-bench-'));
  const file = path.join(dir, 'w.jacobian.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const json = path.join(dir, 'out.json');
  const run = timed([process.execPath, cli, 'analyze', file, '--quiet', '--backend', backend, '--json', json, ...extra]);
  return { ...run, report: JSON.parse(fs.readFileSync(json, 'utf8')) as Report };
}

/** W6's two CLI runs are each made this many times, in turn; the medians are compared. */
const W6_RUNS = 5;

/** The run of median wall time (an odd count). */
function medianRun(runs: ProcessRun[]): ProcessRun {
  return [...runs].sort((a, b) => a.wallS - b.wallS)[Math.floor(runs.length / 2)];
}

const secs = (r: ProcessRun) => `${r.wallS.toFixed(2)} s (cpu ${r.cpuS.toFixed(2)} s)`;

export function benchW6(backend: string): void {
  if (!fs.existsSync(cli)) throw new Error('W6 needs dist/cli.js (node scripts/build.mjs)');
  console.log(`\nW6: seed relu, n 512, T 64, B 4 (256 Jacobians), whole processes, backend ${backend}; load average ${os.loadavg()[0].toFixed(2)}`);
  cliRun(seed(512, 4, 1, ['varTimesFanIn']), backend); // warm-up: file cache, V8 code cache
  // Whole processes of ~0.4 and ~1.2 s vary by ±10 % from run to run here: the two are run in turn W6_RUNS times
  // and each one's median is compared.
  const pairs = Array.from({ length: W6_RUNS }, () => [cliRun(seed(512, 64, 4, ['varTimesFanIn']), backend), cliRun(seed(512, 64, 4, SPECTRA), backend)]);
  const varOnly = medianRun(pairs.map((p) => p[0]));
  const free = medianRun(pairs.map((p) => p[1]));
  const spread = (runs: ProcessRun[]) => `${Math.min(...runs.map((r) => r.wallS)).toFixed(2)}–${Math.max(...runs.map((r) => r.wallS)).toFixed(2)} s`;
  // The dense path costs ~1 s per matrix: measured on T 8 (32 matrices), and compared value by value.
  const dense8 = cliRun(seed(512, 8, 4, SPECTRA), backend, ['--spectra', 'dense']);
  const free8 = cliRun(seed(512, 8, 4, SPECTRA), backend, ['--spectra', 'matrix-free']);
  const perMatrix = dense8.report!.timings.diagnosticsMs / 32 / 1000;
  const denseEstimate = varOnly.wallS + 256 * perMatrix;
  const sp = free.report!.jacobians[0].spectra!;
  const rows = [
    ['CLI, varTimesFanIn only', secs(varOnly), `median of ${W6_RUNS} (${spread(pairs.map((p) => p[0]))})`],
    ['CLI, + spectralRadius + spectralNorm, matrix-free', secs(free), `median of ${W6_RUNS} (${spread(pairs.map((p) => p[1]))}); diagnostics ${(free.report!.timings.diagnosticsMs / 1000).toFixed(2)} s; products ‖J‖ ${sp.spectralNorm!.products.mean.toFixed(0)}, ρ ${sp.spectralRadius!.products.mean.toFixed(0)} per matrix; dense fallbacks ${sp.spectralNorm!.denseFallbacks.length + sp.spectralRadius!.denseFallbacks.length}`],
    ['CLI, dense spectra, T 8 (32 matrices)', secs(dense8), `${perMatrix.toFixed(2)} s per matrix → whole W6 ≈ ${denseEstimate.toFixed(0)} s (varTimesFanIn-only run + 256 × per matrix)`],
  ];
  const py = path.join(process.env.RNN_JACOBIAN_CACHE ?? path.join(os.homedir(), '.cache/rnn-jacobian-lab'), 'venv/bin/python');
  let tfRun: ProcessRun | undefined;
  if (fs.existsSync(py)) {
    tfRun = timed([py, path.join(repo, 'bench/w6_tensorflow.py')], { TF_CPP_MIN_LOG_LEVEL: '2' });
    const t = JSON.parse(tfRun.stdout.trim().split('\n').pop()!) as Record<string, number>;
    rows.push(['TensorFlow: batch_jacobian per step, tf.linalg.svd + eigvals', secs(tfRun), `import ${t.importSeconds.toFixed(1)} s, Jacobians ${t.jacobianSeconds.toFixed(1)} s, spectra ${t.spectraSeconds.toFixed(1)} s`]);
  } else rows.push(['TensorFlow program', 'NOT RUN', `no Python venv at ${py} (bash scripts/setup-python.sh)`]);
  console.log(table(['W6 run', 'wall (cpu)', 'notes'], rows));
  const agree = `matrix-free vs dense on T 8: max rel diff ‖J‖₂ ${maxRel(free8.report!, dense8.report!, 'spectralNorm').toExponential(1)}, ρ ${maxRel(free8.report!, dense8.report!, 'spectralRadius').toExponential(1)} (need ≤ 1e-4)`;
  console.log(`  ${agree}`);
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const ratio = free.wallS / varOnly.wallS;
  console.log(`  W6 with spectra / varTimesFanIn only = ${ratio.toFixed(2)}× wall, ${(free.cpuS / varOnly.cpuS).toFixed(2)}× cpu (target ≤ 3×): ${verdict(ratio <= 3)}`);
  console.log(`  dense estimate / matrix-free = ${(denseEstimate / free.wallS).toFixed(1)}×`);
  if (tfRun) {
    const speedup = tfRun.wallS / free.wallS;
    console.log(`  TensorFlow program / ours = ${speedup.toFixed(2)}× wall, ${(tfRun.cpuS / free.cpuS).toFixed(2)}× cpu (target ≥ 5×): ${verdict(speedup >= 5)}`);
  }
}

export function benchN2048(backend: string): void {
  console.log(`\nN2048: seed relu, n 2048, T 16, B 1: ρ and ‖J‖₂ of all 16 steps, whole CLI process, backend ${backend}; load average ${os.loadavg()[0].toFixed(2)}`);
  const r = cliRun(seed(2048, 16, 1, ['varTimesFanIn', 'spectralRadius', 'spectralNorm']), backend);
  const rep = r.report!;
  const sp = rep.jacobians[0].spectra!;
  console.log(`  ${secs(r)}; diagnostics ${(rep.timings.diagnosticsMs / 1000).toFixed(2)} s; products per matrix ‖J‖ ${sp.spectralNorm!.products.mean.toFixed(0)} (max ${sp.spectralNorm!.products.max}), ρ ${sp.spectralRadius!.products.mean.toFixed(0)} (max ${sp.spectralRadius!.products.max}); dense fallbacks ${sp.spectralNorm!.denseFallbacks.length + sp.spectralRadius!.denseFallbacks.length}`);
  console.log(`  target ≤ 10 s: ${r.wallS <= 10 ? 'MET' : 'NOT MET'} (wall)`);
}

/** WARM: examples/seed-relu.jacobian.json analysed 30 times in this process per spectra method (after 5 warm-ups). */
export async function benchWarm(backend: string): Promise<void> {
  console.log(`\nWARM: the seed example (100 units, 4 steps, ρ and ‖J‖₂) rerun in one process, backend ${backend}`);
  const file = path.join(repo, 'examples/seed-relu.jacobian.json');
  const text = fs.readFileSync(file, 'utf8');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows: string[][] = [];
  for (const spectra of ['auto', 'dense', 'matrix-free'] as const) {
    const runs: Report['timings'][] = [];
    let cpu = 0;
    for (let i = 0; i < 35; i++) {
      const before = process.cpuUsage();
      const { timings } = (await analyzeText(text, file, { spectra })).report;
      const used = process.cpuUsage(before);
      if (i >= 5) {
        runs.push(timings);
        cpu += (used.user + used.system) / 1000;
      }
    }
    const pick = (k: keyof Report['timings']) => `${median(runs.map((t) => t[k] as number)).toFixed(1)} ms`;
    rows.push([spectra, pick('totalMs'), `${(cpu / runs.length).toFixed(1)} ms`, pick('buildMs'), pick('rolloutMs'), pick('jacobianMs'), pick('diagnosticsMs')]);
  }
  console.log(table(['spectra', 'run (median)', 'cpu (mean)', 'build', 'rollout', 'jacobians', 'diagnostics'], rows));
}
