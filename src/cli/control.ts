// `rnn-jacobian stabilize CONFIG` (LSC pre-training) and `rnn-jacobian floss CONFIG` (gradient flossing): run the
// optimisation the config's block describes, print progress and ρ (or λ) per kind before and after, and hand the
// best weights back as files (never over existing ones without --force).
import { ArgumentError, backendArgument, parseCommand } from './args';
import { readConfigFile } from '../engine/runConfig';
import { assertWritable, defaultOutDir, exportControl } from '../engine/control/export';
import * as path from 'node:path';
import { flossText } from '../engine/control/floss';
import { stabilizeText, type ControlResult } from '../engine/control/lsc';
import { writeFileAtomic } from '../engine/run/save';

export const CONTROL_USAGE = `usage: rnn-jacobian stabilize|floss CONFIG [--out DIR] [--force] [--backend tensorflow|wasm|cpu|auto] [--max-steps N] [--json OUT.json] [--quiet]

  stabilize         LSC pre-training: drive ρ of the transition Jacobians to the "stabilize" block's target
  floss             gradient flossing: drive the first k Lyapunov exponents to the "floss" block's target
  --out DIR         where the weights go (default: CONFIG's folder, CONFIG-NAME.stabilized or .flossed)
  --force           replace DIR if it exists
  --max-steps N     override the block's step budget
  --json OUT.json   write the report (ρ per kind before/after, the curve over steps)
  --quiet           print nothing but errors`;

export async function controlMain(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    'max-steps': { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  }, ['stabilize', 'floss'], CONTROL_USAGE);
  if (!parsed) return 0;
  const { command, config, values } = parsed;
  const backend = backendArgument(values.backend as string, CONTROL_USAGE);
  const maxSteps = values['max-steps'] === undefined ? undefined : Number(values['max-steps']);
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 1)) throw new ArgumentError(`--max-steps must be a positive integer, got "${values['max-steps']}"`, CONTROL_USAGE);
  const text = readConfigFile(config);
  const kind = command === 'floss' ? 'floss' : 'stabilize';
  // Refused before the run, not after it (export checks again when it writes).
  assertWritable(values.out ?? defaultOutDir(path.resolve(config), kind), values.force!);
  const say = values.quiet ? () => {} : (line: string) => console.log(line);
  const run = command === 'floss' ? flossText : stabilizeText;
  const result = await run(text, config, {
    backend,
    maxSteps,
    onStep: (s) => {
      if (s.step === 1 || s.step % 10 === 0) say(`step ${String(s.step).padStart(5)}  loss ${s.loss.toExponential(3)}  ${s.medians.map((m) => m.toFixed(4)).join('  ')}`);
    },
  });
  say(formatControl(result));
  const written = exportControl(result, text, { out: values.out, force: values.force });
  say(`wrote ${written.files.map((f) => f).join(', ')} in ${written.dir}`);
  if (values.json) {
    writeFileAtomic(values.json, JSON.stringify(controlReport(result, written.dir), null, 2) + '\n');
    say(`wrote ${values.json}`);
  }
  return 0;
}

export function formatControl(r: ControlResult): string {
  const rows = r.quantities.map((q) => `${q.label.padEnd(28)} ${q.target.toFixed(4).padStart(8)} ${q.before.toFixed(4).padStart(9)} ${q.after.toFixed(4).padStart(9)}`);
  const { loop } = r;
  return [
    `${r.kind}: ${loop.history.length} steps (${loop.stop}), best at step ${loop.bestStep}, ${loop.msPerStep.toFixed(1)} ms/step on ${r.backend}`,
    `${'quantity (median)'.padEnd(28)} ${'target'.padStart(8)} ${'before'.padStart(9)} ${'after'.padStart(9)}`,
    ...rows,
  ].join('\n');
}

export function controlReport(r: ControlResult, dir: string) {
  return {
    kind: r.kind,
    backend: r.backend,
    stop: r.loop.stop,
    steps: r.loop.history.length,
    bestStep: r.loop.bestStep,
    msPerStep: r.loop.msPerStep,
    quantities: r.quantities,
    history: r.loop.history,
    out: dir,
  };
}
