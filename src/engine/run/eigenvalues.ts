// Eigenvalues (only) of a general real matrix: balancing, reduction to upper Hessenberg form by
// stabilised elimination, then the shifted QR algorithm (Francis double shift) on the Hessenberg matrix —
// the EISPACK balanc / elmhes / hqr route. We use ml-matrix for everything else, but its
// EigenvalueDecomposition always builds eigenvectors on arrays of arrays: measured here at ~0.1 s for
// 100×100 and ~11 s for 512×512, which made the spectral radius the slowest part of a run. This
// values-only form on one Float64Array does the same decomposition without the vectors; the tests hold it
// to ml-matrix's eigenvalues on random matrices and to closed forms.

const RADIX = 2;

/** Balances rows and columns by powers of the radix (exact in floating point); eigenvalues are unchanged. */
function balance(a: Float64Array, n: number): void {
  const sqrdx = RADIX * RADIX;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 0; i < n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (j !== i) {
          c += Math.abs(a[j * n + i]);
          r += Math.abs(a[i * n + j]);
        }
      }
      if (c !== 0 && r !== 0) {
        let g = r / RADIX;
        let f = 1;
        const s = c + r;
        while (c < g) {
          f *= RADIX;
          c *= sqrdx;
        }
        g = r * RADIX;
        while (c > g) {
          f /= RADIX;
          c /= sqrdx;
        }
        if ((c + r) / f < 0.95 * s) {
          done = false;
          g = 1 / f;
          for (let j = 0; j < n; j++) a[i * n + j] *= g;
          for (let j = 0; j < n; j++) a[j * n + i] *= f;
        }
      }
    }
  }
}

/** Row i −= y·row m (columns m..), column m += y·column i: one elimination step as a similarity transform. */
function eliminate(a: Float64Array, n: number, i: number, m: number, y: number): void {
  for (let j = m; j < n; j++) a[i * n + j] -= y * a[m * n + j];
  for (let j = 0; j < n; j++) a[j * n + m] += y * a[j * n + i];
}

/** Reduces to upper Hessenberg form by elimination with pivoting (similarity transforms). */
function toHessenberg(a: Float64Array, n: number): void {
  for (let m = 1; m < n - 1; m++) {
    let x = 0;
    let i = m;
    for (let j = m; j < n; j++) {
      if (Math.abs(a[j * n + m - 1]) > Math.abs(x)) {
        x = a[j * n + m - 1];
        i = j;
      }
    }
    if (i !== m) {
      for (let j = m - 1; j < n; j++) {
        const t = a[i * n + j];
        a[i * n + j] = a[m * n + j];
        a[m * n + j] = t;
      }
      for (let j = 0; j < n; j++) {
        const t = a[j * n + i];
        a[j * n + i] = a[j * n + m];
        a[j * n + m] = t;
      }
    }
    if (x !== 0) {
      for (i = m + 1; i < n; i++) {
        let y = a[i * n + m - 1];
        if (y !== 0) {
          y /= x;
          a[i * n + m - 1] = y;
          eliminate(a, n, i, m, y);
        }
      }
    }
  }
  // Clear the multipliers stored below the subdiagonal: hqr reads only the Hessenberg part.
  for (let i = 2; i < n; i++) for (let j = 0; j < i - 1; j++) a[i * n + j] = 0;
}

// The two O(n) loops of each double-shift step, as small functions of their own: V8 optimises a small hot
// function after a few calls, while the loops inside hqr's one large body stayed unoptimised for the first
// several matrices of a process (measured on 4 ReLU Jacobians of 100 units in a fresh process: hqr ~50 → ~25 ms CPU).
/** Rows k, k+1 (and k+2 unless k+1 = nn) of columns k..nn times the double-shift step's 3×3 reflector (EISPACK hqr's p, q, r, x, y, z). */
function reflectRows(a: Float64Array, n: number, k: number, nn: number, x: number, y: number, z: number, q: number, r: number): void {
  for (let j = k; j <= nn; j++) {
    let p = a[k * n + j] + q * a[(k + 1) * n + j];
    if (k + 1 !== nn) {
      p += r * a[(k + 2) * n + j];
      a[(k + 2) * n + j] -= p * z;
    }
    a[(k + 1) * n + j] -= p * y;
    a[k * n + j] -= p * x;
  }
}

/** Columns k, k+1 (and k+2 unless k+1 = nn) of rows l..mmin times the same reflector from the right. */
function reflectColumns(a: Float64Array, n: number, k: number, l: number, mmin: number, nn: number, x: number, y: number, z: number, q: number, r: number): void {
  for (let i = l; i <= mmin; i++) {
    let p = x * a[i * n + k] + y * a[i * n + k + 1];
    if (k + 1 !== nn) {
      p += z * a[i * n + k + 2];
      a[i * n + k + 2] -= p * r;
    }
    a[i * n + k + 1] -= p * q;
    a[i * n + k] -= p;
  }
}

