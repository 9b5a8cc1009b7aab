// The one protocol between the extension host, the engine process and the webview.
// Every message is a plain object with a `type`; large arrays are Float32Array fields, which both
// Node's 'advanced' IPC serialization and webview postMessage carry as binary (structured clone).
import type { SourceIssue, UserErrorKind } from '../engine/errors';
import type { BackendPreference } from '../engine/backend/backend';
import type { PairArrays, Report } from '../engine/run/report';

export type { BackendPreference };

/**
 * What the host receives and keeps of a run: the report and the arrays the panel draws. Parameters and
 * trajectories stay in the engine process, which writes them for Export .npy.
 */
export interface RunView {
  report: Report;
  pairs: PairArrays[];
}

export type ProgressStage = 'validate' | 'build' | 'rollout' | 'jacobians' | 'diagnostics' | 'save';

export interface Progress {
  stage: ProgressStage;
  /** Steps done in this stage, out of `total`. */
  step: number;
  total: number;
}

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
  | { type: 'save'; runId: number; dir: string };

// ── engine process → extension host ─────────────────────────────────────────────────────────────
export type EngineToHost =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; runId: number; progress: Progress }
  | { type: 'log'; line: string }
  | { type: 'result'; runId: number; result: RunView }
  | { type: 'invalid'; runId: number; kind: UserErrorKind; issues: SourceIssue[] }
  | { type: 'failed'; runId: number; message: string; stack?: string }
  | { type: 'saved'; runId: number; dir: string; files: string[] }
  | { type: 'saveFailed'; runId: number; message: string };

// ── extension host → webview ────────────────────────────────────────────────────────────────────
export type HostToWebview =
  | { type: 'running'; file: string; progress?: Progress }
  | { type: 'result'; file: string; report: Report; pairs: PairArrays[] }
  /** The config is invalid now: the panel keeps the last good result and marks it stale. */
  | { type: 'invalid'; file: string; issues: SourceIssue[]; kind?: UserErrorKind }
  | { type: 'failed'; file: string; message: string }
  | { type: 'cancelled'; file: string }
  | { type: 'exported'; what: ExportKind; path: string };

export type ExportKind = 'png' | 'csv' | 'json' | 'npy';

// ── webview → extension host ────────────────────────────────────────────────────────────────────
export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'rerun' }
  /** PNG export carries the canvas as a data URL; the other kinds are written by the host. */
  /** `view` names the panel view drawn (its file suffix): `heatmap` when absent. */
  | { type: 'export'; what: 'png'; dataUrl: string; view?: string }
  | { type: 'export'; what: 'csv'; csv: string }
  | { type: 'export'; what: 'json' | 'npy' };

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
