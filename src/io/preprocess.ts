// The torchvision preprocessing of an 8-bit RGB image, bit-exact, and its inverse:
//   resizeBilinearPIL    PIL Image.resize((W, H), Image.BILINEAR) (= torchvision Resize on a PIL image)
//   toNormalizedTensor   ToTensor() then Normalize(ImageNet mean, std), float32 op by op like torch
//   denormalizeToRgb     the inverse, for overlays
// No codecs and no Node modules: this runs in a browser as it is.
import { XaiError } from '../errors.js';
import type { HostTensor } from './tensor.js';

/** 8-bit RGB, 3 bytes per pixel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

// ------------------------------------------------------------------------------------- resize

/*
 * PIL's bilinear resize (Resample.c), which is what torchvision's Resize does to a PIL image.
 * It is a separable convolution, not 2x2 interpolation: each output pixel along an axis gets a
 * window of input pixels weighted by the triangle filter tri(t) = max(0, 1 - |t|), whose support
 * (1 input pixel) is stretched by the downscale factor when shrinking (that is the antialiasing):
 *   scale = in / out, fs = max(scale, 1), support = fs
 *   centre = (o + 0.5) * scale
 *   window = [trunc(centre - support + 0.5), trunc(centre + support + 0.5)) clipped to [0, in)
 *   w_i = tri((i - centre + 0.5) / fs), then divided by their sum
 * The weights become integers with 22 fractional bits (round half away from zero), a pixel is
 * 2^21 + sum(w_i * p_i) shifted right by 22 and clamped to 0..255. The horizontal pass runs
 * first into an 8-bit intermediate, then the vertical one; a pass whose size does not change is
 * skipped (no resampling at all when neither does). Integer sums stay below 2^31, so plain
 * doubles and `>>` give the same bits as Pillow's int32 C code.
 */
const PRECISION_BITS = 22;

export interface Coeffs {
  ksize: number;
  /** Per output pixel: first input index and window length. */
  bounds: Int32Array;
  /** Per output pixel: ksize fixed-point weights. */
  kk: Int32Array;
}

/** PIL's fixed-point filter weights for resizing one axis from inSize to outSize. */
export function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // the triangle filter's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(2 * outSize);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const inv = 1 / filterscale;
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(centre - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(centre + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - centre + 0.5) * inv);
      w[x] = t < 1 ? 1 - t : 0;
      sum += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = (sum !== 0 ? w[x] / sum : w[x]) * (1 << PRECISION_BITS);
      kk[o * ksize + x] = k < 0 ? Math.trunc(k - 0.5) : Math.trunc(k + 0.5);
    }
    bounds[2 * o] = xmin;
    bounds[2 * o + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/**
 * One resampling pass over RGB bytes along one axis, for `lines` lines (rows or columns);
 * `*Line` is the byte distance between lines, `*Step` between neighbours along the axis.
 */
function resamplePass(
  src: Uint8Array,
  dst: Uint8Array,
  lines: number,
  outSize: number,
  c: Coeffs,
  srcLine: number,
  dstLine: number,
  srcStep: number,
  dstStep: number,
): void {
  const half = 1 << (PRECISION_BITS - 1);
  for (let l = 0; l < lines; l++) {
    for (let o = 0; o < outSize; o++) {
      const xmin = c.bounds[2 * o],
        n = c.bounds[2 * o + 1],
        k0 = o * c.ksize;
      let s0 = half,
        s1 = half,
        s2 = half;
      for (let x = 0; x < n; x++) {
        const k = c.kk[k0 + x];
        const p = l * srcLine + (xmin + x) * srcStep;
        s0 += src[p] * k;
        s1 += src[p + 1] * k;
        s2 += src[p + 2] * k;
      }
      const q = l * dstLine + o * dstStep;
      dst[q] = clip8(s0);
      dst[q + 1] = clip8(s1);
      dst[q + 2] = clip8(s2);
    }
  }
}

const clip8 = (s: number): number => {
  const v = s >> PRECISION_BITS;
  return Math.min(Math.max(v, 0), 255);
};

/** Exactly PIL's `img.resize((outW, outH), Image.BILINEAR)` on an 8-bit RGB image. */
export function resizeBilinearPIL(img: RgbImage, outW: number, outH: number): RgbImage {
  checkRgb(img, 'resizeBilinearPIL');
  if (!(Number.isInteger(outW) && Number.isInteger(outH) && outW > 0 && outH > 0)) {
    throw new XaiError(`cannot resize to ${outW}x${outH}: the size must be positive integers`);
  }
  const { width: W, height: H } = img;
  let cur = img.data;
  if (outW !== W) {
    const next = new Uint8Array(outW * H * 3);
    resamplePass(cur, next, H, outW, precomputeCoeffs(W, outW), 3 * W, 3 * outW, 3, 3);
    cur = next;
  }
  if (outH !== H) {
    const next = new Uint8Array(outW * outH * 3);
    resamplePass(cur, next, outW, outH, precomputeCoeffs(H, outH), 3, 3, 3 * outW, 3 * outW);
    cur = next;
  }
  return { width: outW, height: outH, data: cur === img.data ? img.data.slice() : cur };
}

// ----------------------------------------------------------------------------- normalisation

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * [1, 3, H, W] float32: ToTensor (x / 255) then Normalize ((x - mean) / std), each step rounded
 * to float32 as torch computes it, so the values equal torchvision's bit for bit.
 */
export function toNormalizedTensor(img: RgbImage): HostTensor {
  checkRgb(img, 'toNormalizedTensor');
  const { width: W, height: H, data } = img;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  const lut = normalizationTable();
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = lut[256 * c + data[3 * i + c]];
  }
  return { shape: [1, 3, H, W], data: out };
}

/** [3, 256]: the normalised value of each 8-bit level per channel, rounded to float32 as torch does. */
export function normalizationTable(): Float32Array {
  const f = Math.fround;
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = f(IMAGENET_MEAN[c]),
      std = f(IMAGENET_STD[c]);
    for (let v = 0; v < 256; v++) lut[256 * c + v] = f(f(f(v / 255) - mean) / std);
  }
  return lut;
}

/** The inverse of toNormalizedTensor for a [1, 3, H, W] or [3, H, W] tensor: rounded, clamped to 0..255. */
export function denormalizeToRgb(t: HostTensor): RgbImage {
  const s = t.shape;
  const ok = (s.length === 4 && s[0] === 1 && s[1] === 3) || (s.length === 3 && s[0] === 3);
  if (!ok) throw new XaiError(`denormalizeToRgb: expected a [1,3,H,W] or [3,H,W] tensor, got [${s}]`);
  const H = s[s.length - 2],
    W = s[s.length - 1];
  const plane = W * H;
  const data = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = IMAGENET_MEAN[c],
      std = IMAGENET_STD[c];
    for (let i = 0; i < plane; i++) {
      const v = Math.round((t.data[c * plane + i] * std + mean) * 255);
      data[3 * i + c] = Math.min(Math.max(v, 0), 255);
    }
  }
  return { width: W, height: H, data };
}

export function checkRgb(img: RgbImage, what: string): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new XaiError(
      `${what}: image data has ${img.data.length} bytes, ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}`,
    );
  }
}
