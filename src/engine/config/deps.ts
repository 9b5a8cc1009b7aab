// What validation needs from outside the config folder, passed in by the caller (src/engine/runConfig.ts
// wires the engine's own), so that config imports neither the cells nor the file system and every stage
// can be tested alone.
import type { SourceIssue } from '../errors';
import type { CustomCellSpec, SourceLocator } from './spec';

/** A custom cell's block resolved to sizes and equations, as the RunSpec holds it. */
export interface ResolvedCustom {
  spec: CustomCellSpec;
  units: number;
  inputDim: number;
}

export interface CustomCellCheckResult {
  issues: SourceIssue[];
  /** The names `of`/`wrt` may use (when the cell builds). */
  names?: ReadonlySet<string>;
  resolved?: ResolvedCustom;
}

/**
 * Checks a custom cell's block (already valid against the schema) by building its graph, and reports every
 * problem located inside the config. `given`: `units` and `inputDim` when the config states them.
 */
export type CustomCellCheck = (custom: unknown, given: { units?: number; inputDim?: number }, locator: SourceLocator) => CustomCellCheckResult;

export interface ConfigDeps {
  /** The tensor names of a built-in cell (`h`, `c`, `x`, `o`, ...), to check `of`/`wrt`; absent skips the check. */
  tensorNames?: (cell: string) => ReadonlySet<string> | undefined;
  /** Builds custom cells; a config with `"cell": "custom"` cannot be validated without it. */
  customCell?: CustomCellCheck;
  /**
   * `"cell": "auto"`: rewrites the parsed config in place with the cell, sizes and settings of the model file its
   * `weights` names, before any stage runs; returns the issues that prevent it. Absent: "auto" is not resolved.
   */
  autoCell?: (data: unknown, locator: SourceLocator, configDir: string) => SourceIssue[];
  /** Why a file the config names cannot be read (absolute path in), or undefined when it can; absent skips the check. */
  fileProblem?: (file: string) => string | undefined;
}
