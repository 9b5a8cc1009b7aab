// The fixed op set. A cell graph may use only these; the structured method has a rule for each.
import type { OpDef } from '../op';
import { activationOp } from './activation';
import { addOp } from './add';
import { concatOp } from './concat';
import { matmulOp } from './matmul';
import { mulOp } from './mul';
import { rowOp } from './row';
import { sliceOp } from './slice';
import { subOp } from './sub';

export const OPS: Record<string, OpDef> = Object.fromEntries(
  [addOp, subOp, mulOp, matmulOp, activationOp, concatOp, sliceOp, rowOp].map((op) => [op.name, op]),
);

export function opDef(name: string): OpDef {
  const op = OPS[name];
  if (!op) throw new Error(`unknown op ${name}`);
  return op;
}
