// Each validation stage alone: syntax (with its bounds), schema, semantic checks and defaults, each a pure
// function of its input; and the folders' imports, so that config never reaches into cells.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSpec, DEFAULTS, type RawConfig } from '../../src/engine/config/defaults';
import { schemaIssues } from '../../src/engine/config/schema';
import { crossKeyIssues, duplicateKeyIssues, semanticIssues, tensorRefIssues } from '../../src/engine/config/semantic';
import { CONFIG_LIMITS, firstBeyondLimits, parseSyntax } from '../../src/engine/config/syntax';
import { nodeValue } from '../../src/engine/config/tree';
import { didYouMean } from '../../src/engine/config/suggest';
import { parseConfig } from '../../src/engine/config/validate';
import { assertLocatedIn, theOnlyIssue, userIssues } from './helpers/issues';
import { repoRoot } from './helpers/repo';

const FILE = '/tmp/stages.jacobian.json';

function parsed(text: string) {
  const { root, locator } = parseSyntax(text, FILE);
  return { root, locator, data: nodeValue(root) };
}

describe('config stage 1: syntax', () => {
  it('parses valid text into a tree and a locator over the same text', () => {
    const { data, locator } = parsed('{"cell": "seed", "units": 3}');
    assert.deepEqual(data, { cell: 'seed', units: 3 });
    assert.equal(locator.issueAt('units', 'x').column, 27);
  });

  it('refuses 200 000 nested arrays at the first level too deep, without recursing', () => {
    const depth = 200_000;
    const text = '{"a": ' + '['.repeat(depth) + ']'.repeat(depth) + '}';
    const issue = theOnlyIssue(userIssues(() => parseSyntax(text, FILE), 'config'));
    assert.match(issue.message, new RegExp(`nested more than ${CONFIG_LIMITS.depth} levels`));
    assert.equal(issue.offset, 6 + CONFIG_LIMITS.depth - 1);
    assert.equal(issue.path, 'a' + '[0]'.repeat(CONFIG_LIMITS.depth - 1));
    assertLocatedIn(issue, text);
  });

  it('refuses a 20 MB string at the string, and an array of more items than allowed at the extra comma', () => {
    const long = '{"cell": "seed", "custom": {"equations": {"h": "' + 'x'.repeat(20 * 2 ** 20) + '"}}}';
    const issue = theOnlyIssue(userIssues(() => parseSyntax(long, FILE)));
    assert.equal(issue.path, 'custom.equations.h');
    assert.match(issue.message, /a string of 20971520 characters/);
    const many = '{"jacobians": [' + Array.from({ length: 200_000 }, () => '{"of": "h@t", "wrt": "h@t-1"}').join(', ') + ']}';
    const items = theOnlyIssue(userIssues(() => parseSyntax(many, FILE)));
    assert.equal(items.path, 'jacobians');
    assert.match(items.message, new RegExp(`more than ${CONFIG_LIMITS.items} items`));
    assertLocatedIn(items, many);
  });

  it('stays within bounds at the bounds: depth, items and string length exactly at the limit pass the scan', () => {
    const deep = '['.repeat(CONFIG_LIMITS.depth) + ']'.repeat(CONFIG_LIMITS.depth);
    assert.equal(firstBeyondLimits(deep), undefined);
    assert.ok(firstBeyondLimits('['.repeat(CONFIG_LIMITS.depth + 1) + ']'.repeat(CONFIG_LIMITS.depth + 1)));
    assert.equal(firstBeyondLimits(`[${Array(CONFIG_LIMITS.items).fill(0).join(',')}]`), undefined);
    assert.equal(firstBeyondLimits(JSON.stringify('y'.repeat(CONFIG_LIMITS.stringLength))), undefined);
  });

  it('refuses a text longer than the bound at 1:1 before scanning it', () => {
    const text = ' '.repeat(CONFIG_LIMITS.textLength + 1);
    const issue = theOnlyIssue(userIssues(() => parseSyntax(text, FILE)));
    assert.deepEqual([issue.path, issue.line, issue.column], ['', 1, 1]);
    assert.match(issue.message, /^the config is 67108865 characters long/);
  });

  it('gives syntax errors the path where they happen', () => {
    const text = '{"inputs": {"distribution": "normal" "stddev": 2}}';
    const issue = theOnlyIssue(userIssues(() => parseSyntax(text, FILE)));
    assert.equal(issue.path, 'inputs.distribution');
    assertLocatedIn(issue, text);
  });
});

