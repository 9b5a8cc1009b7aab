// `npm run bench`: the Jacobian + statistics stage of each workload by three methods on one backend —
// structured (the engine's default), autodiff (the engine's vectorised reverse mode) and a hand-written
// closed-form floor (tfjs ops straight from the trajectory and the parameters, not through the
// engine's graph) — with their ratios, the shared rollout timed apart, and peak RSS.
//
//   node --expose-gc dist/bench/bench.js [--backend tensorflow|wasm|cpu] [--only W2,W4] [--no-autodiff]
//
// Workload W3 (T = 2 500 / 5 000 / 10 000, statistics only) runs each size in a child process forked from
// this file (`--w3-child T`), so each size's peak RSS is its own.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendName, type BackendPreference } from '../src/engine/backend/backend';
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../src/engine/backend/tf';
import { buildCell } from '../src/engine/cells';
import type { JacobianMethod, RunSpec } from '../src/engine/config/spec';
import type { CellGraph } from '../src/engine/graph/graph';
import { opDef } from '../src/engine/graph/ops';
import { parseRunConfig } from '../src/engine/run/analyze';
import { initialStates, initParams, inputSeries } from '../src/engine/run/data';
import { chunkMoments } from '../src/engine/run/diagnostics';
import { bytesPerOccurrence, computeJacobians } from '../src/engine/run/jacobians';
import { resolvePairs, type ResolvedPair } from '../src/engine/run/pairs';
import { rollout, type Trajectory } from '../src/engine/run/rollout';
import { controlBench } from './control';
import { benchN2048, benchS1, benchW6, benchWarm } from './spectra';
import { table } from './table';

// ---------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------

