// The small float64 problems inside the Krylov methods: the top eigenpair of a symmetric tridiagonal
// matrix (Lanczos), and the Ritz value of largest modulus of a Hessenberg matrix with its condition
// number (Arnoldi). Sizes are the Krylov dimension (tens), so these run in JS on every matrix.
import { eigenvalues } from '../run/eigenvalues';

/** Eigenvalues of the symmetric tridiagonal (diag a, off-diagonal b) below x: the Sturm sequence count. */
function countBelow(a: Float64Array, b: Float64Array, x: number): number {
  let count = 0;
  let q = 1;
  for (let i = 0; i < a.length; i++) {
    q = a[i] - x - (i > 0 ? (b[i - 1] * b[i - 1]) / q : 0);
    // A zero pivot is moved off zero the way LAPACK's dstebz does; its sign decides the count.
    if (q === 0) q = -Number.EPSILON * (Math.abs(x) + 1);
    if (q < 0) count++;
  }
  return count;
}

/**
 * Largest eigenvalue of the symmetric tridiagonal matrix (diag a, off-diagonal b, k = a.length) and the
 * last component of its unit eigenvector: bisection on the Sturm count, then inverse iteration.
 */
export function topTridiagonal(a: Float64Array, b: Float64Array): { value: number; lastComponent: number } {
  const k = a.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < k; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]) : 0) + (i < k - 1 ? Math.abs(b[i]) : 0);
    lo = Math.min(lo, a[i] - r);
    hi = Math.max(hi, a[i] + r);
  }
  for (let it = 0; it < 200 && hi - lo > 4 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi), Number.MIN_VALUE); it++) {
    const mid = 0.5 * (lo + hi);
    if (countBelow(a, b, mid) === k) hi = mid;
    else lo = mid;
  }
  const value = 0.5 * (lo + hi);
  return { value, lastComponent: inverseIterationLast(a, b, value) };
}

/** Last component of the unit eigenvector for an (accurate) eigenvalue, by two steps of inverse iteration. */
function inverseIterationLast(a: Float64Array, b: Float64Array, value: number): number {
  const k = a.length;
  if (k === 1) return 1;
  const scale = Math.max(...Array.from(a, Math.abs), ...Array.from(b, Math.abs));
  const tiny = Math.max(Number.EPSILON * scale, Number.MIN_VALUE);
  let x = new Float64Array(k).fill(1);
  for (let sweep = 0; sweep < 3; sweep++) {
    // Thomas elimination of (T − value·I)·y = x; a (near-)zero pivot is replaced by ε·‖T‖, which is
    // exactly what makes inverse iteration converge in one or two steps at an accurate eigenvalue.
    const c = new Float64Array(k);
    const d = new Float64Array(k);
    let pivot = a[0] - value;
    if (Math.abs(pivot) < tiny) pivot = tiny;
    c[0] = k > 1 ? b[0] / pivot : 0;
    d[0] = x[0] / pivot;
    for (let i = 1; i < k; i++) {
      pivot = a[i] - value - b[i - 1] * c[i - 1];
      if (Math.abs(pivot) < tiny) pivot = tiny;
      c[i] = i < k - 1 ? b[i] / pivot : 0;
      d[i] = (x[i] - b[i - 1] * d[i - 1]) / pivot;
    }
    const y = new Float64Array(k);
    y[k - 1] = d[k - 1];
    for (let i = k - 2; i >= 0; i--) y[i] = d[i] - c[i] * y[i + 1];
    let norm = 0;
    for (const v of y) norm += v * v;
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) return NaN;
    x = y.map((v) => v / norm);
  }
  return x[k - 1];
}

export interface TopRitz {
  re: number;
  im: number;
  /** |e_mᵀ·y| / ‖y‖ of its right eigenvector y: the residual is h_{m+1,m} times this. */
  lastComponent: number;
  /** Eigenvalue condition number within the Krylov space, ‖w‖‖y‖/|wᵀy| (w: Gᵀ·w = λ·w). */
  kappa: number;
  /** The unit right eigenvector y of G (G·y = θy), from which the Ritz vector V_m·y is formed. */
  vector: { re: Float64Array; im: Float64Array };
  /**
   * An orthonormal real basis (m-vectors, float64) of the invariant subspace of the `keep` dominant Ritz values
   * (a conjugate pair contributes its real and imaginary parts), for a thick restart.
   */
  keepBasis(keep: number): Float64Array[];
}

/** LU with partial pivoting of the complex m×m matrix G − σI; solves with it and with its transpose. */
class ShiftedLU {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly perm: Int32Array;

