/**
 * RISE mask geometry and generator parameters (docs/SEMANTICS.md §4), shared by the WGSL generator
 * (shaders/rise_masks.wgsl) and the CPU reference in the tests.
 *
 * Mask i of a run with seed S: an s×s grid, upsampled bilinearly (half-pixel centres, mirror edges:
 * skimage resize(order=1, mode='reflect')) to up×up, up = (s+1)·cell, cell = ceil(H/s), then cropped
 * to H×W at a shift (dy, dx), each uniform in [0, cell). Grid values: binary u < p1, Gaussian
 * clip(N(0.5, 0.25), 0, 1), or Perlin gradient noise.
 *
 * Bit-exact on every device: random numbers come from a counter-based hash of (seed, mask, k) —
 * nothing depends on the batch a mask is made in —, grid values are integers in fixed point
 * (1.0 = 2^bits), and the bilinear sum is exact integer arithmetic. The only float operations are
 * one addition of two exactly representable halves and one multiplication by 1/(2^bits·denH·denW),
 * both correctly rounded in WGSL and in JavaScript (Math.fround), so GPU and CPU agree to the bit.
 */
import { XaiError } from '../errors.js';

export type MaskMode = 'binary' | 'gaussian' | 'perlin';
export const MASK_MODES: readonly MaskMode[] = ['binary', 'gaussian', 'perlin'];

export interface MaskSpec {
  height: number;
  width: number;
  grid: number;
  p1: number;
  mode: MaskMode;
  seed: number;
}

/** Everything the generator needs, derived once per run. */
export interface MaskPlan extends MaskSpec {
  cellH: number;
  cellW: number;
  upH: number;
  upW: number;
  /** Fixed-point bits of grid values: the bilinear numerator stays below 2^32. */
  bits: number;
  /** Binary: a value is 1 when (hash >> 8) < threshold, i.e. u < p1 for u = (hash >> 8) / 2^24. */
  threshold: number;
  /** 1 / (2^bits · 2upH · 2upW), rounded to float32. */
  scale: number;
}

export function planMasks(spec: MaskSpec): MaskPlan {
  const { height: H, width: W, grid: s, p1 } = spec;
  if (!Number.isInteger(s) || s < 1) throw new XaiError(`grid must be a whole number ≥ 1, got ${s}`);
  if (s > Math.min(H, W)) throw new XaiError(`grid ${s} is larger than the image (${H}x${W})`);
  if (!(p1 > 0 && p1 <= 1)) throw new XaiError(`p1 must be in (0, 1], got ${p1}`);
  if (!MASK_MODES.includes(spec.mode))
    throw new XaiError(`mask mode must be one of ${MASK_MODES.join(', ')}, got ${spec.mode}`);
  const cellH = Math.ceil(H / s);
  const cellW = Math.ceil(W / s);
  const upH = (s + 1) * cellH;
  const upW = (s + 1) * cellW;
  const den = 4 * upH * upW;
  const bits = Math.min(16, Math.floor(Math.log2((2 ** 32 - 1) / den)));
  if (spec.mode === 'perlin' && (2 * s + 1) * Math.max(2, Math.ceil(s / 2)) * 65536 >= 2 ** 32) {
    throw new XaiError(`Perlin masks take grids up to 250, got ${s}`);
  }
  if (bits < 4)
    throw new XaiError(`masks of ${H}x${W} with grid ${s} are too large for the generator (max ~8000 px a side)`);
  return {
    ...spec,
    seed: spec.seed >>> 0,
    cellH,
    cellW,
    upH,
    upW,
    bits,
    threshold: Math.ceil(p1 * 2 ** 24),
    scale: Math.fround(1 / (2 ** bits * den)),
  };
}

/** Chris Wellons' lowbias32 integer mixer (good avalanche, two multiplies). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The k-th random 32-bit word of mask `mask` under `seed`: k = 0 row shift, 1 column shift, 2+ grid. */
export function randomWord(seed: number, mask: number, k: number): number {
  return mix32(mix32(mix32((k ^ 0x9e3779b9) >>> 0) ^ mask) ^ mix32(seed));
}

/**
 * clip(N(0.5, 0.25), 0, 1) in fixed point by inverse CDF over 2^16 equal-probability bins: entry j
 * is the distribution's value at quantile (j + 0.5)/2^16, times 2^bits, rounded. A grid value is
 * table[hash >> 16].
 */
export function gaussianTable(bits: number): Uint32Array {
  const t = new Uint32Array(65536);
  for (let j = 0; j < 65536; j++) {
    const v = 0.5 + 0.25 * inverseNormalCdf((j + 0.5) / 65536);
    t[j] = Math.round(Math.min(1, Math.max(0, v)) * 2 ** bits);
  }
  return t;
}

/**
 * Φ⁻¹(p) by Acklam's rational approximation (relative error < 1.2e-9: far below the table's
 * resolution of 2^-16 of the range).
 */
export function inverseNormalCdf(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