interface Args {
  backend: BackendPreference;
  only?: Set<string>;
  autodiff: boolean;
  w3Child?: number;
  /** Per-kernel timings (tf.profile) of one workload's structured stage and floor, instead of the bench. */
  profile?: string;
  /** W1, W2, W4 without reading the Jacobians back (statistics only, like W3). */
  statsOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backend: 'auto', autodiff: true, statsOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--backend') {
      const v = value();
      if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(v)) throw new Error(`--backend: expected tensorflow|wasm|cpu, got ${v}`);
      args.backend = v as BackendPreference;
    } else if (a === '--only') args.only = new Set(value().toUpperCase().split(','));
    else if (a === '--no-autodiff') args.autodiff = false;
    else if (a === '--stats-only') args.statsOnly = true;
    else if (a === '--w3-child') args.w3Child = Number(value());
    else if (a === '--profile') args.profile = value().toUpperCase();
    else if (a === '--help' || a === '-h') {
      console.log('usage: bench [--backend tensorflow|wasm|cpu] [--only W1,W2,W3,W4,W5,S1,W6,N2048,WARM,C1,C2,C2D,C3] [--no-autodiff] [--stats-only] [--profile W2|W3|W4]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

// ---------------------------------------------------------------------------------------------------
// Peak RSS: sampled every 50 ms (when the event loop is free) and at every chunk boundary (because a
// long synchronous kernel blocks the timer).
// ---------------------------------------------------------------------------------------------------

let peakRss = 0;
function sampleRss(): void {
  const r = process.memoryUsage.rss();
  if (r > peakRss) peakRss = r;
}
function resetPeak(): void {
  peakRss = 0;
  sampleRss();
}
const gc = (globalThis as { gc?: () => void }).gc;
function collect(): void {
  gc?.();
}

// ---------------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------------

const root = path.resolve(__dirname, '../..');
const examples = path.join(root, 'examples');
const STATS_ONLY_DIAGNOSTICS = ['mean', 'varTimesFanIn', 'frobenius'];
/** The chunk budget analyze() uses by default (chunkMB 256). */
const CHUNK_BYTES = 256 * 2 ** 20;

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function seedConfig(units: number, T: number, B: number): Record<string, unknown> {
  return {
    ...readJson(path.join(examples, 'seed-relu.jacobian.json')),
    units,
    timeSteps: T,
    batchSize: B,
    jacobians: [{ of: 'h@t', wrt: 'h@t-1' }],
    diagnostics: STATS_ONLY_DIAGNOSTICS,
  };
}

function lstmConfig(units: number, T: number, B: number): Record<string, unknown> {
  return {
    ...readJson(path.join(examples, 'lstm.jacobian.json')),
    units,
    timeSteps: T,
    batchSize: B,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    jacobians: [{ of: 'h@t', wrt: 'h@t-1' }],
    diagnostics: STATS_ONLY_DIAGNOSTICS,
  };
}

interface Prepared {
  spec: RunSpec;
  graph: CellGraph;
  pair: ResolvedPair;
  traj: Trajectory;
  params: Map<string, Tensor>;
  rolloutMs: number;
}

async function prepare(config: Record<string, unknown>, name: string): Promise<Prepared> {
  const t = tf();
  const spec = parseRunConfig(JSON.stringify(config), path.join(examples, `${name}.bench.jacobian.json`));
  const graph = buildCell(spec);
  const pair = resolvePairs(graph, spec)[0];
  const paramData = initParams(graph, spec);
  const params = new Map<string, Tensor>(graph.params.map((p) => [p.name, t.tensor(paramData.get(p.name)!, p.shape)]));
  const states0 = initialStates(graph, spec);
  const inputs = inputSeries(graph, spec);
  const start = performance.now();
  const traj = await rollout(graph, { params, initialStates: states0, inputs }, spec.timeSteps, spec.batchSize, (step) => {
    if (step % 256 === 0) sampleRss();
  });
  // Force the last step's work (rollout kernels run eagerly, but be explicit).
  traj.series3d(graph.states[0].name).dataSync();
  const rolloutMs = performance.now() - start;
  sampleRss();
  return { spec, graph, pair, traj, params, rolloutMs };
}

function release(p: Prepared): void {
  p.traj.dispose();
  p.params.forEach((x) => x.dispose());
}

/** The same pair restricted to its first k occurrences (warm-ups, autodiff extrapolation). */
function firstOccurrences(pair: ResolvedPair, k: number): ResolvedPair {
  return { ...pair, occurrences: pair.occurrences.slice(0, Math.min(k, pair.occurrences.length)) };
}

// ---------------------------------------------------------------------------------------------------
// The stage under test: Jacobians + per-matrix statistics, read back to the host.
// ---------------------------------------------------------------------------------------------------

interface Stats {
  mean: Float32Array;
  varTimesFanIn: Float32Array;
  frobenius: Float32Array;
  /** Whole Jacobians, when kept. */
  jacobians?: Float32Array;
}

function newStats(matrices: number, matrix: number, keep: boolean): Stats {
  return {
    mean: new Float32Array(matrices),
    varTimesFanIn: new Float32Array(matrices),
    frobenius: new Float32Array(matrices),
    ...(keep ? { jacobians: new Float32Array(matrices * matrix) } : {}),
  };
}

async function engineStage(p: Prepared, pair: ResolvedPair, method: JacobianMethod, keep: boolean): Promise<Stats> {
  const B = p.traj.B;
  const inn = pair.wrtDim;
  const matrix = pair.ofDim * inn;
  const stats = newStats(pair.occurrences.length * B, matrix, keep);
  await computeJacobians(p.graph, pair, p.traj, p.params, { method, dense: keep, chunkBytes: CHUNK_BYTES }, (chunk) => {
    const m = chunk.moments;
    const data = chunk.data;
    chunk.indices.forEach((occ, c) => {
      for (let b = 0; b < B; b++) {
        const row = c * B + b;
        const target = occ * B + b;
        stats.mean[target] = m.mean[row];
        stats.varTimesFanIn[target] = m.variance[row] * inn;
        stats.frobenius[target] = m.frobenius[row];
        if (data) stats.jacobians!.set(data.subarray(row * matrix, (row + 1) * matrix), target * matrix);
      }
    });
    sampleRss();
  });
  return stats;
}

/**
 * Statistics of a [N, out, in] block of Jacobians, written at `row0`; the block is disposed. The reduction
 * is the engine's own (chunkMoments), so floor and structured differ only in how J is made.
 */
function floorSink(stats: Stats, row0: number, J: Tensor3D): void {
  const [N, out, inn] = J.shape;
  const m = chunkMoments(J);
  stats.mean.set(m.mean, row0);
  for (let i = 0; i < N; i++) stats.varTimesFanIn[row0 + i] = m.variance[i] * inn;
  stats.frobenius.set(m.frobenius, row0);
  if (stats.jacobians) stats.jacobians.set(J.dataSync(), row0 * out * inn);
  J.dispose();
  sampleRss();
}

/** act'(z) for the activations the bench's seed workloads use, written out here (not the engine's rules). */
function activationDerivative(act: string, z: Tensor2D): Tensor {
  const t = tf();
  switch (act) {
    case 'relu':
      return t.cast(t.greater(z, 0), 'float32');
    case 'linear':
      return t.onesLike(z);
    case 'tanh':
      return t.sub(t.onesLike(z), t.square(t.tanh(z)));
    case 'sigmoid': {
      const s = t.sigmoid(z);
      return t.mul(s, t.sub(1, s));
    }
    default:
      throw new Error(`bench floor: no closed form written for activation ${act}`);
  }
}

/** Checks the pair is ∂h_t/∂h_{t-1} for t = 1..T, so row k·B+b of the floor is occurrence k, batch b. */
function assertTransitionPair(p: Prepared, pair: ResolvedPair): void {
  const ok = pair.occurrences.every((o, i) => o.start === i + 1 && o.end === i + 1);
  if (!ok || pair.ofNodes.length !== 1 || pair.ofNodes[0].name !== 'h') throw new Error('bench floor: expected the pair h@t wrt h@t-1 over t = 1..T');
  if (p.traj.series3d('h').shape[0] !== p.traj.T + 1) throw new Error('bench floor: unexpected state series layout');
}

/**
 * Steps s0..s0+k-1 of a [steps, B, d] series, as [k·B, d]. A gather, not a slice: the wasm backend's Slice
 * kernel copies its whole input out of the heap on every call (O(T) per chunk on a long run).
 */
function stepRows(series: Tensor3D, s0: number, k: number): Tensor2D {
  const t = tf();
  const [, B, d] = series.shape;
  return t.reshape(t.gather(series, t.range(s0, s0 + k, 1, 'int32')), [k * B, d]) as Tensor2D;
}

/**
 * Seed cell, h_t = W_h·act(h_{t-1}) + b: J = W_hᵀ[None] ⊙ act'(h_{t-1})[:, None, :] over all steps·batch at
 * once (or in chunks of `chunkSteps` steps, for runs whose Jacobians do not fit at once).
 */
function seedFloor(p: Prepared, pair: ResolvedPair, keep: boolean, chunkSteps: number): Stats {
  assertTransitionPair(p, pair);
  const t = tf();
  const { B } = p.traj;
  const steps = pair.occurrences.length;
  const n = p.spec.units;
  const stats = newStats(steps * B, n * n, keep);
  const Wt = t.transpose(p.params.get('linear_rec/kernel') as Tensor2D); // Keras layout h·W: J = Wᵀ diag(d)
  const h = p.traj.series3d('h'); // [T+1, B, n]; index s is h_s
  for (let s0 = 0; s0 < steps; s0 += chunkSteps) {
    const k = Math.min(chunkSteps, steps - s0);
    const J = t.tidy(() => {
      const hPrev = stepRows(h, s0, k);
      const d = activationDerivative(p.spec.activation, hPrev);
      return t.mul(t.expandDims(Wt, 0), t.expandDims(d, 1)) as Tensor3D;
    });
    floorSink(stats, s0 * B, J);
  }
  Wt.dispose();
  return stats;
}

/**
 * Keras LSTM (sigmoid gates, tanh), ∂h_t/∂h_{t-1} with c_{t-1} held fixed, from the stored gate
 * pre-activations z and cell states:
 *   J = Σ_g a_g[:, :, None] ⊙ R_gᵀ[None]   (R_g: the gate's block of the recurrent kernel)
 *   a_o = σ'(z_o)·tanh(c_t),  k = o·(1 − tanh²(c_t)),
 *   a_f = k·σ'(z_f)·c_{t-1},  a_i = k·σ'(z_i)·g,  a_c = k·i·(1 − g²).
 */
function lstmFloor(p: Prepared, pair: ResolvedPair, keep: boolean, chunkSteps: number): Stats {
  assertTransitionPair(p, pair);
  if (p.spec.cell === 'lstm' && (p.spec.activation !== 'tanh' || p.spec.recurrentActivation !== 'sigmoid')) throw new Error('bench floor: LSTM floor is written for tanh/sigmoid');
  const t = tf();
  const { B } = p.traj;
  const steps = pair.occurrences.length;
  const u = p.spec.units;
  const stats = newStats(steps * B, u * u, keep);
  // Built in: `recurrent_kernel`; written as equations: any name, with the weight name `recurrent_kernel`.
  const decl = p.graph.params.find((d) => d.name === 'recurrent_kernel' || (d as { weightName?: string }).weightName === 'recurrent_kernel');
  if (!decl || !p.params.has(decl.name)) throw new Error('bench floor: no recurrent_kernel parameter');
  const Rt = t.transpose(p.params.get(decl.name) as Tensor2D); // [4u, u]
  const Rg = [0, 1, 2, 3].map((g) => t.expandDims(t.slice(Rt, [g * u, 0], [u, u]), 0)); // i, f, c, o: [1, u, u]
  const zSeries = p.traj.series3d('z'); // [T, B, 4u]; index s is step s+1
  const cSeries = p.traj.series3d('c'); // [T+1, B, u]; index s is c_s
  for (let s0 = 0; s0 < steps; s0 += chunkSteps) {
    const k = Math.min(chunkSteps, steps - s0);
    const J = t.tidy(() => {
      const rows = k * B;
      const z = stepRows(zSeries, s0, k);
      const cPrev = stepRows(cSeries, s0, k);
      const c = stepRows(cSeries, s0 + 1, k);
      const gate = (g: number) => t.slice(z, [0, g * u], [rows, u]);
      const si = t.sigmoid(gate(0));
      const sf = t.sigmoid(gate(1));
      const g = t.tanh(gate(2));
      const so = t.sigmoid(gate(3));
      const dsig = (s: Tensor) => t.mul(s, t.sub(1, s));
      const tc = t.tanh(c);
      const kk = t.mul(so, t.sub(1, t.square(tc)));
      const a = [
        t.mul(kk, t.mul(dsig(si), g)), // i
        t.mul(kk, t.mul(dsig(sf), cPrev)), // f
        t.mul(kk, t.mul(si, t.sub(1, t.square(g)))), // c
        t.mul(dsig(so), tc), // o
      ];
      return t.addN(a.map((ag, gi) => t.mul(t.expandDims(ag, 2), Rg[gi]))) as Tensor3D;
    });
    floorSink(stats, s0 * B, J);
  }
  t.dispose([Rt, ...Rg]);
  return stats;
}

/** Max over entries of |a − b| / max(|a|, |b|, tiny). */
function maxRelDiff(a: Float32Array, b: Float32Array, count = a.length): number {
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const scale = Math.max(Math.abs(a[i]), Math.abs(b[i]), 1e-30);
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  return worst;
}

/** max|a − b| / max|b| over whole Jacobians (the equality tests' 1e-5·max|J| criterion). */
function maxAbsDiffOverMax(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

// ---------------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------------

interface Timed<T> {
  /** Wall-clock ms: the mean over reps of short stages, the best of 3 for stages up to 5 s, else one run. */
  ms: number;
  /** CPU time (user + system, all threads) of the same run(s): less sensitive to a busy machine. */
  cpuMs: number;
  reps: number;
  value: T;
}

/**
 * Times fn. Short stages (< 100 ms) are repeated (up to 20 times, ~0.5 s) and averaged; stages up to 5 s
 * run 3 times and the fastest counts (the machine may be shared); longer ones run once.
 */
async function time<T>(fn: () => T | Promise<T>): Promise<Timed<T>> {
  const runs: { ms: number; cpuMs: number }[] = [];
  let value: T;
  for (;;) {
    collect();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    value = await fn();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    runs.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000 });
    const total = runs.reduce((a, r) => a + r.ms, 0);
    const short = total / runs.length < 100;
    if (short ? total >= 500 || runs.length >= 20 : runs.length >= 3 || ms > 5000) break;
  }
  const short = runs.reduce((a, r) => a + r.ms, 0) / runs.length < 100;
  if (short) {
    const n = runs.length;
    return { ms: runs.reduce((a, r) => a + r.ms, 0) / n, cpuMs: runs.reduce((a, r) => a + r.cpuMs, 0) / n, reps: n, value: value! };
  }
  const best = runs.reduce((a, r) => (r.ms < a.ms ? r : a));
  return { ms: best.ms, cpuMs: best.cpuMs, reps: runs.length, value: value! };
}

const describeReps = (t: Timed<unknown>) =>
  t.reps === 1 ? '' : t.ms < 100 ? ` (mean of ${t.reps})` : ` (best of ${t.reps})`;

const fmtMs = (ms: number | undefined) =>
  ms === undefined ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
const fmtRatio = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? '—' : r >= 100 ? `${r.toFixed(0)}×` : `${r.toFixed(r < 10 ? 2 : 1)}×`);
const fmtMB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const passFail = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

