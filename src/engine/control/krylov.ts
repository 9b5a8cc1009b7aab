// Krylov source of the dominant eigenpairs of a batch of Jacobians: Arnoldi on every J (right vectors) and every
// Jᵀ (left vectors) at once, the matrix–vector products and Gram–Schmidt as batched tfjs matmuls on the backend;
// then per matrix, in float64, the small Hessenberg problem (eigenvalues, inverse iteration for the Ritz vector).
// O(m·n²) per matrix on the backend instead of the dense route's O(n³) Hessenberg QR and complex LU in JS.
// A Ritz pair is accepted only when its residual ‖Jx − θx‖ = h_{m+1,m}·|y_m| is within `tol`·|θ|; the others
// restart from their Ritz vector, and after `restarts` tries the dense source answers for them (counted in
// `fallbacks`), so every answer is a converged eigenpair.
import { tf, type Tensor, type Tensor3D } from '../backend/tf';
import { eigenvalues } from '../run/eigenvalues';
import { factorShifted, normalize, solve } from './complexLu';
import { denseEigenvectors, type DominantEigenpair } from './dominant';

interface Ritz {
  re: number;
  im: number;
  /** Interleaved complex, length 2n, unit norm. */
  vector: Float64Array;
  residual: number;
}

/** Arnoldi factorisations of a batch: V [M, n, k] and H [M, k+1, k] as host arrays (k = m, or less at breakdown of all). */
function batchedArnoldi(j: Tensor3D, starts: Float32Array, m: number, transpose: boolean): { V: Float32Array; H: Float32Array } {
  const t = tf();
  const [M, n] = j.shape;
  return t.tidy(() => {
    let v: Tensor = t.tensor3d(starts, [M, n, 1]);
    v = t.div(v, t.norm(v, 'euclidean', 1, true));
    const basis: Tensor[] = [v];
    const columns: Tensor[] = [];
    for (let k = 0; k < m; k++) {
      let w: Tensor = t.matMul(j, v, transpose, false);
      const q = basis.length === 1 ? basis[0] : t.concat(basis, 2); // [M, n, k+1]
      let h: Tensor = t.zeros([M, k + 1, 1]);
      for (let pass = 0; pass < 2; pass++) {
        const c = t.matMul(q, w, true, false);
        w = t.sub(w, t.matMul(q, c));
        h = t.add(h, c);
      }
      const norm = t.norm(w, 'euclidean', 1, true); // [M, 1, 1]
      // A zero column (invariant subspace reached) stays zero; its h_{k+1,k} = 0 reports the exact Ritz values.
      v = t.div(w, t.maximum(norm, 1e-30));
      columns.push(t.pad(t.concat([h, norm], 1), [[0, 0], [0, m - k - 1], [0, 0]])); // [M, m+1, 1]
      if (k + 1 < m) basis.push(v);
    }
    const V = t.concat(basis, 2).dataSync() as Float32Array;
    const H = t.concat(columns, 2).dataSync() as Float32Array;
    return { V, H };
  }) as unknown as { V: Float32Array; H: Float32Array };
}

/** The Ritz pair of matrix b: largest modulus, or nearest `near`. */
function ritzPair(V: Float32Array, H: Float32Array, b: number, n: number, m: number, near?: { re: number; im: number }): Ritz {
  const base = b * (m + 1) * m;
  const Hm = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let c = 0; c < m; c++) Hm[i * m + c] = H[base + i * m + c];
  const { re, im } = eigenvalues(Hm, 0, m);
  let best = 0;
  for (let i = 1; i < m; i++) {
    if (near) {
      if (Math.hypot(re[i] - near.re, im[i] - near.im) < Math.hypot(re[best] - near.re, im[best] - near.im)) best = i;
    } else {
      const d = Math.hypot(re[i], im[i]) - Math.hypot(re[best], im[best]);
      if (d > 1e-12 || (Math.abs(d) <= 1e-12 && im[i] > im[best])) best = i;
    }
  }
  const scale = Math.max(Math.hypot(re[best], im[best]), 1e-30);
  const lu = factorShifted(Hm, 0, m, re[best] + 1e-7 * scale, im[best]);
  let y: Float64Array = new Float64Array(2 * m).fill(1 / Math.sqrt(m));
  for (let it = 0; it < 3; it++) y = normalize(solve(lu, y));
  const vector = new Float64Array(2 * n);
  const vb = b * n * m;
  for (let r = 0; r < n; r++) {
    let sr = 0;
    let si = 0;
    for (let i = 0; i < m; i++) {
      const q = V[vb + r * m + i];
      sr += q * y[2 * i];
      si += q * y[2 * i + 1];
    }
    vector[2 * r] = sr;
    vector[2 * r + 1] = si;
  }
  const residual = Math.abs(H[base + m * m + m - 1]) * Math.hypot(y[2 * (m - 1)], y[2 * (m - 1) + 1]);
  return { re: re[best], im: im[best], vector: normalize(vector), residual };
}

