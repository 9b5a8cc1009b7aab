// The series diagnostics of one pair: gradient propagation and the Lyapunov spectrum, for a pair that is a
// one-step transition of a (joint) state (`l0.(h,c)@t wrt l0.(h,c)@t-1`, `state@t wrt state@t-1`): the pair
// names which state, one layer's or the whole network's.
import type { RunSpec } from '../config/spec';
import { DIAGNOSTIC_DEFS } from '../diagnostics';
import { UserError } from '../errors';
import type { CellGraph } from '../graph/graph';
import type { MemoryPart } from '../run/memory';
import type { ResolvedPair } from '../run/pairs';
import { DEFAULT_LYAPUNOV, LyapunovAccumulator, type LyapunovOptions, type LyapunovSpectrum, type LyapunovTheory } from './lyapunov';
import { driveSecondMoment, entryVariance, meanFieldLambdaMax, newmanExponents, tanhRecurrence } from './theory';
import { GradientPropagation, type GradientCurve } from './propagation';
import { isStateTransition, streamTransitions, type TransitionSource } from './transitions';

export interface SeriesResult {
  gradient?: GradientCurve;
  lyapunov?: LyapunovSpectrum;
}

/**
 * What a pair's series hold beside its Jacobians (whose chunks they stream within the same budget): the
 * running product P and its backend copies (gradient), and the k float64 directions with their J·Q (Lyapunov).
 */
export function seriesMemory(spec: RunSpec, graph: CellGraph, pair: ResolvedPair): MemoryPart[] {
  const want = wantedSeries(spec);
  if (!(want.gradient || want.lyapunov) || !isStateTransition(graph, pair)) return [];
  const B = spec.batchSize;
  const D = pair.ofDim;
  const parts: MemoryPart[] = [];
  const label = `${pair.request.of} wrt ${pair.request.wrt}`;
  if (want.gradient) parts.push({ what: `gradient propagation products for ${label}`, bytes: 4 * B * D * D * 4, path: pair.request.path });
  if (want.lyapunov) parts.push({ what: `Lyapunov directions for ${label}`, bytes: 3 * B * D * lyapunovOptions(spec, D).exponents * 8, path: pair.request.path });
  return parts;
}

/** Which series the run asks for: the registry's series diagnostics listed in the config, by what they report. */
export function wantedSeries(spec: RunSpec): { gradient: boolean; lyapunov: boolean } {
  const listed = DIAGNOSTIC_DEFS.filter((d) => d.series && spec.diagnostics.includes(d.name)).map((d) => d.series!.report);
  return { gradient: listed.includes('gradient'), lyapunov: listed.includes('lyapunov') };
}

/** Lyapunov settings: the config's, else k = min(D, 64), every step, a transient of a tenth of the run. */
export function lyapunovOptions(spec: RunSpec, D: number): LyapunovOptions {
  const given = spec.lyapunov ?? {};
  return {
    exponents: Math.min(given.exponents ?? DEFAULT_LYAPUNOV.maxExponents, D),
    every: given.every ?? DEFAULT_LYAPUNOV.every,
    transient: given.transient ?? Math.floor(spec.timeSteps / 10),
  };
}

/** What the run measured that theory needs: the pair's mean Var(J_ij), and each kernel's variance. */
export interface SeriesContext {
  entryVariance: number;
  /** Var(U) of a parameter as theory takes it (the initializer's closed form, or null: measure it). */
  variance: (param: string) => number | null;
}

function lyapunovTheory(source: TransitionSource, context: SeriesContext, k: number): LyapunovTheory {
  const { pair, graph, traj, params } = source;
  const n = pair.ofDim;
  const theory: LyapunovTheory = {
    newman: {
      n,
      sigma2: context.entryVariance,
      exponents: newmanExponents(n, context.entryVariance, k),
      assumptions: `Newman's formula: independent ${n}×${n} Jacobians with i.i.d. N(0, σ²) entries, σ² = the measured mean Var(J_ij)`,
    },
  };
  const recurrence = pair.ofNodes.length === 1 ? tanhRecurrence(graph, pair.ofNodes[0].name) : undefined;
  if (recurrence) {
    const w = params.get(recurrence.kernel)!;
    const gain = Math.sqrt(n * (context.variance(recurrence.kernel) ?? entryVariance(w)));
    const mf = meanFieldLambdaMax(gain, driveSecondMoment(traj, recurrence.drive));
    theory.meanField = {
      ...mf,
      assumptions:
        `mean field of h = tanh(drive + h_prev·R): R with i.i.d. zero-mean entries of variance g²/n (g = ${gain.toFixed(4)}), ` +
        `large n, a Gaussian pre-activation of second moment Δ, the drive's second moment measured (${mf.driveVariance.toPrecision(4)})`,
    };
  }
  return theory;
}

/**
 * Backend work of a pair's series, for the backend choice: each series recomputes the dense Jacobians, and
 * gradient propagation multiplies D×D products every step (Lyapunov's J·Q and QR run on the host in float64).
 */
export function seriesFlops(spec: RunSpec, graph: CellGraph, pair: ResolvedPair): number {
  const steps = seriesSteps(spec, graph, pair);
  if (steps === 0) return 0;
  const D = pair.ofDim;
  const ops = graph.nodes.filter((n) => n.op && n.batched).length;
  const dense = steps * spec.batchSize * D * D * ops;
  return dense + (wantedSeries(spec).gradient ? 2 * pair.occurrences.length * spec.batchSize * D * D * D : 0);
}

/** How many steps a pair's series stream (each series streams every step once), for progress. */
export function seriesSteps(spec: RunSpec, graph: CellGraph, pair: ResolvedPair): number {
  const want = wantedSeries(spec);
  if (!(want.gradient || want.lyapunov) || !isStateTransition(graph, pair)) return 0;
  return pair.occurrences.length * ((want.gradient ? 1 : 0) + (want.lyapunov ? 1 : 0));
}

/** `onStep(done, total)`: one call per step streamed, over both series (progress for long runs). */
export async function pairSeries(
  spec: RunSpec,
  source: TransitionSource,
  context: SeriesContext,
  onStep: (done: number, total: number) => void = () => {},
): Promise<SeriesResult> {
  const want = wantedSeries(spec);
  const { pair, graph, traj } = source;
  if (!(want.gradient || want.lyapunov) || !isStateTransition(graph, pair)) return {};
  const D = pair.ofDim;
  const out: SeriesResult = {};
  const total = seriesSteps(spec, graph, pair);
  let done = 0;
  const step = () => onStep(++done, total);
  if (want.gradient) {
    const g = new GradientPropagation(traj.B, D);
    await streamTransitions(source, 'backward', (t, j) => {
      g.push(t, j);
      step();
    });
    out.gradient = g.result();
  }
  if (want.lyapunov) {
    const options = lyapunovOptions(spec, D);
    const steps = pair.occurrences.length;
    if (options.transient >= steps) {
      throw new UserError('config', [
        spec.locator.issueAt('lyapunov.transient', `the transient (${options.transient} steps) leaves none of the ${steps} steps of ${pair.request.of} wrt ${pair.request.wrt} to average`),
      ]);
    }
    const acc = new LyapunovAccumulator(traj.B, D, options, steps);
    await streamTransitions(source, 'forward', (t, j) => {
      acc.push(t, j);
      step();
    });
    out.lyapunov = { ...acc.result(), theory: lyapunovTheory(source, context, options.exponents) };
  }
  return out;
}
