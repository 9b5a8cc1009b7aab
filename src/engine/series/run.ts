// The series diagnostics of one pair: gradient propagation and the Lyapunov spectrum, for a pair that is a
// one-step transition of a (joint) state (`l0.(h,c)@t wrt l0.(h,c)@t-1`, `state@t wrt state@t-1`): the pair
// names which state, one layer's or the whole network's.
import type { RunSpec } from '../config/spec';
import { UserError } from '../errors';
import { DEFAULT_LYAPUNOV, LyapunovAccumulator, type LyapunovOptions, type LyapunovSpectrum } from './lyapunov';
import { GradientPropagation, type GradientCurve } from './propagation';
import { isStateTransition, streamTransitions, type TransitionSource } from './transitions';

export interface SeriesResult {
  gradient?: GradientCurve;
  lyapunov?: LyapunovSpectrum;
}

/** Which series the run asks for. */
export function wantedSeries(spec: RunSpec): { gradient: boolean; lyapunov: boolean } {
  return { gradient: spec.diagnostics.includes('gradientPropagation'), lyapunov: spec.diagnostics.includes('lyapunov') };
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

export async function pairSeries(spec: RunSpec, source: TransitionSource): Promise<SeriesResult> {
  const want = wantedSeries(spec);
  const { pair, graph, traj } = source;
  if (!(want.gradient || want.lyapunov) || !isStateTransition(graph, pair)) return {};
  const D = pair.ofDim;
  const out: SeriesResult = {};
  if (want.gradient) {
    const g = new GradientPropagation(traj.B, D);
    await streamTransitions(source, 'backward', (t, j) => g.push(t, j));
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
    await streamTransitions(source, 'forward', (t, j) => acc.push(t, j));
    out.lyapunov = acc.result();
  }
  return out;
}
