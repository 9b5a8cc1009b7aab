// Errors the user can act on carry the place they refer to; everything else is an internal error.
// The CLI maps UserError to exit code 2 and prints no stack; the extension maps config issues to Problems.

/** One problem in one input file, located precisely enough for an editor range. */
export interface SourceIssue {
  /** File the issue is in (the config, or a data file it points to). */
  file: string;
  /** JSON path inside the config, e.g. `jacobians[0].of`; empty for whole-file issues. */
  path: string;
  message: string;
  /** 1-based line and column of the offending key or value (1:1 for whole-file issues). */
  line: number;
  column: number;
  /** 0-based character offset and length, for editor ranges. */
  offset: number;
  length: number;
}

export type UserErrorKind = 'config' | 'input' | 'memory';

export class UserError extends Error {
  constructor(
    readonly kind: UserErrorKind,
    readonly issues: SourceIssue[],
  ) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'UserError';
  }
}

/** Thrown when a run is cancelled through its AbortSignal. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function formatIssue(issue: SourceIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** An issue about a whole file (a missing or corrupt data file): located at its first character. */
export function fileIssue(file: string, message: string, path = ''): SourceIssue {
  return { file, path, message, line: 1, column: 1, offset: 0, length: 0 };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
