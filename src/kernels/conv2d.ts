/** conv2d dispatcher (shaders/conv2d.wgsl): weight packing and the fused conv + affine + residual + ReLU. */
import type { GpuContext } from '../gpu/context.js';
import { dtypeOf, type GpuTensor, type StorageType } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { tiledGrid } from '../gpu/grid.js';
import { actTypes, uploadAs } from './precision.js';
import { winogradApplies, winogradConv2d, winogradWeights, type WinogradM } from './winograd.js';

/**
 * How a conv is computed. `direct` (shaders/conv2d.wgsl): a register tile of `px` output pixels ×
 * 4·`co4` output channels per invocation; every tile sums the same products in the same order.
 * `direct` + `tiled` (shaders/conv2d_tiled.wgsl): the same sum as a workgroup-tiled implicit GEMM
 * (64×64 blocks through workgroup memory), the discrete-GPU form; it sums in another order.
 * `winograd` (shaders/winograd.wgsl, 3×3 stride-1 pad-1 convs only): F(m×m, 3×3) with 4·`co4`
 * output channels per GEMM invocation, or (`tiled`) the GEMM in workgroup-memory tiles, the form
 * for discrete GPUs; its rounding differs from the direct sum (see the shader).
 * `wg`: invocations per workgroup.
 */
export type ConvVariant =
  | { algo: 'direct'; px: number; co4: number; wg: number; tiled?: boolean }
  | { algo: 'winograd'; m: WinogradM; co4: number; wg: number; tiled?: boolean };

/** The variant used when nobody chose one (the tuner's first candidate). */
export const DEFAULT_CONV_VARIANT: ConvVariant = { algo: 'direct', px: 4, co4: 1, wg: 64 };

export function variantName(v: ConvVariant): string {
  if (v.algo === 'direct') return v.tiled ? 'direct-tiled' : `direct-${v.px}x${v.co4}-wg${v.wg}`;
  return v.tiled ? `winograd${v.m}-tiled` : `winograd${v.m}-${v.co4}-wg${v.wg}`;
}

/** Parses variantName's output (the tuner's cache and the command line use names). */
export function parseVariant(name: string): ConvVariant | undefined {
  let m = /^direct-(\d+)x(\d+)-wg(\d+)$/.exec(name);
  if (m) return { algo: 'direct', px: +m[1], co4: +m[2], wg: +m[3] };
  m = /^winograd([24])-(\d+)-wg(\d+)$/.exec(name);
  if (m) return { algo: 'winograd', m: +m[1] as WinogradM, co4: +m[2], wg: +m[3] };
  if (name === 'direct-tiled') return { algo: 'direct', px: 4, co4: 4, wg: 256, tiled: true };
  m = /^winograd([24])-tiled$/.exec(name);
  if (m) return { algo: 'winograd', m: +m[1] as WinogradM, co4: 4, wg: 256, tiled: true };
  return undefined;
}

/**
 * Whether v can compute this conv on tensors stored as `dtype`. F(4×4) is not offered in f16: its
 * transforms (entries up to 8, sums of 36 terms with cancellation) amplify the f16 rounding of the
 * stored tiles to ~1% of the output range, against ~0.2% for the other variants.
 */
export function variantApplies(
  v: ConvVariant,
  conv: { kh: number; kw: number; stride: number; pad: number },
  dtype: StorageType = 'f32',
): boolean {
  if (v.algo === 'direct') return true;
  return winogradApplies(conv) && !(dtype === 'f16' && v.m === 4);
}

