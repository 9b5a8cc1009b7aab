// The one protocol between the extension host, the engine process and the webview.
// Every message is a plain object with a `type`; large arrays are Float32Array fields, which both
// Node's 'advanced' IPC serialization and webview postMessage carry as binary (structured clone).
import type { SourceIssue, UserErrorKind } from '../engine/errors';
import type { BackendPreference } from '../engine/backend/backend';
import type { KrylovSummary, LayerSummary, PairArrays, PairReport, Report, RunTimings, SpectraReport, StepStats } from '../engine/run/report';
import type { GradientCurve } from '../engine/series/propagation';
import type { LyapunovSpectrum, LyapunovTheory } from '../engine/series/lyapunov';
import type { StepRecord, StopReason } from '../engine/control/optimize';
import type { Progress } from './progress';
import { isProgressStage } from './progress';
import {
  anyOf, arrayOf, either, isBoolean, isCount, isFloat32Array, isFloat64Array, isNumber, isString, nullable, oneOf, optional, shape, taggedUnion,
  type Guard,
} from './guards';

export type { BackendPreference };

/**
 * What the host receives and keeps of a run: the report and the arrays the panel draws. Parameters and
 * trajectories stay in the engine process, which writes them for Export .npy.
 */
export interface RunView {
  report: Report;
  pairs: PairArrays[];
}

export type { Progress, ProgressStage } from './progress';

export interface RunOptions {
  backend: BackendPreference;
  /** Refuse runs whose estimated memory exceeds this; overrides the config's maxMemoryMB when set. */
  maxMemoryMB?: number;
  /** Whole Jacobians are kept (for heatmaps and --save) only when their total size is at most this. */
  keepJacobiansMB: number;
}

// ── extension host → engine process ─────────────────────────────────────────────────────────────
export type HostToEngine =
  | { type: 'run'; runId: number; file: string; text: string; options: RunOptions }
  /** Write the last successful result of `runId` as .npy files + manifest.json into `dir`. */
  | { type: 'save'; requestId: number; runId: number; dir: string }
  /** Load the backend (and everything a first run would load) now, while the user is not waiting. */
  | { type: 'warm'; requestId: number; backend: BackendPreference }
  /** The whole spectrum of one Jacobian of the held run `runId` (what the panel shows, computed on demand). */
  | ({ type: 'spectrum'; requestId: number; runId: number } & SpectrumSelection)
  /** LSC or flossing of a config (docs/control.md); progress per optimisation step, then a summary. */
  | { type: 'control'; runId: number; kind: ControlKind; file: string; text: string; options: { backend: BackendPreference } }
  /** Stops the loop after its current step; the run then answers with its best weights so far (stop 'cancelled'). */
  | { type: 'controlCancel'; runId: number }
  /** Writes the held control result of `runId` into `dir` (weights, manifest, new config). */
  | { type: 'controlExport'; requestId: number; runId: number; dir: string; force: boolean }
  /** Analyzes the original config and the exported one for the before/after view. */
  | { type: 'controlCompare'; requestId: number; runId: number };

// ── engine process → extension host ─────────────────────────────────────────────────────────────
export type EngineToHost =
  | { type: 'ready'; pid: number }
  | { type: 'warmed'; requestId: number; backend: string; reason: string; ms: number }
  | { type: 'progress'; runId: number; progress: Progress }
  | { type: 'log'; line: string }
  | { type: 'result'; runId: number; result: RunView }
  | { type: 'invalid'; runId: number; kind: UserErrorKind; issues: SourceIssue[] }
  | { type: 'failed'; runId: number; message: string; stack?: string }
  | { type: 'saved'; requestId: number; runId: number; dir: string; files: string[] }
  | { type: 'saveFailed'; requestId: number; runId: number; message: string }
  | { type: 'spectrum'; requestId: number; runId: number; outcome: SpectrumOutcome }
  | { type: 'controlStarted'; runId: number; quantities: ControlQuantity[] }
  | { type: 'controlProgress'; runId: number; step: ControlStep }
  | { type: 'controlResult'; runId: number; summary: ControlSummary }
  | { type: 'controlInvalid'; runId: number; kind: UserErrorKind; issues: SourceIssue[] }
  | { type: 'controlFailed'; runId: number; message: string; stack?: string }
  | { type: 'controlExported'; requestId: number; runId: number; outcome: { ok: true; files: ControlFiles } | { ok: false; message: string } }
  | { type: 'controlCompared'; requestId: number; runId: number; outcome: ControlComparison };