interface Timing {
  ms: number;
  cpuMs: number;
  /** Shown beside the time (e.g. "extrapolated from 100 steps"). */
  note?: string;
}

const timing = (t: Timed<unknown>, scale = 1, note?: string): Timing => ({ ms: t.ms * scale, cpuMs: t.cpuMs * scale, ...(note ? { note } : {}) });
const fmtTiming = (t: Timing | undefined) => (t ? `${fmtMs(t.ms)} (cpu ${fmtMs(t.cpuMs)})${t.note ? ` ${t.note}` : ''}` : '—');
/** a/b by wall clock, with the CPU-time ratio beside it. */
const fmtRatios = (a: Timing | undefined, b: Timing | undefined) =>
  a && b ? `${fmtRatio(a.ms / b.ms)} (cpu ${fmtRatio(a.cpuMs / b.cpuMs)})` : '—';

// ---------------------------------------------------------------------------------------------------
// W1, W2, W4: Jacobians kept (read back whole, as analyze does by default), plus their statistics.
// ---------------------------------------------------------------------------------------------------

interface Row {
  id: string;
  what: string;
  jacobians: string;
  rolloutMs?: number;
  structured?: Timing;
  autodiff?: Timing;
  floor?: Timing;
  peakRss?: number;
  check: string;
}

