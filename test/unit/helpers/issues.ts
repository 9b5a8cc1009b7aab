// A run that must fail with located issues: the UserError's issues (and the config text they point into).
import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText } from '../../../src/engine';
import { UserError, type SourceIssue } from '../../../src/engine/errors';

type Json = Record<string, unknown>;

export async function userIssues(config: Json): Promise<{ text: string; issues: SourceIssue[] }> {
  const text = JSON.stringify(config, null, 2);
  try {
    await analyzeText(text, join(tmpdir(), 'weights-errors.jacobian.json'));
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return { text, issues: e.issues };
  }
  assert.fail('expected the run to fail');
}

export async function onlyIssue(config: Json): Promise<{ text: string; issue: SourceIssue }> {
  const { text, issues } = await userIssues(config);
  assert.equal(issues.length, 1, issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return { text, issue: issues[0] };
}

