/** Insertion/deletion dispatchers (shaders/causal.wgsl): pixel ranking and curve step images. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

/**
 * rank [P] (u32): each pixel's position when pixels are ordered by saliency descending, ties by
 * pixel index ascending; from a bitonic sort on the GPU.
 */
export function rankPixels(ctx: GpuContext, saliency: GpuTensor): GpuTensor {
  const P = saliency.shape.reduce((a, b) => a * b, 1);
  const n = 2 ** Math.ceil(Math.log2(Math.max(P, 2)));
  const keys = ctx.tensor([n], 'rank.keys');
  const idx = ctx.tensor([n], 'rank.idx');
  // Padding sorts last: −∞ keys (their indices are ≥ P, after every real pixel on ties).
  ctx.copy(saliency, 0, keys, 0, 4 * P);
  if (n > P) ctx.write(keys, 4 * P, new Float32Array(n - P).fill(-Infinity));
  ctx.write(
    idx,
    0,
    Uint32Array.from({ length: n }, (_, i) => i),
  );
  for (let k = 2; k <= n; k *= 2) {
    for (let j = k / 2; j >= 1; j /= 2) {
      ctx.dispatch({
        pipeline: { shader: 'causal', entryPoint: 'bitonic_step' },
        buffers: { keys, idx },
        params: { n, j, k },
        invocations: n,
        label: 'rank.sort',
      });
    }
  }
  const rank = ctx.tensor([P], 'rank');
  ctx.dispatch({
    pipeline: { shader: 'causal', entryPoint: 'scatter_rank' },
    buffers: { sortedIdx: idx, rank },
    params: { n, pixels: P },
    invocations: P,
    label: 'rank.scatter',
  });
  ctx.release(keys, idx);
  return rank;
}

/**
 * Step images first .. first+count−1 of a curve, [count, 3, H, W]: `start` with the pixels of rank
 * < k·step taken from `finish` (zeros when finish is undefined). start/finish: [1, 3, H, W].
 */
export function stepImages(
  ctx: GpuContext,
  rank: GpuTensor,
  start: GpuTensor,
  finish: GpuTensor | undefined,
  step: number,
  first: number,
  count: number,
): GpuTensor {
  const [, , h, w] = start.shape;
  const out = ctx.tensor([count, 3, h, w], 'causal.steps');
  ctx.dispatch({
    pipeline: { shader: 'causal', entryPoint: 'step_images', constants: { FINISH_ZERO: finish ? 0 : 1 } },
    buffers: { ranks: rank, start, finish: finish ?? ctx.dummyBuffer, images: out },
    params: { pixels: h * w, step, first, count },
    invocations: count * 3 * h * w,
    label: 'causal.steps',
  });
  return out;
}
