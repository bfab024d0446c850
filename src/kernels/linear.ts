/** linear dispatcher (shaders/linear.wgsl): [n, in] × W[out, in]ᵀ + b → [n, out]. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

export interface LinearLayer {
  weight: GpuTensor;
  bias: GpuTensor;
  inFeatures: number;
  outFeatures: number;
}

export function linear(ctx: GpuContext, x: GpuTensor, fc: LinearLayer, label = 'fc'): GpuTensor {
  const [n, inF] = x.shape;
  if (inF !== fc.inFeatures)
    throw new Error(`linear ${label}: input has ${inF} features, weights expect ${fc.inFeatures}`);
  const y = ctx.tensor([n, fc.outFeatures], label);
  ctx.dispatch({
    pipeline: { shader: 'linear' },
    buffers: { x, weight: fc.weight, bias: fc.bias, y },
    params: { batch: n, inF, outF: fc.outFeatures },
    invocations: [fc.outFeatures, n],
    label,
  });
  return y;
}
