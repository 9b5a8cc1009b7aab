// Config validation wired to the engine's own parts: the built-in cells' tensor names, the custom-cell
// builder and the file reader. The config folder receives these instead of importing them.
import { builtinTensorNames } from './cells';
import { checkCustomCell } from './cells/custom/check';
import { CONFIG_LIMITS } from './config/syntax';
import { parseConfig, type ConfigDeps } from './config/validate';
import type { RunSpec } from './config/spec';
import { fileIssue, UserError } from './errors';
import { FileReadError, readRegularTextFile, regularFileProblem } from './io/files';
import { resolveAutoCell } from './params/formats/autoCell';

export const ENGINE_CONFIG_DEPS: ConfigDeps = {
  tensorNames: builtinTensorNames,
  customCell: checkCustomCell,
  fileProblem: regularFileProblem,
  autoCell: resolveAutoCell,
};

/**
 * The largest config read: the syntax stage's own bound (in characters, which a file of as many bytes cannot
 * exceed). Up to it the stage finds and locates what is too long or too deep inside, which says more than a size.
 */
export const MAX_CONFIG_BYTES = CONFIG_LIMITS.textLength;

/** Validates a config with everything the engine knows: tensor names, custom cells, files on disk. */
export function parseRunConfig(text: string, file: string): RunSpec {
  return parseConfig(text, file, ENGINE_CONFIG_DEPS);
}

/** A config file's text; an unreadable file (missing, a device, a FIFO, too large) is a located UserError. */
export function readConfigFile(file: string): string {
  try {
    return readRegularTextFile(file, { maxBytes: MAX_CONFIG_BYTES, what: 'config' });
  } catch (error) {
    if (error instanceof FileReadError) throw new UserError('config', [fileIssue(file, error.message)]);
    throw error;
  }
}
