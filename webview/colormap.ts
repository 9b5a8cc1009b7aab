// Diverging colour map for Jacobian heatmaps: negative = blue, 0 = neutral near-white, positive = red
// (ColorBrewer RdBu, reversed so that red means positive). Pure: no DOM, unit-tested in node.
//
// The lookup table has an ODD number of entries so that 0 lands exactly on the middle entry (the
// neutral colour) and ±limit on the two ends; an even-sized table has no middle entry.

export type RGB = readonly [number, number, number];

/** ColorBrewer RdBu (11 classes), from the most negative (dark blue) to the most positive (dark red). */
export const RDBU_STOPS: readonly RGB[] = [
  [0x05, 0x30, 0x61],
  [0x21, 0x66, 0xac],
  [0x43, 0x93, 0xc3],
  [0x92, 0xc5, 0xde],
  [0xd1, 0xe5, 0xf0],
  [0xf7, 0xf7, 0xf7],
  [0xfd, 0xdb, 0xc7],
  [0xf4, 0xa5, 0x82],
  [0xd6, 0x60, 0x4d],
  [0xb2, 0x18, 0x2b],
  [0x67, 0x00, 0x1f],
];

export const NEUTRAL: RGB = RDBU_STOPS[5];
/** Non-finite entries (NaN, ±Inf) are drawn in a colour that is not on the scale. */
export const NON_FINITE: RGB = [0x00, 0xc8, 0x00];
export const LUT_SIZE = 257;

function srgbToLinear(c: number): number {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}
function linearToSrgb(l: number): number {
  const s = l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, s)) * 255);
}

/**
 * The colour of x ∈ [-1, 1] (clamped): piecewise interpolation between the RdBu stops, in linear
 * light so that the mixes between stops do not darken.
 */
export function divergingColor(x: number): RGB {
  if (!Number.isFinite(x)) return NON_FINITE;
  const u = (Math.min(1, Math.max(-1, x)) + 1) / 2; // 0..1
  const f = u * (RDBU_STOPS.length - 1);
  const k = Math.min(RDBU_STOPS.length - 2, Math.floor(f));
  const w = f - k;
  const a = RDBU_STOPS[k];
  const b = RDBU_STOPS[k + 1];
  const mix = (ca: number, cb: number): number =>
    w === 0 ? ca : w === 1 ? cb : linearToSrgb((1 - w) * srgbToLinear(ca) + w * srgbToLinear(cb));
  return [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])];
}

/** RGBA lookup table: entry k is the colour of x = 2k/(size-1) - 1. */
export function buildLut(size = LUT_SIZE): Uint8ClampedArray {
  if (size < 3 || size % 2 === 0) throw new Error(`LUT size must be odd and ≥ 3, got ${size}`);
  const lut = new Uint8ClampedArray(size * 4);
  for (let k = 0; k < size; k++) {
    const [r, g, b] = divergingColor((2 * k) / (size - 1) - 1);
    lut[4 * k] = r;
    lut[4 * k + 1] = g;
    lut[4 * k + 2] = b;
    lut[4 * k + 3] = 255;
  }
  return lut;
}

/** Index into a LUT of `size` entries for `value` with symmetric limits ±limit (clamped). */
export function lutIndex(value: number, limit: number, size = LUT_SIZE): number {
  const half = (size - 1) / 2;
  const x = limit > 0 ? value / limit : 0;
  const k = Math.round(half + x * half);
  return k < 0 ? 0 : k > size - 1 ? size - 1 : k;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs RGBA bytes into one 32-bit word per entry, in the byte order ImageData's buffer uses. */
export function packRgba(r: number, g: number, b: number, a = 255): number {
  return LITTLE_ENDIAN
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** The LUT as packed words, plus one extra entry (index `size`) for non-finite values. */
export function packedLut(lut: Uint8ClampedArray = buildLut()): Uint32Array {
  const size = lut.length / 4;
  const out = new Uint32Array(size + 1);
  for (let k = 0; k < size; k++) out[k] = packRgba(lut[4 * k], lut[4 * k + 1], lut[4 * k + 2], lut[4 * k + 3]);
  out[size] = packRgba(NON_FINITE[0], NON_FINITE[1], NON_FINITE[2]);
  return out;
}

/**
 * Fills `pixels` (one packed RGBA word per matrix entry, row-major, same length as `values`) with
 * the colours of `values` under limits ±limit. The hot loop of the heatmap: one multiply, one round
 * and one table read per entry. Returns how many entries were not finite (drawn in the `bad` colour).
 */
export function colorize(values: ArrayLike<number>, limit: number, pixels: Uint32Array, packed: Uint32Array): number {
  const size = packed.length - 1;
  const half = (size - 1) / 2;
  const scale = limit > 0 ? half / limit : 0;
  const offset = half + 0.5; // floor(x + 0.5) = Math.round(x); `| 0` floors the non-negative f
  const low = packed[0];
  const high = packed[size - 1];
  const bad = packed[size];
  const n = values.length;
  let nonFinite = 0;
  for (let p = 0; p < n; p++) {
    const v = values[p];
    const f = v * scale + offset;
    if (f >= 0 && f < size) pixels[p] = packed[f | 0];
    else if (v !== v || v === Infinity || v === -Infinity) {
      pixels[p] = bad;
      nonFinite++;
    } else pixels[p] = f < 0 ? low : high;
  }
  return nonFinite;
}

/** A CSS colour string for an RGB triple. */
export function cssRgb(c: RGB): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
