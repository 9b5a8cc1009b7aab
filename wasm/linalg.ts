// The engine's small dense float64 kernels, in AssemblyScript, compiled to WebAssembly at build time
// (scripts/build.mjs → src/engine/wasm/generated/linalg.wasm, wrapped by src/engine/wasm/linalg.ts).
// Why WebAssembly: a CLI process runs these a few times on cold code, and V8 interprets a numeric loop
// until it has run long enough to be optimised: the seed example's 4 eigenvalue problems of order 100
// took ~45 ms cold against ~5 ms warm. WebAssembly is compiled before its first call.
//
// Every pointer is a byte offset into linear memory, laid out by the wrapper; nothing here allocates.
// Matrices are row-major. The algorithms are EISPACK's balanc / elmhes / hqr for eigenvalues, Householder
// tridiagonalisation with Sturm bisection for σ₁ (as LAPACK's dsytrd / dstebz), two-pass moments.

@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}
@inline function st(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}
@inline function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
@inline function ldi(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
@inline function sti(p: usize, i: i32, v: i32): void {
  store<i32>(p + (<usize>i << 2), v);
}

/** Where the wrapper may start laying out buffers. */
export function heapBase(): usize {
  return __heap_base;
}

/** dst[i] = src[i] (float32 → float64), count entries. */
export function widen(src: usize, dst: usize, count: i32): void {
  for (let i = 0; i < count; i++) st(dst, i, <f64>ldf(src, i));
}

/**
 * Mean, variance and Frobenius norm of each of `count` float32 matrices of `size` entries at src, in float64 (two
 * passes); out gets 3·count values: means, then variances, then norms.
 */
export function moments(src: usize, count: i32, size: i32, out: usize): void {
  for (let k = 0; k < count; k++) {
    const start = k * size;
    let sum = 0.0;
    for (let i = start; i < start + size; i++) sum += <f64>ldf(src, i);
    const mean = sum / <f64>size;
    let dev = 0.0;
    for (let i = start; i < start + size; i++) {
      const d = <f64>ldf(src, i) - mean;
      dev += d * d;
    }
    const variance = dev / <f64>size;
    st(out, k, mean);
    st(out, count + k, variance);
    st(out, 2 * count + k, Math.sqrt(<f64>size * (variance + mean * mean)));
  }
}

// ---- eigenvalues of a general real matrix --------------------------------------------------------------

/**
 * Indices that remain after isolating zero eigenvalues: a zero column j (A·e_j = 0) or a zero row makes the matrix
 * block-triangular after a permutation, so 0 is an eigenvalue and the others are those of the matrix without row and
 * column j. ReLU Jacobians have a zero column per inactive unit; left in, these large defective zero clusters can
 * stall the QR iteration. Writes the kept indices to keep (i32) and returns how many; work: 4·n i32.
 */
function isolateZeros(a: usize, n: i32, keep: usize, work: usize): i32 {
  const rowCount = work;
  const colCount = work + (<usize>n << 2);
  const gone = work + (<usize>(2 * n) << 2);
  const queue = work + (<usize>(3 * n) << 2);
  for (let i = 0; i < n; i++) {
    sti(rowCount, i, 0);
    sti(colCount, i, 0);
    sti(gone, i, 0);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (ld(a, i * n + j) != 0) {
        sti(rowCount, i, ldi(rowCount, i) + 1);
        sti(colCount, j, ldi(colCount, j) + 1);
      }
    }
  }
  let top = 0;
  for (let i = 0; i < n; i++) if (ldi(rowCount, i) == 0 || ldi(colCount, i) == 0) sti(queue, top++, i);
  while (top > 0) {
    const j = ldi(queue, --top);
    if (ldi(gone, j)) continue;
    sti(gone, j, 1);
    for (let i = 0; i < n; i++) {
      if (ldi(gone, i)) continue;
      if (ld(a, i * n + j) != 0) {
        const c = ldi(rowCount, i) - 1;
        sti(rowCount, i, c);
        if (c == 0) sti(queue, top++, i);
      }
      if (ld(a, j * n + i) != 0) {
        const c = ldi(colCount, i) - 1;
        sti(colCount, i, c);
        if (c == 0) sti(queue, top++, i);
      }
    }
  }
  let m = 0;
  for (let i = 0; i < n; i++) if (!ldi(gone, i)) sti(keep, m++, i);
  return m;
}

