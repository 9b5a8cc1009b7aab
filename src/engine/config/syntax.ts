// Stage 1, syntax: config text → JSON tree, or every syntax error in words, each located. Before the
// parser sees the text, one iterative pass of jsonc-parser's scanner bounds what the recursive parser
// and the later stages would have to hold: nesting depth (jsonc-parser recurses once per level, so
// 200 000 nested arrays would overflow the call stack), string length and the number of items in an
// array or object (ajv's uniqueItems compares items pairwise). Configs are small; these bounds are far
// above any real one and far below what costs time.
import { createScanner, parseTree, printParseErrorCode, visit, type JSONPath, type Node, type ParseError } from 'jsonc-parser/lib/esm/main';
import { UserError, type SourceIssue } from '../errors';
import { ConfigLocator, STRICT_JSON, formatPath, type PathSegment } from './positions';

export const CONFIG_LIMITS = {
  /** Characters in the whole text: the scan below takes about 3 ms a million. */
  textLength: 64 * 2 ** 20,
  /** Levels of nested objects and arrays; the deepest real config has 6. */
  depth: 64,
  /** Characters in one string (a path or an equation). */
  stringLength: 65_536,
  /** Items of one array or keys of one object. */
  items: 4096,
} as const;

export interface ParsedText {
  root: Node;
  locator: ConfigLocator;
}

/** Parses config text; throws a UserError listing its syntax errors or the first bound it exceeds. */
export function parseSyntax(configText: string, configFile: string): ParsedText {
  // Editors on Windows may save a byte-order mark; a space in its place keeps every offset where it was.
  const text = configText.startsWith('\uFEFF') ? ' ' + configText.slice(1) : configText;
  const beyond: Beyond | undefined =
    text.length > CONFIG_LIMITS.textLength
      ? { segments: [], offset: 0, length: 0, message: `the config is ${text.length} characters long; a config is at most ${CONFIG_LIMITS.textLength}` }
      : firstBeyondLimits(text);
  if (beyond) {
    const locator = new ConfigLocator(configFile, text, null);
    throw new UserError('config', [locator.issueAtOffset(formatPath(beyond.segments), beyond.offset, beyond.length, beyond.message)]);
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, STRICT_JSON);
  const locator = new ConfigLocator(configFile, text, root);
  if (errors.length > 0 || !root) throw new UserError('config', syntaxIssues(text, locator));
  return { root, locator };
}

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read: its values, by name.
const TOKEN = { openBrace: 1, closeBrace: 2, openBracket: 3, closeBracket: 4, comma: 5, colon: 6, string: 10, eof: 17 } as const;

interface Frame {
  kind: 'object' | 'array';
  /** Commas seen at this level: the index of the current array item. */
  commas: number;
  /** The key of the current property (objects). */
  key: string;
  /** Whether the next string is a key (objects: after `{` or `,`). */
  expectKey: boolean;
}

interface Beyond {
  segments: PathSegment[];
  offset: number;
  length: number;
  message: string;
}

/** The first place the text exceeds CONFIG_LIMITS, found by scanning tokens with an explicit stack. */
export function firstBeyondLimits(text: string): Beyond | undefined {
  const scanner = createScanner(text, true);
  const stack: Frame[] = [];
  const path = (): PathSegment[] => stack.map((f) => (f.kind === 'object' ? f.key : f.commas));
  for (let token = scanner.scan(); token !== TOKEN.eof; token = scanner.scan()) {
    const top = stack[stack.length - 1];
    const offset = scanner.getTokenOffset();
    if (token === TOKEN.openBrace || token === TOKEN.openBracket) {
      if (stack.length >= CONFIG_LIMITS.depth) {
        return { segments: path(), offset, length: 1, message: `nested more than ${CONFIG_LIMITS.depth} levels deep; a config is a few levels of objects and arrays` };
      }
      if (top?.kind === 'object') top.expectKey = false;
      stack.push({ kind: token === TOKEN.openBrace ? 'object' : 'array', commas: 0, key: '', expectKey: token === TOKEN.openBrace });
    } else if (token === TOKEN.closeBrace || token === TOKEN.closeBracket) {
      stack.pop();
    } else if (token === TOKEN.comma && top) {
      top.commas++;
      if (top.kind === 'object') top.expectKey = true;
      if (top.commas >= CONFIG_LIMITS.items) {
        const what = top.kind === 'array' ? 'items' : 'keys';
        return { segments: path().slice(0, -1), offset, length: 1, message: `more than ${CONFIG_LIMITS.items} ${what} in one ${top.kind}; a config lists far fewer` };
      }
    } else if (token === TOKEN.colon && top?.kind === 'object') {
      top.expectKey = false;
    } else if (token === TOKEN.string) {
      const value = scanner.getTokenValue();
      if (top?.kind === 'object' && top.expectKey) top.key = value;
      if (value.length > CONFIG_LIMITS.stringLength) {
        return {
          segments: path(),
          offset,
          length: 1,
          message: `a string of ${value.length} characters; strings in a config (paths, equations) are at most ${CONFIG_LIMITS.stringLength}`,
        };
      }
    }
  }
  return undefined;
}