// ── extension host → webview ────────────────────────────────────────────────────────────────────
export type HostToWebview =
  | { type: 'running'; file: string; progress?: Progress }
  /** `runId` names the run for on-demand spectrum requests (absent where no engine holds it, as in the preview). */
  | { type: 'result'; file: string; report: Report; pairs: PairArrays[]; runId?: number }
  /** The config is invalid now: the panel keeps the last good result and marks it stale. */
  | { type: 'invalid'; file: string; issues: SourceIssue[]; kind?: UserErrorKind }
  | { type: 'failed'; file: string; message: string }
  | { type: 'cancelled'; file: string }
  | { type: 'exported'; what: ExportKind; path: string }
  /** The reply to the webview's 'spectrum' request with the same requestId and runId. */
  | ({ type: 'spectrum'; requestId: number; runId: number; outcome: SpectrumOutcome } & SpectrumSelection)
  /** The whole state of the latest control run (small while it runs; the before/after views once compared). */
  | { type: 'control'; state: ControlPanelState };

export type ExportKind = 'png' | 'csv' | 'json' | 'npy';

// ── webview → extension host ────────────────────────────────────────────────────────────────────
export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'rerun' }
  /** PNG export carries the canvas as a data URL; the other kinds are written by the host. */
  /** `view` names the panel view drawn (its file suffix): `heatmap` when absent. */
  | { type: 'export'; what: 'png'; dataUrl: string; view?: string }
  | { type: 'export'; what: 'csv'; csv: string }
  | { type: 'export'; what: 'json' | 'npy' }
  /** The whole spectrum of the Jacobian on screen, when the run's arrays do not hold it; answered by a 'spectrum'. */
  | ({ type: 'spectrum'; requestId: number; runId: number } & SpectrumSelection)
  /** Opens one of the files the control run on show wrote (the host opens only those). */
  | { type: 'openControlFile'; path: string };

// ── control runs (LSC, flossing) ────────────────────────────────────────────────────────────────
export type ControlKind = 'stabilize' | 'floss';
/** One optimisation step: its loss and, per quantity, the median ρ (or λ_i) it measured. */
export type ControlStep = StepRecord;
/** A controlled quantity (a Jacobian kind, a Lyapunov exponent), its target, and its median on the config's own data before the run. */
export interface ControlQuantity {
  label: string;
  target: number;
  before: number;
}
export interface ControlSummary {
  kind: ControlKind;
  backend: string;
  stop: StopReason;
  steps: number;
  bestStep: number;
  msPerStep: number;
  quantities: (ControlQuantity & { after: number })[];
}
export interface ControlFiles {
  dir: string;
  files: string[];
  /** The new config (in `dir`), pointing at the written weights. */
  config: string;
}
export type ControlComparison = { ok: true; before: RunView; after: RunView } | { ok: false; message: string };
export type ControlPhase = 'running' | 'cancelling' | 'exporting' | 'comparing' | 'done' | 'cancelled' | 'invalid' | 'failed';
export interface ControlPanelState {
  id: number;
  kind: ControlKind;
  file: string;
  phase: ControlPhase;
  /** What the panel says beside the phase (why it failed, what was kept). */
  message?: string;
  quantities: ControlQuantity[];
  history: ControlStep[];
  summary?: ControlSummary;
  files?: ControlFiles;
  comparison?: ControlComparison;
}

/** One Jacobian of a run: pair index, step index and batch element. */
export interface SpectrumSelection {
  pair: number;
  step: number;
  b: number;
}

/** Singular values (descending) and, for a square Jacobian, eigenvalues (by decreasing modulus), in float64. */
export interface SpectrumArrays {
  singularValues: Float64Array;
  eigenRe?: Float64Array;
  eigenIm?: Float64Array;
}

export type SpectrumOutcome = { ok: true; spectrum: SpectrumArrays } | { ok: false; message: string };