/** Balances rows and columns by powers of 2 (exact in floating point); eigenvalues are unchanged. */
function balance(a: usize, n: i32): void {
  const radix = 2.0;
  const sqrdx = radix * radix;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 0; i < n; i++) {
      let r = 0.0;
      let c = 0.0;
      for (let j = 0; j < n; j++) {
        if (j != i) {
          c += Math.abs(ld(a, j * n + i));
          r += Math.abs(ld(a, i * n + j));
        }
      }
      if (c != 0 && r != 0) {
        let g = r / radix;
        let f = 1.0;
        const s = c + r;
        while (c < g) {
          f *= radix;
          c *= sqrdx;
        }
        g = r * radix;
        while (c > g) {
          f /= radix;
          c /= sqrdx;
        }
        if ((c + r) / f < 0.95 * s) {
          done = false;
          g = 1 / f;
          for (let j = 0; j < n; j++) st(a, i * n + j, ld(a, i * n + j) * g);
          for (let j = 0; j < n; j++) st(a, j * n + i, ld(a, j * n + i) * f);
        }
      }
    }
  }
}

/** Reduces to upper Hessenberg form by stabilised elimination (similarity transforms), EISPACK elmhes. */
function toHessenberg(a: usize, n: i32): void {
  for (let m = 1; m < n - 1; m++) {
    let x = 0.0;
    let i = m;
    for (let j = m; j < n; j++) {
      if (Math.abs(ld(a, j * n + m - 1)) > Math.abs(x)) {
        x = ld(a, j * n + m - 1);
        i = j;
      }
    }
    if (i != m) {
      for (let j = m - 1; j < n; j++) {
        const t = ld(a, i * n + j);
        st(a, i * n + j, ld(a, m * n + j));
        st(a, m * n + j, t);
      }
      for (let j = 0; j < n; j++) {
        const t = ld(a, j * n + i);
        st(a, j * n + i, ld(a, j * n + m));
        st(a, j * n + m, t);
      }
    }
    if (x != 0) {
      for (i = m + 1; i < n; i++) {
        let y = ld(a, i * n + m - 1);
        if (y != 0) {
          y /= x;
          st(a, i * n + m - 1, y);
          // Row i −= y·row m, column m += y·column i.
          for (let j = m; j < n; j++) st(a, i * n + j, ld(a, i * n + j) - y * ld(a, m * n + j));
          for (let j = 0; j < n; j++) st(a, j * n + m, ld(a, j * n + m) + y * ld(a, j * n + i));
        }
      }
    }
  }
  // Clear the multipliers stored below the subdiagonal: hqr reads only the Hessenberg part.
  for (let i = 2; i < n; i++) for (let j = 0; j < i - 1; j++) st(a, i * n + j, 0);
}

/** Rows a, b, c of columns from..to: each column (u, v, w) loses p·(x, y, z), p = u + q·v + r·w. */
@inline function reflectRows3(a: usize, b: usize, c: usize, from: i32, to: i32, q: f64, r: f64, x: f64, y: f64, z: f64): void {
  const q2 = f64x2.splat(q);
  const r2 = f64x2.splat(r);
  const x2 = f64x2.splat(x);
  const y2 = f64x2.splat(y);
  const z2 = f64x2.splat(z);
  let j = from;
  for (; j + 1 <= to; j += 2) {
    const o = <usize>j << 3;
    const u = v128.load(a + o);
    const v = v128.load(b + o);
    const w = v128.load(c + o);
    const p = f64x2.add(f64x2.add(u, f64x2.mul(q2, v)), f64x2.mul(r2, w));
    v128.store(c + o, f64x2.sub(w, f64x2.mul(p, z2)));
    v128.store(b + o, f64x2.sub(v, f64x2.mul(p, y2)));
    v128.store(a + o, f64x2.sub(u, f64x2.mul(p, x2)));
  }
  for (; j <= to; j++) {
    const o = <usize>j << 3;
    const u = load<f64>(a + o);
    const v = load<f64>(b + o);
    const w = load<f64>(c + o);
    let p = u + q * v;
    p += r * w;
    store<f64>(c + o, w - p * z);
    store<f64>(b + o, v - p * y);
    store<f64>(a + o, u - p * x);
  }
}

