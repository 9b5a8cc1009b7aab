// The expression language of custom cells, parsed by recursive descent into an AST that keeps the
// source columns of every node, so that each later error (unknown name, shape mismatch, cycle) can be
// underlined inside the config's string. Nothing here evaluates anything: the AST is lowered into
// CellBuilder calls by build.ts.
//
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '@') unary)*          `*` and `@` bind alike, left to right, as in Python
//   unary   := '-' unary | '+' unary | postfix
//   postfix := primary ('[' dim? ':' dim? ']')*     a slice of the feature axis
//   primary := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
//   dim     := dterm (('+' | '-') dterm)*;  dterm := datom ('*' datom)*;  datom := INTEGER | units | inputDim | '(' dim ')'

import { didYouMean } from '../../config/suggest';

/** A source span: characters [start, end) of the expression string. */
export interface Span {
  start: number;
  end: number;
}

export type BinaryOp = '+' | '-' | '*' | '@';

export type Expr =
  | ({ kind: 'number'; value: number } & Span)
  | ({ kind: 'name'; name: string } & Span)
  | ({ kind: 'call'; fn: string; fnSpan: Span; args: Expr[] } & Span)
  | ({ kind: 'binary'; op: BinaryOp; opAt: number; left: Expr; right: Expr } & Span)
  | ({ kind: 'neg'; operand: Expr } & Span)
  | ({ kind: 'slice'; target: Expr; from?: Dim; to?: Dim; bracket: Span } & Span);

/** A size inside slice brackets: integers and the symbols `units` and `inputDim`. */
export type Dim =
  | ({ kind: 'int'; value: number } & Span)
  | ({ kind: 'symbol'; name: DimSymbol } & Span)
  | ({ kind: 'dimop'; op: '+' | '-' | '*'; left: Dim; right: Dim } & Span);

export const DIM_SYMBOLS = ['units', 'inputDim'] as const;
export type DimSymbol = (typeof DIM_SYMBOLS)[number];

/** A problem at a column of the expression (0-based, in the string's characters). */
export class ExprError extends Error {
  constructor(
    message: string,
    readonly column: number,
    readonly length: number,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}

type TokenKind = 'number' | 'name' | 'op' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const SINGLE = new Set(['+', '-', '*', '@', '(', ')', '[', ']', ':', ',']);
const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Characters people reach for that the language does not have, with what to write instead. */
const UNSUPPORTED: Record<string, string> = {
  '/': 'division is not in the op set (expressions have + - * @)',
  '^': '"^" is not an operator here (expressions have + - * @)',
  '.': 'attribute access is not supported; write a parameter name, f(...), concat(...), row(...) or a slice [a:b]',
};

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ kind: 'number', text: num[0], start: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', text: name[0], start: i, end: i + name[0].length });
      i += name[0].length;
      continue;
    }
    if (ch === '*' && text[i + 1] === '*') throw new ExprError('"**" (power) is not in the op set (expressions have + - * @)', i, 2);
    if (SINGLE.has(ch)) {
      tokens.push({ kind: 'op', text: ch, start: i, end: i + 1 });
      i++;
      continue;
    }
    throw new ExprError(UNSUPPORTED[ch] ?? `unexpected character ${JSON.stringify(ch)}`, i, 1);
  }
  tokens.push({ kind: 'end', text: '', start: text.length, end: text.length });
  return tokens;
}

/**
 * How deep an expression may nest (parentheses, calls, signs, slices) and how tall its tree may grow
 * (`a+a+...+a` is a chain as tall as it is long). Parsing, lowering and evaluation walk the tree
 * recursively; this bound keeps them far from the call stack's limit, and far above any real equation.
 */
export const MAX_EXPRESSION_DEPTH = 256;

type Node = Expr | Dim;

class Parser {
  private pos = 0;
  /** Open parentheses, calls, signs and slices around the current token. */
  private nesting = 0;
  /** Height of each node built (a leaf is 1), to bound operator chains. */
  private readonly heights = new WeakMap<object, number>();

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  private expect(text: string, what: string): Token {
    const t = this.peek();
    if (t.kind === 'op' && t.text === text) return this.next();
    throw this.unexpected(t, `expected ${what}`);
  }