/** Shifted QR on an upper Hessenberg matrix; writes the eigenvalues to wr / wi. Throws if it does not converge. */
function hessenbergQR(a: Float64Array, n: number, wr: Float64Array, wi: Float64Array): void {
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(a[i * n + j]);
  let nn = n - 1;
  let t = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let w: number;
  let x: number;
  let y: number;
  let z = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 1; l--) {
        s = Math.abs(a[(l - 1) * n + l - 1]) + Math.abs(a[l * n + l]);
        if (s === 0) s = anorm;
        if (Math.abs(a[l * n + l - 1]) + s === s) {
          a[l * n + l - 1] = 0;
          break;
        }
      }
      x = a[nn * n + nn];
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = a[(nn - 1) * n + nn - 1];
        w = a[nn * n + nn - 1] * a[(nn - 1) * n + nn];
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + (p >= 0 ? Math.abs(z) : -Math.abs(z));
            wr[nn - 1] = wr[nn] = x + z;
            if (z) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === 60) throw new Error('eigenvalues: QR iteration did not converge');
          if (its === 10 || its === 20) {
            // Exceptional shift.
            t += x;
            for (let i = 0; i <= nn; i++) a[i * n + i] -= x;
            s = Math.abs(a[nn * n + nn - 1]) + Math.abs(a[(nn - 1) * n + nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m * n + m];
            r = x - z;
            s = y - z;
            p = (r * s - w) / a[(m + 1) * n + m] + a[m * n + m + 1];
            q = a[(m + 1) * n + m + 1] - z - r - s;
            r = a[(m + 2) * n + m + 1];
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m * n + m - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[(m - 1) * n + m - 1]) + Math.abs(z) + Math.abs(a[(m + 1) * n + m + 1]));
            if (u + v === v) break;
          }
          for (let i = m; i < nn - 1; i++) {
            a[(i + 2) * n + i] = 0;
            if (i !== m) a[(i + 2) * n + i - 1] = 0;
          }
          for (let k = m; k < nn; k++) {
            if (k !== m) {
              p = a[k * n + k - 1];
              q = a[(k + 1) * n + k - 1];
              r = 0;
              if (k + 1 !== nn) r = a[(k + 2) * n + k - 1];
              if ((x = Math.abs(p) + Math.abs(q) + Math.abs(r)) !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            const sq = Math.sqrt(p * p + q * q + r * r);
            if ((s = p >= 0 ? sq : -sq) !== 0) {
              if (k === m) {
                if (l !== m) a[k * n + k - 1] = -a[k * n + k - 1];
              } else a[k * n + k - 1] = -s * x;
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              reflectRows(a, n, k, nn, x, y, z, q, r);
              reflectColumns(a, n, k, l, nn < k + 3 ? nn : k + 3, nn, x, y, z, q, r);
            }
          }
        }
      }
    } while (l < nn - 1);
  }
}

/**
 * Indices that remain after isolating zero eigenvalues: a zero column j (A·e_j = 0) or a zero row makes
 * the matrix block-triangular after a permutation, so 0 is an eigenvalue and the others are those of the
 * matrix without row and column j. ReLU Jacobians have a zero column per inactive unit; left in, these
 * large defective zero clusters can stall the QR iteration (EISPACK's balanc isolates them the same way).
 */
function isolateZeros(data: ArrayLike<number>, offset: number, n: number): number[] {
  // Nonzero counts per row and column, updated as indices go: O(n²) in all, exact (counts, not sums).
  // Plain indexed loops: in a fresh process this runs before V8 optimises anything (CLI start).
  const rowCount = new Int32Array(n);
  const colCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (data[offset + i * n + j] !== 0) {
        rowCount[i]++;
        colCount[j]++;
      }
    }
  }
  const gone = new Uint8Array(n);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (rowCount[i] === 0 || colCount[i] === 0) queue.push(i);
  while (queue.length > 0) {
    const j = queue.pop()!;
    if (gone[j]) continue;
    gone[j] = 1;
    for (let i = 0; i < n; i++) {
      if (gone[i]) continue;
      if (data[offset + i * n + j] !== 0 && --rowCount[i] === 0) queue.push(i);
      if (data[offset + j * n + i] !== 0 && --colCount[i] === 0) queue.push(i);
    }
  }
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!gone[i]) keep.push(i);
  return keep;
}

/** Eigenvalues of the n×n row-major matrix at data[offset..], sorted by decreasing modulus. */
export function eigenvalues(data: ArrayLike<number>, offset: number, n: number): { re: Float64Array; im: Float64Array } {
  const keep = isolateZeros(data, offset, n);
  const m = keep.length;
  const a = new Float64Array(m * m);
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) a[r * m + c] = data[offset + keep[r] * n + keep[c]];
  // Isolated eigenvalues are exact zeros; the rest come from the reduced matrix.
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  if (m === 1) {
    wr[0] = a[0];
  } else if (m > 1) {
    balance(a, m);
    toHessenberg(a, m);
    hessenbergQR(a, m, wr, wi);
  }
  const modulus = Float64Array.from(wr, (re, i) => Math.hypot(re, wi[i]));
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => modulus[j] - modulus[i]);
  return { re: Float64Array.from(order, (i) => wr[i]), im: Float64Array.from(order, (i) => wi[i]) };
}