/** Rows a, b of columns from..to: each column (u, v) loses p·(x, y), p = u + q·v. */
@inline function reflectRows2(a: usize, b: usize, from: i32, to: i32, q: f64, x: f64, y: f64): void {
  for (let j = from; j <= to; j++) {
    const o = <usize>j << 3;
    const u = load<f64>(a + o);
    const v = load<f64>(b + o);
    const p = u + q * v;
    store<f64>(b + o, v - p * y);
    store<f64>(a + o, u - p * x);
  }
}

/** Columns k, k+1, k+2 (col points at column k of row 0) of rows from..to: (u, v, w) loses p·(1, q, r), p = x·u + y·v + z·w. */
@inline function reflectColumns3(col: usize, n: i32, from: i32, to: i32, q: f64, r: f64, x: f64, y: f64, z: f64): void {
  for (let i = from; i <= to; i++) {
    const at = col + (<usize>(i * n) << 3);
    const u = load<f64>(at);
    const v = load<f64>(at, 8);
    const w = load<f64>(at, 16);
    let p = x * u + y * v;
    p += z * w;
    store<f64>(at, w - p * r, 16);
    store<f64>(at, v - p * q, 8);
    store<f64>(at, u - p);
  }
}

/** Columns k, k+1 of rows from..to: (u, v) loses p·(1, q), p = x·u + y·v. */
@inline function reflectColumns2(col: usize, n: i32, from: i32, to: i32, q: f64, x: f64, y: f64): void {
  for (let i = from; i <= to; i++) {
    const at = col + (<usize>(i * n) << 3);
    const u = load<f64>(at);
    const v = load<f64>(at, 8);
    const p = x * u + y * v;
    store<f64>(at, v - p * q, 8);
    store<f64>(at, u - p);
  }
}

