// What a panel view is, and what the panel gives it. Every view (heatmap, diagnostic charts, per-step table,
// depth × time, gradient, Lyapunov, control) is a component over the one store: one file declares it (a ViewDeclaration),
// webview/views/index.ts lists them, and main.ts creates each, mounts its cards in the slot the layout offers for
// it, and hands it every store change. A view redraws only what the change touches.
import type { PanelState, WebviewToHost } from '../../src/protocol/messages';
import type { SpectrumRequests } from '../spectrumRequests';
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';

/** Where in the panel a view's cards go (webview/layout.ts builds the slots). */
export type Slot = 'matrix' | 'charts' | 'deep' | 'table' | 'control';

export interface ViewContext {
  theme: ThemeColors;
  /** The store's snapshot now. */
  get(): Snapshot;
  /** Moves the selection (main clamps it to the result on show). */
  select(change: Partial<Pick<PanelState, 'stepIndex' | 'batchIndex'>>): void;
  /** Replaces the selection (persisted with VS Code's state). */
  setSelection(next: PanelState): void;
  /** Posts a message to the extension host (the control view's file links). */
  post(message: WebviewToHost): void;
  /** Posts a PNG of the view named `view` to the host, which writes it. */
  exportPng(view: string): (dataUrl: string) => void;
  /** Whole spectra asked of the host for the matrix on screen (webview/spectrumRequests.ts). */
  spectra: SpectrumRequests;
}

export interface PanelView {
  /** The view's cards, in order, for its slot. */
  readonly cards: HTMLElement[];
  update(s: Snapshot, before: Snapshot): void;
  setTheme(theme: ThemeColors): void;
  /** The top bar's PNG export: the one view that offers it (the heatmap). */
  png?(): string | undefined;
  /** An on-demand spectrum arrived (SpectrumRequests holds it). */
  spectrumArrived?(): void;
}

export interface ViewDeclaration {
  name: string;
  slot: Slot;
  create(ctx: ViewContext): PanelView;
}

/** Whether the result on show or its pair changed: what the per-pair views redraw on. */
export function pairChanged(s: Snapshot, before: Snapshot): boolean {
  return s.report !== before.report || s.selection.pairIndex !== before.selection.pairIndex;
}

/** A view that draws a whole pair from a snapshot (depth × time, gradient, Lyapunov), redrawn when the pair changes. */
export function perPairView(view: { update(s: Snapshot): void; setTheme(theme: ThemeColors): void }, cards: HTMLElement[]): PanelView {
  return {
    cards,
    update: (s, before) => pairChanged(s, before) && view.update(s),
    setTheme: (theme) => view.setTheme(theme),
  };
}
