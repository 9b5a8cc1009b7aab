// The small float64 kernels of wasm/linalg.ts (AssemblyScript → WebAssembly at build time): eigenvalues of a
// general matrix, σ₁ of a dense matrix, the top eigenpair of a symmetric tridiagonal matrix, moments. They run
// on cold code in every CLI process (the seed example: 4 eigenvalue problems of order 100), where V8 would
// interpret a JS loop for its first few milliseconds; WebAssembly is compiled when the module is instantiated
// (~1 ms for these 7 KB), so the first call runs at compiled speed. One instance per thread, created on first use.
// Every call lays its buffers out from the module's heap base, growing the memory when a call needs more.
import bytes from './generated/linalg.wasm';

interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  widen(src: number, dst: number, count: number): void;
  moments(src: number, count: number, size: number, out: number): void;
  eigenvalues(a: number, n: number, wr: number, wi: number, work: number): number;
  topTridiagonal(a: number, b: number, k: number, out: number, work: number): void;
  largestSingular(data: number, rows: number, cols: number, work: number): number;
  shiftedEigenvectors(g: number, m: number, sre: number, sim: number, right: number, left: number, work: number): void;
}

let kernels: Kernels | undefined;

function instance(): Kernels {
  kernels ??= new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Kernels;
  return kernels;
}

/**
 * Byte offsets of consecutive buffers from the heap base (each 16-byte aligned), with the memory grown to hold
 * them. Views are made after every buffer is placed: growing the memory detaches earlier views.
 */
function layout(sizes: number[]): { k: Kernels; at: number[] } {
  const k = instance();
  const at: number[] = [];
  let end = k.heapBase();
  for (const size of sizes) {
    end = Math.ceil(end / 16) * 16;
    at.push(end);
    end += size;
  }
  const missing = end - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
  return { k, at };
}

const f64 = (k: Kernels, at: number, length: number) => new Float64Array(k.memory.buffer, at, length);

/** Copies `length` values of data from `offset` into memory at `at` as float64 (float32 input widened in wasm). */
function writeF64(k: Kernels, at: number, data: ArrayLike<number>, offset: number, length: number, staging: number): void {
  if (data instanceof Float64Array) f64(k, at, length).set(data.subarray(offset, offset + length));
  else if (data instanceof Float32Array) {
    new Float32Array(k.memory.buffer, staging, length).set(data.subarray(offset, offset + length));
    k.widen(staging, at, length);
  } else {
    const view = f64(k, at, length);
    for (let i = 0; i < length; i++) view[i] = data[offset + i];
  }
}

/**
 * Eigenvalues of the n×n row-major matrix at data[offset..], sorted by decreasing modulus (EISPACK balanc / elmhes /
 * hqr after isolating zero rows and columns, in float64). Throws if the QR iteration does not converge.
 */
export function eigenvalues(data: ArrayLike<number>, offset: number, n: number): { re: Float64Array; im: Float64Array } {
  const nn = n * n;
  const { k, at } = layout([nn * 8, nn * 4, n * 8, n * 8, nn * 8 + n * 8 + 5 * n * 4]);
  const [a, staging, wr, wi, work] = at;
  writeF64(k, a, data, offset, nn, staging);
  if (k.eigenvalues(a, n, wr, wi, work) !== 0) throw new Error('eigenvalues: QR iteration did not converge');
  return { re: f64(k, wr, n).slice(), im: f64(k, wi, n).slice() };
}

/**
 * σ₁ of the rows×cols row-major matrix at data[offset..]: the top eigenvalue of the Gram matrix over its nonzero
 * columns (or rows), in float64. A full SVD computes every value (ml-matrix: ~20 ms per 100×100 matrix cold).
 */
export function largestSingularValue(data: ArrayLike<number>, offset: number, rows: number, cols: number): number {
  const size = rows * cols;
  const count = Math.min(rows, cols);
  const len = Math.max(rows, cols);
  const { k, at } = layout([size * 8, size * 4, (count * len + count * count + 8 * count + 4) * 8]);
  writeF64(k, at[0], data, offset, size, at[1]);
  return k.largestSingular(at[0], rows, cols, at[2]);
}

/**
 * Largest eigenvalue of the symmetric tridiagonal matrix (diagonal a, off-diagonal b) by Sturm bisection, and the
 * last component of its unit eigenvector by inverse iteration (NaN if that broke down).
 */
export function topTridiagonal(a: Float64Array, b: Float64Array): { value: number; lastComponent: number } {
  const n = a.length;
  const { k, at } = layout([n * 8, Math.max(n - 1, 1) * 8, 16, 4 * n * 8]);
  f64(k, at[0], n).set(a);
  f64(k, at[1], b.length).set(b);
  k.topTridiagonal(at[0], at[1], n, at[2], at[3]);
  const [value, lastComponent] = f64(k, at[2], 2);
  return { value, lastComponent };
}

/** Mean, variance and Frobenius norm of each of `count` row-major float32 matrices of `size` entries, in float64. */
export function matrixMoments(data: Float32Array, count: number, size: number): { mean: Float32Array; variance: Float32Array; frobenius: Float32Array } {
  const { k, at } = layout([count * size * 4, 3 * count * 8]);
  new Float32Array(k.memory.buffer, at[0], count * size).set(data.subarray(0, count * size));
  k.moments(at[0], count, size, at[1]);
  const out = f64(k, at[1], 3 * count);
  return { mean: Float32Array.from(out.subarray(0, count)), variance: Float32Array.from(out.subarray(count, 2 * count)), frobenius: Float32Array.from(out.subarray(2 * count)) };
}

/** A complex vector as its real and imaginary parts. */
export interface ComplexVector {
  re: Float64Array;
  im: Float64Array;
}

/**
 * Unit eigenvectors of the m×m row-major matrix g for an accurate eigenvalue σ = sre + i·sim, by two steps of inverse
 * iteration on one LU of G − σI (banded for Arnoldi's Hessenberg-like matrices): the right one (G·y = σy) and, if
 * asked, the left one (Gᵀ·w = σw).
 */
export function shiftedEigenvectors(g: Float64Array, m: number, sre: number, sim: number, withLeft: boolean): { right: ComplexVector; left?: ComplexVector } {
  const { k, at } = layout([m * m * 8, 2 * m * 8, 2 * m * 8, 2 * m * m * 8 + 4 * m * 8 + 2 * m * 4]);
  const [gAt, rightAt, leftAt, work] = at;
  f64(k, gAt, m * m).set(g.subarray(0, m * m));
  k.shiftedEigenvectors(gAt, m, sre, sim, rightAt, withLeft ? leftAt : 0, work);
  const read = (p: number): ComplexVector => ({ re: f64(k, p, m).slice(), im: f64(k, p + 8 * m, m).slice() });
  return { right: read(rightAt), left: withLeft ? read(leftAt) : undefined };
}
