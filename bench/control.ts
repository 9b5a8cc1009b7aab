// `npm run bench` section C (control): LSC and flossing at full size.
//  C1: time per LSC optimisation step at n = 128 (LSTM and two-layer LSTM, joint (h, c) Jacobians), ours (dense and Krylov
//      eigenvectors) against the TensorFlow reference loop written the way stable_drnn does it
//      (bench/lsc_reference.py: batch_jacobian per step, tf.linalg.eig, a GradientTape around both); target ≥ 5×.
//      Wall and CPU time (all threads) per step for both sides, and the load average, because the machine is shared.
//  C2: LSC reaches its target (median ρ within ±0.02 on the config's own data) at n = 128 from Keras's default
//      initialisations, for seed, simple_rnn, lstm, gru and a two-layer LSTM, targets 1 and 0.5 (C2D: only the
//      two-layer LSTM, with a budget of 200 steps / 300 s per target).
//  C3: flossing brings the top 16 Lyapunov exponents of a chaotic tanh network (n = 64, gain 2) within 0.01 of 0.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Variable } from '@tensorflow/tfjs-core';
import { childEnvironment } from '../src/engine/backend/backend';
import { tf, type Tensor3D } from '../src/engine/backend/tf';
import { parseStabilize } from '../src/engine/control/config';
import { flossText } from '../src/engine/control/floss';
import { kindJacobians } from '../src/engine/control/kinds';
import { controlLoss, controlTrajectory } from '../src/engine/control/loss';
import { stabilizeText, type ControlResult } from '../src/engine/control/lsc';
import { eigenvectorSource, krylovSteps, type EigenvectorMethod } from '../src/engine/control/measureOp';
import { parameterTensors } from '../src/engine/control/optimize';
import { controlProblem, stabilizeKinds, stepData } from '../src/engine/control/problem';
import { parseRunConfig } from '../src/engine/runConfig';
import { secondThreadStatus } from '../src/engine/thread/secondThread';

const root = path.resolve(__dirname, '../..');
const CONFIG = '/tmp/rnn-jacobian-bench-control.jacobian.json';

interface Row {
  id: string;
  what: string;
  result: string;
  verdict: string;
}

function lscConfig(cell: string, target: number, extra: Record<string, unknown> = {}, layers = 1): string {
  const network = layers === 1 ? { cell, units: 128 } : { layers: Array.from({ length: layers }, () => ({ cell, units: 128 })) };
  return JSON.stringify({ ...network, inputDim: 16, seed: 4, timeSteps: 8, batchSize: 4, stabilize: { target, learningRate: 0.005, maxSteps: 400, ...extra } });
}

/** ms per step over steps warmup+1..N (the first steps pay for JIT and kernel set-up). */
function msPerStep(r: ControlResult, warmup = 1): number {
  const h = r.loop.history;
  return ((h[h.length - 1].seconds - h[warmup - 1].seconds) * 1000) / (h.length - warmup);
}

/**
 * C1's steps: 10, the first 2 not timed, as the reference times 3 steps after 2 of warm-up (its tf.function traces on
 * the first). Ours warm up too: V8 compiles the Arnoldi's JS on both threads over the first steps. The steps after
 * are where a run of hundreds spends its time; as ρ falls they get dearer (the top of the spectrum crowds).
 */
const C1_STEPS = 10;
const C1_WARMUP = 2;

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface PerStep {
  ms: number;
  cpuMs: number;
}

/** An LSC run of `steps` steps: wall and CPU ms per step over steps warmup+1..N. */
async function oursPerStep(config: string, steps: number, warmup: number): Promise<PerStep & { result: ControlResult }> {
  const cpu: number[] = [];
  const result = await stabilizeText(config, CONFIG, { maxSteps: steps, onStep: () => cpu.push(cpuSeconds()) });
  return { result, ms: msPerStep(result, warmup), cpuMs: ((cpu[cpu.length - 1] - cpu[warmup - 1]) * 1000) / (cpu.length - warmup) };
}

/**
 * Where a step's time goes (best of 3, after one warm-up): the rollout and the kinds' structured Jacobians (forward,
 * read back), the dominant eigenpairs alone, and the whole differentiated step; the rest of the step is the
 * vector–Jacobian product back to the weights, the tape and the host transfers.
 */
