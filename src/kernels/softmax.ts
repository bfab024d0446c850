/** softmax dispatcher (shaders/softmax.wgsl): softmax over the last dimension of [rows, cols]. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

export function softmax(ctx: GpuContext, x: GpuTensor, label = 'softmax'): GpuTensor {
  const cols = x.shape[x.shape.length - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const y = ctx.tensor([...x.shape], label);
  ctx.dispatch({
    pipeline: { shader: 'softmax', entryPoint: 'softmax' },
    buffers: { x, y },
    params: { rows, cols },
    invocations: rows,
    label,
  });
  return y;
}
