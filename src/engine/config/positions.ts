// Where things are in a config's text: JSON paths (`jacobians[0].of`) to jsonc-parser nodes, offsets to
// 1-based line:column, and SourceIssues built from both. Validation and the engine (which finds data-file
// problems long after parsing) locate errors through the same locator, so they underline the same key.
// jsonc-parser's `main` is a UMD build whose lazy require('./impl/...') breaks once bundled by esbuild;
// its ESM build bundles cleanly (the same code, and the same typings).
import { findNodeAtLocation, parseTree, type Node, type ParseError } from 'jsonc-parser/lib/esm/main';
import type { SourceIssue } from '../errors';
import type { SourceLocator } from './spec';

export type PathSegment = string | number;

/** Strict JSON: a config is read by tools other than this one, so comments and trailing commas are refused. */
export const STRICT_JSON = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false } as const;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['jacobians', 0, 'of']` → `jacobians[0].of`; keys that are not identifiers are written `["a key"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The inverse of formatPath. Throws on a malformed path: paths come from code, never from users. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '[') {
      const close = path[i + 1] === '"' ? closingQuote(path, i + 1) + 1 : path.indexOf(']', i);
      if (close <= i || path[close] !== ']') throw new Error(`malformed JSON path: ${path}`);
      const inner = path.slice(i + 1, close);
      segments.push(inner.startsWith('"') ? (JSON.parse(inner) as string) : Number(inner));
      i = close + 1;
    } else {
      if (path[i] === '.') {
        if (segments.length === 0) throw new Error(`malformed JSON path: ${path}`);
        i++;
      }
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(path.slice(i));
      if (!m) throw new Error(`malformed JSON path: ${path}`);
      segments.push(m[0]);
      i += m[0].length;
    }
  }
  return segments;
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * A JSON pointer as ajv reports it (`/jacobians/0/of`) → path segments. The tree decides whether a
 * segment is an array index, since an object key may be all digits too.
 */
export function segmentsFromPointer(pointer: string, root: Node | undefined): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: PathSegment = node?.type === 'array' && /^\d+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    node = node ? findNodeAtLocation(node, [segment]) : undefined;
  }
  return segments;
}

/** Offsets (UTF-16 code units, as editors count) → 1-based line and column. */
export class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.lineStarts.push(i + 1);
      } else if (ch === 10 /* \n */) {
        this.lineStarts.push(i + 1);
      }
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }
}

/** Where a path lands: its own node, or (when the path does not exist in the text) its nearest ancestor. */
export interface FoundNode {
  node: Node;
  exact: boolean;
}

/**
 * Locates JSON paths in one config text. Values are underlined whole (strings with their quotes); keys
 * that should not be there are underlined as keys; a path absent from the text (a default, or a key
 * inside a value of the wrong type) falls back to the nearest ancestor that exists, underlining its key
 * (or its first character, for the root object and array items) rather than the whole ancestor.
 */
export class ConfigLocator implements SourceLocator {
  readonly root: Node | undefined;
  private readonly lines: LineIndex;

  constructor(
    readonly file: string,
    readonly text: string,
    /** The parsed tree; null for text that must not be parsed (it exceeds the syntax stage's bounds). */
    root?: Node | null,
  ) {
    this.root = root === null ? undefined : (root ?? parseTree(text, [] as ParseError[], STRICT_JSON));
    this.lines = new LineIndex(text);
  }

  find(path: string | readonly PathSegment[]): FoundNode | undefined {
    if (!this.root) return undefined;
    const segments = typeof path === 'string' ? parsePath(path) : [...path];
    for (let n = segments.length; n >= 0; n--) {
      const node = n === 0 ? this.root : findNodeAtLocation(this.root, segments.slice(0, n));
      if (node) return { node, exact: n === segments.length };
    }
    return undefined;
  }

  /** An issue at the value `path` names (or at its nearest existing ancestor). */
  issueAt(path: string, message: string): SourceIssue {
    const found = this.find(path);
    if (!found) return this.issueAtOffset(path, 0, 0, message);
    const { offset, length } = found.exact ? found.node : anchorOf(found.node);
    return this.issueAtOffset(path, offset, length, message);
  }

  /** An issue at the key of the property `path` names (a key that is not allowed, or a duplicate). */
  issueAtKey(path: string, message: string): SourceIssue {
    const found = this.find(path);
    if (!found) return this.issueAtOffset(path, 0, 0, message);
    const key = keyNodeOf(found.node);
    const { offset, length } = found.exact && key ? key : anchorOf(found.node);
    return this.issueAtOffset(path, offset, length, message);
  }

  /**
   * An issue at an object or array as a whole (a required key is missing): its key, or for the root
   * and array items its opening character, since underlining the whole object would hide the rest.
   */
  issueAtAnchor(path: string, message: string): SourceIssue {
    const found = this.find(path);
    if (!found) return this.issueAtOffset(path, 0, 0, message);
    const { offset, length } = anchorOf(found.node);
    return this.issueAtOffset(path, offset, length, message);
  }

  /**
   * An issue inside a string value, `column` and `length` counted in the string's characters. Falls back
   * to the whole value when the string holds escapes, since its characters then do not map 1:1 to the text.
   */
  issueInString(path: string, column: number, length: number, message: string): SourceIssue {
    const found = this.find(path);
    if (!found || !found.exact || found.node.type !== 'string') return this.issueAt(path, message);
    const { node } = found;
    const raw = this.text.slice(node.offset + 1, node.offset + node.length - 1);
    if (raw !== node.value) return this.issueAt(path, message);
    return this.issueAtOffset(path, node.offset + 1 + column, length, message);
  }

  issueAtOffset(path: string, at: number, span: number, message: string): SourceIssue {
    // Within the text, whatever a parser reports (jsonc-parser puts an unterminated comment's end past it).
    const offset = Math.min(Math.max(0, at), this.text.length);
    const length = Math.min(Math.max(0, span), this.text.length - offset);
    const { line, column } = this.lines.position(offset);
    return { file: this.file, path, message, line, column, offset, length };
  }
}

/** The key node of a property value, if the node is one. */
export function keyNodeOf(node: Node): Node | undefined {
  return node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
}

function anchorOf(node: Node): { offset: number; length: number } {
  const key = keyNodeOf(node);
  if (key) return key;
  if (node.type === 'object' || node.type === 'array') return { offset: node.offset, length: 1 };
  return node;
}
