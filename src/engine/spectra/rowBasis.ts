// The Krylov bases of the batched spectra: one orthonormal basis per row (matrix), float32, kept in WebAssembly
// memory (wasm/krylov.ts, SIMD) rather than as backend tensors. Gram–Schmidt against a row's own basis is a
// matrix–vector product per row: on the backend, a batched one that reads every basis from memory twice per pass
// and copies the whole basis to grow it. Here each row's two passes run back to back on its basis while it is in
// cache, vectors are written where they stay, and a restart or a converged row moves nothing (rows are slots).
// The operator products stay on the backend: each step hands it the newest vectors as one [R, n] tensor.
// One WebAssembly instance (its own memory) per basis; a released basis's instance serves the next one on the thread.
import bytes from '../wasm/generated/krylov.wasm';
import { tf, type Tensor2D } from '../backend/tf';
import { randomUnitRows } from './krylov';

interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  blockSize(): number;
  project(blocks: number, k: number, n: number, slots: number, rows: number, w: number, coeffs: number, squares: number, scratch: number): void;
  put(blocks: number, k: number, n: number, slots: number, rows: number, w: number, scale: number): void;
  fetch(blocks: number, k: number, n: number, slots: number, rows: number, out: number): void;
  combine(blocks: number, m: number, n: number, slots: number, rows: number, y: number, p: number, out: number): void;
  replaceFirst(blocks: number, n: number, slots: number, rows: number, src: number, p: number): void;
  move(blocks: number, from: number, to: number, n: number, slots: number, rows: number): void;
}

let compiled: WebAssembly.Module | undefined;

/**
 * Instances whose basis was released, for the next bases on this thread (Lanczos after Arnoldi, the next chunk):
 * their memory is mapped and touched already, where a new instance's pages fault in one by one as its basis grows.
 * Up to two (Golub–Kahan holds two bases at once), each at most IDLE_MAX_BYTES (W6's largest basis per thread: ~17 MB),
 * so that a long-lived engine process keeps at most 128 MB per thread, not the memory of an exceptionally large run.
 */
const idle: Kernels[] = [];
const IDLE_MAX_BYTES = 64 * 2 ** 20;

/** Vectors per block of storage (wasm/krylov.ts BLOCK): a basis grows a block at a time. */
const VECTORS_PER_BLOCK = 16;

/** Bytes a basis of `vectors` vectors of length n takes per row, with its working vector. */
export const basisBytesPerRow = (n: number, vectors: number): number => (Math.ceil(vectors / VECTORS_PER_BLOCK) * VECTORS_PER_BLOCK + 1) * n * 4;

/** The result of orthogonalizing one vector per row against its basis. */
export interface Projection {
  /** Coefficients on the basis vectors, [R, size] row-major (both passes summed). */
  coeffs: Float64Array;
  /** ‖w − V·c‖ per row. */
  norms: Float64Array;
}

/** `body` with a new basis (rows × n, up to `capacity` vectors), released when it returns or throws. */
export function withBasis<T>(rows: number, n: number, capacity: number, body: (basis: RowBasis) => T): T {
  const basis = new RowBasis(rows, n, capacity);
  try {
    return body(basis);
  } finally {
    basis.release();
  }
}

export class RowBasis {
  private readonly k: Kernels;
  private readonly block: number;
  /** Rows the basis was made for: every block holds a slot for each. */
  private readonly total: number;
  private end: number;
  /** Addresses of the fixed areas (see the constructor). */
  private readonly at: { table: number; slots: number; auxSlots: number; w: number; coeffs: number; squares: number; scale: number; scratch: number };
  private blocks = 0;
  private work = { at: 0, bytes: 0 };
  /** The slot of each row still in the basis, in order. */
  private slots: number[];
  /** Vectors held per row. */
  size = 0;
  private released = false;

