// Float64 reference steps and closed-form one-step Jacobians of the built-in cells, from the Keras
// equations. Keys of `jacobians`: `OF|WRT` with WRT a previous state (`h_prev`), the input (`x`) or a
// tensor of the same step (`c`).
import {
  ACT, add, applyAct, derivAct, diag, diagTimes, hadamard, identityMat, kernelBlock, kernelJacobian, mat, matAdd,
  matMul, matScale, slice, sub, vecKernel, type Mat, type Vec,
} from './float64';

export type Params = Record<string, Mat>;
export type Named = Record<string, Vec>;

export interface RefCell {
  states: string[];
  step(p: Params, prev: Named, x: Vec): Named;
  jacobians(p: Params, prev: Named, x: Vec, out: Named): Record<string, Mat>;
}

const vecOf = (m: Mat): Vec => m.data;
const ones = (n: number) => new Float64Array(n).fill(1);

export function seedRef(act: string): RefCell {
  return {
    states: ['h', 'c'],
    step(p, prev, x) {
      const hAct = applyAct(act, prev.h);
      const h = add(vecKernel(hAct, p['linear_rec/kernel']), p['linear_rec/bias'] ? vecOf(p['linear_rec/bias']) : new Float64Array(prev.h.length));
      const c = add(sub(prev.c, prev.h), h);
      const oPre = add(vecKernel(x, p['linear_in/kernel']), c);
      return { h, c, o_pre: oPre, o: applyAct('sigmoid', oPre) };
    },
    jacobians(p, prev, _x, out) {
      const n = prev.h.length;
      const hh = matMul(kernelJacobian(p['linear_rec/kernel']), diag(derivAct(act, prev.h)));
      const so = derivAct('sigmoid', out.o_pre);
      const ch = matAdd(matScale(identityMat(n), -1), hh);
      return {
        'h|h_prev': hh,
        'h|c_prev': mat(n, n),
        'c|h_prev': ch,
        'c|c_prev': identityMat(n),
        'h|x': mat(n, p['linear_in/kernel'].rows),
        'c|x': mat(n, p['linear_in/kernel'].rows),
        'o|x': diagTimes(so, kernelJacobian(p['linear_in/kernel'])),
        'o|c': diag(so),
        'o|h_prev': diagTimes(so, ch),
      };
    },
  };
}

export function simpleRnnRef(act: string): RefCell {
  return {
    states: ['h'],
    step(p, prev, x) {
      const z = add(add(vecKernel(x, p.kernel), vecOf(p.bias)), vecKernel(prev.h, p.recurrent_kernel));
      return { z, h: applyAct(act, z) };
    },
    jacobians(p, _prev, _x, out) {
      const d = derivAct(act, out.z);
      return {
        'h|h_prev': diagTimes(d, kernelJacobian(p.recurrent_kernel)),
        'h|x': diagTimes(d, kernelJacobian(p.kernel)),
      };
    },
  };
}

export function lstmRef(act: string, rec: string): RefCell {
  return {
    states: ['h', 'c'],
    step(p, prev, x) {
      const u = prev.h.length;
      const z = add(add(vecKernel(x, p.kernel), vecKernel(prev.h, p.recurrent_kernel)), vecOf(p.bias));
      const [zi, zf, zc, zo] = [0, 1, 2, 3].map((k) => slice(z, k * u, u));
      const i = applyAct(rec, zi);
      const f = applyAct(rec, zf);
      const g = applyAct(act, zc);
      const o = applyAct(rec, zo);
      const c = add(hadamard(f, prev.c), hadamard(i, g));
      const h = hadamard(o, applyAct(act, c));
      return { z, z_i: zi, z_f: zf, z_c: zc, z_o: zo, i, f, g, o, c, h };
    },
    jacobians(p, prev, _x, out) {
      const u = prev.h.length;
      const blockT = (w: Mat, k: number) => kernelJacobian(kernelBlock(w, k * u, u));
      const viaZ = (w: Mat) => {
        const dc = matAdd(
          diagTimes(hadamard(prev.c, derivAct(rec, out.z_f)), blockT(w, 1)),
          diagTimes(hadamard(out.g, derivAct(rec, out.z_i)), blockT(w, 0)),
          diagTimes(hadamard(out.i, derivAct(act, out.z_c)), blockT(w, 2)),
        );
        const dh = matAdd(
          diagTimes(hadamard(applyAct(act, out.c), derivAct(rec, out.z_o)), blockT(w, 3)),
          diagTimes(hadamard(out.o, derivAct(act, out.c)), dc),
        );
        return { dc, dh };
      };
      const rec_ = viaZ(p.recurrent_kernel);
      const inp = viaZ(p.kernel);
      const dhdc = hadamard(out.o, derivAct(act, out.c));
      return {
        'h|h_prev': rec_.dh,
        'c|h_prev': rec_.dc,
        'c|c_prev': diag(out.f),
        'h|c_prev': diag(hadamard(dhdc, out.f)),
        'h|x': inp.dh,
        'c|x': inp.dc,
      };
    },
  };
}

export function gruRef(act: string, rec: string): RefCell {
  return {
    states: ['h'],
    step(p, prev, x) {
      const u = prev.h.length;
      const bias = p.bias;
      const bIn = bias.data.slice(0, 3 * u);
      const bRec = bias.data.slice(3 * u, 6 * u);
      const xp = add(vecKernel(x, p.kernel), bIn);
      const hp = add(vecKernel(prev.h, p.recurrent_kernel), bRec);
      const [xz, xr, xh] = [0, 1, 2].map((k) => slice(xp, k * u, u));
      const [rz, rr, rh] = [0, 1, 2].map((k) => slice(hp, k * u, u));
      const zPre = add(xz, rz);
      const rPre = add(xr, rr);
      const z = applyAct(rec, zPre);
      const r = applyAct(rec, rPre);
      const hhPre = add(xh, hadamard(r, rh));
      const hh = applyAct(act, hhPre);
      const h = add(hadamard(z, prev.h), hadamard(sub(ones(u), z), hh));
      return { z_pre: zPre, r_pre: rPre, z, r, rec_h: rh, hh_pre: hhPre, hh, h };
    },
    jacobians(p, prev, _x, out) {
      const u = prev.h.length;
      const blockT = (w: Mat, k: number) => kernelJacobian(kernelBlock(w, k * u, u));
      const dz = hadamard(sub(prev.h, out.hh), derivAct(rec, out.z_pre));
      const dhh = hadamard(sub(ones(u), out.z), derivAct(act, out.hh_pre));
      const dr = hadamard(out.rec_h, derivAct(rec, out.r_pre));
      const hPrev = matAdd(
        diag(out.z),
        diagTimes(dz, blockT(p.recurrent_kernel, 0)),
        diagTimes(dhh, matAdd(diagTimes(out.r, blockT(p.recurrent_kernel, 2)), diagTimes(dr, blockT(p.recurrent_kernel, 1)))),
      );
      const x = matAdd(
        diagTimes(dz, blockT(p.kernel, 0)),
        diagTimes(dhh, matAdd(blockT(p.kernel, 2), diagTimes(dr, blockT(p.kernel, 1)))),
      );
      return { 'h|h_prev': hPrev, 'h|x': x };
    },
  };
}

export function refCell(cell: string, act: string, rec: string): RefCell {
  switch (cell) {
    case 'seed':
      return seedRef(act);
    case 'simple_rnn':
      return simpleRnnRef(act);
    case 'lstm':
      return lstmRef(act, rec);
    case 'gru':
      return gruRef(act, rec);
  }
  throw new Error(`no reference for ${cell}`);
}

export { ACT };
