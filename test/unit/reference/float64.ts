// An independent float64 reference for the built-in cells: plain loops over Float64Array, written from
// the Keras equations without the engine's graph, ops or tfjs. Closed-form Jacobians are written out by
// hand per cell; finite differences use only the forward functions here.
export type Vec = Float64Array;
/** Row-major matrix. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export const mat = (rows: number, cols: number, data?: ArrayLike<number>): Mat => ({
  rows,
  cols,
  data: data ? Float64Array.from(data) : new Float64Array(rows * cols),
});

export function get(m: Mat, i: number, j: number): number {
  return m.data[i * m.cols + j];
}

/** y = x·W for a Keras kernel W [k, n]. */
export function vecKernel(x: Vec, w: Mat): Vec {
  const y = new Float64Array(w.cols);
  for (let j = 0; j < w.cols; j++) {
    let s = 0;
    for (let k = 0; k < w.rows; k++) s += x[k] * w.data[k * w.cols + j];
    y[j] = s;
  }
  return y;
}

export const add = (a: Vec, b: Vec): Vec => a.map((v, i) => v + b[i]);
export const sub = (a: Vec, b: Vec): Vec => a.map((v, i) => v - b[i]);
export const hadamard = (a: Vec, b: Vec): Vec => a.map((v, i) => v * b[i]);
export const slice = (a: Vec, begin: number, size: number): Vec => a.slice(begin, begin + size);

/** Columns begin..begin+size of a kernel (one gate's block). */
export function kernelBlock(w: Mat, begin: number, size: number): Mat {
  const out = mat(w.rows, size);
  for (let k = 0; k < w.rows; k++) for (let j = 0; j < size; j++) out.data[k * size + j] = w.data[k * w.cols + begin + j];
  return out;
}

/** The Jacobian of v ↦ v·W: Wᵀ as an [n, k] matrix. */
export function kernelJacobian(w: Mat): Mat {
  const out = mat(w.cols, w.rows);
  for (let i = 0; i < w.cols; i++) for (let j = 0; j < w.rows; j++) out.data[i * w.rows + j] = w.data[j * w.cols + i];
  return out;
}

export function diagTimes(d: Vec, m: Mat): Mat {
  const out = mat(m.rows, m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[i * m.cols + j] = d[i] * m.data[i * m.cols + j];
  return out;
}

export function diag(d: Vec): Mat {
  const out = mat(d.length, d.length);
  d.forEach((v, i) => (out.data[i * d.length + i] = v));
  return out;
}

export function matAdd(...ms: Mat[]): Mat {
  const out = mat(ms[0].rows, ms[0].cols);
  for (const m of ms) m.data.forEach((v, i) => (out.data[i] += v));
  return out;
}

export function matScale(m: Mat, c: number): Mat {
  return mat(m.rows, m.cols, m.data.map((v) => v * c));
}

export function matMul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += aik * b.data[k * b.cols + j];
    }
  return out;
}

export function identityMat(n: number): Mat {
  return diag(new Float64Array(n).fill(1));
}

/** Block matrix [[a, b], [c, d]]. */
export function blocks(a: Mat, b: Mat, c: Mat, d: Mat): Mat {
  const out = mat(a.rows + c.rows, a.cols + b.cols);
  const put = (m: Mat, r0: number, c0: number) => {
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[(r0 + i) * out.cols + c0 + j] = m.data[i * m.cols + j];
  };
  put(a, 0, 0);
  put(b, 0, a.cols);
  put(c, a.rows, 0);
  put(d, a.rows, a.cols);
  return out;
}

export function subMatrix(m: Mat, r0: number, rows: number, c0: number, cols: number): Mat {
  const out = mat(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.data[i * cols + j] = m.data[(r0 + i) * m.cols + c0 + j];
  return out;
}

// ── activations and their derivatives, float64, Keras 2 definitions ─────────────────────────────
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** erf by Abramowitz–Stegun 7.1.26 is too coarse for 1e-5 checks; use a series/continued fraction. */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 3) {
    // Maclaurin series, converges fast for |x| < 3.
    let term = a;
    let sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc at large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return s * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}
/** The standard normal density. */
export const phi = (z: number) => Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
const Phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));

export const ACT: Record<string, { f: (z: number) => number; df: (z: number) => number }> = {
  linear: { f: (z) => z, df: () => 1 },
  relu: { f: (z) => Math.max(0, z), df: (z) => (z > 0 ? 1 : 0) },
  sigmoid: { f: sigmoid, df: (z) => sigmoid(z) * (1 - sigmoid(z)) },
  hard_sigmoid: { f: (z) => Math.min(1, Math.max(0, 0.2 * z + 0.5)), df: (z) => (z > -2.5 && z < 2.5 ? 0.2 : 0) },
  tanh: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
  elu: { f: (z) => (z > 0 ? z : Math.expm1(z)), df: (z) => (z > 0 ? 1 : Math.exp(z)) },
  selu: { f: (z) => SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)), df: (z) => SELU_SCALE * (z > 0 ? 1 : SELU_ALPHA * Math.exp(z)) },
  softplus: { f: (z) => Math.log1p(Math.exp(z)), df: sigmoid },
  softsign: { f: (z) => z / (1 + Math.abs(z)), df: (z) => 1 / (1 + Math.abs(z)) ** 2 },
  swish: { f: (z) => z * sigmoid(z), df: (z) => sigmoid(z) + z * sigmoid(z) * (1 - sigmoid(z)) },
  gelu: { f: (z) => z * Phi(z), df: (z) => Phi(z) + z * phi(z) },
};

export const applyAct = (name: string, v: Vec): Vec => v.map(ACT[name].f);
export const derivAct = (name: string, v: Vec): Vec => v.map(ACT[name].df);

/** Central finite differences of a vector function at x (float64), as an [out, in] matrix. */
export function finiteDifference(f: (x: Vec) => Vec, x: Vec, h = 1e-6): Mat {
  const out = f(x).length;
  const j = mat(out, x.length);
  for (let k = 0; k < x.length; k++) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[k] += h;
    xm[k] -= h;
    const fp = f(xp);
    const fm = f(xm);
    for (let i = 0; i < out; i++) j.data[i * x.length + k] = (fp[i] - fm[i]) / (2 * h);
  }
  return j;
}
