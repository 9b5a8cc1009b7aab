// Built-in cells by name. Each is a small function that builds a CellGraph.
import type { BuiltinCellName, RunSpec } from '../config/spec';
import type { CellGraph } from '../graph/graph';
import { referableTensors } from '../graph/graph';
import { UserError } from '../errors';
import { buildCustomCell, reporterFor } from './custom/build';
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
  if (spec.cell === 'custom') return customCell(spec);
  return BUILTIN_CELL_BUILDERS[spec.cell](spec);
}

/** A custom cell from its equations (already checked by validation, which reports the same issues). */
function customCell(spec: RunSpec): CellGraph {
  if (!spec.custom) throw new Error('internal: cell "custom" without its equations');
  const { graph, issues } = buildCustomCell(spec.custom, { units: spec.units, inputDim: spec.inputDim }, reporterFor(spec.locator));
  if (!graph) throw new UserError('config', issues);
  return graph;
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
