// The engine process's side of control runs (LSC, flossing): runs the optimisation with progress per step,
// stops it on 'controlCancel' (the loop ends after its step and the best weights so far come back, unlike an
// analysis, which is killed), holds the last result so that the host can export it once the user has decided,
// and analyzes the original and the exported config for the before/after view.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { analyzeText, UserError } from '../engine';
import { comparisonConfigText } from '../engine/control/compare';
import { exportControl, type ExportResult } from '../engine/control/export';
import { flossText } from '../engine/control/floss';
import { stabilizeText, type ControlResult } from '../engine/control/lsc';
import type { EngineToHost, HostToEngine, RunView } from '../protocol/messages';
import { exportFailureMessage } from './writeErrors';

type Send = (message: EngineToHost) => void;

/** What the before/after analyses keep: the Jacobians' statistics and spectra, not the matrices. */
const COMPARE_KEEP_JACOBIANS_MB = 0;

interface Held {
  runId: number;
  text: string;
  result: ControlResult;
  exported?: ExportResult;
}

export class ControlWorker {
  private current: { runId: number; abort: AbortController } | undefined;
  private held: Held | undefined;
  /** Runs cancelled before they started (the cancel is not queued; the run may still wait behind the warm-up). */
  private readonly cancelledEarly = new Set<number>();

  constructor(private readonly send: Send) {}

  /** Not queued: it must reach the loop while it runs. */
  cancel(message: Extract<HostToEngine, { type: 'controlCancel' }>): void {
    if (this.current?.runId === message.runId) this.current.abort.abort();
    else this.cancelledEarly.add(message.runId);
  }

  async run(message: Extract<HostToEngine, { type: 'control' }>): Promise<void> {
    const { runId } = message;
    const abort = new AbortController();
    this.current = { runId, abort };
    if (this.cancelledEarly.delete(runId)) abort.abort();
    // Only one result is held: the previous one's weights are dropped before this run allocates its own.
    this.held = undefined;
    try {
      const run = message.kind === 'floss' ? flossText : stabilizeText;
      const result = await run(message.text, message.file, {
        backend: message.options.backend,
        signal: abort.signal,
        onStart: (quantities) => this.send({ type: 'controlStarted', runId, quantities }),
        onStep: (step) => this.send({ type: 'controlProgress', runId, step }),
      });
      this.held = { runId, text: message.text, result };
      const { loop } = result;
      this.send({
        type: 'controlResult',
        runId,
        summary: {
          kind: result.kind, backend: result.backend, stop: loop.stop, steps: loop.history.length, bestStep: loop.bestStep,
          msPerStep: loop.msPerStep, quantities: result.quantities,
        },
      });
    } catch (error) {
      if (error instanceof UserError) this.send({ type: 'controlInvalid', runId, kind: error.kind, issues: error.issues });
      else {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.send({ type: 'controlFailed', runId, message: failure.message, stack: failure.stack });
      }
    } finally {
      if (this.current?.runId === runId) this.current = undefined;
    }
  }

  export(message: Extract<HostToEngine, { type: 'controlExport' }>): void {
    const { requestId, runId, dir, force } = message;
    const held = this.heldFor(runId);
    if (!held) {
      this.send({ type: 'controlExported', requestId, runId, outcome: { ok: false, message: `control run ${runId} is no longer held by the engine process` } });
      return;
    }
    try {
      held.exported = exportControl(held.result, held.text, { out: dir, force });
      this.send({ type: 'controlExported', requestId, runId, outcome: { ok: true, files: held.exported } });
    } catch (error) {
      const text = error instanceof UserError ? error.issues.map((i) => i.message).join('; ') : exportFailureMessage('the weights', dir, error);
      this.send({ type: 'controlExported', requestId, runId, outcome: { ok: false, message: text } });
    }
  }

  async compare(message: Extract<HostToEngine, { type: 'controlCompare' }>): Promise<void> {
    const { requestId, runId } = message;
    const held = this.heldFor(runId);
    if (!held?.exported) {
      this.send({ type: 'controlCompared', requestId, runId, outcome: { ok: false, message: `control run ${runId} has no exported weights to compare` } });
      return;
    }
    try {
      const { problem, kind, backend } = held.result;
      const original = problem.spec.configFile;
      const stabilized = held.exported.config;
      const analyze = async (text: string, file: string): Promise<RunView> => {
        const r = await analyzeText(comparisonConfigText(text, problem, kind), file, { backend, keepJacobiansMB: COMPARE_KEEP_JACOBIANS_MB });
        return { report: r.report, pairs: r.arrays.pairs };
      };
      const before = await analyze(held.text, original);
      const after = await analyze(readFileSync(stabilized, 'utf8'), stabilized);
      this.send({ type: 'controlCompared', requestId, runId, outcome: { ok: true, before, after } });
    } catch (error) {
      // The comparison configs are generated from the user's (its line:column would point into text nobody sees):
      // the file, the key and the message say what failed.
      const text = error instanceof UserError
        ? error.issues.map((i) => `${basename(i.file)}${i.path ? ` ${i.path}` : ''}: ${i.message}`).join('; ')
        : error instanceof Error ? error.message : String(error);
      this.send({ type: 'controlCompared', requestId, runId, outcome: { ok: false, message: text } });
    }
  }

  private heldFor(runId: number): Held | undefined {
    return this.held?.runId === runId ? this.held : undefined;
  }
}