type Floor = (p: Prepared, pair: ResolvedPair, keep: boolean, chunkSteps: number) => Stats;

async function keptWorkload(
  id: string,
  what: string,
  config: Record<string, unknown>,
  floor: Floor | undefined,
  args: Args,
): Promise<Row> {
  collect();
  resetPeak();
  const p = await prepare(config, id);
  const { pair } = p;
  const B = p.traj.B;
  const N = pair.occurrences.length * B;
  const warm = firstOccurrences(pair, 2);
  const keep = !args.statsOnly;
  const row: Row = { id, what, jacobians: `${N} × [${pair.ofDim}×${pair.wrtDim}]`, rolloutMs: p.rolloutMs, check: '' };
  log(`${id}: ${what}: rollout ${fmtMs(p.rolloutMs)}`);

  const noRule = p.graph.nodes.find((n) => n.op && n.batched && !opDef(n.op).jacobian);
  if (noRule) throw new Error(`${id}: op ${noRule.op} has no structured rule (analyze would fall back to autodiff)`);
  await engineStage(p, warm, 'structured', keep);
  const s = await time(() => engineStage(p, pair, 'structured', keep));
  row.structured = timing(s);
  log(`${id}: structured ${fmtTiming(row.structured)}${describeReps(s)}`);

  const checks: string[] = [];
  if (floor) {
    // The floor as the issue states it (every step·batch in one broadcast), and in the engine's chunk
    // size (fewer page faults on a big run); the faster of the two is the floor.
    const chunk = Math.max(1, Math.floor(CHUNK_BYTES / bytesPerOccurrence(p.graph, pair, B, 'structured', 1)));
    floor(p, warm, keep, 2);
    const whole = await time(() => floor(p, pair, keep, pair.occurrences.length));
    const chunked = chunk < pair.occurrences.length ? await time(() => floor(p, pair, keep, chunk)) : undefined;
    const f = chunked && chunked.ms < whole.ms ? chunked : whole;
    row.floor = timing(f);
    const how = chunked ? `all at once ${fmtMs(whole.ms)}, in chunks of ${chunk} steps ${fmtMs(chunked.ms)}` : 'all at once';
    log(`${id}: floor ${fmtTiming(row.floor)}${describeReps(f)} (${how})`);
    const rel = maxRelDiff(s.value.varTimesFanIn, f.value.varTimesFanIn);
    const jd = keep ? `, J ${maxAbsDiffOverMax(s.value.jacobians!, f.value.jacobians!).toExponential(1)}·max|J|` : '';
    checks.push(`floor ${chunked ? (f === chunked ? 'chunked' : 'all at once') : 'all at once'}${chunked ? ` (${how})` : ''}`);
    checks.push(`structured vs floor: varTimesFanIn rel ${rel.toExponential(1)} ${rel <= 1e-4 ? 'ok' : 'MISMATCH'}${jd}`);
    if (rel > 1e-4) throw new Error(`${id}: structured and floor disagree on varTimesFanIn (max rel ${rel})`);
  }
  if (args.autodiff) {
    await engineStage(p, warm, 'autodiff', keep);
    const a = await time(() => engineStage(p, pair, 'autodiff', keep));
    row.autodiff = timing(a);
    log(`${id}: autodiff ${fmtTiming(row.autodiff)}${describeReps(a)}`);
    if (keep) {
      const jd = maxAbsDiffOverMax(a.value.jacobians!, s.value.jacobians!);
      checks.push(`autodiff vs structured: J ${jd.toExponential(1)}·max|J| ${jd <= 1e-5 ? 'ok' : 'MISMATCH'}`);
    } else {
      checks.push(`autodiff vs structured: varTimesFanIn rel ${maxRelDiff(a.value.varTimesFanIn, s.value.varTimesFanIn).toExponential(1)}`);
    }
  }
  row.check = checks.join('; ');
  sampleRss();
  row.peakRss = peakRss;
  release(p);
  return row;
}

