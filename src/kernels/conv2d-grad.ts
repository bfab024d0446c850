/**
 * Input gradient of a conv with folded BatchNorm, as one of the ConvVariants: `direct` here is the
 * gather of shaders/conv2d_grad.wgsl (any geometry; `px` input pixels × 4 input channels per
 * invocation), `winograd` applies to 3×3 stride-1 pad-1 convs (shaders/winograd.wgsl): there the
 * input gradient is itself a 3×3 stride-1 pad-1 convolution of dy, with the filter transposed
 * (ci ↔ co) and flipped (ky, kx → 2 − ky, 2 − kx). The tuner (conv-tuner.ts) picks per shape;
 * untuned, F(2×2) runs where it applies (2–3× faster than the gather on lavapipe, and it rounds no
 * worse: test/kernels-backward.test.ts). The ReLU masks come from the forward, so the backward's own
 * rounding moves the gradient only linearly.
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import {
  convGeometry,
  identityScaleShift,
  packWeightVec4,
  variantName,
  type ConvGeometry,
  type ConvVariant,
} from './conv2d.js';
import { winogradApplies, winogradConv2d, winogradWeights, type WinogradM } from './winograd.js';

/** The gather with 4 pixels per invocation: every geometry, and the tuner's reference. */
export const GRAD_GATHER: ConvVariant = { algo: 'direct', px: 4, co4: 1, wg: 64 };
const GRAD_WINOGRAD: ConvVariant = { algo: 'winograd', m: 2, co4: 2, wg: 64 };

/** Whether v computes this input gradient: the gather (co4 1) always, Winograd at 3×3 stride 1. */
export function gradVariantApplies(
  v: ConvVariant,
  conv: ConvGradLayer,
  inputSize: readonly number[],
  dyShape: readonly number[],
): boolean {
  if (v.algo === 'direct') return v.co4 === 1 && !v.tiled;
  return !!conv.transposed && inputSize[0] === dyShape[2] && inputSize[1] === dyShape[3];
}

/** The variant untuned: Winograd F(2×2) where it applies, else the gather. */
export function gradStaticDefault(
  conv: ConvGradLayer,
  inputSize: readonly number[],
  dyShape: readonly number[],
): ConvVariant {
  return gradVariantApplies(GRAD_WINOGRAD, conv, inputSize, dyShape) ? GRAD_WINOGRAD : GRAD_GATHER;
}

export interface ConvGradLayer extends ConvGeometry {
  /** w·scale[co], packed [co][kh][kw][ci padded to 4]. */
  weight: GpuTensor;
  /**
   * For Winograd: w·scale as the forward filter of the gradient conv, [ci][co][2−ky][2−kx], and its
   * transformed forms (made on first use). Absent where Winograd does not apply.
   */
  transposed?: { host: HostTensor; winograd: Map<WinogradM, GpuTensor> };
}

/** PyTorch [co, ci, 3, 3] times scale[co] → [ci, co, 3, 3] flipped: the gradient conv's filter. */
export function transposedFlippedWeight(w: HostTensor, scale: Float32Array): HostTensor {
  const [co, ci] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let o = 0; o < co; o++)
    for (let i = 0; i < ci; i++)
      for (let t = 0; t < 9; t++) {
        out[(i * co + o) * 9 + (8 - t)] = w.data[(o * ci + i) * 9 + t] * scale[o];
      }
  return { shape: [ci, co, 3, 3], data: out };
}

export function uploadConvGrad(
  ctx: GpuContext,
  w: HostTensor,
  scale: Float32Array,
  geometry: { stride: number; pad: number },
  label = 'conv',
): ConvGradLayer {
  const packed = packWeightVec4(w, 'ci', scale);
  const g = convGeometry(w, geometry);
  return {
    weight: ctx.upload({ shape: [packed.length], data: packed }, `${label}.gradWeight`),
    transposed: winogradApplies(g) ? { host: transposedFlippedWeight(w, scale), winograd: new Map() } : undefined,
    ...g,
  };
}

export interface ConvGradOptions {
  /** Input size [h, w] of the forward conv (several sizes map to one output size when stride > 1). */
  inputSize: [number, number];
  /** Added to the result (the other branch of a residual block). */
  addend?: GpuTensor;
  /** Multiplies the result by [mask > 0]: the ReLU output that was this conv's input. */
  mask?: GpuTensor;
  label?: string;
  /** How to compute it (default gradStaticDefault). */
  variant?: ConvVariant;
}

/** dy [n, cout, ho, wo] → dx [n, cin, h, w]. */
export function conv2dGradInput(ctx: GpuContext, dy: GpuTensor, conv: ConvGradLayer, opts: ConvGradOptions): GpuTensor {
  const [n, cout, ho, wo] = dy.shape;
  if (cout !== conv.cout)
    throw new Error(`conv2d_grad ${opts.label ?? ''}: dy has ${cout} channels, weights expect ${conv.cout}`);
  const [h, w] = opts.inputSize;
  const variant = opts.variant ?? gradStaticDefault(conv, opts.inputSize, dy.shape);
  if (!gradVariantApplies(variant, conv, opts.inputSize, dy.shape)) {
    throw new Error(
      `conv2d_grad ${opts.label ?? ''}: ${variantName(variant)} does not apply to a ${conv.kh}x${conv.kw} stride-${conv.stride} input gradient`,
    );
  }
  if (variant.algo === 'winograd') {
    const label = opts.label ?? 'conv.grad';
    const t = conv.transposed!;
    const u = winogradWeights(ctx, t.winograd, t.host, variant.m, label);
    return winogradConv2d(
      ctx,
      dy,
      { cin: cout, cout: conv.cin, scaleShift: identityScaleShift(ctx, conv.cin), u },
      variant,
      {
        residual: opts.addend,
        mask: opts.mask,
        label,
      },
    );
  }
  const { px: PX, wg: WG } = variant;
  const dx = ctx.tensor([n, conv.cin, h, w], opts.label ?? 'conv.grad');
  // Tiles: per input row, for each of the `stride` phases of ix, blocks of PX pixels `stride` apart.
  const blocks = Math.ceil(Math.ceil(w / conv.stride) / PX);
  const rowTiles = conv.stride * blocks;
  const tiles = n * h * rowTiles;
  const cin4 = Math.ceil(conv.cin / 4);
  ctx.dispatch({
    pipeline: {
      shader: 'conv2d_grad',
      defines: { PX },
      constants: {
        KH: conv.kh,
        KW: conv.kw,
        STRIDE: conv.stride,
        PAD: conv.pad,
        ADD: opts.addend ? 1 : 0,
        MASK: opts.mask ? 1 : 0,
        WG,
      },
    },
    buffers: {
      dy,
      weight: conv.weight,
      addend: opts.addend ?? ctx.dummyBuffer,
      mask: opts.mask ?? ctx.dummyBuffer,
      dx,
    },
    params: { batch: n, cin: conv.cin, h, w, cout, ho, wo, cin4, tiles, rowTiles },
    invocations: [tiles, cin4],
    label: opts.label,
  });
  return dx;
}