function stepProfile(config: string, eigenvectors: EigenvectorMethod): string {
  const t = tf();
  const spec = parseRunConfig(config, CONFIG);
  const block = parseStabilize(spec, config);
  const problem = controlProblem(spec, block);
  const kinds = stabilizeKinds(problem, block);
  const params = parameterTensors(problem, problem.initial);
  const vars = problem.trainable.map((n) => params.get(n) as Variable);
  const source = eigenvectorSource(eigenvectors);
  const best = { jacobians: Infinity, eigenpairs: Infinity, step: Infinity };
  for (let rep = 0; rep < 4; rep++) {
    const data = { ...stepData(problem, spec.seed + rep, block.batchSize, block.timeSteps), params };
    let started = performance.now();
    const js = t.tidy(() => {
      const traj = controlTrajectory(problem.graph, data, block.timeSteps, block.batchSize, true);
      return kinds.map((k) => kindJacobians(problem.graph, k, traj, params));
    }) as Tensor3D[];
    const values = js.map((j) => j.dataSync());
    const jacobians = performance.now() - started;
    started = performance.now();
    js.forEach((j, k) => source.dominantAll(j, values[k]));
    const eigenpairs = performance.now() - started;
    t.dispose(js);
    started = performance.now();
    const { value, grads } = t.variableGrads(() => controlLoss(problem.graph, kinds, data, block.timeSteps, block.batchSize, { values: [] }, true, eigenvectors), vars);
    t.dispose([value, ...Object.values(grads)]);
    const step = performance.now() - started;
    if (rep > 0) [best.jacobians, best.eigenpairs, best.step] = [Math.min(best.jacobians, jacobians), Math.min(best.eigenpairs, eigenpairs), Math.min(best.step, step)];
  }
  params.forEach((p) => p.dispose());
  const rest = Math.max(0, best.step - best.jacobians - best.eigenpairs);
  return `step ${best.step.toFixed(0)} ms = rollout + Jacobians ${best.jacobians.toFixed(0)} + eigenpairs ${best.eigenpairs.toFixed(0)} + VJP, tape, transfers ${rest.toFixed(0)}`;
}

function reference(cell: string, layers: number): PerStep | { error: string } {
  const cache = process.env.RNN_JACOBIAN_CACHE ?? path.join(process.env.HOME ?? '', '.cache/rnn-jacobian-lab');
  const python = path.join(cache, 'venv/bin/python');
  if (!fs.existsSync(python)) return { error: `no Python venv at ${python} (bash scripts/setup-python.sh)` };
  const out = spawnSync(python, [path.join(root, 'bench/lsc_reference.py'), '--cell', cell, '--layers', String(layers), '--units', '128', '--input-dim', '16', '--batch', '4', '--steps', '8', '--iters', '3'], {
    encoding: 'utf8',
    // Without the one-intra-op-thread default this process set for its own TensorFlow: the reference gets every core.
    env: childEnvironment(),
  });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  try {
    const r = JSON.parse(line) as { ms_per_step: number; cpu_ms_per_step: number };
    return { ms: r.ms_per_step, cpuMs: r.cpu_ms_per_step };
  } catch {
    return { error: `reference failed (exit ${out.status}): ${out.stderr.trim().split('\n').pop()}` };
  }
}

