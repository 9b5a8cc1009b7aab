// Pure shaping of a control run's state (ControlPanelState) for the control view: the live curves of ρ per kind
// (or λ_i) against the optimisation step with their targets, and the before/after numbers. Unit-tested without a DOM.
import type { ControlPanelState } from '../src/protocol/messages';
import type { Point } from './seriesData';

export interface ControlCurve {
  label: string;
  target: number;
  /** (step, median); step 0 is the measurement on the config's own data before the first update. */
  points: Point[];
}

export function controlCurves(state: ControlPanelState): ControlCurve[] {
  return state.quantities.map((q, k) => ({
    label: q.label,
    target: q.target,
    points: [{ x: 0, y: q.before }, ...state.history.map((s) => ({ x: s.step, y: s.medians[k] }))],
  }));
}

export interface ControlRow {
  label: string;
  target: number;
  before: number;
  /** On the config's own data with the kept weights; undefined until the run has ended. */
  after?: number;
  /** The latest step's median while it runs. */
  latest?: number;
}

export function controlRows(state: ControlPanelState): ControlRow[] {
  const last = state.history[state.history.length - 1];
  return state.quantities.map((q, k) => ({
    label: q.label,
    target: q.target,
    before: q.before,
    after: state.summary?.quantities[k]?.after,
    latest: last?.medians[k],
  }));
}

const PHASE_TEXT: Record<ControlPanelState['phase'], string> = {
  running: 'running',
  cancelling: 'stopping after this step…',
  exporting: 'writing the weights…',
  comparing: 'analyzing the original and the new config…',
  done: 'done',
  cancelled: 'cancelled',
  invalid: 'invalid config',
  failed: 'failed',
};

/** The status line: phase, steps, where it stopped. */
export function controlStatus(state: ControlPanelState): string {
  const s = state.summary;
  const steps = s ? `${s.steps} steps (${s.stop}), best at step ${s.bestStep}, ${s.msPerStep.toFixed(1)} ms/step on ${s.backend}` : `${state.history.length} steps`;
  return `${PHASE_TEXT[state.phase]} · ${steps}`;
}
