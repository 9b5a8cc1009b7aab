// Located user errors, checked the same way by every test: what a call throws, and where an offset is.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText } from '../../../src/engine';
import { parsePath } from '../../../src/engine/config/positions';
import { UserError, type SourceIssue, type UserErrorKind } from '../../../src/engine/errors';

/** The issues of the UserError `run` throws (of `kind`, when given); fails when it throws nothing or something else. */
export function userIssues(run: () => unknown, kind?: UserErrorKind): SourceIssue[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (kind) assert.equal(error.kind, kind);
    return error.issues;
  }
  assert.fail('expected a UserError, but nothing was thrown');
}

/** The one issue in `issues`; fails listing them all when there are more or none. */
export function theOnlyIssue(issues: SourceIssue[]): SourceIssue {
  assert.equal(issues.length, 1, `expected one issue, got:\n${issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  return issues[0];
}

/** 1-based line and column of an offset, computed independently of the code under test. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** An issue names a well-formed JSON path ('' is the whole file) and a line:column inside the text. */
export function assertLocatedIn(issue: SourceIssue, text: string): void {
  assert.equal(typeof issue.path, 'string', `issue without a path: ${issue.message}`);
  assert.doesNotThrow(() => parsePath(issue.path), `malformed path ${issue.path}`);
  assert.ok(issue.message.length > 0, 'issue without a message');
  assert.ok(issue.offset >= 0 && issue.offset <= text.length, `offset ${issue.offset} outside a ${text.length}-character text`);
  assert.ok(issue.offset + issue.length <= text.length, `range ${issue.offset}+${issue.length} past the end (${text.length})`);
  assert.deepEqual({ line: issue.line, column: issue.column }, lineColumn(text, issue.offset), `line:column of "${issue.message}"`);
}

/** The issues a whole run of `config` (as JSON text) fails with, and that text, for checking where they point. */
export async function runIssues(config: Record<string, unknown>): Promise<{ text: string; issues: SourceIssue[] }> {
  const text = JSON.stringify(config, null, 2);
  try {
    await analyzeText(text, join(tmpdir(), 'issues.jacobian.json'));
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { text, issues: error.issues };
  }
  assert.fail('expected the run to fail');
}

/** The one issue a whole run of `config` fails with. */
export async function runOnlyIssue(config: Record<string, unknown>): Promise<{ text: string; issue: SourceIssue }> {
  const { text, issues } = await runIssues(config);
  return { text, issue: theOnlyIssue(issues) };
}