/**
 * Every syntax error jsonc-parser finds, in words, at the path where it happens. After the first error on
 * a line the parser is recovering, and what it reports next on that line is a consequence, not a second mistake.
 */
function syntaxIssues(text: string, locator: ConfigLocator): SourceIssue[] {
  const containers: ('object' | 'array')[] = [];
  const issues: SourceIssue[] = [];
  let where: JSONPath = [];
  let lastLine = 0;
  visit(
    text,
    {
      onObjectBegin: (_o, _l, _sl, _sc, pathSupplier) => {
        containers.push('object');
        where = pathSupplier();
      },
      onObjectEnd: () => void containers.pop(),
      onArrayBegin: (_o, _l, _sl, _sc, pathSupplier) => {
        containers.push('array');
        where = pathSupplier();
      },
      onArrayEnd: () => void containers.pop(),
      onObjectProperty: (property, _o, _l, _sl, _sc, pathSupplier) => void (where = [...pathSupplier(), property]),
      onLiteralValue: (_v, _o, _l, _sl, _sc, pathSupplier) => void (where = pathSupplier()),
      onError: (code, offset, length) => {
        const described = describeSyntaxError(printParseErrorCode(code), text, offset, length, containers[containers.length - 1]);
        const issue = locator.issueAtOffset(formatPath(where), described.offset, described.length, described.message);
        if (issue.line === lastLine) return;
        lastLine = issue.line;
        issues.push(issue);
      },
    },
    STRICT_JSON,
  );
  if (issues.length === 0) issues.push(locator.issueAtOffset('', 0, 0, 'Expected a JSON object'));
  return issues;
}

function describeSyntaxError(
  code: ReturnType<typeof printParseErrorCode>,
  text: string,
  offset: number,
  length: number,
  container: 'object' | 'array' | undefined,
): { message: string; offset: number; length: number } {
  const at = (message: string) => ({ message, offset, length });
  const token = text.slice(offset, offset + length);
  const closing = container === 'array' ? 'closing bracket' : 'closing brace';
  // A comma before `}` or `]` is reported as a missing key or value; say what it is, at the comma.
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const comma = previousNonSpace(text, offset);
    if ((text[offset] === '}' || text[offset] === ']') && text[comma] === ',') {
      return { message: `Trailing comma: JSON allows no comma before a ${text[offset] === '}' ? 'closing brace' : 'closing bracket'}`, offset: comma, length: 1 };
    }
  }
  switch (code) {
    case 'InvalidSymbol':
      if (/^(NaN|-?Infinity)$/.test(token)) return at(`JSON has no ${token}; write a finite number`);
      if (/^(True|False|None|TRUE|FALSE|undefined)$/.test(token)) return at(`JSON has no ${token}; write true, false or null`);
      if (/^[A-Za-z_']/.test(token)) return at(`Unexpected ${JSON.stringify(token.length > 40 ? token.slice(0, 37) + '...' : token)}: keys and strings must be in double quotes`);
      return at(`Unexpected character ${JSON.stringify(token.slice(0, 8))}`);
    case 'InvalidNumberFormat':
      return at(`Invalid number ${JSON.stringify(token.slice(0, 40))}`);
    case 'PropertyNameExpected':
      return at('Expected a key in double quotes');
    case 'ValueExpected':
      return at(offset >= text.length ? 'Expected a value, but the file ends' : 'Expected a value');
    case 'ColonExpected':
      return at('Expected a colon after the key');
    case 'CommaExpected':
    case 'CloseBraceExpected':
    case 'CloseBracketExpected':
      return at(`Expected a comma or ${code === 'CommaExpected' ? closing : code === 'CloseBraceExpected' ? 'closing brace' : 'closing bracket'}`);
    case 'EndOfFileExpected':
      return at('Expected the end of the file after the closing brace');
    case 'InvalidCommentToken':
      return at('Comments are not allowed in a .jacobian.json file (strict JSON)');
    case 'UnexpectedEndOfComment':
      return at('Unterminated comment');
    case 'UnexpectedEndOfString':
      return at('Unterminated string: a closing double quote is missing');
    case 'UnexpectedEndOfNumber':
      return at('Incomplete number');
    case 'InvalidUnicode':
      return at('Invalid \\u escape: expected four hexadecimal digits');
    case 'InvalidEscapeCharacter':
      return at('Invalid escape sequence in string');
    case 'InvalidCharacter':
      return at('Invalid character in string: control characters must be escaped');
    default:
      return at('Malformed JSON');
  }
}

function previousNonSpace(text: string, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  return i;
}