  /** Parses something nested one level deeper, refusing to go past MAX_EXPRESSION_DEPTH. */
  private nested<T>(at: Token, parse: () => T): T {
    if (this.nesting >= MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`nested more than ${MAX_EXPRESSION_DEPTH} levels deep (parentheses, calls, signs or slices)`, at.start, at.end - at.start);
    }
    this.nesting++;
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }

  /** Records a node's height from its children's, refusing a tree taller than MAX_EXPRESSION_DEPTH. */
  private built<T extends Node>(node: T, ...children: (Node | undefined)[]): T {
    const height = 1 + Math.max(0, ...children.map((c) => (c ? (this.heights.get(c) ?? 1) : 0)));
    if (height > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`more than ${MAX_EXPRESSION_DEPTH} operations chained in one expression; split it into several equations`, node.start, node.end - node.start);
    }
    this.heights.set(node, height);
    return node;
  }

  private unexpected(t: Token, expected: string): ExprError {
    if (t.kind === 'end') return new ExprError(`${expected}, but the expression ends`, Math.max(0, this.text.length - 1), this.text.length > 0 ? 1 : 0);
    return new ExprError(`${expected}, found ${JSON.stringify(t.text)}`, t.start, t.end - t.start);
  }

  parseAll(): Expr {
    if (this.peek().kind === 'end') throw new ExprError('empty expression', 0, 0);
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') {
      const hint = t.kind === 'name' || t.kind === 'number' || (t.kind === 'op' && (t.text === '(' || t.text === '[')) ? ' (an operator is missing?)' : '';
      throw new ExprError(`unexpected ${JSON.stringify(t.text)}${hint}`, t.start, t.end - t.start);
    }
    return e;
  }

  private expr(): Expr {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next();
      const right = this.term();
      left = this.built({ kind: 'binary', op: op.text as BinaryOp, opAt: op.start, left, right, start: left.start, end: right.end }, left, right);
    }
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('@')) {
      const op = this.next();
      const right = this.unary();
      left = this.built({ kind: 'binary', op: op.text as BinaryOp, opAt: op.start, left, right, start: left.start, end: right.end }, left, right);
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      const minus = this.next();
      const operand = this.nested(minus, () => this.unary());
      // A negative literal is a constant of its own, not 0 − x.
      if (operand.kind === 'number') return { kind: 'number', value: -operand.value, start: minus.start, end: operand.end };
      return this.built({ kind: 'neg', operand, start: minus.start, end: operand.end }, operand);
    }
    if (this.isOp('+')) {
      const plus = this.next();
      return this.nested(plus, () => this.unary());
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    while (this.isOp('[')) {
      const open = this.next();
      const { from, to, close } = this.nested(open, () => {
        const from = this.isOp(':') ? undefined : this.dim();
        if (!this.isOp(':')) throw this.unexpected(this.peek(), 'expected ":" (slices are written [begin:end])');
        this.next();
        const to = this.isOp(']') ? undefined : this.dim();
        return { from, to, close: this.expect(']', '"]"') };
      });
      const target = e;
      e = this.built({ kind: 'slice', target, from, to, bracket: { start: open.start, end: close.end }, start: target.start, end: close.end }, target, from, to);
    }
    return e;
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      return { kind: 'number', value: Number(t.text), start: t.start, end: t.end };
    }
    if (t.kind === 'name') {
      this.next();
      if (!this.isOp('(')) return { kind: 'name', name: t.text, start: t.start, end: t.end };
      this.next();
      const args: Expr[] = [];
      if (this.isOp(')')) throw new ExprError(`${t.text}() needs an argument`, t.start, this.peek().end - t.start);
      const close = this.nested(t, () => {
        args.push(this.expr());
        while (this.isOp(',')) {
          this.next();
          args.push(this.expr());
        }
        return this.expect(')', '"," or ")"');
      });
      return this.built({ kind: 'call', fn: t.text, fnSpan: { start: t.start, end: t.end }, args, start: t.start, end: close.end }, ...args);
    }
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      const { inner, close } = this.nested(t, () => ({ inner: this.expr(), close: this.expect(')', '")"') }));
      // The parentheses belong to the operand's span, so messages quote them.
      return this.built({ ...inner, start: t.start, end: close.end }, inner);
    }
    throw this.unexpected(t, 'expected a name, a number or "("');
  }

  /** A whole size expression (a shape entry such as `4*units`). */
  parseDimOnly(): Dim {
    if (this.peek().kind === 'end') throw new ExprError('empty size', 0, 0);
    const d = this.dim();
    const t = this.peek();
    if (t.kind !== 'end') throw new ExprError(`unexpected ${JSON.stringify(t.text)} in a size`, t.start, t.end - t.start);
    return d;
  }

  private dim(): Dim {
    let left = this.dimTerm();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text as '+' | '-';
      const right = this.dimTerm();
      left = this.built({ kind: 'dimop', op, left, right, start: left.start, end: right.end }, left, right);
    }
    return left;
  }

  private dimTerm(): Dim {
    let left = this.dimAtom();
    while (this.isOp('*')) {
      this.next();
      const right = this.dimAtom();
      left = this.built({ kind: 'dimop', op: '*', left, right, start: left.start, end: right.end }, left, right);
    }
    return left;
  }

  private dimAtom(): Dim {
    const t = this.peek();
    if (t.kind === 'number') {
      if (!/^\d+$/.test(t.text)) throw new ExprError(`sizes and slice bounds are whole numbers, got ${t.text}`, t.start, t.end - t.start);
      this.next();
      return { kind: 'int', value: Number(t.text), start: t.start, end: t.end };
    }
    if (t.kind === 'name') {
      if (!(DIM_SYMBOLS as readonly string[]).includes(t.text)) {
        throw new ExprError(
          `sizes and slice bounds are whole numbers, units, inputDim, or sums and products of them; "${t.text}" is neither` +
            didYouMean(t.text, DIM_SYMBOLS),
          t.start,
          t.end - t.start,
        );
      }
      this.next();
      return { kind: 'symbol', name: t.text as DimSymbol, start: t.start, end: t.end };
    }
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      const { inner, close } = this.nested(t, () => ({ inner: this.dim(), close: this.expect(')', '")"') }));
      return this.built({ ...inner, start: t.start, end: close.end }, inner);
    }
    throw this.unexpected(t, 'expected a size (a whole number, units or inputDim)');
  }
}

