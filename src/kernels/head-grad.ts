/** head_grad dispatcher (shaders/head_grad.wgsl): ∂logit[n, c_n]/∂A through avgpool + fc. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

/**
 * `features` is the last feature map A [n, k, h, w]; `classes` a u32 buffer of one class per image;
 * with `mask` the result is multiplied by [A > 0].
 */
export function headGrad(
  ctx: GpuContext,
  fcWeight: GpuTensor,
  classes: GPUBuffer,
  features: GpuTensor,
  opts: { mask?: boolean; label?: string } = {},
): GpuTensor {
  const [n, k, h, w] = features.shape;
  const [numClasses, channels] = fcWeight.shape;
  if (channels !== k) throw new Error(`head_grad: features have ${k} channels, fc expects ${channels}`);
  const label = opts.label ?? 'head.grad';
  const grad = ctx.tensor([n, k, h, w], label);
  ctx.dispatch({
    pipeline: { shader: 'head_grad', constants: { MASK: opts.mask ? 1 : 0 } },
    buffers: { fcWeight, classes, act: features, grad },
    params: { batch: n, channels: k, hw: h * w, classes: numClasses },
    invocations: n * k * h * w,
    label,
  });
  return grad;
}