  constructor(
    g: Float64Array,
    private readonly m: number,
    sre: number,
    sim: number,
  ) {
    const [re, im] = [Float64Array.from(g), new Float64Array(m * m)];
    let norm = 0;
    for (const x of g) norm = Math.max(norm, Math.abs(x));
    for (let i = 0; i < m; i++) {
      re[i * m + i] -= sre;
      im[i * m + i] -= sim;
    }
    // A zero pivot becomes ε·‖G‖: at an eigenvalue that is what inverse iteration wants.
    const tiny = Math.max(Number.EPSILON * norm, Number.MIN_VALUE);
    const perm = Int32Array.from({ length: m }, (_, i) => i);
    const below = lowerExtent(g, m);
    for (let k = 0; k < m; k++) {
      // Rows past below[k] are zero in this column and stay so: partial pivoting keeps the lower band.
      const last = below[k];
      let p = k;
      let best = re[k * m + k] ** 2 + im[k * m + k] ** 2;
      for (let i = k + 1; i <= last; i++) {
        const size = re[i * m + k] ** 2 + im[i * m + k] ** 2;
        if (size > best) [p, best] = [i, size];
      }
      if (p !== k) {
        [perm[k], perm[p]] = [perm[p], perm[k]];
        swapRows(re, m, k, p);
        swapRows(im, m, k, p);
      }
      if (Math.hypot(re[k * m + k], im[k * m + k]) < tiny) [re[k * m + k], im[k * m + k]] = [tiny, 0];
      for (let i = k + 1; i <= last; i++) {
        const [lr, li] = cdiv(re[i * m + k], im[i * m + k], re[k * m + k], im[k * m + k]);
        [re[i * m + k], im[i * m + k]] = [lr, li];
        if (lr === 0 && li === 0) continue;
        for (let j = k + 1; j < m; j++) {
          re[i * m + j] -= lr * re[k * m + j] - li * im[k * m + j];
          im[i * m + j] -= lr * im[k * m + j] + li * re[k * m + j];
        }
      }
    }
    [this.re, this.im, this.perm] = [re, im, perm];
  }

  /** x with (G − σI)·x = b. */
  solve(bre: Float64Array, bim: Float64Array): { re: Float64Array; im: Float64Array } {
    const { m, re, im, perm } = this;
    const xr = Float64Array.from(perm, (p) => bre[p]);
    const xi = Float64Array.from(perm, (p) => bim[p]);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < i; j++) {
        xr[i] -= re[i * m + j] * xr[j] - im[i * m + j] * xi[j];
        xi[i] -= re[i * m + j] * xi[j] + im[i * m + j] * xr[j];
      }
    }
    for (let i = m - 1; i >= 0; i--) {
      for (let j = i + 1; j < m; j++) {
        xr[i] -= re[i * m + j] * xr[j] - im[i * m + j] * xi[j];
        xi[i] -= re[i * m + j] * xi[j] + im[i * m + j] * xr[j];
      }
      [xr[i], xi[i]] = cdiv(xr[i], xi[i], re[i * m + i], im[i * m + i]);
    }
    return { re: xr, im: xi };
  }

  /** x with (G − σI)ᵀ·x = b: P·A = L·U, so Aᵀ = Uᵀ·Lᵀ·P; solve Uᵀ, then Lᵀ, then undo P. */
  solveTransposed(bre: Float64Array, bim: Float64Array): { re: Float64Array; im: Float64Array } {
    const { m, re, im, perm } = this;
    const zr = Float64Array.from(bre);
    const zi = Float64Array.from(bim);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < i; j++) {
        zr[i] -= re[j * m + i] * zr[j] - im[j * m + i] * zi[j];
        zi[i] -= re[j * m + i] * zi[j] + im[j * m + i] * zr[j];
      }
      [zr[i], zi[i]] = cdiv(zr[i], zi[i], re[i * m + i], im[i * m + i]);
    }
    for (let i = m - 1; i >= 0; i--) {
      for (let j = i + 1; j < m; j++) {
        zr[i] -= re[j * m + i] * zr[j] - im[j * m + i] * zi[j];
        zi[i] -= re[j * m + i] * zi[j] + im[j * m + i] * zr[j];
      }
    }
    const xr = new Float64Array(m);
    const xi = new Float64Array(m);
    perm.forEach((p, k) => ([xr[p], xi[p]] = [zr[k], zi[k]]));
    return { re: xr, im: xi };
  }
}

/**
 * For each column k, the last row that can be nonzero below the diagonal once elimination reaches it: the
 * running maximum of each column's last nonzero. Arnoldi's projected matrix is Hessenberg (k + 1) but for the
 * leading block a thick restart fills, so LU costs O(m²·band) instead of O(m³).
 */
