// The panel's one store: the result on show and the selection. Views subscribe and redraw from a
// snapshot; nothing else holds panel state, so a view is a function of the snapshot and its own DOM.
import type { PairArrays, Report } from '../src/engine/run/report';
import type { ControlPanelState, PanelState } from '../src/protocol/messages';

export interface Snapshot {
  file?: string;
  report?: Report;
  pairs: PairArrays[];
  selection: PanelState;
  /** The latest control run (Stabilize / Floss), whatever config the panel shows. */
  control?: ControlPanelState;
}

export type Listener = (s: Snapshot, previous: Snapshot) => void;

export class Store {
  private snapshot: Snapshot;
  private readonly listeners: Listener[] = [];

  constructor(selection: PanelState) {
    this.snapshot = { pairs: [], selection };
  }

  get(): Snapshot {
    return this.snapshot;
  }

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Replaces parts of the snapshot and tells every listener, with the snapshot before. */
  set(change: Partial<Snapshot>): void {
    const previous = this.snapshot;
    this.snapshot = { ...previous, ...change };
    for (const l of this.listeners) l(this.snapshot, previous);
  }
}
