// What the user reads when an export cannot be written. Exports are written into a staging file or folder that
// is renamed into place at the end and removed on failure, so every failure also means "nothing was written";
// the message says that, and why, in words instead of a bare errno.
import { UserError } from '../engine/errors';

const WHY: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full (no space left on device)',
  EDQUOT: 'the disk quota is exhausted',
  ENOENT: 'the folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'a folder of that name is in the way',
  ENAMETOOLONG: 'the path is too long',
};

/** One line for an export of `what` to `target` that failed with `error`. */
export function exportFailureMessage(what: string, target: string, error: unknown): string {
  if (error instanceof UserError) return error.issues.map((i) => i.message).join('; ');
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code && WHY[code];
  if (why) return `cannot export ${what} to ${target}: ${why} (${code}); nothing was written. Choose another folder.`;
  return `cannot export ${what} to ${target}: ${error instanceof Error ? error.message : String(error)}`;
}
