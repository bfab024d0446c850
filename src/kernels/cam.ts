/** CAM dispatchers (shaders/cam.wgsl): per-channel weights from gradients, weighted channel sums. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

/** How channel weights come from the gradient G (and A). */
export type WeightMode = 'abs-mean' | 'mean' | 'gradcam++';
const MODE: Record<WeightMode, number> = { 'abs-mean': 0, mean: 1, 'gradcam++': 2 };

/** A, G [n, k, h, w] → w [n, k]. */
export function channelWeights(
  ctx: GpuContext,
  act: GpuTensor,
  grad: GpuTensor,
  mode: WeightMode,
  label = 'cam.weights',
): GpuTensor {
  const [n, k, h, w] = act.shape;
  const out = ctx.tensor([n, k], label);
  ctx.dispatch({
    pipeline: { shader: 'cam', entryPoint: 'channel_weights', constants: { MODE: MODE[mode] } },
    buffers: { act, grad, out },
    params: { batch: n, channels: k, hw: h * w, weightStride: k },
    invocations: n * k,
    label,
  });
  return out;
}

/**
 * A [n, k, h, w], w [n, k] (or [k] shared by all images) → Σ_k w·A [n, h, w], ReLU if asked.
 */
export function combineChannels(
  ctx: GpuContext,
  act: GpuTensor,
  weights: GpuTensor,
  opts: { relu?: boolean; label?: string } = {},
): GpuTensor {
  const [n, k, h, w] = act.shape;
  const label = opts.label ?? 'cam.combine';
  const out = ctx.tensor([n, h, w], label);
  ctx.dispatch({
    pipeline: { shader: 'cam', entryPoint: 'combine', constants: { RELU: opts.relu ? 1 : 0 } },
    buffers: { act, weights, out },
    params: { batch: n, channels: k, hw: h * w, weightStride: weights.shape.length === 1 ? 0 : k },
    invocations: n * h * w,
    label,
  });
  return out;
}
