// Krylov source of the dominant eigenpair: Arnoldi on J (right vector) and on Jᵀ (left vector), O(m·n²) per
// matrix instead of the dense route's O(n³) Hessenberg QR and complex LU. The Ritz pair of largest modulus is
// accepted only when its residual ‖Jx − θx‖ = |h_{m+1,m}|·|y_m| is below `tol`·|θ|; otherwise Arnoldi restarts
// from the Ritz vector, and after `restarts` tries the dense source answers (counted in `fallbacks`), so the
// result is always a converged eigenpair.
import { eigenvalues } from '../run/eigenvalues';
import { factorShifted, normalize, solve } from './complexLu';
import { denseEigenvectors, type DominantEigenpair, type EigenvectorSource } from './dominant';

interface Ritz {
  re: number;
  im: number;
  /** Interleaved complex, length 2n, unit norm. */
  vector: Float64Array;
  residual: number;
}

/** Arnoldi with classical Gram–Schmidt applied twice; `transpose` runs it on Aᵀ. */
function arnoldi(a: ArrayLike<number>, offset: number, n: number, start: Float64Array, m: number, transpose: boolean, near?: { re: number; im: number }): Ritz {
  const V: Float64Array[] = [];
  const H = new Float64Array((m + 1) * m);
  const v = start.slice();
  let norm = Math.hypot(...v);
  for (let i = 0; i < n; i++) v[i] /= norm;
  V.push(v);
  let k = m;
  for (let j = 0; j < m; j++) {
    const w = new Float64Array(n);
    const x = V[j];
    if (transpose) {
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        const row = offset + i * n;
        for (let c = 0; c < n; c++) w[c] += a[row + c] * xi;
      }
    } else {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = offset + i * n;
        for (let c = 0; c < n; c++) s += a[row + c] * x[c];
        w[i] = s;
      }
    }
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= j; i++) {
        const q = V[i];
        let d = 0;
        for (let c = 0; c < n; c++) d += q[c] * w[c];
        H[i * m + j] += d;
        for (let c = 0; c < n; c++) w[c] -= d * q[c];
      }
    }
    norm = 0;
    for (let c = 0; c < n; c++) norm += w[c] * w[c];
    norm = Math.sqrt(norm);
    H[(j + 1) * m + j] = norm;
    if (norm <= 1e-14 * Math.max(1, Math.abs(H[j * m + j]))) {
      k = j + 1; // invariant subspace: the Ritz values are exact
      break;
    }
    if (j + 1 < m) V.push(w.map((c) => c / norm));
  }
  // Eigenvalues of the leading k×k block.
  const Hk = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Hk[i * k + j] = H[i * m + j];
  const { re, im } = eigenvalues(Hk, 0, k);
  let best = 0;
  for (let i = 1; i < k; i++) {
    if (near) {
      if (Math.hypot(re[i] - near.re, im[i] - near.im) < Math.hypot(re[best] - near.re, im[best] - near.im)) best = i;
    } else {
      const d = Math.hypot(re[i], im[i]) - Math.hypot(re[best], im[best]);
      if (d > 1e-12 || (Math.abs(d) <= 1e-12 && im[i] > im[best])) best = i;
    }
  }
  const scale = Math.max(Math.hypot(re[best], im[best]), 1e-30);
  const lu = factorShifted(Hk, 0, k, re[best] + 1e-11 * scale, im[best]);
  let y: Float64Array = new Float64Array(2 * k).fill(1 / Math.sqrt(k));
  for (let it = 0; it < 3; it++) y = normalize(solve(lu, y));
  const vector = new Float64Array(2 * n);
  for (let i = 0; i < k; i++) {
    const [yr, yi] = [y[2 * i], y[2 * i + 1]];
    const q = V[i];
    for (let c = 0; c < n; c++) {
      vector[2 * c] += q[c] * yr;
      vector[2 * c + 1] += q[c] * yi;
    }
  }
  const hNext = k === m ? H[m * m + m - 1] : 0;
  const residual = Math.abs(hNext) * Math.hypot(y[2 * (k - 1)], y[2 * (k - 1) + 1]);
  return { re: re[best], im: im[best], vector: normalize(vector), residual };
}

export interface KrylovOptions {
  /** Krylov dimension (capped at n). */
  m: number;
  restarts: number;
  /** Accept when residual ≤ tol·|θ|. */
  tol: number;
}

export function krylovEigenvectors(options: KrylovOptions = { m: 48, restarts: 3, tol: 1e-7 }): EigenvectorSource & { fallbacks: number; calls: number } {
  const source = {
    fallbacks: 0,
    calls: 0,
    dominant(a: ArrayLike<number>, offset: number, n: number): DominantEigenpair {
      source.calls++;
      const m = Math.min(options.m, n);
      const run = (transpose: boolean, near?: { re: number; im: number }): Ritz | undefined => {
        let start = new Float64Array(n).map((_, i) => 1 + ((i * 7919) % 13) / 13);
        for (let r = 0; r <= options.restarts; r++) {
          const ritz = arnoldi(a, offset, n, start, m, transpose, near);
          if (ritz.residual <= options.tol * Math.max(Math.hypot(ritz.re, ritz.im), 1e-30)) return ritz;
          // Restart from the Ritz vector's real and imaginary parts together (a real vector in its invariant plane).
          start = new Float64Array(n).map((_, i) => ritz.vector[2 * i] + ritz.vector[2 * i + 1]);
        }
        return undefined;
      };
      const right = run(false);
      const left = right && run(true, { re: right.re, im: right.im });
      if (!right || !left || Math.hypot(left.re - right.re, left.im - right.im) > 1e-6 * Math.max(1, Math.hypot(right.re, right.im))) {
        source.fallbacks++;
        return denseEigenvectors.dominant(a, offset, n);
      }
      // Aᵀw = λw ⇔ uᴴA = λuᴴ with u = conj(w).
      const u = left.vector.map((x, i) => (i % 2 ? -x : x));
      return { re: right.re, im: right.im, right: right.vector, left: u };
    },
  };
  return source;
}
