// Where things are in a `*.jacobian.json` text: the root object, each `jacobians[i]` entry, the data files it names.
// Pure functions over the text (no `vscode`), so CodeLenses, diagnostics and the data-file watcher share them.
//
// jsonc-parser is imported from its ESM build on purpose: its package `main` is a UMD bundle whose inner
// `require('./impl/format')` esbuild cannot follow, which fails at run time ("Cannot find module './impl/format'").
import { findNodeAtLocation, parseTree, type JSONPath, type Node } from 'jsonc-parser/lib/esm/main';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parsePath } from '../engine/config/positions';
import { firstBeyondLimits } from '../engine/config/syntax';
import { weightsFiles } from '../engine/params/weights';

export const CONFIG_SUFFIX = '.jacobian.json';

export function isConfigPath(fsPath: string): boolean {
  return fsPath.endsWith(CONFIG_SUFFIX);
}

/** A span of the text, 0-based offset and length (the same convention as SourceIssue). */
export interface TextSpan {
  offset: number;
  length: number;
}

/**
 * The text's syntax tree; pass it to several lookups on one text so that the text is parsed once. None for text
 * past the config's bounds (jsonc-parser recurses once per nesting level), which validation reports itself.
 */
export function configTree(text: string): Node | undefined {
  if (firstBeyondLimits(text)) return undefined;
  return parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
}

/** The root object's opening brace, or the start of the text when it does not parse as an object. */
export function rootSpan(text: string, root = configTree(text)): TextSpan {
  if (root) return { offset: root.offset, length: 1 };
  const firstNonSpace = text.search(/\S/);
  return { offset: Math.max(0, firstNonSpace), length: 0 };
}

/**
 * The span of the value at a JSON path (`jacobians[1]`), for a property its key too so that a CodeLens or
 * a diagnostic sits on the line a reader looks at. Undefined when the path is absent from this text.
 */
export function spanOfPath(text: string, path: string, root = configTree(text)): TextSpan | undefined {
  if (!root) return undefined;
  let segments: JSONPath;
  try {
    segments = parsePath(path);
  } catch {
    return undefined; // not a path the engine wrote
  }
  const node = findNodeAtLocation(root, segments);
  if (!node) return undefined;
  const property = node.parent?.type === 'property' ? node.parent : undefined;
  const start = property ? property.offset : node.offset;
  return { offset: start, length: node.offset + node.length - start };
}

const DATA_FILE = /\.(npy|npz|pt|pth|safetensors|keras|h5|hdf5)$/i;

/**
 * Absolute paths of the data files a config names (any string value ending in .npy or .npz), resolved
 * against the config's folder the way the engine resolves them. Used to rerun when one of them changes.
 */
export function referencedDataFiles(configFile: string, text: string): string[] {
  const root = configTree(text);
  if (!root) return [];
  const found = new Set<string>();
  const walk = (node: Node): void => {
    if (node.type === 'string' && typeof node.value === 'string' && DATA_FILE.test(node.value)) {
      const value = node.value;
      found.add(isAbsolute(value) ? value : resolve(dirname(configFile), value));
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(root);
  // A trained model: its model.json and the weight shards it names (engine's own list, so both agree).
  const model = findNodeAtLocation(root, ['weights', 'model']);
  if (model?.type === 'string' && typeof model.value === 'string') {
    const file = isAbsolute(model.value) ? model.value : resolve(dirname(configFile), model.value);
    for (const f of weightsFiles({ kind: 'model', file, path: 'weights', layerPath: 'weights.layer' })) found.add(f);
  }
  return [...found].sort();
}