/** What the webview persists with setState, and what the serializer revives the panel with. */
export interface PanelState {
  file?: string;
  pairIndex: number;
  stepIndex: number;
  batchIndex: number;
  /** One colour scale for all steps of the selected pair instead of one per matrix. */
  sharedLimits?: boolean;
  /** Singular values on a log axis. */
  logSingular?: boolean;
}

// ── guards: every process checks what it receives with these, and logs and drops what fails ─────────────────
// One guard per message (taggedUnion makes a message without a guard a compile error). They check every field
// the receivers read; a Report is checked down to the per-step numbers the panel and the CodeLenses show.

const isBackendPreference = oneOf('auto', 'tensorflow', 'wasm', 'cpu') satisfies Guard<BackendPreference>;
const isUserErrorKind = oneOf('config', 'input', 'memory') satisfies Guard<UserErrorKind>;
const isNumbers = arrayOf(isNumber);

export const isSourceIssue: Guard<SourceIssue> = shape<SourceIssue>({
  file: isString, path: isString, message: isString, line: isCount, column: isCount, offset: isCount, length: isCount,
});

export const isProgress: Guard<Progress> = shape<Progress>({ stage: isProgressStage, step: isCount, total: isCount });

const isRunOptions: Guard<RunOptions> = shape<RunOptions>({
  backend: isBackendPreference, maxMemoryMB: optional(isNumber), keepJacobiansMB: isNumber,
});

const isStepStats = shape<StepStats>({
  t: isNumber, mean: isNumbers, varTimesFanIn: isNumbers, frobenius: isNumbers,
  spectralNorm: optional(isNumbers), spectralRadius: optional(isNumbers),
});

const isNumberRows = arrayOf(isNumbers);

const isGradientCurve = shape<GradientCurve>({
  t: isNumbers, logSpectral: isNumberRows, logFrobenius: isNumberRows,
  rate: shape<GradientCurve['rate']>({ spectral: isNumber, frobenius: isNumber }),
});

const isLyapunovTheory = shape<LyapunovTheory>({
  newman: shape<LyapunovTheory['newman']>({ n: isCount, sigma2: isNumber, exponents: isNumbers, assumptions: isString }),
  meanField: optional(shape<NonNullable<LyapunovTheory['meanField']>>({
    gain: isNumber, driveVariance: isNumber, delta: isNumber, lambdaMax: isNumber, assumptions: isString,
  })),
});

const isLyapunovSpectrum = shape<LyapunovSpectrum>({
  exponents: isNumbers, spread: isNumbers, perBatch: isNumberRows, steps: isCount, every: isCount, transient: isCount,
  zeroPivots: isCount, convergence: shape<LyapunovSpectrum['convergence']>({ t: isNumbers, exponents: isNumberRows }),
  theory: optional(isLyapunovTheory),
});

const isLayerSummary = shape<LayerSummary>({ name: isString, cell: isString, units: isCount, inputDim: isCount, activation: isString });

const isKrylovSummary = shape<KrylovSummary>({
  tol: isNumber, products: shape<KrylovSummary['products']>({ min: isNumber, mean: isNumber, max: isNumber }),
  denseFallbacks: arrayOf(shape<KrylovSummary['denseFallbacks'][number]>({ t: isNumber, b: isCount })),
});

const isSpectraReport = shape<SpectraReport>({
  method: oneOf('matrix-free', 'dense'), reason: isString,
  spectralNorm: optional(isKrylovSummary), spectralRadius: optional(isKrylovSummary),
});

const isPairReport = shape<PairReport>({
  of: isString, wrt: isString, path: isString, outDim: isCount, inDim: isCount, method: isString as Guard<PairReport['method']>,
  fallbackReason: optional(isString),
  expected: nullable(shape<NonNullable<PairReport['expected']>>({ varTimesFanIn: isNumber, formula: isString })),
  steps: arrayOf(isStepStats),
  gradient: optional(isGradientCurve), lyapunov: optional(isLyapunovSpectrum), spectra: optional(isSpectraReport),
});