export async function controlBench(wants: (id: string) => boolean, log: (line: string) => void): Promise<void> {
  const rows: Row[] = [];
  if (wants('C1')) {
    for (const layers of [1, 2]) {
      const what = layers === 1 ? 'LSTM n 128 (joint 256×256)' : 'two-layer LSTM n 128 (2 joint 256×256 + depth 128×128)';
      const ours = new Map<string, PerStep>();
      for (const eigenvectors of ['krylov', 'dense'] as const) {
        log(`C1: ${what}, ${C1_STEPS} LSC steps (${C1_WARMUP} not timed), ${eigenvectors} eigenvectors (load ${load()})`);
        const [calls, fallbacks, ties] = [krylovSteps.calls, krylovSteps.fallbacks, krylovSteps.ties];
        const r = await oursPerStep(lscConfig('lstm', 0.5, { eigenvectors }, layers), C1_STEPS, C1_WARMUP);
        ours.set(eigenvectors, r);
        const note =
          eigenvectors === 'krylov'
            ? `, dense fallbacks ${krylovSteps.fallbacks - fallbacks} and ties ${krylovSteps.ties - ties} of ${krylovSteps.calls - calls} matrices; ${secondThreadStatus()}`
            : '';
        rows.push({ id: 'C1', what: `${what}, B 4, T 8: ours, ${eigenvectors}${eigenvectors === 'krylov' ? ' (auto on tensorflow)' : ''}`, result: `${r.ms.toFixed(0)} ms/step (CPU ${r.cpuMs.toFixed(0)} ms/step${note})`, verdict: '' });
        log(`C1: profile of a step, ${eigenvectors} eigenvectors`);
        rows.push({ id: 'C1', what: `${what}: where a step goes, ${eigenvectors}`, result: stepProfile(lscConfig('lstm', 0.5, { eigenvectors }, layers), eigenvectors), verdict: '' });
      }
      log(`C1: TensorFlow reference (bench/lsc_reference.py --layers ${layers}, load ${load()})`);
      const ref = reference('lstm', layers);
      const mine = ours.get('krylov')!;
      if ('error' in ref) rows.push({ id: 'C1', what: `${what}: TensorFlow reference`, result: ref.error, verdict: 'FAIL (no reference)' });
      else {
        const ratio = ref.ms / mine.ms;
        rows.push({
          id: 'C1',
          what: `${what}: TensorFlow reference (tf.function)`,
          result: `${ref.ms.toFixed(0)} ms/step (CPU ${ref.cpuMs.toFixed(0)} ms/step); ratio ${ratio.toFixed(2)}× wall, ${(ref.cpuMs / mine.cpuMs).toFixed(2)}× CPU; load ${load()}`,
          verdict: ratio >= 5 ? 'PASS (≥ 5×)' : 'FAIL (need ≥ 5×)',
        });
      }
    }
  }
  if (wants('C2') || wants('C2D')) {
    const cases = wants('C2') ? ['seed', 'simple_rnn', 'lstm', 'gru', 'two-layer lstm'] : ['two-layer lstm'];
    for (const cell of cases) {
      for (const target of [1, 0.5]) {
        log(`C2: ${cell} n 128, target ${target} (load ${load()})`);
        const layers = cell.startsWith('two-layer') ? 2 : 1;
        // The two-layer LSTM (~1 s/step) gets a budget that fits in a few minutes.
        const budget = layers === 2 ? { maxSteps: 200, maxSeconds: 300 } : {};
        const started = performance.now();
        const r = await stabilizeText(lscConfig(layers === 2 ? 'lstm' : cell, target, budget, layers), CONFIG);
        const seconds = (performance.now() - started) / 1000;
        const ok = r.quantities.every((q) => Math.abs(q.after - target) <= 0.02);
        rows.push({
          id: 'C2',
          what: `${cell} n 128, target ${target}`,
          result: `ρ ${r.quantities.map((q) => `${q.before.toFixed(4)} → ${q.after.toFixed(4)}`).join(', ')} in ${r.loop.history.length} steps (${r.loop.stop}), ${msPerStep(r).toFixed(0)} ms/step, ${seconds.toFixed(0)} s in all`,
          verdict: ok ? 'PASS' : 'FAIL',
        });
      }
    }
  }
  if (wants('C3')) {
    log('C3: flossing, examples/floss-chaotic-tanh.jacobian.json');
    const file = path.join(root, 'examples/floss-chaotic-tanh.jacobian.json');
    const r = await flossText(fs.readFileSync(file, 'utf8'), file);
    const worst = Math.max(...r.quantities.map((q) => Math.abs(q.after - q.target)));
    rows.push({
      id: 'C3',
      what: 'floss tanh n 64 gain 2, top 16 exponents',
      result: `λ1 ${r.quantities[0].before.toFixed(4)} → ${r.quantities[0].after.toFixed(4)}, max |λ_i| ${worst.toFixed(4)} after ${r.loop.history.length} steps (${r.loop.stop}), ${msPerStep(r).toFixed(0)} ms/step`,
      verdict: worst <= 0.01 ? 'PASS' : 'FAIL',
    });
  }
  if (!rows.length) return;
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => [r.id, r.what, r.result, r.verdict][i].length)));
  console.log('\nControl (LSC, flossing)');
  for (const r of rows) console.log(`  ${[r.id, r.what, r.result, r.verdict].map((c, i) => c.padEnd(widths[i])).join('  ')}`);
}