/** Shifted QR (Francis double shift) on an upper Hessenberg matrix, EISPACK hqr; false if it did not converge. */
function hessenbergQR(a: usize, n: i32, wr: usize, wi: usize): bool {
  let anorm = 0.0;
  for (let i = 0; i < n; i++) for (let j = max(i - 1, 0); j < n; j++) anorm += Math.abs(ld(a, i * n + j));
  let nn = n - 1;
  let t = 0.0;
  let p = 0.0;
  let q = 0.0;
  let r = 0.0;
  let s = 0.0;
  let w = 0.0;
  let x = 0.0;
  let y = 0.0;
  let z = 0.0;
  while (nn >= 0) {
    let its = 0;
    let l = 0;
    do {
      for (l = nn; l >= 1; l--) {
        s = Math.abs(ld(a, (l - 1) * n + l - 1)) + Math.abs(ld(a, l * n + l));
        if (s == 0) s = anorm;
        if (Math.abs(ld(a, l * n + l - 1)) + s == s) {
          st(a, l * n + l - 1, 0);
          break;
        }
      }
      x = ld(a, nn * n + nn);
      if (l == nn) {
        st(wr, nn, x + t);
        st(wi, nn, 0);
        nn--;
      } else {
        y = ld(a, (nn - 1) * n + nn - 1);
        w = ld(a, nn * n + nn - 1) * ld(a, (nn - 1) * n + nn);
        if (l == nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + (p >= 0 ? Math.abs(z) : -Math.abs(z));
            st(wr, nn - 1, x + z);
            st(wr, nn, x + z);
            if (z != 0) st(wr, nn, x - w / z);
            st(wi, nn - 1, 0);
            st(wi, nn, 0);
          } else {
            st(wr, nn - 1, x + p);
            st(wr, nn, x + p);
            st(wi, nn, z);
            st(wi, nn - 1, -z);
          }
          nn -= 2;
        } else {
          if (its == 60) return false;
          if (its == 10 || its == 20) {
            // Exceptional shift.
            t += x;
            for (let i = 0; i <= nn; i++) st(a, i * n + i, ld(a, i * n + i) - x);
            s = Math.abs(ld(a, nn * n + nn - 1)) + Math.abs(ld(a, (nn - 1) * n + nn - 2));
            x = 0.75 * s;
            y = x;
            w = -0.4375 * s * s;
          }
          ++its;
          let m = nn - 2;
          for (; m >= l; m--) {
            z = ld(a, m * n + m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / ld(a, (m + 1) * n + m) + ld(a, m * n + m + 1);
            q = ld(a, (m + 1) * n + m + 1) - z - r - s;
            r = ld(a, (m + 2) * n + m + 1);
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m == l) break;
            const u = Math.abs(ld(a, m * n + m - 1)) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(ld(a, (m - 1) * n + m - 1)) + Math.abs(z) + Math.abs(ld(a, (m + 1) * n + m + 1)));
            if (u + v == v) break;
          }
          for (let i = m; i < nn - 1; i++) {
            st(a, (i + 2) * n + i, 0);
            if (i != m) st(a, (i + 2) * n + i - 1, 0);
          }
          for (let k = m; k < nn; k++) {
            if (k != m) {
              p = ld(a, k * n + k - 1);
              q = ld(a, (k + 1) * n + k - 1);
              r = 0;
              if (k + 1 != nn) r = ld(a, (k + 2) * n + k - 1);
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x != 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            const sq = Math.sqrt(p * p + q * q + r * r);
            s = p >= 0 ? sq : -sq;
            if (s != 0) {
              if (k == m) {
                if (l != m) st(a, k * n + k - 1, -ld(a, k * n + k - 1));
              } else st(a, k * n + k - 1, -s * x);
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              // Rows k, k+1 (and k+2 unless k+1 = nn) of columns k..nn times the 3×3 reflector, then columns k, k+1
              // (and k+2) of rows l..min(nn, k+3) from the right. Row pointers and the branch hoisted: this is
              // where the QR iteration spends its time.
              const rowK = a + (<usize>(k * n) << 3);
              const rowK1 = rowK + (<usize>n << 3);
              const mmin = nn < k + 3 ? nn : k + 3;
              if (k + 1 != nn) {
                reflectRows3(rowK, rowK1, rowK1 + (<usize>n << 3), k, nn, q, r, x, y, z);
                reflectColumns3(a + (<usize>k << 3), n, l, mmin, q, r, x, y, z);
              } else {
                reflectRows2(rowK, rowK1, k, nn, q, x, y);
                reflectColumns2(a + (<usize>k << 3), n, l, mmin, q, x, y);
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return true;
}

/**
 * Eigenvalues of the n×n matrix at a (read only) into wr, wi (n each), sorted by decreasing modulus (ties keep their
 * order). work: n²·8 + n·8 + 5·n·4 bytes. Returns 0, or −1 when the QR iteration did not converge.
 */
export function eigenvalues(a: usize, n: i32, wr: usize, wi: usize, work: usize): i32 {
  const reduced = work;
  const modulus = reduced + (<usize>(n * n) << 3);
  const keep = modulus + (<usize>n << 3);
  const scratch = keep + (<usize>n << 2);
  const m = isolateZeros(a, n, keep, scratch);
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) st(reduced, r * m + c, ld(a, ldi(keep, r) * n + ldi(keep, c)));
  // Isolated eigenvalues are exact zeros; the rest come from the reduced matrix.
  for (let i = 0; i < n; i++) {
    st(wr, i, 0);
    st(wi, i, 0);
  }
  if (m == 1) st(wr, 0, ld(reduced, 0));
  else if (m > 1) {
    balance(reduced, m);
    toHessenberg(reduced, m);
    if (!hessenbergQR(reduced, m, wr, wi)) return -1;
  }
  // Insertion sort by decreasing modulus: stable, and n is at most a few hundred.
  for (let i = 0; i < n; i++) st(modulus, i, Math.hypot(ld(wr, i), ld(wi, i)));
  for (let i = 1; i < n; i++) {
    const mi = ld(modulus, i);
    const re = ld(wr, i);
    const im = ld(wi, i);
    let j = i - 1;
    while (j >= 0 && ld(modulus, j) < mi) {
      st(modulus, j + 1, ld(modulus, j));
      st(wr, j + 1, ld(wr, j));
      st(wi, j + 1, ld(wi, j));
      j--;
    }
    st(modulus, j + 1, mi);
    st(wr, j + 1, re);
    st(wi, j + 1, im);
  }
  return 0;
}

// ---- symmetric tridiagonal: top eigenpair ---------------------------------------------------------------

/** Eigenvalues of the symmetric tridiagonal (diag a, off-diagonal b) below x: the Sturm sequence count. */
function countBelow(a: usize, b: usize, k: i32, x: f64): i32 {
  let count = 0;
  let q = 1.0;
  for (let i = 0; i < k; i++) {
    q = ld(a, i) - x - (i > 0 ? (ld(b, i - 1) * ld(b, i - 1)) / q : 0);
    // A zero pivot is moved off zero the way LAPACK's dstebz does; its sign decides the count.
    if (q == 0) q = -f64.EPSILON * (Math.abs(x) + 1);
    if (q < 0) count++;
  }
  return count;
}

/**
 * Last component of the unit eigenvector for an (accurate) eigenvalue, by three steps of inverse iteration (Thomas
 * elimination; a near-zero pivot becomes ε·‖T‖, which is what makes it converge at an accurate eigenvalue). NaN if
 * the iteration broke down. work: 4·k·8 bytes.
 */
function lastComponentAt(a: usize, b: usize, k: i32, value: f64, work: usize): f64 {
  if (k == 1) return 1;
  let scale = 0.0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(ld(a, i)));
  for (let i = 0; i < k - 1; i++) scale = Math.max(scale, Math.abs(ld(b, i)));
  const tiny = Math.max(f64.EPSILON * scale, f64.MIN_VALUE);
  const x = work;
  const c = x + (<usize>k << 3);
  const d = c + (<usize>k << 3);
  const y = d + (<usize>k << 3);
  for (let i = 0; i < k; i++) st(x, i, 1);
  for (let sweep = 0; sweep < 3; sweep++) {
    let pivot = ld(a, 0) - value;
    if (Math.abs(pivot) < tiny) pivot = tiny;
    st(c, 0, ld(b, 0) / pivot);
    st(d, 0, ld(x, 0) / pivot);
    for (let i = 1; i < k; i++) {
      pivot = ld(a, i) - value - ld(b, i - 1) * ld(c, i - 1);
      if (Math.abs(pivot) < tiny) pivot = tiny;
      st(c, i, i < k - 1 ? ld(b, i) / pivot : 0);
      st(d, i, (ld(x, i) - ld(b, i - 1) * ld(d, i - 1)) / pivot);
    }
    st(y, k - 1, ld(d, k - 1));
    for (let i = k - 2; i >= 0; i--) st(y, i, ld(d, i) - ld(c, i) * ld(y, i + 1));
    let norm = 0.0;
    for (let i = 0; i < k; i++) norm += ld(y, i) * ld(y, i);
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !isFinite(norm)) return NaN;
    for (let i = 0; i < k; i++) st(x, i, ld(y, i) / norm);
  }
  return ld(x, k - 1);
}

/**
 * Largest eigenvalue of the symmetric tridiagonal matrix (diag a, off-diagonal b, k ≥ 1) by bisection on the Sturm
 * count, and (out[1]) the last component of its unit eigenvector; out[0] is the value. work: 4·k·8 bytes.
 */
export function topTridiagonal(a: usize, b: usize, k: i32, out: usize, work: usize): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < k; i++) {
    const r = (i > 0 ? Math.abs(ld(b, i - 1)) : 0) + (i < k - 1 ? Math.abs(ld(b, i)) : 0);
    lo = Math.min(lo, ld(a, i) - r);
    hi = Math.max(hi, ld(a, i) + r);
  }
  for (let it = 0; it < 200 && hi - lo > 4 * f64.EPSILON * Math.max(Math.max(Math.abs(lo), Math.abs(hi)), f64.MIN_VALUE); it++) {
    const mid = 0.5 * (lo + hi);
    if (countBelow(a, b, k, mid) == k) hi = mid;
    else lo = mid;
  }
  const value = 0.5 * (lo + hi);
  st(out, 0, value);
  st(out, 1, lastComponentAt(a, b, k, value, work));
}

// ---- σ₁ of a dense matrix -------------------------------------------------------------------------------

/**
 * Householder reduction of the symmetric n×n matrix g (overwritten) to tridiagonal form: diagonal a, off-diagonal b.
 * Step k reflects x = g[k+1.., k] onto ∓‖x‖·e₁ and applies the reflector to the trailing block as the rank-2 update
 * S − v·qᵀ − q·vᵀ (q = p − (τ/2)(vᵀp)·v, p = τ·S·v, τ = 2/vᵀv). v, p: n f64 each.
 */
function tridiagonalize(g: usize, n: i32, a: usize, b: usize, v: usize, p: usize): void {
  for (let k = 0; k < n - 2; k++) {
    let norm2 = 0.0;
    for (let i = k + 1; i < n; i++) norm2 += ld(g, i * n + k) * ld(g, i * n + k);
    const x0 = ld(g, (k + 1) * n + k);
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    st(a, k, ld(g, k * n + k));
    st(b, k, alpha);
    for (let i = k + 1; i < n; i++) st(v, i, ld(g, i * n + k));
    st(v, k + 1, ld(v, k + 1) - alpha);
    const vv = norm2 - x0 * x0 + ld(v, k + 1) * ld(v, k + 1);
    if (vv == 0) {
      st(b, k, x0);
      continue;
    }
    const tau = 2 / vv;
    let vp = 0.0;
    for (let i = k + 1; i < n; i++) {
      let s = 0.0;
      for (let j = k + 1; j < n; j++) s += ld(g, i * n + j) * ld(v, j);
      st(p, i, tau * s);
      vp += ld(v, i) * ld(p, i);
    }
    const half = 0.5 * tau * vp;
    for (let i = k + 1; i < n; i++) st(p, i, ld(p, i) - half * ld(v, i));
    for (let i = k + 1; i < n; i++) {
      const vi = ld(v, i);
      const pi = ld(p, i);
      for (let j = k + 1; j < n; j++) st(g, i * n + j, ld(g, i * n + j) - (vi * ld(p, j) + pi * ld(v, j)));
    }
  }
  if (n >= 2) {
    st(a, n - 2, ld(g, (n - 2) * n + n - 2));
    st(b, n - 2, ld(g, (n - 1) * n + n - 2));
  }
  st(a, n - 1, ld(g, (n - 1) * n + n - 1));
}

/**
 * σ₁ of the rows×cols float64 matrix at data: σ₁² is the largest eigenvalue of the Gram matrix (JᵀJ over the nonzero
 * columns when cols ≤ rows, else JJᵀ over the nonzero rows; a ReLU Jacobian has a zero column per inactive unit),
 * tridiagonalised and solved by bisection. work: see the wrapper (vectors, Gram matrix, and 8·count f64 besides).
 */
export function largestSingular(data: usize, rows: i32, cols: i32, work: usize): f64 {
  const byColumns = cols <= rows;
  const len = byColumns ? rows : cols;
  const count = byColumns ? cols : rows;
  // Kept vectors (columns of J, or rows) copied contiguously as float64.
  const vectors = work;
  let n = 0;
  for (let i = 0; i < count; i++) {
    let nonzero = false;
    for (let k = 0; k < len; k++) {
      const x = byColumns ? ld(data, k * cols + i) : ld(data, i * cols + k);
      st(vectors, n * len + k, x);
      if (x != 0) nonzero = true;
    }
    if (nonzero) n++;
  }
  if (n == 0) return 0;
  const g = vectors + (<usize>(count * len) << 3);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0.0;
      for (let k = 0; k < len; k++) s += ld(vectors, i * len + k) * ld(vectors, j * len + k);
      st(g, i * n + j, s);
      st(g, j * n + i, s);
    }
  }
  const a = g + (<usize>(n * n) << 3);
  const b = a + (<usize>n << 3);
  const v = b + (<usize>n << 3);
  const p = v + (<usize>n << 3);
  const out = p + (<usize>n << 3);
  const scratch = out + 16;
  tridiagonalize(g, n, a, b, v, p);
  topTridiagonal(a, b, n, out, scratch);
  return Math.sqrt(Math.max(0, ld(out, 0)));
}

