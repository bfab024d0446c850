/** channel_affine dispatcher (shaders/channel_affine.wgsl): per-channel scale/shift + residual + ReLU. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

/** `scaleShift` is packed as for conv2d (packScaleShift). */
export function channelAffine(
  ctx: GpuContext,
  x: GpuTensor,
  scaleShift: GpuTensor,
  opts: { relu?: boolean; residual?: GpuTensor; label?: string } = {},
): GpuTensor {
  const [n, c, h, w] = x.shape;
  const label = opts.label ?? 'affine';
  const y = ctx.tensor([n, c, h, w], label);
  const total = n * c * h * w;
  ctx.dispatch({
    pipeline: { shader: 'channel_affine', constants: { RELU: opts.relu ? 1 : 0, RESIDUAL: opts.residual ? 1 : 0 } },
    buffers: { x, scaleShift, res: opts.residual ?? ctx.dummyBuffer, y },
    params: { total, channels: c, hw: h * w },
    invocations: total,
    label,
  });
  return y;
}
