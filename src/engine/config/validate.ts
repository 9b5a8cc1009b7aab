// `*.jacobian.json` text → RunSpec, or a UserError listing every problem at once, each located at the
// offending value (or key) so the editor can underline it. Four stages, each pure and tested alone:
//   syntax.ts    text → tree (bounded: depth, string length, items)
//   schema.ts    tree's value → schema issues, worded by schemaMessages.ts
//   semantic.ts  checks a schema cannot make (custom cells and file access come in through ConfigDeps)
//   defaults.ts  → RunSpec
// A new top-level key is one schema part, one semantic check (SEMANTIC_CHECKS) and one default (buildSpec).
import { dirname, resolve } from 'node:path';
import { UserError, type SourceIssue } from '../errors';
import { buildSpec, type RawConfig } from './defaults';
import type { ConfigDeps } from './deps';
import { schemaIssues } from './schema';
import { semanticIssues } from './semantic';
import type { RunSpec } from './spec';
import { parseSyntax } from './syntax';
import { nodeValue } from './tree';

export type { ConfigDeps } from './deps';
export { CELL_DEFAULTS, DEFAULTS, DEFAULT_DATA_SOURCE, initialStateSource } from './defaults';

export function parseConfig(configText: string, file: string, deps: ConfigDeps = {}): RunSpec {
  const configFile = resolve(file);
  const { root, locator } = parseSyntax(configText, configFile);
  const data = nodeValue(root);
  // "cell": "auto" becomes the model file's cell, sizes and settings before anything else is checked.
  const autoProblems = deps.autoCell?.(data, locator, dirname(configFile)) ?? [];
  if (autoProblems.length > 0) throw new UserError('config', autoProblems);
  const schemaProblems = schemaIssues(data, locator);
  const semantic = semanticIssues(data, root, locator, schemaProblems, deps, dirname(configFile));
  const issues = [...schemaProblems, ...semantic.issues];
  if (issues.length > 0) throw new UserError('config', sortAndDedupe(issues));
  return buildSpec(data as RawConfig, configFile, locator, semantic.custom.resolved);
}

function sortAndDedupe(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((issue) => {
      const key = `${issue.offset}:${issue.length}:${issue.path}:${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.offset - b.offset);
}