// ---- inverse iteration on a small complex-shifted matrix (Arnoldi's Ritz vectors) -----------------------

/**
 * For each column k, the last row that can be nonzero below the diagonal once elimination reaches it: the running
 * maximum of each column's last nonzero. Arnoldi's projected matrix is Hessenberg but for the leading block a thick
 * restart fills, so the LU costs O(m²·band) instead of O(m³). below: m i32.
 */
function lowerExtent(g: usize, m: i32, below: usize): void {
  let reach = 0;
  for (let k = 0; k < m; k++) {
    let last = k;
    for (let i = m - 1; i > k; i--) {
      if (ld(g, i * m + k) != 0) {
        last = i;
        break;
      }
    }
    if (last > reach) reach = last;
    sti(below, k, reach);
  }
}

/**
 * LU with partial pivoting of the complex m×m matrix G − σI (re, im: m² f64 each, perm: m i32), in place of re/im.
 * A zero pivot becomes ε·‖G‖: at an eigenvalue that is what inverse iteration wants.
 */
function shiftedLU(g: usize, m: i32, sre: f64, sim: f64, re: usize, im: usize, perm: usize, below: usize): void {
  let norm = 0.0;
  for (let i = 0; i < m * m; i++) {
    const x = ld(g, i);
    st(re, i, x);
    st(im, i, 0);
    norm = Math.max(norm, Math.abs(x));
  }
  for (let i = 0; i < m; i++) {
    st(re, i * m + i, ld(re, i * m + i) - sre);
    st(im, i * m + i, ld(im, i * m + i) - sim);
    sti(perm, i, i);
  }
  const tiny = Math.max(f64.EPSILON * norm, f64.MIN_VALUE);
  lowerExtent(g, m, below);
  for (let k = 0; k < m; k++) {
    // Rows past below[k] are zero in this column and stay so: partial pivoting keeps the lower band.
    const last = ldi(below, k);
    let p = k;
    let best = ld(re, k * m + k) * ld(re, k * m + k) + ld(im, k * m + k) * ld(im, k * m + k);
    for (let i = k + 1; i <= last; i++) {
      const size = ld(re, i * m + k) * ld(re, i * m + k) + ld(im, i * m + k) * ld(im, i * m + k);
      if (size > best) {
        p = i;
        best = size;
      }
    }
    if (p != k) {
      const t = ldi(perm, k);
      sti(perm, k, ldi(perm, p));
      sti(perm, p, t);
      for (let j = 0; j < m; j++) {
        let x = ld(re, k * m + j);
        st(re, k * m + j, ld(re, p * m + j));
        st(re, p * m + j, x);
        x = ld(im, k * m + j);
        st(im, k * m + j, ld(im, p * m + j));
        st(im, p * m + j, x);
      }
    }
    if (Math.hypot(ld(re, k * m + k), ld(im, k * m + k)) < tiny) {
      st(re, k * m + k, tiny);
      st(im, k * m + k, 0);
    }
    const pr = ld(re, k * m + k);
    const pi = ld(im, k * m + k);
    const d = pr * pr + pi * pi;
    for (let i = k + 1; i <= last; i++) {
      const ar = ld(re, i * m + k);
      const ai = ld(im, i * m + k);
      const lr = (ar * pr + ai * pi) / d;
      const li = (ai * pr - ar * pi) / d;
      st(re, i * m + k, lr);
      st(im, i * m + k, li);
      if (lr == 0 && li == 0) continue;
      for (let j = k + 1; j < m; j++) {
        const ur = ld(re, k * m + j);
        const ui = ld(im, k * m + j);
        st(re, i * m + j, ld(re, i * m + j) - (lr * ur - li * ui));
        st(im, i * m + j, ld(im, i * m + j) - (lr * ui + li * ur));
      }
    }
  }
}