// ---------------------------------------------------------------------------------------------------
// W3: statistics only, T = 2 500 / 5 000 / 10 000, one child process per T.
// ---------------------------------------------------------------------------------------------------

interface W3Result {
  T: number;
  rolloutMs: number;
  rssAfterRollout: number;
  structured: Timing;
  peakRssStructured: number;
  floor: Timing;
  floorRel: number;
  autodiff?: Timing;
  autodiffRel?: number;
  peakRssAll: number;
  chunkSteps: number;
}

const W3_UNITS = 256;
const W3_SIZES = [2_500, 5_000, 10_000];
const W3_AUTODIFF_STEPS = 100;

async function w3Child(T: number, args: Args): Promise<W3Result> {
  resetPeak();
  const p = await prepare(seedConfig(W3_UNITS, T, 1), `W3-${T}`);
  sampleRss();
  const rssAfterRollout = peakRss;
  const { pair } = p;
  // The engine's chunk: as many occurrences as its structured working-memory estimate lets into 256 MB.
  const chunkSteps = Math.max(1, Math.floor(CHUNK_BYTES / bytesPerOccurrence(p.graph, pair, p.traj.B, 'structured', 1)));

  // Structured first, so its peak RSS is rollout + structured and nothing else.
  await engineStage(p, firstOccurrences(pair, 64), 'structured', false);
  const s = await time(() => engineStage(p, pair, 'structured', false));
  sampleRss();
  const peakRssStructured = peakRss;

  seedFloor(p, firstOccurrences(pair, 64), false, chunkSteps);
  const f = await time(() => seedFloor(p, pair, false, chunkSteps));
  const floorRel = maxRelDiff(s.value.varTimesFanIn, f.value.varTimesFanIn);
  if (floorRel > 1e-4) throw new Error(`W3 T=${T}: structured and floor disagree on varTimesFanIn (max rel ${floorRel})`);

  const result: W3Result = {
    T,
    rolloutMs: p.rolloutMs,
    rssAfterRollout,
    structured: timing(s),
    peakRssStructured,
    floor: timing(f),
    floorRel,
    peakRssAll: 0,
    chunkSteps,
  };
  if (args.autodiff) {
    const first = firstOccurrences(pair, W3_AUTODIFF_STEPS);
    await engineStage(p, firstOccurrences(pair, 2), 'autodiff', false);
    const a = await time(() => engineStage(p, first, 'autodiff', false));
    result.autodiff = timing(a, T / first.occurrences.length, `extrapolated from ${first.occurrences.length} steps`);
    result.autodiffRel = maxRelDiff(a.value.varTimesFanIn, s.value.varTimesFanIn, first.occurrences.length);
  }
  sampleRss();
  result.peakRssAll = peakRss;
  release(p);
  return result;
}

