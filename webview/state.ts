// The webview's persisted selection (PanelState from the protocol) and the VS Code API handle.
// clampState / restoreState are pure and unit-tested.
import type { PanelState, WebviewToHost } from '../src/protocol/messages';
import type { Report } from '../src/engine/run/report';

/** What acquireVsCodeApi() returns inside a VS Code webview. */
export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const DEFAULT_STATE: PanelState = { pairIndex: 0, stepIndex: 0, batchIndex: 0, sharedLimits: false, logSingular: true };

let api: VsCodeApi | undefined;

/** The VS Code API (acquired once: a second acquireVsCodeApi() call throws). */
export function vscodeApi(): VsCodeApi {
  if (!api) {
    api = typeof acquireVsCodeApi === 'function'
      ? acquireVsCodeApi()
      : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };
  }
  return api;
}

function intOr(x: unknown, fallback: number): number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : fallback;
}

/** A PanelState from whatever getState() returned (undefined, an old shape, garbage). */
export function restoreState(saved: unknown): PanelState {
  const s = (saved && typeof saved === 'object' ? saved : {}) as Partial<PanelState>;
  return {
    file: typeof s.file === 'string' ? s.file : undefined,
    pairIndex: intOr(s.pairIndex, 0),
    stepIndex: intOr(s.stepIndex, 0),
    batchIndex: intOr(s.batchIndex, 0),
    sharedLimits: typeof s.sharedLimits === 'boolean' ? s.sharedLimits : DEFAULT_STATE.sharedLimits,
    logSingular: typeof s.logSingular === 'boolean' ? s.logSingular : DEFAULT_STATE.logSingular,
  };
}

/**
 * The selection made valid for `report` of `file`: a result for another file starts at the first
 * pair, step and batch element; indices past the end are clamped.
 */
export function clampState(s: PanelState, report: Report, file: string): PanelState {
  const sameFile = s.file === undefined || s.file === file;
  const pairs = report.jacobians.length;
  const pairIndex = sameFile ? Math.min(s.pairIndex, Math.max(0, pairs - 1)) : 0;
  const steps = report.jacobians[pairIndex]?.steps.length ?? 0;
  return {
    ...s,
    file,
    pairIndex,
    stepIndex: sameFile ? Math.min(s.stepIndex, Math.max(0, steps - 1)) : 0,
    batchIndex: sameFile ? Math.min(s.batchIndex, Math.max(0, report.batchSize - 1)) : 0,
  };
}