/** Parses one equation's right-hand side; throws ExprError at the offending column. */
export function parseExpression(text: string): Expr {
  return new Parser(tokenize(text), text).parseAll();
}

/** Parses a size written as text in the config (`"units"`, `"4*units"`, `"units+inputDim"`). */
export function parseDimension(text: string): Dim {
  return new Parser(tokenize(text), text).parseDimOnly();
}

/** The value of a size, given the cell's units and inputDim. */
export function evaluateDim(d: Dim, sizes: Record<DimSymbol, number | undefined>): number {
  switch (d.kind) {
    case 'int':
      return d.value;
    case 'symbol': {
      const v = sizes[d.name];
      if (v === undefined) throw new ExprError(`${d.name} is not set in this config; give "${d.name}" or write a number`, d.start, d.end - d.start);
      return v;
    }
    case 'dimop': {
      const a = evaluateDim(d.left, sizes);
      const b = evaluateDim(d.right, sizes);
      return d.op === '+' ? a + b : d.op === '-' ? a - b : a * b;
    }
  }
}

/** Every name an expression reads (not function names), with where it is read, in source order. */
export function namesIn(e: Expr): { name: string; start: number; end: number }[] {
  switch (e.kind) {
    case 'number':
      return [];
    case 'name':
      return [{ name: e.name, start: e.start, end: e.end }];
    case 'call':
      return e.args.flatMap(namesIn);
    case 'binary':
      return [...namesIn(e.left), ...namesIn(e.right)];
    case 'neg':
      return namesIn(e.operand);
    case 'slice':
      return namesIn(e.target);
  }
}
