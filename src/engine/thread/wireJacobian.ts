// A structured Jacobian to and from its wire form (thread/protocol.ts), for the rows a second thread takes: the
// per-row factors are cut to those rows, shared matrices go whole. Factored Jacobians stay factored, so W6's half
// (128 seed Jacobians of order 512) crosses as one 1 MB matrix and two small [128, 512] blocks.
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../backend/tf';
import type { SJ } from '../graph/structuredJacobian';
import type { WireJacobian, WireTensor } from './protocol';

/** Rows from..to−1 of a per-row tensor ([rows, ...]; one broadcast row goes as it is), read back. */
function wireRows(x: Tensor, rows: number, from: number, to: number): WireTensor {
  const t = tf();
  const cut = x.shape[0] === rows && (from > 0 || to < rows);
  const part = cut ? t.slice(x, [from], [to - from]) : x;
  const data = Float32Array.from(part.dataSync() as Float32Array);
  if (part !== x) part.dispose();
  return { shape: part.shape.slice(), data };
}

function wireWhole(x: Tensor): WireTensor {
  return { shape: x.shape.slice(), data: Float32Array.from(x.dataSync() as Float32Array) };
}

/** Rows from..to−1 of the N = `rows` Jacobians j, as they cross threads (new arrays, safe to transfer). */
export function toWire(j: SJ, rows: number, from: number, to: number): WireJacobian {
  const cut = (x: Tensor) => wireRows(x, rows, from, to);
  switch (j.kind) {
    case 'zero':
    case 'identity':
      return j;
    case 'diag':
      return { kind: 'diag', d: cut(j.d) };
    case 'shared':
      return { kind: 'shared', m: wireWhole(j.m) };
    case 'scaled':
      return { kind: 'scaled', m: wireWhole(j.m), row: j.row && cut(j.row), col: j.col && cut(j.col) };
    case 'dense':
      return { kind: 'dense', m: cut(j.m) };
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