/** x ← x / (br + i·bi) at index i of (xr, xi). */
@inline function divideAt(xr: usize, xi: usize, i: i32, br: f64, bi: f64): void {
  const ar = ld(xr, i);
  const ai = ld(xi, i);
  const d = br * br + bi * bi;
  st(xr, i, (ar * br + ai * bi) / d);
  st(xi, i, (ai * br - ar * bi) / d);
}

/**
 * t_i −= Σ_{from ≤ j < to} A_ij·t_j in complex arithmetic, with A_ij at (re, im)[i·along + j·across]: along m, across 1
 * for A itself, along 1, across m for Aᵀ (the triangular sweeps of both solves below).
 */
@inline function subtractRange(re: usize, im: usize, tr: usize, ti: usize, i: i32, from: i32, to: i32, along: i32, across: i32): void {
  let sr = ld(tr, i);
  let si = ld(ti, i);
  for (let j = from; j < to; j++) {
    const ar = ld(re, i * along + j * across);
    const ai = ld(im, i * along + j * across);
    sr -= ar * ld(tr, j) - ai * ld(ti, j);
    si -= ar * ld(ti, j) + ai * ld(tr, j);
  }
  st(tr, i, sr);
  st(ti, i, si);
}

/** x with (G − σI)·x = b, in place of (xr, xi) holding b; tr, ti: m f64 scratch. */
function solveLU(re: usize, im: usize, perm: usize, m: i32, xr: usize, xi: usize, tr: usize, ti: usize): void {
  for (let i = 0; i < m; i++) {
    st(tr, i, ld(xr, ldi(perm, i)));
    st(ti, i, ld(xi, ldi(perm, i)));
  }
  for (let i = 0; i < m; i++) subtractRange(re, im, tr, ti, i, 0, i, m, 1);
  for (let i = m - 1; i >= 0; i--) {
    subtractRange(re, im, tr, ti, i, i + 1, m, m, 1);
    divideAt(tr, ti, i, ld(re, i * m + i), ld(im, i * m + i));
  }
  for (let i = 0; i < m; i++) {
    st(xr, i, ld(tr, i));
    st(xi, i, ld(ti, i));
  }
}

