// Built-in cells by name. Each is a small function that builds a CellGraph.
import type { BuiltinCellName, RunSpec } from '../config/spec';
import type { CellGraph } from '../graph/graph';
import { referableTensors } from '../graph/graph';
import { gruCell } from './gru';
import { lstmCell } from './lstm';
import { seedCell } from './seed';
import { simpleRnnCell } from './simpleRnn';

export const BUILTIN_CELL_BUILDERS: Record<BuiltinCellName, (spec: RunSpec) => CellGraph> = {
  seed: seedCell,
  simple_rnn: simpleRnnCell,
  lstm: lstmCell,
  gru: gruCell,
};

export function buildCell(spec: RunSpec): CellGraph {
  if (spec.cell === 'custom') throw new Error('custom cells are built from their equations');
  return BUILTIN_CELL_BUILDERS[spec.cell](spec);
}

/**
 * Tensor names usable in `of`/`wrt` for a built-in cell. Names do not depend on sizes, so a tiny
 * graph answers for validation before the real sizes are checked.
 */
export function builtinTensorNames(cell: string): ReadonlySet<string> | undefined {
  const build = BUILTIN_CELL_BUILDERS[cell as BuiltinCellName];
  if (!build) return undefined;
  const probe = {
    units: 1, inputDim: 1, activation: 'linear', recurrentActivation: 'sigmoid', useBias: true,
    initializers: { kernel: { name: 'zeros' }, recurrentKernel: { name: 'zeros' }, bias: { name: 'zeros' } },
  } as unknown as RunSpec;
  return new Set(referableTensors(build(probe)).filter((n) => !n.name.startsWith('_')).map((n) => n.name));
}
