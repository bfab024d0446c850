/** RISE reduction dispatchers (shaders/rise.wgsl). Scores [B, C], masks [B, H, W], maps [classes, P]. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';

export interface RiseNorm {
  /** Normalise by the mean of all masks (Gaussian/Perlin) rather than by p1 (binary). */
  byMean: boolean;
  p1: number;
}

/** rise.wgsl's Params by name (groupSize 1 unless given; accumulate as 0/1). */
function params(v: {
  batch?: number;
  classes?: number;
  pixels: number;
  classFrom?: number;
  groupSize?: number;
  masks?: number;
  p1?: number;
  accumulate?: boolean;
}): Record<string, number> {
  return { ...v, groupSize: v.groupSize ?? 1, accumulate: v.accumulate ? 1 : 0 } as Record<string, number>;
}

/**
 * acc [group, P] (+)= Σ_b score[b, classFrom + c] · mask[b, p]; with `squares`, the terms squared
 * (Σ_b (score[b, classFrom + c] · mask[b, p])²).
 */
export function riseAccumulate(
  ctx: GpuContext,
  scores: GpuTensor,
  masks: GpuTensor,
  acc: GpuTensor,
  classFrom: number,
  opts: { accumulate: boolean; squares?: boolean },
): void {
  const [batch, classes] = scores.shape;
  const pixels = masks.shape[1] * masks.shape[2];
  const groupSize = acc.shape[0];
  if (classFrom + groupSize > classes || acc.shape.length < 2) {
    throw new Error(`rise.accumulate: accumulator [${acc.shape}] for classes ${classFrom}.. of ${classes}`);
  }
  ctx.dispatch({
    pipeline: { shader: 'rise', entryPoint: 'accumulate', constants: { SQUARES: opts.squares ? 1 : 0 } },
    buffers: { score: scores, maskBatch: masks, acc },
    params: params({ batch, classes, pixels, classFrom, groupSize, accumulate: opts.accumulate }),
    invocations: [pixels, groupSize],
    label: opts.squares ? 'rise.squares' : 'rise.accumulate',
  });
}

/** total[0] (+)= Σ masks. */
export function riseMaskSum(ctx: GpuContext, masks: GpuTensor, total: GpuTensor, accumulate: boolean): void {
  const [batch, h, w] = masks.shape;
  ctx.dispatch({
    pipeline: { shader: 'rise', entryPoint: 'mask_sum' },
    buffers: { sumMasks: masks, total },
    params: params({ batch, pixels: h * w, accumulate }),
    workgroups: [1],
    label: 'rise.maskSum',
  });
}

/** In place: maps [group, P] ·= 1 / (N · norm). */
export function riseFinalize(ctx: GpuContext, maps: GpuTensor, total: GpuTensor, masks: number, norm: RiseNorm): void {
  const [group, pixels] = [maps.shape[0], maps.shape.slice(1).reduce((a, b) => a * b, 1)];
  ctx.dispatch({
    pipeline: { shader: 'rise', entryPoint: 'finalize', constants: { NORM_MEAN: norm.byMean ? 1 : 0 } },
    buffers: { totalIn: total, sal: maps },
    params: params({ pixels, groupSize: group, masks, p1: norm.p1 }),
    invocations: group * pixels,
    label: 'rise.finalize',
  });
}

/** [max SE, min map, max map, mean SE] of one class's map from its sums s1 and s2 [1, P]. */
export function riseConvergence(
  ctx: GpuContext,
  s1: GpuTensor,
  s2: GpuTensor,
  total: GpuTensor,
  masks: number,
  norm: RiseNorm,
): GpuTensor {
  const stats = ctx.tensor([4], 'rise.stats');
  ctx.dispatch({
    pipeline: { shader: 'rise', entryPoint: 'convergence', constants: { NORM_MEAN: norm.byMean ? 1 : 0 } },
    buffers: { s1, s2, ctotal: total, stats },
    params: params({ pixels: s2.shape.reduce((a, b) => a * b, 1), masks, p1: norm.p1 }),
    workgroups: [1],
    label: 'rise.convergence',
  });
  return stats;
}