/** x with (G − σI)ᵀ·x = b: P·A = L·U, so Aᵀ = Uᵀ·Lᵀ·P; solve Uᵀ, then Lᵀ, then undo P. In place of (xr, xi). */
function solveLUTransposed(re: usize, im: usize, perm: usize, m: i32, xr: usize, xi: usize, tr: usize, ti: usize): void {
  for (let i = 0; i < m; i++) {
    st(tr, i, ld(xr, i));
    st(ti, i, ld(xi, i));
  }
  for (let i = 0; i < m; i++) {
    subtractRange(re, im, tr, ti, i, 0, i, 1, m);
    divideAt(tr, ti, i, ld(re, i * m + i), ld(im, i * m + i));
  }
  for (let i = m - 1; i >= 0; i--) subtractRange(re, im, tr, ti, i, i + 1, m, 1, m);
  for (let k = 0; k < m; k++) {
    st(xr, ldi(perm, k), ld(tr, k));
    st(xi, ldi(perm, k), ld(ti, k));
  }
}

/**
 * Unit eigenvectors of the m×m matrix g for an accurate eigenvalue σ = sre + i·sim, by two steps of inverse iteration
 * on one LU of G − σI: the right one (G·y = σy) into right (re m, then im m) and, unless left is 0, the left one
 * (Gᵀ·w = σw) into left. The start has no special structure: equal components would be orthogonal to some
 * eigenvectors of a symmetric G. work: 2·m² f64, 4·m f64, 2·m i32.
 */
