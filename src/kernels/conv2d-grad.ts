/**
 * Input gradient of a conv with folded BatchNorm. Two ways: shaders/conv2d_grad.wgsl (a gather, any
 * geometry), and for 3×3 stride-1 pad-1 convs Winograd F(2×2, 3×3) (shaders/winograd.wgsl): there
 * the input gradient is itself a 3×3 stride-1 pad-1 convolution of dy, with the filter transposed
 * (ci ↔ co) and flipped (ky, kx → 2 − ky, 2 − kx). F(2×2) is 2–3× faster than the gather on
 * lavapipe and rounds no worse (test/kernels-backward.test.ts); the ReLU masks come from the
 * forward, so the backward's own rounding moves the gradient only linearly.
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { identityScaleShift, packWeightVec4, type ConvGeometry } from './conv2d.js';
import { winogradApplies, winogradConv2d, winogradWeights, type WinogradM, type WinogradPlan } from './winograd.js';

/** How stride-1 3×3 input gradients run (the gather handles every other geometry). */
export const GRAD_WINOGRAD: WinogradPlan = { m: 2, co4: 2, wg: 64 };

let gatherOnly = false;
/**
 * Runs every input gradient as the gather (true) or Winograd where it applies (false, the default),
 * process-wide: how benchmarks and tests compare the two through whole backward passes.
 */
export function forceGatherGradients(on: boolean): void {
  gatherOnly = on;
}

const WG = 64;
const PX = 4;

export interface ConvGradParams extends ConvGeometry {
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
  for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let t = 0; t < 9; t++) {
    out[(i * co + o) * 9 + (8 - t)] = w.data[(o * ci + i) * 9 + t] * scale[o];
  }
  return { shape: [ci, co, 3, 3], data: out };
}

export function uploadConvGrad(ctx: GpuContext, w: HostTensor, scale: Float32Array, geometry: { stride: number; pad: number }, label = 'conv'): ConvGradParams {
  const [cout, cin, kh, kw] = w.shape;
  const packed = packWeightVec4(w, 'ci', scale);
  const g = { cin, cout, kh, kw, stride: geometry.stride, pad: geometry.pad };
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
}

/** dy [n, cout, ho, wo] → dx [n, cin, h, w]. */
export function conv2dGradInput(ctx: GpuContext, dy: GpuTensor, conv: ConvGradParams, opts: ConvGradOptions): GpuTensor {
  const [n, cout, ho, wo] = dy.shape;
  if (cout !== conv.cout) throw new Error(`conv2d_grad ${opts.label ?? ''}: dy has ${cout} channels, weights expect ${conv.cout}`);
  const [h, w] = opts.inputSize;
  const t = conv.transposed;
  if (t && !gatherOnly && h === ho && w === wo) {
    const label = opts.label ?? 'conv.grad';
    const u = winogradWeights(ctx, t.winograd, t.host, GRAD_WINOGRAD.m, label);
    return winogradConv2d(ctx, dy, { cin: cout, cout: conv.cin, scaleShift: identityScaleShift(ctx, conv.cin), u }, GRAD_WINOGRAD, {
      residual: opts.addend, mask: opts.mask, label,
    });
  }
  const dx = ctx.tensor([n, conv.cin, h, w], opts.label ?? 'conv.grad');
  // Tiles: per input row, for each of the `stride` phases of ix, blocks of PX pixels `stride` apart.
  const blocks = Math.ceil(Math.ceil(w / conv.stride) / PX);
  const rowTiles = conv.stride * blocks;
  const tiles = n * h * rowTiles;
  const cin4 = Math.ceil(conv.cin / 4);
  ctx.dispatch({
    pipeline: {
      shader: 'conv2d_grad',
      constants: { KH: conv.kh, KW: conv.kw, STRIDE: conv.stride, PAD: conv.pad, ADD: opts.addend ? 1 : 0, MASK: opts.mask ? 1 : 0, WG },
    },
    buffers: { dy, weight: conv.weight, addend: opts.addend ?? ctx.dummyBuffer, mask: opts.mask ?? ctx.dummyBuffer, dx },
    params: { batch: n, cin: conv.cin, h, w, cout, ho, wo, cin4, tiles, rowTiles },
    invocations: [tiles, cin4],
    label: opts.label,
  });
  return dx;
}
