// Complex LU factorisation with partial pivoting, for inverse iteration with a complex shift: the dominant
// eigenvalue of a real Jacobian is often one of a conjugate pair, and both of its eigenvectors (right: Jv = λv,
// left: uᴴJ = λuᴴ) come from one factorisation of J − μI, by a solve with it and one with its conjugate transpose.
// Storage: interleaved (re, im) Float64Arrays, row-major.

export interface ComplexLu {
  n: number;
  /** L (unit lower, below the diagonal) and U (upper) in one interleaved n×n array. */
  lu: Float64Array;
  /** Row i of the factored matrix is row perm[i] of the original. */
  perm: Int32Array;
}

/** Factors A − μI for a real n×n A (row-major at `offset`) and a complex shift μ. */
export function factorShifted(a: ArrayLike<number>, offset: number, n: number, muRe: number, muIm: number): ComplexLu {
  const lu = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) lu[2 * (i * n + j)] = a[offset + i * n + j];
    lu[2 * (i * n + i)] -= muRe;
    lu[2 * (i * n + i) + 1] -= muIm;
  }
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  // A pivot that is exactly zero (μ an exact eigenvalue) is nudged: inverse iteration only needs the direction.
  const tiny = 1e-300;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = -1;
    for (let i = k; i < n; i++) {
      const m = Math.hypot(lu[2 * (i * n + k)], lu[2 * (i * n + k) + 1]);
      if (m > best) [best, p] = [m, i];
    }
    if (p !== k) {
      for (let j = 0; j < 2 * n; j++) {
        const t = lu[2 * k * n + j];
        lu[2 * k * n + j] = lu[2 * p * n + j];
        lu[2 * p * n + j] = t;
      }
      [perm[k], perm[p]] = [perm[p], perm[k]];
    }
    let pr = lu[2 * (k * n + k)];
    const pi = lu[2 * (k * n + k) + 1];
    if (pr === 0 && pi === 0) lu[2 * (k * n + k)] = pr = tiny;
    const d = pr * pr + pi * pi;
    for (let i = k + 1; i < n; i++) {
      const ar = lu[2 * (i * n + k)];
      const ai = lu[2 * (i * n + k) + 1];
      // l = a / pivot
      const lr = (ar * pr + ai * pi) / d;
      const li = (ai * pr - ar * pi) / d;
      lu[2 * (i * n + k)] = lr;
      lu[2 * (i * n + k) + 1] = li;
      for (let j = k + 1; j < n; j++) {
        const ur = lu[2 * (k * n + j)];
        const ui = lu[2 * (k * n + j) + 1];
        lu[2 * (i * n + j)] -= lr * ur - li * ui;
        lu[2 * (i * n + j) + 1] -= lr * ui + li * ur;
      }
    }
  }
  return { n, lu, perm };
}

/** x with (A − μI) x = b. */
export function solve({ n, lu, perm }: ComplexLu, b: Float64Array): Float64Array {
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    let sr = b[2 * perm[i]];
    let si = b[2 * perm[i] + 1];
    for (let j = 0; j < i; j++) {
      const lr = lu[2 * (i * n + j)];
      const li = lu[2 * (i * n + j) + 1];
      sr -= lr * x[2 * j] - li * x[2 * j + 1];
      si -= lr * x[2 * j + 1] + li * x[2 * j];
    }
    x[2 * i] = sr;
    x[2 * i + 1] = si;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sr = x[2 * i];
    let si = x[2 * i + 1];
    for (let j = i + 1; j < n; j++) {
      const ur = lu[2 * (i * n + j)];
      const ui = lu[2 * (i * n + j) + 1];
      sr -= ur * x[2 * j] - ui * x[2 * j + 1];
      si -= ur * x[2 * j + 1] + ui * x[2 * j];
    }
    const pr = lu[2 * (i * n + i)];
    const pi = lu[2 * (i * n + i) + 1];
    const d = pr * pr + pi * pi;
    x[2 * i] = (sr * pr + si * pi) / d;
    x[2 * i + 1] = (si * pr - sr * pi) / d;
  }
  return x;
}

/** y with (A − μI)ᴴ y = b: Uᴴ z = b, Lᴴ w = z, then y = Pᵀ w. */
export function solveAdjoint({ n, lu, perm }: ComplexLu, b: Float64Array): Float64Array {
  const w = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    // Row i of Uᴴ: conj(U[j][i]) for j ≤ i.
    let sr = b[2 * i];
    let si = b[2 * i + 1];
    for (let j = 0; j < i; j++) {
      const ur = lu[2 * (j * n + i)];
      const ui = -lu[2 * (j * n + i) + 1];
      sr -= ur * w[2 * j] - ui * w[2 * j + 1];
      si -= ur * w[2 * j + 1] + ui * w[2 * j];
    }
    const pr = lu[2 * (i * n + i)];
    const pi = -lu[2 * (i * n + i) + 1];
    const d = pr * pr + pi * pi;
    w[2 * i] = (sr * pr + si * pi) / d;
    w[2 * i + 1] = (si * pr - sr * pi) / d;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sr = w[2 * i];
    let si = w[2 * i + 1];
    for (let j = i + 1; j < n; j++) {
      const lr = lu[2 * (j * n + i)];
      const li = -lu[2 * (j * n + i) + 1];
      sr -= lr * w[2 * j] - li * w[2 * j + 1];
      si -= lr * w[2 * j + 1] + li * w[2 * j];
    }
    w[2 * i] = sr;
    w[2 * i + 1] = si;
  }
  const y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    y[2 * perm[i]] = w[2 * i];
    y[2 * perm[i] + 1] = w[2 * i + 1];
  }
  return y;
}

/** Scales a complex vector to unit 2-norm in place. */
export function normalize(x: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < x.length; i++) x[i] *= inv;
  return x;
}
