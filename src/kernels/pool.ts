/** Pooling dispatchers (shaders/pool.wgsl): max-pool K×K/S/P and global average pool. */
import type { GpuContext } from '../gpu/context.js';
import { dtypeOf, type GpuTensor } from '../gpu/tensor.js';
import { convOutSize } from './conv2d.js';
import { actTypes } from './precision.js';

export function maxPool2d(ctx: GpuContext, x: GpuTensor, k = 3, stride = 2, pad = 1, label = 'maxpool'): GpuTensor {
  const [n, c, h, w] = x.shape;
  const ho = convOutSize(h, k, stride, pad);
  const wo = convOutSize(w, k, stride, pad);
  const y = ctx.tensor([n, c, ho, wo], label, dtypeOf(x));
  ctx.dispatch({
    pipeline: {
      shader: 'pool',
      entryPoint: 'maxpool',
      types: actTypes(dtypeOf(x)),
      constants: { K: k, S: stride, P: pad },
    },
    buffers: { x, y },
    params: { planes: n * c, h, w, ho, wo },
    invocations: n * c * ho * wo,
    label,
  });
  return y;
}

/** [n, c, h, w] → [n, c], f32 whatever x's storage type. */
export function globalAvgPool(ctx: GpuContext, x: GpuTensor, label = 'avgpool'): GpuTensor {
  const [n, c, h, w] = x.shape;
  const y = ctx.tensor([n, c], label);
  ctx.dispatch({
    pipeline: { shader: 'pool', entryPoint: 'avgpool', types: actTypes(dtypeOf(x)) },
    buffers: { x, features: y },
    params: { planes: n * c, h, w, ho: 1, wo: 1 },
    invocations: n * c,
    label,
  });
  return y;
}

/**
 * Gradient of maxPool2d with respect to its input x, given dy; ties go to the first maximum in
 * the window, as in PyTorch. With `mask` the result is multiplied by [x > 0].
 */
export function maxPool2dGrad(
  ctx: GpuContext,
  x: GpuTensor,
  dy: GpuTensor,
  opts: { k?: number; stride?: number; pad?: number; mask?: boolean; label?: string } = {},
): GpuTensor {
  const [n, c, h, w] = x.shape;
  const [, , ho, wo] = dy.shape;
  const { k = 3, stride = 2, pad = 1 } = opts;
  const label = opts.label ?? 'maxpool.grad';
  const dx = ctx.tensor([n, c, h, w], label);
  ctx.dispatch({
    pipeline: {
      shader: 'pool',
      entryPoint: 'maxpool_grad',
      constants: { K: k, S: stride, P: pad, MASK: opts.mask ? 1 : 0 },
    },
    buffers: { gx: x, gdy: dy, gdx: dx },
    params: { planes: n * c, h, w, ho, wo },
    invocations: n * c * h * w,
    label,
  });
  return dx;
}