export const isReport: Guard<Report> = shape<Report>({
  schemaVersion: isNumber as Guard<Report['schemaVersion']>, config: isString, cell: isString, units: isCount, inputDim: isCount,
  activation: isString, timeSteps: isCount, batchSize: isCount, seed: isNumber, backend: isString, backendReason: optional(isString),
  method: isString as Guard<Report['method']>, diagnostics: arrayOf(isString) as Guard<Report['diagnostics']>,
  layers: optional(arrayOf(isLayerSummary)),
  timings: shape<RunTimings>({ buildMs: isNumber, rolloutMs: isNumber, jacobianMs: isNumber, diagnosticsMs: isNumber, totalMs: isNumber }), jacobians: arrayOf(isPairReport),
});

const isPairArrays = shape<PairArrays>({
  jacobians: optional(isFloat32Array), singularValues: optional(isFloat32Array),
  eigenvaluesRe: optional(isFloat32Array), eigenvaluesIm: optional(isFloat32Array),
});

const isSpectrumArrays = shape<SpectrumArrays>({
  singularValues: isFloat64Array, eigenRe: optional(isFloat64Array), eigenIm: optional(isFloat64Array),
});

export const isSpectrumOutcome: Guard<SpectrumOutcome> = either(
  shape<Extract<SpectrumOutcome, { ok: true }>>({ ok: oneOf(true), spectrum: isSpectrumArrays }),
  shape<Extract<SpectrumOutcome, { ok: false }>>({ ok: oneOf(false), message: isString }),
);

const spectrumSelectionFields = { pair: isCount, step: isCount, b: isCount };

const isRunView = shape<RunView>({ report: isReport, pairs: arrayOf(isPairArrays) });

const isControlKind = oneOf('stabilize', 'floss') satisfies Guard<ControlKind>;
const isControlStep = shape<ControlStep>({ step: isCount, loss: isNumber, medians: isNumbers, seconds: isNumber });
const controlQuantityFields = { label: isString, target: isNumber, before: isNumber };
const isControlQuantity = shape<ControlQuantity>(controlQuantityFields);
const isControlSummary = shape<ControlSummary>({
  kind: isControlKind, backend: isString, stop: oneOf('converged', 'maxSteps', 'maxSeconds', 'cancelled') satisfies Guard<StopReason>,
  steps: isCount, bestStep: isCount, msPerStep: isNumber,
  quantities: arrayOf(shape<ControlSummary['quantities'][number]>({ ...controlQuantityFields, after: isNumber })),
});
const isControlFiles = shape<ControlFiles>({ dir: isString, files: arrayOf(isString), config: isString });
const isFailure = shape<{ ok: false; message: string }>({ ok: oneOf(false), message: isString });
const isControlComparison: Guard<ControlComparison> = either(
  shape<Extract<ControlComparison, { ok: true }>>({ ok: oneOf(true), before: isRunView, after: isRunView }),
  isFailure,
);
const isControlPanelState = shape<ControlPanelState>({
  id: isCount, kind: isControlKind, file: isString,
  phase: oneOf('running', 'cancelling', 'exporting', 'comparing', 'done', 'cancelled', 'invalid', 'failed') satisfies Guard<ControlPhase>,
  message: optional(isString), quantities: arrayOf(isControlQuantity), history: arrayOf(isControlStep),
  summary: optional(isControlSummary), files: optional(isControlFiles), comparison: optional(isControlComparison),
});

export const isHostToEngine: Guard<HostToEngine> = taggedUnion<HostToEngine>({
  run: shape({ type: oneOf('run'), runId: isCount, file: isString, text: isString, options: isRunOptions }),
  save: shape({ type: oneOf('save'), requestId: isCount, runId: isCount, dir: isString }),
  warm: shape({ type: oneOf('warm'), requestId: isCount, backend: isBackendPreference }),
  spectrum: shape({ type: oneOf('spectrum'), requestId: isCount, runId: isCount, ...spectrumSelectionFields }),
  control: shape({ type: oneOf('control'), runId: isCount, kind: isControlKind, file: isString, text: isString, options: shape<{ backend: BackendPreference }>({ backend: isBackendPreference }) }),
  controlCancel: shape({ type: oneOf('controlCancel'), runId: isCount }),
  controlExport: shape({ type: oneOf('controlExport'), requestId: isCount, runId: isCount, dir: isString, force: isBoolean }),
  controlCompare: shape({ type: oneOf('controlCompare'), requestId: isCount, runId: isCount }),
});

