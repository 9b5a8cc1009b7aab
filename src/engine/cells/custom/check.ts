// The custom-cell check that config validation is given (ConfigDeps.customCell): resolve the block's
// sizes, build its graph, and report every problem located inside the config.
import type { CustomCellCheck } from '../../config/deps';
import { buildCustomCell, customTensorNames, reporterFor } from './build';
import { resolveCustomConfig, type RawCustomCell } from './config';

export const checkCustomCell: CustomCellCheck = (custom, given, locator) => {
  const report = reporterFor(locator);
  const { resolved, issues } = resolveCustomConfig(custom as RawCustomCell, given, report);
  if (!resolved) return { issues };
  const built = buildCustomCell(resolved.spec, { units: resolved.units, inputDim: resolved.inputDim }, report);
  if (!built.graph) return { issues: built.issues };
  return { issues: [], names: customTensorNames(built.graph), resolved };
};
