// Whole spectra on demand: when the run's arrays hold no singular values / eigenvalues (the config did not list
// them), the panel asks the host for the spectrum of the one Jacobian on screen (pair, step, batch element),
// shows "computing…" meanwhile, and caches each reply per (run, pair, step, b). One request is in flight at a
// time. A reply for another run, or for a request this panel did not make, is dropped; one for a selection no
// longer on screen is cached, not drawn, and the selection on screen then is asked for.
import type { HostToWebview, SpectrumArrays, SpectrumSelection, WebviewToHost } from '../src/protocol/messages';
import type { Snapshot } from './store';

/** What the singular-value and eigenvalue charts show for the selection when the run's arrays lack it. */
export type OnDemandSpectrum =
  | { state: 'computing' }
  | { state: 'ready'; spectrum: SpectrumArrays }
  /** The request failed, or cannot be made (Jacobians not kept, no engine holds the run): `message` says why. */
  | { state: 'unavailable'; message: string };

type SpectrumReply = Extract<HostToWebview, { type: 'spectrum' }>;

const COMPUTING: OnDemandSpectrum = { state: 'computing' };

function keyOf(at: SpectrumSelection): string {
  return `${at.pair}/${at.step}/${at.b}`;
}

/** The selection of a snapshot as a spectrum request names it. */
export function selectionOf(s: Snapshot): SpectrumSelection {
  return { pair: s.selection.pairIndex, step: s.selection.stepIndex, b: s.selection.batchIndex };
}

export class SpectrumRequests {
  private runId: number | undefined;
  private readonly cache = new Map<string, OnDemandSpectrum>();
  /** requestId → the selection it asked for. */
  private readonly pending = new Map<number, string>();
  private nextRequestId = 1;

  constructor(private readonly send: (message: WebviewToHost) => void) {}

  /** A result arrived: its run id (undefined where no engine process holds it) starts an empty cache. */
  setRun(runId: number | undefined): void {
    this.runId = runId;
    this.cache.clear();
    this.pending.clear();
  }

  /**
   * What the charts show for the snapshot's selection, or undefined when the run's arrays hold its spectrum.
   * Sends a request for a spectrum neither held nor cached, unless one is in flight (then: computing, asked later).
   */
  need(s: Snapshot): OnDemandSpectrum | undefined {
    const at = selectionOf(s);
    const pair = s.report?.jacobians[at.pair];
    if (!pair || at.step >= pair.steps.length) return undefined;
    const arrays = s.pairs[at.pair] ?? {};
    if (arrays.singularValues && (pair.outDim !== pair.inDim || arrays.eigenvaluesRe)) return undefined;
    if (!arrays.jacobians) {
      return { state: 'unavailable', message: 'The whole Jacobians were not kept for this run (over the keep limit), so their spectra cannot be computed here; list "singularValues" / "eigenvalues" in diagnostics to compute them during the run.' };
    }
    if (this.runId === undefined) return { state: 'unavailable', message: 'Spectra are computed on demand by the extension, which holds no engine for this result.' };
    const key = keyOf(at);
    const known = this.cache.get(key);
    if (known) return known;
    // One request at a time: dragging the step slider over a large n must not queue a decomposition per step in
    // the engine process (ahead of the next run). The selection on screen when the reply comes is asked next.
    if (this.pending.size > 0) return COMPUTING;
    const requestId = this.nextRequestId++;
    this.cache.set(key, COMPUTING);
    this.pending.set(requestId, key);
    this.send({ type: 'spectrum', requestId, runId: this.runId, ...at });
    return COMPUTING;
  }

  /** Caches a reply to a pending request of the current run; returns false (dropped) for any other. */
  receive(reply: SpectrumReply): boolean {
    const key = this.pending.get(reply.requestId);
    if (reply.runId !== this.runId || key === undefined || key !== keyOf(reply)) return false;
    this.pending.delete(reply.requestId);
    this.cache.set(key, reply.outcome.ok
      ? { state: 'ready', spectrum: reply.outcome.spectrum }
      : { state: 'unavailable', message: `The spectrum could not be computed: ${reply.outcome.message}` });
    return true;
  }
}
