// A structured Jacobian to and from its wire form (thread/protocol.ts), for the rows a second thread takes: the
// per-row factors are cut to those rows, shared matrices go whole. Factored Jacobians stay factored, so W6's half
// (128 seed Jacobians of order 512) crosses as one 1 MB matrix and one [128, 512] block.
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../backend/tf';
import { selectMatrices, type SJ } from '../graph/structuredJacobian';
import type { WireJacobian, WireTensor } from './protocol';

const wire = (x: Tensor): WireTensor => ({ shape: x.shape.slice(), data: Float32Array.from(x.dataSync() as Float32Array) });

/** Rows from..to−1 of the N = `rows` Jacobians j, as they cross threads (new arrays, safe to transfer). */
export function toWire(j: SJ, rows: number, from: number, to: number): WireJacobian {
  const t = tf();
  t.engine().startScope();
  try {
    const part = selectMatrices(j, rows, from, to);
    switch (part.kind) {
      case 'zero':
      case 'identity':
        return part;
      case 'diag':
        return { kind: 'diag', d: wire(part.d) };
      case 'shared':
        return { kind: 'shared', m: wire(part.m) };
      case 'scaled':
        return { kind: 'scaled', m: wire(part.m), row: part.row && wire(part.row), col: part.col && wire(part.col) };
      case 'dense':
        return { kind: 'dense', m: wire(part.m) };
    }
  } finally {
    t.engine().endScope();
  }
}

/** The buffers of a wire Jacobian, to move rather than copy. */
export function wireBuffers(w: WireJacobian): ArrayBuffer[] {
  const tensors = Object.values(w).filter((x): x is WireTensor => typeof x === 'object' && x !== null);
  return tensors.map((x) => x.data.buffer as ArrayBuffer);
}

/** The structured Jacobian of a wire form, as tensors of this thread (owned by the caller's scope). */
export function fromWire(w: WireJacobian): SJ {
  const t = tf();
  const make2 = (x: WireTensor) => t.tensor2d(x.data, x.shape as [number, number]) as Tensor2D;
  switch (w.kind) {
    case 'zero':
    case 'identity':
      return w;
    case 'diag':
      return { kind: 'diag', d: make2(w.d) };
    case 'shared':
      return { kind: 'shared', m: make2(w.m) };
    case 'scaled':
      return { kind: 'scaled', m: make2(w.m), row: w.row && make2(w.row), col: w.col && make2(w.col) };
    case 'dense':
      return { kind: 'dense', m: t.tensor3d(w.m.data, w.m.shape as [number, number, number]) as Tensor3D };
  }
}
