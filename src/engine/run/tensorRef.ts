// `NAME@TIME` references used in `of` / `wrt`. TIME is `t`, `t-K`, `T`, `T-K` or a literal step `N`;
// never `t+K`, because a derivative along a causal rollout only looks back in time.
// A reference with `t` is relative: one Jacobian per step t at which both ends exist.
// NAME is a tensor (`h`), a layer's tensor (`l1.h`), or a tuple of them concatenated in the order written
// (`l0.(h,c)` = `(l0.h,l0.c)`): the joint state whose transition Jacobian is a block matrix. `state`
// (and `l0.state`) stands for every state (of the network, of the layer) and is expanded by the resolver.

export type TimeExpr =
  | { kind: 'relative'; offset: number } // t - offset
  | { kind: 'fromEnd'; offset: number } // T - offset
  | { kind: 'absolute'; step: number }; // N

export interface TensorRef {
  /** The reference as written before `@`, spaces removed (`l0.(h,c)`). */
  name: string;
  /** The tensors it names, in order, each qualified as written (`l0.h`, `l0.c`); one for a plain name. */
  components: string[];
  time: TimeExpr;
  text: string;
}

export interface RefSyntaxError {
  message: string;
  /** 0-based column inside the reference string. */
  column: number;
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const NAME = `${IDENT}(?:\\.${IDENT})?`;
const REF = new RegExp(`^(${NAME}|(?:${IDENT}\\.)?\\(\\s*${NAME}(?:\\s*,\\s*${NAME})*\\s*\\))\\s*@(.*)$`);

/** `l0.(h,c)` → [`l0.h`, `l0.c`]; `(h,c)` → [`h`, `c`]; `l1.h` → [`l1.h`]. */
function components(name: string): string[] {
  const open = name.indexOf('(');
  if (open < 0) return [name];
  const prefix = name.slice(0, open);
  return name
    .slice(open + 1, -1)
    .split(',')
    .map((part) => prefix + part);
}

export function parseTensorRef(text: string): TensorRef | RefSyntaxError {
  const m = REF.exec(text);
  if (!m) {
    const at = text.indexOf('@');
    return at < 0
      ? { message: `"${text}" has no time: write NAME@t, NAME@t-1, NAME@0 or NAME@T`, column: text.length }
      : { message: `"${text.slice(0, at)}" is not a tensor name`, column: 0 };
  }
  const name = m[1].replace(/\s+/g, '');
  const timeText = m[2].replace(/\s+/g, '');
  const timeColumn = text.indexOf('@') + 1;
  let time: TimeExpr | undefined;
  let tm: RegExpExecArray | null;
  if ((tm = /^t(?:-(\d+))?$/.exec(timeText))) time = { kind: 'relative', offset: tm[1] ? Number(tm[1]) : 0 };
  else if ((tm = /^T(?:-(\d+))?$/.exec(timeText))) time = { kind: 'fromEnd', offset: tm[1] ? Number(tm[1]) : 0 };
  else if ((tm = /^(\d+)$/.exec(timeText))) time = { kind: 'absolute', step: Number(tm[1]) };
  if (!time) {
    return {
      message: `"${m[2]}" is not a time: write t, t-K, T, T-K or a step number (a Jacobian looks back in time, never ahead)`,
      column: timeColumn,
    };
  }
  return { name, components: components(name), time, text };
}

export function isRefError(r: TensorRef | RefSyntaxError): r is RefSyntaxError {
  return (r as RefSyntaxError).message !== undefined;
}

/** The step a time expression denotes at relative step `t` of a run with T steps. */
export function resolveTime(time: TimeExpr, t: number, T: number): number {
  switch (time.kind) {
    case 'relative':
      return t - time.offset;
    case 'fromEnd':
      return T - time.offset;
    case 'absolute':
      return time.step;
  }
}
