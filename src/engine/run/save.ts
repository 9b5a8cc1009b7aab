// --save: every number of a run as float32 .npy files plus a manifest.json naming each file's tensor,
// shape and meaning. Files are written into a fresh sibling folder that is renamed into place at the
// end, so a failed or interrupted save never leaves a half-written folder behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, fileIssue } from '../errors';
import { encodeNpy } from '../params/npy';
import type { Report, RunResult } from './report';

export interface ManifestFile {
  file: string;
  kind:
    | 'param' | 'state' | 'input' | 'intermediate' | 'output' | 'jacobian' | 'singularValues' | 'eigenvaluesRe' | 'eigenvaluesIm'
    | 'gradientPropagation' | 'lyapunov' | 'lyapunovConvergence';
  tensor?: string;
  of?: string;
  wrt?: string;
  /** For Jacobian files: the step label t of each leading index. */
  steps?: number[];
  shape: number[];
  dtype: 'float32';
  meaning: string;
}

/** The run's identity, as in the report, and every file written. */
export type SaveManifest = Pick<
  Report,
  'schemaVersion' | 'config' | 'cell' | 'units' | 'inputDim' | 'activation' | 'timeSteps' | 'batchSize' | 'seed' | 'backend' | 'method' | 'layers'
> & { files: ManifestFile[] };

const MANIFEST = 'manifest.json';

type SaveFile = { rel: string; shape: number[]; data: Float32Array; entry: ManifestFile };

/** The series of a state transition pair (gradient propagation, Lyapunov), when computed. */
function seriesFiles(pair: Report['jacobians'][number], i: number): SaveFile[] {
  const out: SaveFile[] = [];
  const add = (name: string, kind: ManifestFile['kind'], rows: number[][], meaning: string, steps?: number[]) => {
    const rel = `jacobians/${i}.${name}.npy`;
    const shape = [rows.length, rows[0]?.length ?? 0];
    out.push({ rel, shape, data: Float32Array.from(rows.flat()), entry: { file: rel, kind, of: pair.of, wrt: pair.wrt, ...(steps ? { steps } : {}), shape, dtype: 'float32', meaning } });
  };
  const g = pair.gradient;
  if (g) {
    add('gradient_log_spectral', 'gradientPropagation', g.logSpectral, 'entry [b, k] = ln‖∂s_T/∂s_t‖₂ for t = steps[k] (T−1 down to 0), batch element b', g.t);
    add('gradient_log_frobenius', 'gradientPropagation', g.logFrobenius, 'entry [b, k] = ln‖∂s_T/∂s_t‖_F for t = steps[k], batch element b', g.t);
  }
  const l = pair.lyapunov;
  if (l) {
    add('lyapunov', 'lyapunov', l.perBatch, `entry [b, i] = λ_i (ln per step, descending) of batch element b, ${l.steps} steps after a transient of ${l.transient}`);
    add('lyapunov_convergence', 'lyapunovConvergence', l.convergence.exponents, 'entry [k, i] = running estimate of λ_i (batch mean) at step steps[k]', l.convergence.t);
  }
  return out;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '.');
}

/** Writes the run into `dir` (created; an existing RNN Jacobian Lab save there is replaced). */
export function saveRun(result: RunResult, dir: string): SaveManifest {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    const entries = fs.readdirSync(target);
    if (entries.length > 0 && !entries.includes(MANIFEST)) {
      throw new UserError('input', [fileIssue(target, 'the --save folder exists and holds files that are not a RNN Jacobian Lab save; choose an empty or new folder')]);
    }
  }
  const { report, arrays } = result;
  const B = report.batchSize;
  const files: SaveFile[] = [];
  for (const t of arrays.tensors) {
    const rel = t.kind === 'param' ? `params/${safeName(t.name.replace(/\//g, '.'))}.npy` : `trajectory/${safeName(t.name)}.npy`;
    files.push({ rel, shape: t.shape, data: t.data, entry: { file: rel, kind: t.kind, tensor: t.name, shape: t.shape, dtype: 'float32', meaning: t.meaning } });
  }
  report.jacobians.forEach((pair, i) => {
    const a = arrays.pairs[i];
    const steps = pair.steps.map((s) => s.t);
    const common = { of: pair.of, wrt: pair.wrt, steps, dtype: 'float32' as const };
    if (a.jacobians) {
      const shape = [steps.length, B, pair.outDim, pair.inDim];
      files.push({ rel: `jacobians/${i}.npy`, shape, data: a.jacobians, entry: { file: `jacobians/${i}.npy`, kind: 'jacobian', ...common, shape, meaning: `entry [k, b, i, j] = ∂(${pair.of})_i / ∂(${pair.wrt})_j at step t = steps[k], batch element b` } });
    }
    if (a.singularValues) {
      const shape = [steps.length, B, Math.min(pair.outDim, pair.inDim)];
      files.push({ rel: `jacobians/${i}.singular_values.npy`, shape, data: a.singularValues, entry: { file: `jacobians/${i}.singular_values.npy`, kind: 'singularValues', ...common, shape, meaning: 'singular values of each Jacobian, descending' } });
    }
    if (a.eigenvaluesRe && a.eigenvaluesIm) {
      const shape = [steps.length, B, pair.outDim];
      files.push({ rel: `jacobians/${i}.eigenvalues_re.npy`, shape, data: a.eigenvaluesRe, entry: { file: `jacobians/${i}.eigenvalues_re.npy`, kind: 'eigenvaluesRe', ...common, shape, meaning: 'real parts of the eigenvalues of each Jacobian, by decreasing modulus' } });
      files.push({ rel: `jacobians/${i}.eigenvalues_im.npy`, shape, data: a.eigenvaluesIm, entry: { file: `jacobians/${i}.eigenvalues_im.npy`, kind: 'eigenvaluesIm', ...common, shape, meaning: 'imaginary parts, same order' } });
    }
    files.push(...seriesFiles(pair, i));
  });
  const { schemaVersion, config, cell, units, inputDim, activation, timeSteps, batchSize, seed, backend, method, layers } = report;
  const manifest: SaveManifest = {
    ...{ schemaVersion, config, cell, units, inputDim, activation, timeSteps, batchSize, seed, backend, method },
    ...(layers ? { layers } : {}),
    files: files.map((f) => f.entry),
  };
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.jl-tmp-${path.basename(target)}-`));
  try {
    for (const f of files) {
      const p = path.join(staging, f.rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, encodeNpy(f.shape, f.data));
    }
    fs.writeFileSync(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (fs.existsSync(target)) {
      // Replace a previous save: move it aside first so the swap is two renames.
      const old = `${staging}.old`;
      fs.renameSync(target, old);
      fs.renameSync(staging, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(staging, target);
    }
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

/** Writes a file atomically (temp file + rename), for --json. */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  const target = path.resolve(file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.jl-tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
