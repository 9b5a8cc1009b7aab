// What every subcommand's command line shares: `SUBCOMMAND CONFIG [--options]`, --help, --backend, and a bad
// argument answered with the subcommand's own usage (exit code 2), never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { BackendPreference } from '../engine/backend/backend';

/** A command-line mistake; the CLI prints it with `usage` and exits 2. */
export class ArgumentError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>['values'];

export interface ParsedCommand<O extends Options> {
  command: string;
  config: string;
  values: Values<O>;
}

/**
 * Parses `COMMAND CONFIG [options]` (plus --help/-h, which every subcommand has); returns undefined after printing
 * the usage for --help. `commands` lists the subcommands this usage covers.
 */
export function parseCommand<O extends Options>(argv: string[], options: O, commands: string[], usage: string): ParsedCommand<O> | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (e) {
    throw new ArgumentError((e as Error).message, usage);
  }
  const { values, positionals } = parsed;
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  const [command, config, ...rest] = positionals;
  if (!commands.includes(command)) throw new ArgumentError(command ? `unknown command "${command}"` : 'missing command', usage);
  if (!config) throw new ArgumentError('missing CONFIG', usage);
  if (rest.length) throw new ArgumentError(`unexpected argument "${rest[0]}"`, usage);
  return { command, config, values: values as Values<O> };
}

const BACKENDS: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export function backendArgument(value: string | undefined, usage: string): BackendPreference {
  const backend = (value ?? 'auto') as BackendPreference;
  if (!BACKENDS.includes(backend)) throw new ArgumentError(`--backend must be tensorflow, wasm, cpu or auto, got "${value}"`, usage);
  return backend;
}
