// Gradient flossing (Engelken, arXiv 2312.17306): drive the first k Lyapunov exponents of the network to a
// target (0 by default). The exponents come from the standard QR iteration over the transition Jacobians,
// Q_t R_t = J_t Q_{t-1}, λ_i = mean over steps of log|R_t[i,i]|, with a modified Gram–Schmidt QR written in tfjs
// ops so that reverse mode runs through it on every backend (tf.linalg.qr frees its intermediates inside tidy
// loops and works on one matrix at a time).
import type { Scalar } from '@tensorflow/tfjs-core';
import { tf, type Tensor, type Tensor3D } from '../backend/tf';
import { initBackend } from '../backend/backend';
import { parseRunConfig } from '../runConfig';
import { UserError } from '../errors';
import { parseFloss, type FlossSpec } from './config';
import { kindJacobians, type ControlKind } from './kinds';
import { controlTrajectory } from './loss';
import { runControl, type ControlResult, type ControlRunOptions } from './lsc';
import type { Objective } from './optimize';
import { controlProblem, jointDim, type ControlProblem } from './problem';

/**
 * Q [B, n, k] with orthonormal columns and the diagonal of R [B, k] (positive): Gram–Schmidt column by column,
 * each projection done twice against all previous columns at once (CGS2 — as accurate as modified Gram–Schmidt,
 * with two batched matmuls per column instead of one op per pair of columns).
 */
export function gramSchmidt(z: Tensor3D): { q: Tensor3D; rDiag: Tensor } {
  const t = tf();
  const [B, , k] = z.shape;
  const cols = t.split(z, k, 2) as Tensor3D[];
  let q: Tensor3D | undefined;
  const r: Tensor[] = [];
  for (let j = 0; j < k; j++) {
    let v: Tensor3D = cols[j];
    if (q) {
      for (let pass = 0; pass < 2; pass++) v = t.sub(v, t.matMul(q, t.matMul(q, v, true, false))) as Tensor3D;
    }
    const norm = t.sqrt(t.sum(t.square(v), 1, true)); // [B, 1, 1]
    const unit = t.div(v, norm) as Tensor3D;
    q = q ? (t.concat([q, unit], 2) as Tensor3D) : unit;
    r.push(t.reshape(norm, [B, 1]));
  }
  return { q: q!, rDiag: t.concat(r, 1) };
}

/**
 * The first k Lyapunov exponents (per step, natural log) of each batch element, [B, k], from the transition
 * Jacobians J [T·B, n, n] (row s·B + b = step s+1, element b). The frame is carried through `qrEvery` steps
 * between orthonormalisations (the diagonal of R multiplies the same way; fewer QRs); the steps before
 * `warmup` only turn the frame.
 */
export function lyapunovExponents(j: Tensor3D, T: number, B: number, k: number, warmup: number, qrEvery = 1): Tensor {
  const t = tf();
  const n = j.shape[1];
  let q = t.tile(t.expandDims(t.slice(t.eye(n), [0, 0], [n, k]), 0), [B, 1, 1]) as Tensor3D;
  const logs: Tensor[] = [];
  let counted = 0;
  for (let s = 0; s < T; ) {
    // A block of steps never straddles the end of the warm-up.
    const end = Math.min(T, s + qrEvery, s < warmup ? warmup : T);
    let z: Tensor3D = q;
    for (let u = s; u < end; u++) z = t.matMul(t.slice(j, [u * B, 0, 0], [B, n, n]), z) as Tensor3D;
    const next = gramSchmidt(z);
    q = next.q;
    if (s >= warmup) {
      logs.push(t.log(next.rDiag));
      counted += end - s;
    }
    s = end;
  }
  return t.div(t.addN(logs), counted);
}

export function flossObjective(problem: ControlProblem, block: FlossSpec): Objective {
  const t = tf();
  const k = block.exponents;
  const kind: ControlKind = { name: 'time', label: '', rows: problem.states, cols: problem.states, measure: 'radius', target: block.target };
  return {
    quantities: Array.from({ length: k }, (_, i) => ({ label: `λ${i + 1}`, target: block.target })),
    loss: (data, values): Scalar => {
      const traj = controlTrajectory(problem.graph, data, block.timeSteps, block.batchSize, block.throughStates);
      const j = kindJacobians(problem.graph, kind, traj, data.params);
      const lambda = lyapunovExponents(j, block.timeSteps, block.batchSize, k, block.warmup, block.qrEvery);
      const per = t.transpose(lambda).dataSync() as Float32Array; // [k, B]
      for (let i = 0; i < k; i++) values[i] = per.slice(i * block.batchSize, (i + 1) * block.batchSize);
      return t.mean(t.square(t.sub(lambda, block.target))) as Scalar;
    },
  };
}

export async function flossText(text: string, file: string, options: ControlRunOptions = {}): Promise<ControlResult> {
  const spec = parseRunConfig(text, file);
  const block = parseFloss(spec, text);
  const backend = await initBackend(options.backend ?? 'auto');
  const problem = controlProblem(spec, block);
  const n = jointDim(problem.graph, problem.states);
  if (block.exponents > n) {
    throw new UserError('config', [spec.locator.issueAt('floss.exponents', `asks for ${block.exponents} Lyapunov exponents; the state (${problem.states.join(', ')}) has ${n} dimensions, so at most ${n}`)]);
  }
  return runControl('floss', problem, flossObjective(problem, block), block, options, backend);
}