  /**
   * `rows` rows of vectors of length n, up to `capacity` vectors each (the storage grows a block of vectors at a
   * time, as it is used).
   */
  constructor(rows: number, readonly n: number, readonly capacity: number) {
    compiled ??= new WebAssembly.Module(bytes);
    this.k = idle.pop() ?? (new WebAssembly.Instance(compiled, {}).exports as unknown as Kernels);
    this.block = this.k.blockSize();
    if (this.block !== VECTORS_PER_BLOCK) throw new Error(`internal: krylov.wasm stores ${this.block} vectors per block, not ${VECTORS_PER_BLOCK}`);
    this.total = rows;
    this.slots = Array.from({ length: rows }, (_, r) => r);
    this.end = this.k.heapBase();
    const table = Math.ceil(capacity / this.block) * 4;
    this.at = {
      table: this.alloc(table),
      slots: this.alloc(rows * 4),
      auxSlots: this.alloc(rows * 4),
      w: this.alloc(rows * n * 4),
      coeffs: this.alloc(rows * capacity * 8),
      squares: this.alloc(rows * 8),
      scale: this.alloc(rows * 8),
      scratch: this.alloc(capacity * 8),
    };
    this.ensure(1);
  }

  /** Done with this basis: its instance may serve the next one (this object must not be used again). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (idle.length < 2 && this.k.memory.buffer.byteLength <= IDLE_MAX_BYTES) idle.push(this.k);
  }

  /** Rows still in the basis. */
  get rows(): number {
    return this.slots.length;
  }

  /** Sets each row's first vector (unit rows, [R, n]); the basis then holds one vector per row. */
  start(vectors: Float32Array): void {
    this.view32(this.at.w, this.rows * this.n).set(vectors);
    this.writeSlots(this.at.slots, this.slots);
    this.k.put(this.at.table, 0, this.n, this.at.slots, this.rows, this.at.w, this.fillScale(() => 1));
    this.size = 1;
  }

  /** Vector `index` of every row, [R, n] (a copy). */
  vectors(index: number): Float32Array {
    if (index >= this.size) throw new Error(`internal: vector ${index} of a basis of ${this.size}`);
    const out = this.workArea(this.rows * this.n * 4);
    this.writeSlots(this.at.slots, this.slots);
    this.k.fetch(this.at.table, index, this.n, this.at.slots, this.rows, out);
    return this.view32(out, this.rows * this.n).slice();
  }

  /** Vector `index` of every row, as a new [R, n] tensor (for the operator product). */
  tensor(index: number): Tensor2D {
    return tf().tensor2d(this.vectors(index), [this.rows, this.n]);
  }

  /**
   * Orthogonalizes w ([R, n], read back here) against every row's basis: classical Gram–Schmidt, with a second pass
   * for a row where the first lost more than half its norm squared (DGKS). The result stays here for `append`.
   */
  orthogonalize(w: Tensor2D | Float32Array): Projection {
    const values = w instanceof Float32Array ? w : (w.dataSync() as Float32Array);
    const [R, k] = [this.rows, this.size];
    this.view32(this.at.w, R * this.n).set(values);
    this.writeSlots(this.at.slots, this.slots);
    this.k.project(this.at.table, k, this.n, this.at.slots, R, this.at.w, this.at.coeffs, this.at.squares, this.at.scratch);
    return { coeffs: this.view64(this.at.coeffs, R * k).slice(), norms: this.view64(this.at.squares, R).map(Math.sqrt) };
  }

  /**
   * Appends the last orthogonalized vectors divided by their norms. Where a row's norm is negligible (`replace`: an
   * invariant subspace was reached) it continues with a fresh random unit vector orthogonal to its basis, so the
   * recurrence explores the rest (a zero vector where the basis spans the whole space already).
   * `rng.stream` must differ per call: a vector drawn twice is orthogonal to nothing new.
   */
  append(norms: Float64Array, replace: boolean[], rng: { seed: number; stream: string }): void {
    this.ensure(this.size + 1);
    const R = this.rows;
    this.writeSlots(this.at.slots, this.slots);
    this.k.put(this.at.table, this.size, this.n, this.at.slots, R, this.at.w, this.fillScale((r) => (replace[r] ? 0 : 1 / norms[r])));
    const fresh = replace.flatMap((x, r) => (x ? [r] : []));
    if (fresh.length > 0) this.appendRandom(fresh, rng);
    this.size++;
  }

  /** Keeps the rows at these positions (in this order); the others' storage is left unused. */
  keep(positions: number[]): void {
    this.slots = positions.map((r) => this.slots[r]);
  }

