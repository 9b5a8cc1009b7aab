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
  /** Eigenvalue condition number within the Krylov space, ‖w‖‖y‖/|wᵀy| (w: Hᵀ·w = λ·w). */
  kappa: number;
  /** Coefficients (in the Krylov basis) of the restart vector: Re + Im of the `keep` dominant Ritz vectors. */
  restart: Float64Array;
}

/**
 * LU with partial pivoting of the complex upper Hessenberg matrix H − σI: only rows k and k+1 can swap,
 * so it costs O(m²). Solves with it (right eigenvectors) and with its transpose (left eigenvectors).
 */
class ShiftedHessenbergLU {
  private readonly ure: Float64Array;
  private readonly uim: Float64Array;
  private readonly lre: Float64Array;
  private readonly lim: Float64Array;
  private readonly swapped: Uint8Array;

  constructor(
    h: Float64Array,
    private readonly m: number,
    sre: number,
    sim: number,
  ) {
    const [ure, uim] = [Float64Array.from(h), new Float64Array(m * m)];
    let norm = 0;
    for (const x of h) norm = Math.max(norm, Math.abs(x));
    for (let i = 0; i < m; i++) {
      ure[i * m + i] -= sre;
      uim[i * m + i] -= sim;
    }
    // A zero pivot becomes ε·‖H‖: at an eigenvalue that is what inverse iteration wants.
    const tiny = Math.max(Number.EPSILON * norm, Number.MIN_VALUE);
    this.lre = new Float64Array(m);
    this.lim = new Float64Array(m);
    this.swapped = new Uint8Array(m);
    for (let k = 0; k < m - 1; k++) {
      const [a, b] = [k * m + k, (k + 1) * m + k];
      if (Math.hypot(ure[b], uim[b]) > Math.hypot(ure[a], uim[a])) {
        this.swapped[k] = 1;
        for (let j = k; j < m; j++) {
          [ure[k * m + j], ure[(k + 1) * m + j]] = [ure[(k + 1) * m + j], ure[k * m + j]];
          [uim[k * m + j], uim[(k + 1) * m + j]] = [uim[(k + 1) * m + j], uim[k * m + j]];
        }
      }
      if (Math.hypot(ure[a], uim[a]) < tiny) [ure[a], uim[a]] = [tiny, 0];
      const [lr, li] = cdiv(ure[b], uim[b], ure[a], uim[a]);
      [this.lre[k], this.lim[k]] = [lr, li];
      for (let j = k; j < m; j++) {
        ure[(k + 1) * m + j] -= lr * ure[k * m + j] - li * uim[k * m + j];
        uim[(k + 1) * m + j] -= lr * uim[k * m + j] + li * ure[k * m + j];
      }
    }
    const last = (m - 1) * m + m - 1;
    if (Math.hypot(ure[last], uim[last]) < tiny) [ure[last], uim[last]] = [tiny, 0];
    [this.ure, this.uim] = [ure, uim];
  }

  /** x with (H − σI)·x = b (b overwritten). */
  solve(bre: Float64Array, bim: Float64Array): void {
    const { m, ure, uim } = this;
    for (let k = 0; k < m - 1; k++) {
      if (this.swapped[k]) {
        [bre[k], bre[k + 1]] = [bre[k + 1], bre[k]];
        [bim[k], bim[k + 1]] = [bim[k + 1], bim[k]];
      }
      bre[k + 1] -= this.lre[k] * bre[k] - this.lim[k] * bim[k];
      bim[k + 1] -= this.lre[k] * bim[k] + this.lim[k] * bre[k];
    }
    for (let i = m - 1; i >= 0; i--) {
      let [r, s] = [bre[i], bim[i]];
      for (let j = i + 1; j < m; j++) {
        r -= ure[i * m + j] * bre[j] - uim[i * m + j] * bim[j];
        s -= ure[i * m + j] * bim[j] + uim[i * m + j] * bre[j];
      }
      [bre[i], bim[i]] = cdiv(r, s, ure[i * m + i], uim[i * m + i]);
    }
  }

