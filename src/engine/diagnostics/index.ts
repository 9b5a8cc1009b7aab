// The diagnostics registry: every diagnostic, in the order the schema lists them. The config schema's
// enum (held equal by a unit test), the RunSpec's DiagnosticName, the defaults, the run and the CLI
// table read this list.
import type { DiagnosticDef } from './diagnostic';
import { eigenvalues } from './eigenvalues';
import { frobenius } from './frobenius';
import { gradientPropagation } from './gradientPropagation';
import { lyapunov } from './lyapunov';
import { mean } from './mean';
import { singularValues } from './singularValues';
import { spectralNorm } from './spectralNorm';
import { spectralRadius } from './spectralRadius';
import { varTimesFanIn } from './varTimesFanIn';

export const DIAGNOSTIC_DEFS = [
  mean, varTimesFanIn, frobenius, spectralNorm, spectralRadius, singularValues, eigenvalues, gradientPropagation, lyapunov,
] as const;

export type DiagnosticName = (typeof DIAGNOSTIC_DEFS)[number]['name'];

export const DIAGNOSTIC_NAMES = DIAGNOSTIC_DEFS.map((d) => d.name) as DiagnosticName[];

export const DEFAULT_DIAGNOSTICS = DIAGNOSTIC_DEFS.filter((d) => d.default).map((d) => d.name) as DiagnosticName[];

export function diagnosticDef(name: DiagnosticName): DiagnosticDef<DiagnosticName> {
  return DIAGNOSTIC_DEFS.find((d) => d.name === name)! as DiagnosticDef<DiagnosticName>;
}

export type { DiagnosticDef } from './diagnostic';