export interface KrylovOptions {
  /** Krylov dimension (capped at n). */
  m: number;
  restarts: number;
  /** Accept when residual ≤ tol·|θ| (float32 arithmetic on the backend). */
  tol: number;
}

export interface BatchEigenvectorSource {
  /** The dominant eigenpair of every matrix of J [M, n, n] (`data`: its values, row-major). */
  dominantAll(j: Tensor3D, data: ArrayLike<number>): DominantEigenpair[];
}

export function krylovEigenvectors(options: KrylovOptions = { m: 64, restarts: 2, tol: 2e-5 }): BatchEigenvectorSource & { fallbacks: number; calls: number } {
  const source = {
    fallbacks: 0,
    calls: 0,
    dominantAll(j: Tensor3D, data: ArrayLike<number>): DominantEigenpair[] {
      const [M, n] = j.shape;
      source.calls += M;
      // Small matrices: the dense route is exact and cheap.
      if (n <= 2 * options.m) return Array.from({ length: M }, (_, b) => denseEigenvectors.dominant(data, b * n * n, n));
      const m = options.m;
      const accept = (r: Ritz) => r.residual <= options.tol * Math.max(Math.hypot(r.re, r.im), 1e-30);
      const solveSide = (transpose: boolean, near?: (b: number) => { re: number; im: number }): (Ritz | undefined)[] => {
        const out: (Ritz | undefined)[] = Array.from({ length: M }, () => undefined);
        let todo = Array.from({ length: M }, (_, b) => b);
        let starts = new Float32Array(todo.length * n).map((_, i) => 1 + (((i % n) * 7919) % 13) / 13);
        for (let r = 0; r <= options.restarts && todo.length; r++) {
          const sub = todo.length === M ? j : (tf().gather(j, todo) as Tensor3D);
          const { V, H } = batchedArnoldi(sub, starts, m, transpose);
          if (sub !== j) sub.dispose();
          const next: number[] = [];
          const nextStarts: number[] = [];
          todo.forEach((b, i) => {
            const ritz = ritzPair(V, H, i, n, m, near?.(b));
            if (accept(ritz)) out[b] = ritz;
            else {
              next.push(b);
              for (let c = 0; c < n; c++) nextStarts.push(ritz.vector[2 * c] + ritz.vector[2 * c + 1]);
            }
          });
          todo = next;
          starts = Float32Array.from(nextStarts);
        }
        return out;
      };
      const right = solveSide(false);
      const left = solveSide(true, (b) => right[b] ?? { re: 0, im: 0 });
      return right.map((r, b) => {
        const l = left[b];
        if (!r || !l || Math.hypot(l.re - r.re, l.im - r.im) > 1e-4 * Math.max(1, Math.hypot(r.re, r.im))) {
          source.fallbacks++;
          return denseEigenvectors.dominant(data, b * n * n, n);
        }
        // Aᵀw = λw ⇔ uᴴA = λuᴴ with u = conj(w).
        return { re: r.re, im: r.im, right: r.vector, left: l.vector.map((x, i) => (i % 2 ? -x : x)) };
      });
    },
  };
  return source;
}
