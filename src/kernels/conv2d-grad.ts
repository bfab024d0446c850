/** conv2d_grad dispatcher (shaders/conv2d_grad.wgsl): input gradient of a conv with folded BatchNorm. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { grid1d, u32Params } from './grid.js';

const WG = 64;
const PX = 4;

export interface ConvGradParams {
  /** w·scale[co], packed [co][kh][kw][ci padded to 4]. */
  weight: GpuTensor;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

/** PyTorch [co, ci, kh, kw] times scale[co] → [co][kh][kw][ci padded to 4]. */
export function packConvGradWeight(w: HostTensor, scale: Float32Array): Float32Array {
  const [co, ci, kh, kw] = w.shape;
  const ci4 = Math.ceil(ci / 4) * 4;
  const out = new Float32Array(co * kh * kw * ci4);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((o * kh + y) * kw + x) * ci4 + i] = w.data[((o * ci + i) * kh + y) * kw + x] * scale[o];
        }
      }
    }
  }
  return out;
}

export function uploadConvGrad(ctx: GpuContext, w: HostTensor, scale: Float32Array, geometry: { stride: number; pad: number }, label = 'conv'): ConvGradParams {
  const [cout, cin, kh, kw] = w.shape;
  const packed = packConvGradWeight(w, scale);
  return { weight: ctx.upload({ shape: [packed.length], data: packed }, `${label}.gradWeight`), cin, cout, kh, kw, stride: geometry.stride, pad: geometry.pad };
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
  const dx = ctx.tensor([n, conv.cin, h, w], opts.label ?? 'conv.grad');
  const tiles = Math.ceil((n * h * w) / PX);
  const cin4 = Math.ceil(conv.cin / 4);
  const [gx, gz] = grid1d(tiles, WG, ctx.maxWorkgroupsPerDim);
  ctx.dispatch({
    pipeline: {
      shader: 'conv2d_grad',
      constants: { KH: conv.kh, KW: conv.kw, STRIDE: conv.stride, PAD: conv.pad, ADD: opts.addend ? 1 : 0, MASK: opts.mask ? 1 : 0, WG },
    },
    buffers: [dy, conv.weight, opts.addend ?? ctx.dummyBuffer, opts.mask ?? ctx.dummyBuffer, dx],
    params: u32Params(n, conv.cin, h, w, cout, ho, wo, cin4, tiles),
    workgroups: [gx, cin4, gz],
    label: opts.label,
  });
  return dx;
}