export const isEngineToHost: Guard<EngineToHost> = taggedUnion<EngineToHost>({
  ready: shape({ type: oneOf('ready'), pid: isCount }),
  warmed: shape({ type: oneOf('warmed'), requestId: isCount, backend: isString, reason: isString, ms: isNumber }),
  progress: shape({ type: oneOf('progress'), runId: isCount, progress: isProgress }),
  log: shape({ type: oneOf('log'), line: isString }),
  result: shape({ type: oneOf('result'), runId: isCount, result: isRunView }),
  invalid: shape({ type: oneOf('invalid'), runId: isCount, kind: isUserErrorKind, issues: arrayOf(isSourceIssue) }),
  failed: shape({ type: oneOf('failed'), runId: isCount, message: isString, stack: optional(isString) }),
  saved: shape({ type: oneOf('saved'), requestId: isCount, runId: isCount, dir: isString, files: arrayOf(isString) }),
  saveFailed: shape({ type: oneOf('saveFailed'), requestId: isCount, runId: isCount, message: isString }),
  spectrum: shape({ type: oneOf('spectrum'), requestId: isCount, runId: isCount, outcome: isSpectrumOutcome }),
  controlStarted: shape({ type: oneOf('controlStarted'), runId: isCount, quantities: arrayOf(isControlQuantity) }),
  controlProgress: shape({ type: oneOf('controlProgress'), runId: isCount, step: isControlStep }),
  controlResult: shape({ type: oneOf('controlResult'), runId: isCount, summary: isControlSummary }),
  controlInvalid: shape({ type: oneOf('controlInvalid'), runId: isCount, kind: isUserErrorKind, issues: arrayOf(isSourceIssue) }),
  controlFailed: shape({ type: oneOf('controlFailed'), runId: isCount, message: isString, stack: optional(isString) }),
  controlExported: shape({
    type: oneOf('controlExported'), requestId: isCount, runId: isCount,
    outcome: either(shape<{ ok: true; files: ControlFiles }>({ ok: oneOf(true), files: isControlFiles }), isFailure),
  }),
  controlCompared: shape({ type: oneOf('controlCompared'), requestId: isCount, runId: isCount, outcome: isControlComparison }),
});

const isExportKind = oneOf('png', 'csv', 'json', 'npy') satisfies Guard<ExportKind>;

export const isHostToWebview: Guard<HostToWebview> = taggedUnion<HostToWebview>({
  running: shape({ type: oneOf('running'), file: isString, progress: optional(isProgress) }),
  result: shape({ type: oneOf('result'), file: isString, report: isReport, pairs: arrayOf(isPairArrays), runId: optional(isCount) }),
  invalid: shape({ type: oneOf('invalid'), file: isString, issues: arrayOf(isSourceIssue), kind: optional(isUserErrorKind) }),
  failed: shape({ type: oneOf('failed'), file: isString, message: isString }),
  cancelled: shape({ type: oneOf('cancelled'), file: isString }),
  exported: shape({ type: oneOf('exported'), what: isExportKind, path: isString }),
  spectrum: shape({ type: oneOf('spectrum'), requestId: isCount, runId: isCount, outcome: isSpectrumOutcome, ...spectrumSelectionFields }),
  control: shape({ type: oneOf('control'), state: isControlPanelState }),
});

export const isWebviewToHost: Guard<WebviewToHost> = taggedUnion<WebviewToHost>({
  ready: shape({ type: oneOf('ready') }),
  rerun: shape({ type: oneOf('rerun') }),
  export: anyOf(
    shape({ type: oneOf('export'), what: oneOf('png'), dataUrl: isString }),
    shape({ type: oneOf('export'), what: oneOf('csv'), csv: isString }),
    shape({ type: oneOf('export'), what: oneOf('json', 'npy') }),
  ),
  spectrum: shape({ type: oneOf('spectrum'), requestId: isCount, runId: isCount, ...spectrumSelectionFields }),
  openControlFile: shape({ type: oneOf('openControlFile'), path: isString }),
});