  /** x with (H − σI)ᵀ·x = b (b overwritten): Uᵀ·z = b, then the eliminations transposed, in reverse. */
  solveTransposed(bre: Float64Array, bim: Float64Array): void {
    const { m, ure, uim } = this;
    for (let i = 0; i < m; i++) {
      let [r, s] = [bre[i], bim[i]];
      for (let j = 0; j < i; j++) {
        r -= ure[j * m + i] * bre[j] - uim[j * m + i] * bim[j];
        s -= ure[j * m + i] * bim[j] + uim[j * m + i] * bre[j];
      }
      [bre[i], bim[i]] = cdiv(r, s, ure[i * m + i], uim[i * m + i]);
    }
    for (let k = m - 2; k >= 0; k--) {
      bre[k] -= this.lre[k] * bre[k + 1] - this.lim[k] * bim[k + 1];
      bim[k] -= this.lre[k] * bim[k + 1] + this.lim[k] * bre[k + 1];
      if (this.swapped[k]) {
        [bre[k], bre[k + 1]] = [bre[k + 1], bre[k]];
        [bim[k], bim[k + 1]] = [bim[k + 1], bim[k]];
      }
    }
  }
}

function cdiv(ar: number, ai: number, br: number, bi: number): [number, number] {
  const d = br * br + bi * bi;
  return [(ar * br + ai * bi) / d, (ai * br - ar * bi) / d];
}

/** Unit eigenvector for an accurate eigenvalue, by inverse iteration (`transposed`: of Hᵀ). */
function inverseIteration(lu: ShiftedHessenbergLU, m: number, transposed: boolean): { re: Float64Array; im: Float64Array } {
  // A start with no special structure: equal components would be orthogonal to some eigenvectors of symmetric H.
  let re = Float64Array.from({ length: m }, (_, i) => 1 + ((i * 7919) % 13) / 13);
  let im = new Float64Array(m);
  for (let sweep = 0; sweep < 2; sweep++) {
    if (transposed) lu.solveTransposed(re, im);
    else lu.solve(re, im);
    let norm = 0;
    for (let i = 0; i < m; i++) norm += re[i] * re[i] + im[i] * im[i];
    norm = Math.sqrt(norm);
    re = re.map((x) => x / norm);
    im = im.map((x) => x / norm);
  }
  return { re, im };
}

/** The Ritz value of largest modulus of an m×m Hessenberg matrix (row-major), with what Arnoldi needs. */
export function topRitz(h: Float64Array, m: number, keep: number): TopRitz | undefined {
  let values;
  try {
    values = eigenvalues(h, 0, m);
  } catch {
    return undefined; // the QR iteration did not converge: Arnoldi restarts, then the dense method decides
  }
  const { re, im } = values; // sorted by decreasing modulus
  if (![...re, ...im].every(Number.isFinite)) return undefined;
  const vectors: { re: Float64Array; im: Float64Array }[] = [];
  // One member of each conjugate pair (the other has the same real part and the opposite imaginary part).
  for (let j = 0; j < Math.min(keep, m); j++) {
    if (im[j] < 0 && j > 0 && im[j - 1] === -im[j]) continue;
    vectors.push(inverseIteration(new ShiftedHessenbergLU(h, m, re[j], im[j]), m, false));
  }
  const y = vectors[0];
  const w = inverseIteration(new ShiftedHessenbergLU(h, m, re[0], im[0]), m, true);
  let [dotRe, dotIm] = [0, 0];
  for (let i = 0; i < m; i++) {
    dotRe += w.re[i] * y.re[i] - w.im[i] * y.im[i];
    dotIm += w.re[i] * y.im[i] + w.im[i] * y.re[i];
  }
  const kappa = 1 / Math.hypot(dotRe, dotIm); // both unit vectors
  const restart = new Float64Array(m);
  for (const v of vectors) for (let i = 0; i < m; i++) restart[i] += v.re[i] + v.im[i];
  return {
    re: re[0],
    im: im[0],
    lastComponent: Math.hypot(y.re[m - 1], y.im[m - 1]),
    kappa: Number.isFinite(kappa) ? kappa : Infinity,
    restart,
  };
}