describe('config stage 2: schema', () => {
  it('reports schema problems of a value alone, located through the locator', () => {
    const { data, locator } = parsed('{"cell": "sead", "units": 0, "inputDim": 2}');
    const issues = schemaIssues(data, locator);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['cell', 'units']);
    assert.match(issues.find((i) => i.path === 'cell')!.message, /did you mean "seed"/);
  });

  it('a number beyond a double (1e999) is named as such, not as "not a number"', () => {
    const { data, locator } = parsed('{"cell": "lstm", "units": 4, "inputDim": 2, "inputs": {"stddev": 1e999}}');
    assert.equal(theOnlyIssue(schemaIssues(data, locator)).message, 'must be a finite number; this one is beyond ±1.8e308 (parsed as Infinity)');
  });

  it('finds nothing wrong with a valid value', () => {
    const { data, locator } = parsed('{"cell": "lstm", "units": 4, "inputDim": 2}');
    assert.deepEqual(schemaIssues(data, locator), []);
  });
});

describe('config stage 3: semantic checks', () => {
  it('each check is a function of the parsed config', () => {
    const text = '{"cell": "seed", "cell": "lstm", "inputs": {"distribution": "uniform", "minval": 2}}';
    const { root, data, locator } = parsed(text);
    assert.deepEqual(duplicateKeyIssues({ root, locator }).map((i) => i.message), ['duplicate key "cell"']);
    assert.deepEqual(crossKeyIssues({ data, locator }).map((i) => i.path), ['inputs.minval']);
  });

  it('tensor names and file access come in as dependencies', () => {
    const text = '{"cell": "seed", "units": 2, "inputDim": 2, "inputs": {"file": "x.npy"}, "jacobians": [{"of": "hh@t", "wrt": "h@t-1"}]}';
    const { root, data, locator } = parsed(text);
    const asked: string[] = [];
    const deps = {
      tensorNames: () => new Set(['h', 'x']),
      fileProblem: (file: string) => (asked.push(file), `not readable: ${file}`),
    };
    const refs = tensorRefIssues({ data, locator, deps, custom: { issues: [] } });
    assert.equal(theOnlyIssue(refs).message, 'unknown tensor "hh" in cell seed; its tensors are h, x; did you mean "h"?');
    const { issues } = semanticIssues(data, root, locator, [], deps, '/data');
    assert.deepEqual(asked, ['/data/x.npy']);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['inputs.file', 'jacobians[0].of']);
    // Without the dependencies, neither check runs.
    assert.deepEqual(semanticIssues(data, root, locator, [], {}, '/data').issues, []);
  });

  it('a custom cell cannot be validated without the custom-cell check (an internal error, not a user error)', () => {
    const text = '{"cell": "custom", "custom": {"states": {"h": {"size": 2}}, "equations": {"h": "h_prev"}}}';
    assert.throws(() => parseConfig(text, FILE), /needs ConfigDeps.customCell/);
  });
});

describe('config stage 4: defaults', () => {
  it('fills every absent key from DEFAULTS and the cell defaults', () => {
    const { locator } = parsed('{}');
    const spec = buildSpec({ cell: 'gru', units: 3, inputDim: 2 } as RawConfig, FILE, locator);
    assert.equal(spec.timeSteps, DEFAULTS.timeSteps);
    assert.equal(spec.maxMemoryMB, DEFAULTS.maxMemoryMB);
    assert.deepEqual(spec.jacobians, [{ of: 'h@t', wrt: 'h@t-1', path: 'jacobians[0]' }]);
    assert.equal(spec.activation, 'tanh');
    assert.deepEqual(spec.initializers.recurrentKernel, { name: 'orthogonal' });
  });
});

describe('config: one "did you mean" helper, and config never imports cells', () => {
  it('didYouMean suggests the closest word or says what is allowed', () => {
    assert.equal(didYouMean('tahn', ['tanh', 'relu']), '; did you mean "tanh"?');
    assert.equal(didYouMean('zzz', ['tanh'], '; allowed: tanh'), '; allowed: tanh');
  });

  it('no file under src/engine/config imports from src/engine/cells', () => {
    const dir = join(repoRoot(), 'src/engine/config');
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      assert.doesNotMatch(readFileSync(join(dir, name), 'utf8'), /from '\.\.\/cells/, name);
    }
  });
});

describe('config: the schema validators are compiled at build time', () => {
  it('the generated validators embed the schema as it is now (a stale build fails here)', () => {
    const generated = readFileSync(join(repoRoot(), 'src/engine/config/generated/schemaValidators.js'), 'utf8');
    const schema = JSON.parse(readFileSync(join(repoRoot(), 'schemas/jacobian-config.schema.json'), 'utf8'));
    assert.ok(generated.includes(JSON.stringify(schema)), 'run node scripts/build.mjs: the validators predate the schema');
  });

  it('nothing under src compiles a schema at run time (no Ajv instance, only its runtime helpers)', () => {
    const sources = readdirSync(join(repoRoot(), 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    for (const file of sources) {
      assert.doesNotMatch(readFileSync(join(repoRoot(), 'src', file), 'utf8'), /^import Ajv\b|new Ajv\(/m, file);
    }
  });
});