/** What a conv is, without its weights: channels in and out, kernel size, stride and padding. */
export interface ConvGeometry {
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

/** A conv's geometry from its PyTorch weights [co, ci, kh, kw], stride and padding. */
export function convGeometry(weight: HostTensor, { stride, pad }: { stride: number; pad: number }): ConvGeometry {
  const [cout, cin, kh, kw] = weight.shape;
  return { cin, cout, kh, kw, stride, pad };
}

/** A convolution ready for the GPU: packed weights, per-channel scale/shift, geometry. */
export interface ConvLayer extends ConvGeometry {
  weight: GpuTensor;
  /** The PyTorch-layout weights, kept to build other variants' layouts on first use. */
  host: HostTensor;
  /** Winograd-transformed weights per tile size, made on first use. */
  winograd: Map<WinogradM, GpuTensor>;
  /** The same weights in half precision, made on first use by an f16 input. */
  half?: { weight: GpuTensor; winograd: Map<WinogradM, GpuTensor> };
  scaleShift: GpuTensor;
}

export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/**
 * PyTorch [co, ci, kh, kw] → [outer][kh][kw][vec4 axis padded to 4], so that one vec4 load gives 4
 * channels of the vec4 axis: `co` for the forward ([ci][kh][kw][co]), `ci` for the input gradient
 * ([co][kh][kw][ci]). With `scale`, each weight is multiplied by scale[co] (a folded BatchNorm).
 */
export function packWeightVec4(w: HostTensor, vec4Axis: 'co' | 'ci', scale?: Float32Array): Float32Array {
  const [co, ci, kh, kw] = w.shape;
  const [outer, inner] = vec4Axis === 'co' ? [ci, co] : [co, ci];
  const inner4 = Math.ceil(inner / 4) * 4;
  const out = new Float32Array(outer * kh * kw * inner4);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      const [a, b] = vec4Axis === 'co' ? [i, o] : [o, i];
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((a * kh + y) * kw + x) * inner4 + b] = w.data[((o * ci + i) * kh + y) * kw + x] * (scale ? scale[o] : 1);
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

const identities = new WeakMap<GpuContext, Map<number, GpuTensor>>();

/** Scale 1, shift 0 for `channels` channels (packScaleShift's layout): one per context and width. */
export function identityScaleShift(ctx: GpuContext, channels: number): GpuTensor {
  let byWidth = identities.get(ctx);
  if (!byWidth) identities.set(ctx, (byWidth = new Map()));
  let t = byWidth.get(channels);
  if (!t) {
    const ss = packScaleShift(new Float32Array(channels).fill(1), new Float32Array(channels));
    t = ctx.upload({ shape: [ss.length], data: ss }, 'identity.scaleShift');
    byWidth.set(channels, t);
  }
  return t;
}

export function uploadConv(
  ctx: GpuContext,
  weight: HostTensor,
  scale: Float32Array,
  shift: Float32Array,
  geometry: { stride: number; pad: number },
  label = 'conv',
): ConvLayer {
  const packed = packWeightVec4(weight, 'co');
  const ss = packScaleShift(scale, shift);
  return {
    weight: ctx.upload({ shape: [packed.length], data: packed }, `${label}.weight`),
    scaleShift: ctx.upload({ shape: [ss.length], data: ss }, `${label}.scaleShift`),
    host: weight,
    winograd: new Map(),
    ...convGeometry(weight, geometry),
  };
}

export interface ConvOptions {
  relu?: boolean;
  /** Added before the ReLU; same shape as the output. */
  residual?: GpuTensor;
  label?: string;
  /** How to compute it (default DEFAULT_CONV_VARIANT). */
  variant?: ConvVariant;
}

export function conv2d(ctx: GpuContext, x: GpuTensor, conv: ConvLayer, opts: ConvOptions = {}): GpuTensor {
  const [n, cin, h, w] = x.shape;
  if (cin !== conv.cin)
    throw new Error(`conv2d ${opts.label ?? ''}: input has ${cin} channels, weights expect ${conv.cin}`);
  const ho = convOutSize(h, conv.kh, conv.stride, conv.pad);
  const wo = convOutSize(w, conv.kw, conv.stride, conv.pad);
  if (ho < 1 || wo < 1) throw new Error(`conv2d ${opts.label ?? ''}: input ${h}x${w} is too small`);
  const variant = opts.variant ?? DEFAULT_CONV_VARIANT;
  // The output, residual and weights are stored as the input is (f32, or f16 with f32 sums).
  const dtype = dtypeOf(x);
  if (opts.residual && dtypeOf(opts.residual) !== dtype)
    throw new Error(`conv2d ${opts.label ?? ''}: residual is ${dtypeOf(opts.residual)}, input ${dtype}`);
  const weights =
    dtype === 'f16'
      ? (conv.half ??= {
          weight: uploadAs(ctx, packWeightVec4(conv.host, 'co'), 'f16', `${opts.label ?? 'conv'}.weight16`),
          winograd: new Map(),
        })
      : conv;
  if (!variantApplies(variant, conv, dtype)) {
    throw new Error(
      `conv2d ${opts.label ?? ''}: ${variantName(variant)} does not apply to a ${conv.kh}x${conv.kw} stride-${conv.stride} pad-${conv.pad} conv in ${dtype}`,
    );
  }
  if (variant.algo === 'winograd') {
    const u = winogradWeights(ctx, weights.winograd, conv.host, variant.m, opts.label ?? 'conv', dtype);
    return winogradConv2d(ctx, x, { cin, cout: conv.cout, scaleShift: conv.scaleShift, u }, variant, opts);
  }
  // Both direct forms share shaders/include/conv_io.wgsl: the same bindings and Params. A tile is
  // `px` pixels × 4·`co4` channels per invocation, or 64 × 64 per 16×16 workgroup when tiled.
  const { tiled, px, co4, wg } = variant;
  const y = ctx.tensor([n, conv.cout, ho, wo], opts.label ?? 'conv', dtype);
  const tiles = Math.ceil((n * ho * wo) / (tiled ? 64 : px));
  const cout4 = Math.ceil(conv.cout / 4);
  const groups = Math.ceil(cout4 / (tiled ? 16 : co4));
  const geometry = {
    KH: conv.kh,
    KW: conv.kw,
    STRIDE: conv.stride,
    PAD: conv.pad,
    RELU: opts.relu ? 1 : 0,
    RESIDUAL: opts.residual ? 1 : 0,
  };
  ctx.dispatch({
    pipeline: tiled
      ? { shader: 'conv2d_tiled', types: actTypes(dtype), constants: geometry }
      : { shader: 'conv2d', types: actTypes(dtype), defines: { PX: px, CO4: co4 }, constants: { ...geometry, WG: wg } },
    buffers: { x, weight: weights.weight, scaleShift: conv.scaleShift, res: opts.residual ?? ctx.dummyBuffer, y },
    params: { batch: n, cin, h, w, cout: conv.cout, ho, wo, cout4, tiles, groups },
    ...(tiled ? { workgroups: tiledGrid(ctx, tiles, groups) } : { invocations: [tiles, groups] }),
    label: opts.label,
  });
  return y;
}
