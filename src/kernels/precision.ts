/**
 * Half-precision storage (`--precision f16`): tensors stored as f16, arithmetic in f32. Kernels that
 * take f16 declare `alias act = f32;` and convert on load and store; `actTypes` specialises that
 * alias for a tensor's type. The f32 → f16 conversion itself runs on the GPU (shaders/cast.wgsl).
 */
import type { GpuContext } from '../gpu/context.js';
import { dtypeOf, type GpuTensor, type StorageType } from '../gpu/tensor.js';
import { XaiError } from '../errors.js';

/** The pipeline `types` for a kernel whose activations are stored as `dtype`. */
export function actTypes(dtype: StorageType): { act: StorageType } | undefined {
  return dtype === 'f16' ? { act: 'f16' } : undefined;
}

/** Throws the user's error where the adapter cannot store f16. */
export function requireF16(ctx: GpuContext): void {
  if (!ctx.hasF16)
    throw new XaiError(
      `this adapter (${ctx.adapterInfo}) has no shader-f16: half precision is not available, use --precision f32`,
    );
}

/** A new f16 copy of x (f32). */
export function toF16(ctx: GpuContext, x: GpuTensor, label = 'cast'): GpuTensor {
  if (dtypeOf(x) !== 'f32') throw new Error(`${label}: cast takes an f32 tensor, not ${dtypeOf(x)}`);
  requireF16(ctx);
  const total = x.shape.reduce((a, b) => a * b, 1);
  const y = ctx.tensor(x.shape, label, 'f16');
  ctx.dispatch({
    pipeline: { shader: 'cast', types: { dst: 'f16' } },
    buffers: { x, y },
    params: { total },
    invocations: total,
    label,
  });
  return y;
}

/** Uploads f32 host data as a tensor of `dtype` (through a temporary f32 copy for f16). */
export function uploadAs(ctx: GpuContext, data: Float32Array, dtype: StorageType, label: string): GpuTensor {
  const t = ctx.upload({ shape: [data.length], data }, label);
  if (dtype === 'f32') return t;
  const half = toF16(ctx, t, label);
  ctx.release(t);
  return half;
}
