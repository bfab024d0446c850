/** conv2d dispatcher (shaders/conv2d.wgsl): weight packing and the fused conv + affine + residual + ReLU. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { grid1d, u32Params } from './grid.js';

const WG = 64;
const PX = 4; // output pixels per invocation (PX in the shader)

/** A convolution ready for the GPU: packed weights, per-channel scale/shift, geometry. */
export interface ConvParams {
  weight: GpuTensor;
  scaleShift: GpuTensor;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** PyTorch [co, ci, kh, kw] → [ci][kh][kw][co padded to 4], so a vec4 load gives 4 output channels. */
export function packConvWeight(w: HostTensor): Float32Array {
  const [co, ci, kh, kw] = w.shape;
  const co4 = Math.ceil(co / 4) * 4;
  const out = new Float32Array(ci * kh * kw * co4);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((i * kh + y) * kw + x) * co4 + o] = w.data[((o * ci + i) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
}

/** scale and shift per channel, each padded to a multiple of 4, concatenated. */
export function packScaleShift(scale: Float32Array, shift: Float32Array): Float32Array {
  const c4 = Math.ceil(scale.length / 4) * 4;
  const out = new Float32Array(2 * c4);
  out.set(scale, 0);
  out.set(shift, c4);
  return out;
}

export function uploadConv(
  ctx: GpuContext,
  weight: HostTensor,
  scale: Float32Array,
  shift: Float32Array,
  geometry: { stride: number; pad: number },
  label = 'conv',
): ConvParams {
  const [cout, cin, kh, kw] = weight.shape;
  const packed = packConvWeight(weight);
  const ss = packScaleShift(scale, shift);
  return {
    weight: ctx.upload({ shape: [packed.length], data: packed }, `${label}.weight`),
    scaleShift: ctx.upload({ shape: [ss.length], data: ss }, `${label}.scaleShift`),
    cin, cout, kh, kw, stride: geometry.stride, pad: geometry.pad,
  };
}

export interface ConvOptions {
  relu?: boolean;
  /** Added before the ReLU; same shape as the output. */
  residual?: GpuTensor;
  label?: string;
}

export function conv2d(ctx: GpuContext, x: GpuTensor, conv: ConvParams, opts: ConvOptions = {}): GpuTensor {
  const [n, cin, h, w] = x.shape;
  if (cin !== conv.cin) throw new Error(`conv2d ${opts.label ?? ''}: input has ${cin} channels, weights expect ${conv.cin}`);
  const ho = convOutSize(h, conv.kh, conv.stride, conv.pad);
  const wo = convOutSize(w, conv.kw, conv.stride, conv.pad);
  if (ho < 1 || wo < 1) throw new Error(`conv2d ${opts.label ?? ''}: input ${h}x${w} is too small`);
  const y = ctx.tensor([n, conv.cout, ho, wo], opts.label ?? 'conv');
  const tiles = Math.ceil((n * ho * wo) / PX);
  const cout4 = Math.ceil(conv.cout / 4);
  const [gx, gz] = grid1d(tiles, WG, ctx.maxWorkgroupsPerDim);
  ctx.dispatch({
    pipeline: {
      shader: 'conv2d',
      constants: { KH: conv.kh, KW: conv.kw, STRIDE: conv.stride, PAD: conv.pad, RELU: opts.relu ? 1 : 0, RESIDUAL: opts.residual ? 1 : 0, WG },
    },
    buffers: [x, conv.weight, conv.scaleShift, opts.residual ?? ctx.dummyBuffer, y],
    params: u32Params(n, cin, h, w, conv.cout, ho, wo, cout4, tiles),
    workgroups: [gx, cout4, gz],
    label: opts.label,
  });
  return y;
}
