// `NAME@TIME` references used in `of` / `wrt`. TIME is `t`, `t-K`, `T`, `T-K` or a literal step `N`;
// never `t+K`, because a derivative along a causal rollout only looks back in time.
// A reference with `t` is relative: one Jacobian per step t at which both ends exist.

export type TimeExpr =
  | { kind: 'relative'; offset: number } // t - offset
  | { kind: 'fromEnd'; offset: number } // T - offset
  | { kind: 'absolute'; step: number }; // N

export interface TensorRef {
  name: string;
  time: TimeExpr;
  text: string;
}

export interface RefSyntaxError {
  message: string;
  /** 0-based column inside the reference string. */
  column: number;
}

const REF = /^([A-Za-z_][A-Za-z0-9_]*)@(.*)$/;

export function parseTensorRef(text: string): TensorRef | RefSyntaxError {
  const m = REF.exec(text);
  if (!m) {
    const at = text.indexOf('@');
    return at < 0
      ? { message: `"${text}" has no time: write NAME@t, NAME@t-1, NAME@0 or NAME@T`, column: text.length }
      : { message: `"${text.slice(0, at)}" is not a tensor name`, column: 0 };
  }
  const name = m[1];
  const timeText = m[2].replace(/\s+/g, '');
  const timeColumn = name.length + 1;
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
  return { name, time, text };
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
