/**
 * The conv geometries of the conv tests (every forward variant, and the input gradient): odd sizes
 * that are multiples of no tile, batch > 1, 1- to 33-wide channel counts, strides 1 and 2.
 * `relu` and `residual` are the forward's epilogue; the gradient test maps them to its own two
 * inputs (the ReLU mask and the residual's addend).
 */
import type { ConvVariant } from '../src/kernels/conv2d.js';
import { randomArray } from './helpers.js';

export interface ConvCase {
  name: string;
  n: number;
  ci: number;
  h: number;
  w: number;
  co: number;
  k: number;
  s: number;
  p: number;
  relu: boolean;
  residual: boolean;
}

export const CONV_CASES: readonly ConvCase[] = [
  {
    name: '3x3/s1/p1, 13 channels in',
    n: 3,
    ci: 13,
    h: 11,
    w: 9,
    co: 10,
    k: 3,
    s: 1,
    p: 1,
    relu: true,
    residual: true,
  },
  { name: '3x3/s1/p1, 5 channels in', n: 3, ci: 5, h: 9, w: 11, co: 7, k: 3, s: 1, p: 1, relu: true, residual: true },
  {
    name: '3x3/s1/p1, 17 channels in, 1 pixel wide',
    n: 3,
    ci: 17,
    h: 7,
    w: 1,
    co: 6,
    k: 3,
    s: 1,
    p: 1,
    relu: true,
    residual: false,
  },
  {
    name: '3x3/s1/p1, 33 channels out',
    n: 2,
    ci: 4,
    h: 6,
    w: 13,
    co: 33,
    k: 3,
    s: 1,
    p: 1,
    relu: true,
    residual: false,
  },
  { name: '7x7/s2/p3', n: 2, ci: 3, h: 23, w: 19, co: 10, k: 7, s: 2, p: 3, relu: true, residual: false },
  { name: '3x3/s2/p1, odd input', n: 2, ci: 6, h: 13, w: 10, co: 9, k: 3, s: 2, p: 1, relu: false, residual: true },
  { name: '3x3/s2/p1', n: 2, ci: 6, h: 13, w: 10, co: 8, k: 3, s: 2, p: 1, relu: false, residual: false },
  { name: '1x1/s1', n: 2, ci: 9, h: 7, w: 5, co: 13, k: 1, s: 1, p: 0, relu: false, residual: true },
  { name: '1x1/s2', n: 3, ci: 4, h: 11, w: 9, co: 6, k: 1, s: 2, p: 0, relu: true, residual: false },
];

/** The case of that name. */
export function convCase(name: string): ConvCase {
  const c = CONV_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no conv case "${name}"`);
  return c;
}

/** Fresh random weights [co, ci, k, k] in [-1, 1] and per-channel scales in [0.5, 1.5] (folded BatchNorm). */
export function randomConvWeights(
  c: ConvCase,
  rand: () => number,
): { w: Float32Array; wShape: number[]; scale: Float32Array } {
  return {
    w: randomArray(c.co * c.ci * c.k * c.k, rand),
    wShape: [c.co, c.ci, c.k, c.k],
    scale: randomArray(c.co, rand, 0.5, 1.5),
  };
}

/**
 * |got − ref| ≤ abs + rel·|ref| for a variant (undefined: the untuned default, a direct kernel).
 * Inputs and weights in [-1, 1], at most 9·17 products per output. The direct sum and F(2×2) stay
 * near float32 rounding. F(4×4)'s transforms scale values by up to 8 and 5 (Aᵀ, Bᵀ) and its filter
 * transform by 1/24, so its rounding is ~10× larger: observed up to 1.5e-5 in the forward; bound
 * 1e-4 + 1e-4·|ref|.
 */
export function variantTolerance(v: ConvVariant | undefined): [number, number] {
  return v?.algo === 'winograd' && v.m === 4 ? [1e-4, 1e-4] : [2e-5, 1e-5];
}
