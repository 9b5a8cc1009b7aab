// Float64 reference for stacked networks: each layer's reference cell (cells.ts), layer l reading layer
// l−1's `h` of the same step, and the network's joint state transition assembled from the per-layer
// closed forms by the chain rule — written without the engine's composed graph.
import { refCell, type Named, type Params, type RefCell } from './cells';
import { identityMat, mat, matMul, type Mat, type Vec } from './float64';

export interface RefLayer {
  name: string;
  ref: RefCell;
  params: Params;
}

export function refLayer(name: string, cell: string, act = 'tanh', rec = 'sigmoid', params: Params = {}): RefLayer {
  return { name, ref: refCell(cell, act, rec), params };
}

/** Qualified state names in network order (`l0.h`, `l0.c`, `l1.h`). */
export const stateNames = (layers: RefLayer[]): string[] => layers.flatMap((l) => l.ref.states.map((s) => `${l.name}.${s}`));

export interface NetStep {
  prev: Named;
  x: Vec;
  /** Every layer's step outputs, qualified (`l1.h`, `l1.z`). */
  out: Named;
  /** Per layer: its input and its reference Jacobians at this step. */
  layerJ: Record<string, Mat>[];
}

export function netStep(layers: RefLayer[], prev: Named, x: Vec): NetStep {
  let input = x;
  const out: Named = {};
  const layerJ: Record<string, Mat>[] = [];
  for (const l of layers) {
    const own: Named = Object.fromEntries(l.ref.states.map((s) => [s, prev[`${l.name}.${s}`]]));
    const o = l.ref.step(l.params, own, input);
    layerJ.push(l.ref.jacobians(l.params, own, input, o));
    for (const [k, v] of Object.entries(o)) out[`${l.name}.${k}`] = v;
    input = o.h;
  }
  return { prev, x, out, layerJ };
}

export function netRollout(layers: RefLayer[], init: Named, xs: (t: number) => Vec, T: number): NetStep[] {
  const steps: NetStep[] = [];
  let prev = init;
  for (let t = 1; t <= T; t++) {
    const s = netStep(layers, prev, xs(t));
    steps.push(s);
    prev = Object.fromEntries(stateNames(layers).map((n) => [n, s.out[n]]));
  }
  return steps;
}

function setBlock(m: Mat, r0: number, c0: number, b: Mat): void {
  for (let i = 0; i < b.rows; i++) for (let j = 0; j < b.cols; j++) m.data[(r0 + i) * m.cols + c0 + j] = b.data[i * b.cols + j];
}

/**
 * ∂(all states at t)/∂(all states at t−1) and ∂(all states at t)/∂x_t, by the chain rule over layers:
 * layer l's rows are its own transition in its own columns, plus ∂s_l/∂x_l · ∂h_{l−1}/∂(everything).
 */
export function netJacobians(layers: RefLayer[], step: NetStep): { transition: Mat; input: Mat } {
  const dims = layers.map((l) => l.ref.states.map((s) => step.prev[`${l.name}.${s}`].length));
  const D = dims.flat().reduce((a, b) => a + b, 0);
  const transition = mat(D, D);
  const input = mat(D, step.x.length);
  let row = 0;
  let below: { state: Mat; input: Mat } | undefined;
  layers.forEach((l, li) => {
    const J = step.layerJ[li];
    const col0 = dims.slice(0, li).flat().reduce((a, b) => a + b, 0);
    const hRows = { state: mat(0, D), input: mat(0, step.x.length) };
    l.ref.states.forEach((s, si) => {
      const n = dims[li][si];
      const own = mat(n, D);
      let offset = col0;
      l.ref.states.forEach((w, wi) => {
        const block = J[`${s}|${w}_prev`];
        if (block) setBlock(own, 0, offset, block);
        offset += dims[li][wi];
      });
      const viaInput = below ? matMul(J[`${s}|x`], below.state) : mat(n, D);
      const fromInput = below ? matMul(J[`${s}|x`], below.input) : J[`${s}|x`];
      const rows = mat(n, D, own.data.map((v, k) => v + viaInput.data[k]));
      setBlock(transition, row, 0, rows);
      setBlock(input, row, 0, fromInput);
      if (s === 'h') Object.assign(hRows, { state: rows, input: fromInput });
      row += n;
    });
    below = hRows;
  });
  return { transition, input };
}

/** Product of the transitions of steps from+1..to (∂state_to/∂state_from). */
export function netProduct(layers: RefLayer[], steps: NetStep[], from: number, to: number): Mat {
  let m = identityMat(steps[0] ? netJacobians(layers, steps[0]).transition.rows : 0);
  for (let s = from + 1; s <= to; s++) m = matMul(netJacobians(layers, steps[s - 1]).transition, m);
  return m;
}

/** Rows/columns of named states out of a whole-network matrix. */
export function pickStates(layers: RefLayer[], m: Mat, step: NetStep, rows: string[] | null, cols: string[] | null): Mat {
  const names = stateNames(layers);
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const n of names) {
    const d = step.prev[n].length;
    offsets.set(n, [at, d]);
    at += d;
  }
  const gather = (sel: string[] | null, total: number) => (sel ? sel.flatMap((n) => { const [o, d] = offsets.get(n)!; return [...Array(d).keys()].map((k) => o + k); }) : [...Array(total).keys()]);
  const r = gather(rows, m.rows);
  const c = gather(cols, m.cols);
  const out = mat(r.length, c.length);
  r.forEach((ri, i) => c.forEach((ci, j) => (out.data[i * c.length + j] = m.data[ri * m.cols + ci])));
  return out;
}