function lowerExtent(g: Float64Array, m: number): Int32Array {
  const below = new Int32Array(m);
  let reach = 0;
  for (let k = 0; k < m; k++) {
    let last = k;
    for (let i = m - 1; i > k; i--) {
      if (g[i * m + k] !== 0) {
        last = i;
        break;
      }
    }
    reach = Math.max(reach, last);
    below[k] = reach;
  }
  return below;
}

function swapRows(a: Float64Array, m: number, k: number, p: number): void {
  for (let j = 0; j < m; j++) {
    const x = a[k * m + j];
    a[k * m + j] = a[p * m + j];
    a[p * m + j] = x;
  }
}

function cdiv(ar: number, ai: number, br: number, bi: number): [number, number] {
  const d = br * br + bi * bi;
  return [(ar * br + ai * bi) / d, (ai * br - ar * bi) / d];
}

/** Unit eigenvector for an accurate eigenvalue, by inverse iteration (`transposed`: of Gᵀ). */
function inverseIteration(lu: ShiftedLU, m: number, transposed: boolean): { re: Float64Array; im: Float64Array } {
  // A start with no special structure: equal components would be orthogonal to some eigenvectors of symmetric G.
  let v: { re: Float64Array; im: Float64Array } = { re: Float64Array.from({ length: m }, (_, i) => 1 + ((i * 7919) % 13) / 13), im: new Float64Array(m) };
  for (let sweep = 0; sweep < 2; sweep++) {
    v = transposed ? lu.solveTransposed(v.re, v.im) : lu.solve(v.re, v.im);
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v.re[i] ** 2 + v.im[i] ** 2;
    norm = Math.sqrt(norm);
    v = { re: v.re.map((x) => x / norm), im: v.im.map((x) => x / norm) };
  }
  return v;
}

/** Modified Gram–Schmidt in float64; a vector that is (nearly) in the span of the others is dropped. */
function orthonormalBasis(vectors: Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v of vectors) {
    const x = Float64Array.from(v);
    const before = Math.hypot(...x);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        const dot = q.reduce((s, qi, i) => s + qi * x[i], 0);
        for (let i = 0; i < x.length; i++) x[i] -= dot * q[i];
      }
    }
    const norm = Math.hypot(...x);
    if (norm > 1e-8 * before) basis.push(x.map((xi) => xi / norm));
  }
  return basis;
}

/**
 * The Ritz value of largest modulus of the m×m projected matrix G (row-major: Hessenberg after a plain
 * Arnoldi cycle, with one full row after a thick restart), with what Arnoldi needs to judge it, and (only if
 * asked, when it has not converged) what a thick restart keeps.
 */
export function topRitz(g: Float64Array, m: number): TopRitz | undefined {
  let values;
  try {
    values = eigenvalues(g, 0, m);
  } catch {
    return undefined; // the QR iteration did not converge: Arnoldi restarts, then the dense method decides
  }
  const { re, im } = values; // sorted by decreasing modulus
  if (![...re, ...im].every(Number.isFinite)) return undefined;
  // One factorisation of G − θI gives both the right (G·y = θy) and the left (Gᵀ·w = θw) eigenvector.
  const lu = new ShiftedLU(g, m, re[0], im[0]);
  const y = inverseIteration(lu, m, false);
  const w = inverseIteration(lu, m, true);
  let [dotRe, dotIm] = [0, 0];
  for (let i = 0; i < m; i++) {
    dotRe += w.re[i] * y.re[i] - w.im[i] * y.im[i];
    dotIm += w.re[i] * y.im[i] + w.im[i] * y.re[i];
  }
  const kappa = 1 / Math.hypot(dotRe, dotIm); // both unit vectors
  return {
    re: re[0],
    im: im[0],
    lastComponent: Math.hypot(y.re[m - 1], y.im[m - 1]),
    kappa: Number.isFinite(kappa) ? kappa : Infinity,
    vector: y,
    keepBasis: (keep) => {
      const kept: Float64Array[] = [y.re, ...(im[0] !== 0 ? [y.im] : [])];
      for (let j = 1; j < Math.min(keep, m); j++) {
        // One member of each conjugate pair: its real and imaginary parts span the pair's invariant subspace.
        if (im[j] < 0 && im[j - 1] === -im[j]) continue;
        const v = inverseIteration(new ShiftedLU(g, m, re[j], im[j]), m, false);
        kept.push(v.re);
        if (im[j] !== 0) kept.push(v.im);
      }
      return orthonormalBasis(kept);
    },
  };
}