function runW3Child(T: number, backend: BackendName, args: Args): Promise<W3Result> {
  return new Promise((resolve, reject) => {
    const childArgs = ['--w3-child', String(T), '--backend', backend, ...(args.autodiff ? [] : ['--no-autodiff'])];
    const child = fork(__filename, childArgs, { execArgv: ['--expose-gc'], stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    let result: W3Result | undefined;
    child.on('message', (m) => {
      result = m as W3Result;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`W3 child (T = ${T}) exited with code ${code}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// W5: the LSTM written as equations (issue 6), through analyze().
// ---------------------------------------------------------------------------------------------------

async function w5(args: Args): Promise<Row> {
  const file = path.join(examples, 'lstm-as-equations.jacobian.json');
  const what = 'LSTM as equations (custom), n 256, T 64, B 4';
  // The example at W4's sizes and pair, so the two rows compare the same LSTM built two ways.
  const config = { ...readJson(file), units: 256, timeSteps: 64, batchSize: 4, jacobians: [{ of: 'h@t', wrt: 'h@t-1' }], diagnostics: STATS_ONLY_DIAGNOSTICS };
  return keptWorkload('W5', what, config, lstmFloor, args);
}

// ---------------------------------------------------------------------------------------------------
// --profile: per-kernel times (tf.profile) of the structured stage and the floor of one workload.
// ---------------------------------------------------------------------------------------------------

async function kernelProfile(label: string, fn: () => unknown): Promise<void> {
  const t = tf();
  collect();
  const start = performance.now();
  const info = await t.profile(async () => {
    await fn();
  });
  const wall = performance.now() - start;
  const byKernel = new Map<string, { ms: number; calls: number; shapes: Set<string> }>();
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0, shapes: new Set<string>() };
    e.ms += typeof ms === 'number' ? ms : 0;
    e.calls++;
    if (e.shapes.size < 3) e.shapes.add(k.inputShapes.map((sh) => `[${(sh ?? []).join(',')}]`).join(' '));
    byKernel.set(k.name, e);
  }
  const inKernels = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`${label}: ${fmtMs(wall)} under the profiler, ${fmtMs(inKernels)} in ${info.kernels.length} kernels, ${fmtMs(wall - inKernels)} outside (readbacks, JS)`);
  console.log(
    table(
      ['kernel', 'calls', 'ms', 'share', 'input shapes (first calls)'],
      [...byKernel.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([name, e]) => [name, String(e.calls), e.ms.toFixed(1), `${((100 * e.ms) / wall).toFixed(1)}%`, [...e.shapes].join('; ')]),
    ),
  );
  console.log('');
}

async function profileWorkload(id: string): Promise<void> {
  const configs: Record<string, [Record<string, unknown>, Floor, boolean]> = {
    W2: [seedConfig(512, 64, 4), seedFloor, true],
    W3: [seedConfig(W3_UNITS, 2_500, 1), seedFloor, false],
    W4: [lstmConfig(256, 64, 4), lstmFloor, true],
  };
  const entry = configs[id];
  if (!entry) throw new Error(`--profile: expected W2, W3 or W4, got ${id}`);
  const [config, floor, keep] = entry;
  const p = await prepare(config, id);
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / bytesPerOccurrence(p.graph, p.pair, p.traj.B, 'structured', 1)));
  console.log(`${id} (${id === 'W3' ? 'T = 2 500' : 'as benchmarked'}), ${tf().getBackend()}: structured chunk and floor chunk = ${chunk} steps`);
  console.log('');
  await engineStage(p, firstOccurrences(p.pair, 2), 'structured', keep);
  floor(p, firstOccurrences(p.pair, 2), keep, 2);
  await kernelProfile(`${id} structured`, () => engineStage(p, p.pair, 'structured', keep));
  await kernelProfile(`${id} floor`, () => floor(p, p.pair, keep, chunk));
  release(p);
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

const started = performance.now();
function log(line: string): void {
  console.error(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sampler = setInterval(sampleRss, 50);
  sampler.unref();

  if (args.w3Child !== undefined) {
    await initBackend(args.backend);
    const r = await w3Child(args.w3Child, args);
    // Wait until the result is handed to the parent before main() exits the process. Run by hand (for a
    // profile: node --cpu-prof dist/bench/bench.js --w3-child 10000), it prints the result instead.
    if (!process.send) console.log(JSON.stringify(r, null, 1));
    else await new Promise<void>((resolve, reject) => process.send!(r, undefined, {}, (e) => (e ? reject(e) : resolve())));
    return;
  }

  const backend = await initBackend(args.backend);
  if (args.profile) {
    await profileWorkload(args.profile);
    return;
  }
  const wants = (id: string) => !args.only || args.only.has(id);
  const cpu = os.cpus();
  console.log('RNN Jacobian Lab benchmark');
  console.log(`  date:    ${new Date().toISOString()}`);
  console.log(`  backend: ${backend} (tfjs-core ${tf().version_core})`);
  console.log(`  machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.platform()} ${os.release()}`);
  console.log(`  node:    ${process.version}${gc ? '' : ' (run with --expose-gc for steadier numbers)'}`);
  console.log(`  load average at start: ${loadavg()} (1, 5, 15 min)`);
  console.log('  Stage timed: Jacobians + per-matrix mean/variance/Frobenius read back to the host. ' +
    (args.statsOnly ? 'Statistics only everywhere (--stats-only).' : 'W1, W2, W4 also read'));
  if (!args.statsOnly) console.log('  every Jacobian back (kept, as analyze does by default); W3 keeps statistics only. Rollout timed apart.');
  console.log('  Times are wall clock (cpu = user + system time of the process, all threads, for the same run);');
  console.log('  stages of 0.1–5 s are the best of 3 runs, shorter ones the mean of up to 20, longer ones one run.');
  console.log('');

  const rows: Row[] = [];
  if (wants('W1')) {
    const cfg = { ...readJson(path.join(examples, 'seed-relu.jacobian.json')), diagnostics: STATS_ONLY_DIAGNOSTICS };
    rows.push(await keptWorkload('W1', 'seed config (examples/seed-relu)', cfg, seedFloor, args));
  }
  if (wants('W2')) rows.push(await keptWorkload('W2', 'seed relu, n 512, T 64, B 4', seedConfig(512, 64, 4), seedFloor, args));
  if (wants('W4')) rows.push(await keptWorkload('W4', 'LSTM tanh/sigmoid, n 256, T 64, B 4', lstmConfig(256, 64, 4), lstmFloor, args));
  if (wants('W5')) rows.push(await w5(args));

  // Spectra (bench/spectra.ts).
  if (wants('S1')) await benchS1(backend);
  if (wants('W6')) benchW6(backend);
  if (wants('N2048')) benchN2048(backend);
  if (wants('WARM')) await benchWarm(backend);

  const w3: W3Result[] = [];
  if (wants('W3')) {
    for (const T of W3_SIZES) {
      log(`W3: T = ${T} (child process)`);
      const r = await runW3Child(T, backend, args);
      log(`W3: T = ${T}: rollout ${fmtMs(r.rolloutMs)}, structured ${fmtTiming(r.structured)}, floor ${fmtTiming(r.floor)}, peak RSS ${fmtMB(r.peakRssStructured)}`);
      w3.push(r);
    }
  }

  if (rows.length) {
    console.log(
      table(
        ['workload', 'Jacobians', 'rollout', 'structured', 'autodiff', 'floor', 'autodiff/structured', 'structured/floor', 'peak RSS', 'checks'],
        rows.map((r) => [
          `${r.id} ${r.what}`,
          r.jacobians,
          fmtMs(r.rolloutMs),
          fmtTiming(r.structured),
          fmtTiming(r.autodiff),
          fmtTiming(r.floor),
          fmtRatios(r.autodiff, r.structured),
          fmtRatios(r.structured, r.floor),
          r.peakRss ? fmtMB(r.peakRss) : '—',
          r.check,
        ]),
      ),
    );
    console.log('  peak RSS of W1/W2/W4/W5: of the bench process, which keeps what earlier rows grew (a wasm heap never shrinks; tfjs-node and V8 keep freed memory too).');
  }

  if (w3.length) {
    console.log('');
    console.log(`W3: seed relu, n ${W3_UNITS}, B 1, statistics only (no Jacobians kept); one child process per T`);
    console.log(
      table(
        ['T', 'rollout', 'structured', 'structured / step', 'autodiff', 'floor', 'autodiff/structured', 'structured/floor', 'peak RSS: rollout + structured', 'checks'],
        w3.map((r) => [
          String(r.T),
          fmtMs(r.rolloutMs),
          fmtTiming(r.structured),
          `${((r.structured.ms / r.T) * 1000).toFixed(0)} µs (cpu ${((r.structured.cpuMs / r.T) * 1000).toFixed(0)} µs)`,
          fmtTiming(r.autodiff),
          fmtTiming(r.floor),
          fmtRatios(r.autodiff, r.structured),
          fmtRatios(r.structured, r.floor),
          `${fmtMB(r.peakRssStructured)} (after rollout ${fmtMB(r.rssAfterRollout)}; + floor, autodiff ${fmtMB(r.peakRssAll)})`,
          `structured vs floor: varTimesFanIn rel ${r.floorRel.toExponential(1)}` +
            (r.autodiffRel !== undefined ? `; vs autodiff (first ${W3_AUTODIFF_STEPS} steps): rel ${r.autodiffRel.toExponential(1)}` : ''),
        ]),
      ),
    );
    console.log(`  floor and structured both run in chunks of ${w3[0].chunkSteps} steps (the engine's 256 MB chunk budget).`);
  }

  // Targets.
  console.log('');
  console.log('Targets: verdict by wall clock and by CPU time (the process\'s own work; on a shared machine the wall clock');
  console.log('also counts time spent waiting for a core). One word when both agree.');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const target = (label: string, value: string, wallOk: boolean, cpuOk: boolean) =>
    console.log(
      `  ${label.padEnd(36)} ${value.padEnd(64)} ${wallOk === cpuOk ? passFail(wallOk) : `${passFail(wallOk)} (wall) / ${passFail(cpuOk)} (cpu)`}`,
    );
  const ratioTarget = (label: string, what: string, a: Timing, b: Timing, ok: (r: number) => boolean, need: string) =>
    target(label, `${what} = ${fmtRatios(a, b)}, need ${need}`, ok(a.ms / b.ms), ok(a.cpuMs / b.cpuMs));
  const w2 = byId.get('W2');
  if (w2?.structured && w2.autodiff) ratioTarget('W2 structured ≤ 1/30 of autodiff', 'autodiff/structured', w2.autodiff, w2.structured, (r) => r >= 30, '≥ 30×');
  if (w2?.structured && w2.floor) ratioTarget('W2 structured ≤ 2× floor', 'structured/floor', w2.structured, w2.floor, (r) => r <= 2, '≤ 2×');
  if (w3.length) {
    const worst = Math.max(...w3.map((r) => r.peakRssStructured));
    target('W3 peak RSS < 1 GB', `max ${fmtMB(worst)} over T = ${w3.map((r) => r.T).join(', ')}`, worst < 2 ** 30, worst < 2 ** 30);
    if (w3.length > 1) {
      const rel = (f: (r: W3Result) => number) => w3.map((r) => f(r) / r.T / (f(w3[0]) / w3[0].T));
      const wall = rel((r) => r.structured.ms);
      const cpuRel = rel((r) => r.structured.cpuMs);
      target(
        'W3 time linear in T',
        `per step vs T = ${w3[0].T}: ${wall.map((x) => x.toFixed(2)).join(', ')} (cpu ${cpuRel.map((x) => x.toFixed(2)).join(', ')}), need ≤ 1.25`,
        Math.max(...wall) <= 1.25,
        Math.max(...cpuRel) <= 1.25,
      );
      console.log(`  ${''.padEnd(36)} (rollout per step vs T = ${w3[0].T}: ${rel((r) => r.rolloutMs).map((x) => x.toFixed(2)).join(', ')})`);
    }
  }
  const w4 = byId.get('W4');
  if (w4?.structured && w4.autodiff) ratioTarget('W4 structured ≤ 1/10 of autodiff', 'autodiff/structured', w4.autodiff, w4.structured, (r) => r >= 10, '≥ 10×');
  const w5row = byId.get('W5');
  if (w4?.structured && w5row?.structured) {
    console.log(`  ${'W5 vs W4 (same LSTM, two builds)'.padEnd(36)} structured W5/W4 = ${fmtRatios(w5row.structured, w4.structured)} (information, no target)`);
  }
  await controlBench(wants, log);
  console.log(`  load average at end: ${loadavg()}; total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
