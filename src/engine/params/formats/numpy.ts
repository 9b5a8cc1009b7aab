// NumPy weights: an .npz keyed by weight name (every parameter must be there), or one .npy per parameter
// (the others keep their initializers). Decoding is npy.ts's; the checks against the cell are checks.ts's.
import type { RunSpec, WeightsSpec } from '../../config/spec';
import { closest, didYouMean } from '../../config/suggest';
import type { SourceIssue } from '../../errors';
import type { CellGraph, ParamDecl } from '../../graph/graph';
import { NpyFormatError, readNpyFile, readNpzFile, type NpyArray } from '../npy';
import { checked, weightNameOf, WeightsError } from './checks';

function readNpz(file: string, path: string, spec: RunSpec): Map<string, NpyArray> {
  try {
    return readNpzFile(file);
  } catch (e) {
    if (e instanceof NpyFormatError) throw new WeightsError('input', [spec.locator.issueAt(path, e.message)]);
    throw e;
  }
}

export function fromNpz(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'npz' }>): Map<string, Float32Array> {
  const arrays = readNpz(weights.file, weights.path, spec);
  const out = new Map<string, Float32Array>();
  const issues: SourceIssue[] = [];
  const missing: string[] = [];
  for (const decl of graph.params) {
    const key = arrays.has(weightNameOf(decl)) ? weightNameOf(decl) : arrays.has(decl.name) ? decl.name : undefined;
    if (key === undefined) {
      missing.push(weightNameOf(decl));
      continue;
    }
    const data = checked(decl, arrays.get(key)!, weights.file, weights.path, spec, issues);
    if (data) out.set(decl.name, data);
  }
  if (missing.length > 0) {
    const keys = [...arrays.keys()];
    const hints = missing.map((m) => closest(m, keys)).filter((h): h is string => h !== undefined);
    issues.push(
      spec.locator.issueAt(
        weights.path,
        `${weights.file} has no array for ${missing.map((m) => `"${m}"`).join(', ')}; it holds ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'no arrays'}` +
          (hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(', ')}?` : '') +
          ' (keys are weight names; every parameter must be there)',
      ),
    );
  }
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}

export function fromFiles(graph: CellGraph, spec: RunSpec, weights: Extract<WeightsSpec, { kind: 'files' }>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const issues: SourceIssue[] = [];
  const byName = new Map<string, ParamDecl>();
  for (const decl of graph.params) byName.set(weightNameOf(decl), decl);
  for (const decl of graph.params) if (!byName.has(decl.name)) byName.set(decl.name, decl);
  for (const entry of weights.files) {
    const decl = byName.get(entry.param);
    if (!decl) {
      const names = graph.params.map(weightNameOf);
      issues.push(
        (spec.locator.issueAtKey ?? spec.locator.issueAt).call(
          spec.locator,
          entry.path,
          `the cell has no parameter "${entry.param}"; its parameters are ${names.map((n) => `"${n}"`).join(', ')}` + didYouMean(entry.param, names),
        ),
      );
      continue;
    }
    let arr: NpyArray;
    try {
      arr = readNpyFile(entry.file);
    } catch (e) {
      if (!(e instanceof NpyFormatError)) throw e;
      issues.push(spec.locator.issueAt(entry.path, e.message));
      continue;
    }
    const data = checked(decl, arr, entry.file, entry.path, spec, issues);
    if (data) out.set(decl.name, data);
  }
  if (issues.length > 0) throw new WeightsError('input', issues);
  return out;
}