  /**
   * A thick restart: each row's first p vectors become V_m·q_r (q: [R, p, m] float32, the combinations of its first m
   * vectors), and vector m moves to position p. The basis then holds p + 1 vectors per row.
   */
  restart(q: Float32Array, p: number, m: number): void {
    const kept = this.combine(this.slots.map((_, r) => r), q, p, m);
    this.writeSlots(this.at.slots, this.slots);
    this.k.replaceFirst(this.at.table, this.n, this.at.slots, this.rows, kept, p);
    this.k.move(this.at.table, m, p, this.n, this.at.slots, this.rows);
    this.size = p + 1;
  }

  /**
   * Σ_i y[j][i]·v_i over the first m vectors, for the rows at `positions`: y is [count, p, m] float32; the result is
   * [count, p, n] float32 (a copy).
   */
  linearCombinations(positions: number[], y: Float32Array, p: number, m: number): Float32Array {
    const out = this.combine(positions, y, p, m);
    return this.view32(out, positions.length * p * this.n).slice();
  }

  /** linearCombinations into the work area: returns the result's address. */
  private combine(positions: number[], y: Float32Array, p: number, m: number): number {
    const count = positions.length;
    const yBytes = Math.ceil((count * p * m * 4) / 16) * 16;
    const area = this.workArea(yBytes + count * p * this.n * 4);
    this.view32(area, count * p * m).set(y);
    this.writeSlots(this.at.auxSlots, positions.map((r) => this.slots[r]));
    this.k.combine(this.at.table, m, this.n, this.at.auxSlots, count, area, p, area + yBytes);
    return area + yBytes;
  }

  /** Random unit vectors orthogonal to the basis, appended at position `size` for the rows at `positions`. */
  private appendRandom(positions: number[], rng: { seed: number; stream: string }): void {
    const count = positions.length;
    const aux = this.workArea(count * this.n * 4);
    this.view32(aux, count * this.n).set(randomUnitRows(count, this.n, rng.seed, rng.stream));
    this.writeSlots(this.at.auxSlots, positions.map((r) => this.slots[r]));
    // The coefficient and norm areas are free again: the caller read them back before appending.
    this.k.project(this.at.table, this.size, this.n, this.at.auxSlots, count, aux, this.at.coeffs, this.at.squares, this.at.scratch);
    const squares = this.view64(this.at.squares, count).slice();
    // Nothing left (the basis spans the whole space): a zero vector, which adds nothing to the recurrence.
    this.k.put(this.at.table, this.size, this.n, this.at.auxSlots, count, aux, this.fillScale((r) => (r < count && squares[r] > 0 ? 1 / Math.sqrt(squares[r]) : 0)));
  }

  /** Storage for at least `vectors` vectors per row (all slots), a block at a time. */
  private ensure(vectors: number): void {
    if (vectors > this.capacity) throw new Error(`internal: Krylov basis of ${this.capacity} vectors asked for ${vectors}`);
    while (this.blocks * this.block < vectors) {
      const address = this.alloc(this.total * this.block * this.n * 4);
      new Int32Array(this.k.memory.buffer, this.at.table, this.blocks + 1)[this.blocks] = address;
      this.blocks++;
    }
  }

  private workArea(bytes: number): number {
    if (this.work.bytes < bytes) this.work = { at: this.alloc(bytes), bytes };
    return this.work.at;
  }

  /** Bytes from the end of what is laid out (16-byte aligned), growing the memory when needed. */
  private alloc(bytes: number): number {
    const at = Math.ceil(this.end / 16) * 16;
    this.end = at + bytes;
    const missing = this.end - this.k.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.k.memory.grow(Math.ceil(missing / 65536));
      } catch {
        throw new Error(`Krylov basis: cannot allocate ${(this.end / 2 ** 20).toFixed(0)} MiB of WebAssembly memory (at most 4 GiB); analyze fewer Jacobians at once`);
      }
    }
    return at;
  }

  private fillScale(value: (r: number) => number): number {
    const scale = this.view64(this.at.scale, this.rows);
    for (let r = 0; r < scale.length; r++) scale[r] = value(r);
    return this.at.scale;
  }

  private writeSlots(at: number, slots: number[]): void {
    new Int32Array(this.k.memory.buffer, at, slots.length).set(slots);
  }

  private view32(at: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, length);
  }

  private view64(at: number, length: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, at, length);
  }
}