export function shiftedEigenvectors(g: usize, m: i32, sre: f64, sim: f64, right: usize, left: usize, work: usize): void {
  const re = work;
  const im = re + (<usize>(m * m) << 3);
  const tr = im + (<usize>(m * m) << 3);
  const ti = tr + (<usize>m << 3);
  const perm = ti + (<usize>m << 3);
  const below = perm + (<usize>m << 2);
  shiftedLU(g, m, sre, sim, re, im, perm, below);
  for (let side = 0; side < 2; side++) {
    const out = side == 0 ? right : left;
    if (out == 0) continue;
    const xr = out;
    const xi = out + (<usize>m << 3);
    for (let i = 0; i < m; i++) {
      st(xr, i, 1 + <f64>((i * 7919) % 13) / 13);
      st(xi, i, 0);
    }
    for (let sweep = 0; sweep < 2; sweep++) {
      if (side == 0) solveLU(re, im, perm, m, xr, xi, tr, ti);
      else solveLUTransposed(re, im, perm, m, xr, xi, tr, ti);
      let norm = 0.0;
      for (let i = 0; i < m; i++) norm += ld(xr, i) * ld(xr, i) + ld(xi, i) * ld(xi, i);
      norm = Math.sqrt(norm);
      for (let i = 0; i < m; i++) {
        st(xr, i, ld(xr, i) / norm);
        st(xi, i, ld(xi, i) / norm);
      }
    }
  }
}
