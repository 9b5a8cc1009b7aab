// The one way the engine reads a file a user named: only regular files (a device, FIFO, socket or folder is refused
// before it is opened for reading), and never more bytes than the caller allows — the size is taken from the file
// system first, so a file claiming to be small cannot make us allocate more than its real length.
import { closeSync, fstatSync, openSync, readSync, statSync, constants as fsConstants } from 'node:fs';

/** Why a file could not be read, in words for the user; the caller attaches the place (config key, file). */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    /** What is wrong, without naming the file's role: "file not found", "not a regular file (a FIFO)". */
    readonly reason: string,
    what: string,
  ) {
    super(`${what}: ${reason}`);
    this.name = 'FileReadError';
  }
}

export interface ReadLimits {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** What the file is, for messages: "config", "weights file", ".npy file". */
  what?: string;
}

/**
 * Reads a whole regular file. O_NONBLOCK keeps a FIFO from blocking the open itself; the fstat on the open handle
 * (not a separate stat of the path) is what decides, so the file cannot be swapped between the check and the read.
 */
export function readRegularFile(file: string, limits: ReadLimits): Buffer {
  const what = limits.what ?? 'file';
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    throw new FileReadError(file, describeErrno(error), `cannot open ${what}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new FileReadError(file, `not a regular file (${kindOf(stat)})`, `cannot read ${what}`);
    if (stat.size > limits.maxBytes) {
      throw new FileReadError(file, `${formatBytes(stat.size)}, more than the ${formatBytes(limits.maxBytes)} allowed`, `cannot read ${what}`);
    }
    const buffer = Buffer.allocUnsafe(stat.size);
    let filled = 0;
    while (filled < stat.size) {
      const n = readSync(fd, buffer, filled, stat.size - filled, filled);
      if (n === 0) break; // the file shrank while we read it
      filled += n;
    }
    return filled === stat.size ? buffer : buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a file cannot be read, checked now (without opening it), or undefined when it is a regular file: config
 * validation uses this to underline a file name on save; readRegularFile checks again when the file is read.
 */
export function regularFileProblem(file: string): string | undefined {
  let stat: import('node:fs').Stats;
  try {
    stat = statSync(file);
  } catch (error) {
    const reason = describeErrno(error);
    return reason === 'file not found' ? `file not found: ${file}` : `cannot read ${file}: ${reason}`;
  }
  return stat.isFile() ? undefined : `not a regular file (${kindOf(stat)}): ${file}`;
}

export function readRegularTextFile(file: string, limits: ReadLimits): string {
  return readRegularFile(file, limits).toString('utf8');
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a plain file';
}

function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return error instanceof Error ? error.message : String(error);
}
