// Inputs built to drive a parser off a cliff get one located answer, fast: equations nested 50 000 deep,
// operator chains as long as a string allows, and the same through the whole config pipeline.
import assert from 'node:assert/strict';
import { MAX_EXPRESSION_DEPTH, parseDimension, parseExpression, ExprError } from '../../src/engine/cells/custom/parse';
import { parseRunConfig } from '../../src/engine/runConfig';
import { assertLocatedIn, theOnlyIssue, userIssues } from './helpers/issues';

function exprError(text: string, parse: (t: string) => unknown = parseExpression): ExprError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ExprError, `expected an ExprError, got ${String(error)}`);
    return error;
  }
  assert.fail(`parsed ${text.slice(0, 40)}...`);
}

function customConfig(equation: string): string {
  const config = { cell: 'custom', custom: { params: { U: { shape: [2, 2] } }, states: { h: { size: 2 } }, equations: { h: equation } } };
  return JSON.stringify(config, null, 2);
}

describe('hostile equations', () => {
  it('50 000 nested parentheses: refused at the first level too deep', () => {
    const n = 50_000;
    const error = exprError('('.repeat(n) + 'h_prev' + ')'.repeat(n));
    assert.match(error.message, new RegExp(`nested more than ${MAX_EXPRESSION_DEPTH} levels`));
    assert.equal(error.column, MAX_EXPRESSION_DEPTH);
  });

  it('50 000 signs, nested calls and nested sizes are refused the same way', () => {
    assert.match(exprError('-'.repeat(50_000) + 'h_prev').message, /nested more than/);
    assert.match(exprError('tanh('.repeat(50_000) + 'h_prev' + ')'.repeat(50_000)).message, /nested more than/);
    assert.match(exprError('('.repeat(50_000) + 'units' + ')'.repeat(50_000), parseDimension).message, /nested more than/);
  });

  it('a chain of 30 000 additions is refused as too tall, at the operation that exceeds the bound', () => {
    const error = exprError(Array(30_000).fill('h_prev').join(' + '));
    assert.match(error.message, new RegExp(`more than ${MAX_EXPRESSION_DEPTH} operations chained`));
    assert.equal(error.column, 0);
  });

  it('an equation just inside the bounds still parses', () => {
    const depth = MAX_EXPRESSION_DEPTH - 1;
    assert.doesNotThrow(() => parseExpression('('.repeat(depth) + 'h_prev' + ')'.repeat(depth)));
    assert.doesNotThrow(() => parseExpression(Array(MAX_EXPRESSION_DEPTH - 1).fill('h_prev').join('+')));
  });

  it('through the config: one issue located inside the equation string (30 000 deep; 50 000 is a string too long)', () => {
    const tooLong = customConfig('('.repeat(50_000) + 'h_prev' + ')'.repeat(50_000));
    assert.match(theOnlyIssue(userIssues(() => parseRunConfig(tooLong, '/tmp/deep.jacobian.json'))).message, /a string of 100006 characters/);
    const n = 30_000;
    const text = customConfig('('.repeat(n) + 'h_prev' + ')'.repeat(n));
    const issue = theOnlyIssue(userIssues(() => parseRunConfig(text, '/tmp/deep.jacobian.json'), 'config'));
    assert.equal(issue.path, 'custom.equations.h');
    assertLocatedIn(issue, text);
    assert.equal(text[issue.offset], '(');
  });
});
