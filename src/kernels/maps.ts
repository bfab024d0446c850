/** Saliency-map dispatchers (shaders/maps.wgsl; gatherScores: softmax.wgsl). Plane stacks are [planes, H, W]. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { tiledGrid } from '../gpu/grid.js';

export interface UpsampleOptions {
  /** Read `planes` planes starting at plane `fromPlane` of src (default: all of src). */
  fromPlane?: number;
  planes?: number;
  /** Multiply plane i by scale[scaleFrom + i] (before interpolation, as w_k·A_k). */
  scale?: GpuTensor;
  scaleFrom?: number;
  /**
   * align_corners=True (PyTorch's UpsamplingBilinear2d: corner pixels coincide) instead of the
   * default half-pixel align_corners=False. Only Score-CAM's channel masks use it, as pytorch-grad-cam.
   */
  alignCorners?: boolean;
  label?: string;
}

/** Bilinear resize of planes (PyTorch F.interpolate, align_corners=False unless alignCorners); src is [..., h, w]. */
export function upsampleBilinear(
  ctx: GpuContext,
  src: GpuTensor,
  outH: number,
  outW: number,
  opts: UpsampleOptions = {},
): GpuTensor {
  const h = src.shape[src.shape.length - 2];
  const w = src.shape[src.shape.length - 1];
  const total = src.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const from = opts.fromPlane ?? 0;
  const planes = opts.planes ?? total - from;
  if (from + planes > total) throw new Error(`upsample: planes ${from}..${from + planes} of ${total}`);
  const label = opts.label ?? 'upsample';
  const out = ctx.tensor([planes, outH, outW], label);
  ctx.dispatch({
    pipeline: {
      shader: 'maps',
      entryPoint: 'upsample',
      constants: { SCALE: opts.scale ? 1 : 0, ALIGN_CORNERS: opts.alignCorners ? 1 : 0 },
    },
    buffers: { src, scale: opts.scale ?? ctx.dummyBuffer, dst: out },
    params: { planes, h, w, outH, outW, srcOffset: from * h * w, scaleOffset: opts.scaleFrom ?? 0 },
    invocations: planes * outH * outW,
    label,
  });
  return out;
}

/** In place: each [H, W] plane of t → (v − min) / (max − min + 1e-8). */
export function minMaxNormalize(ctx: GpuContext, t: GpuTensor, label = 'normalize'): GpuTensor {
  const h = t.shape[t.shape.length - 2];
  const w = t.shape[t.shape.length - 1];
  const planes = t.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  ctx.dispatch({
    pipeline: { shader: 'maps', entryPoint: 'minmax_normalize' },
    buffers: { planes: t },
    params: { planes, h, w },
    workgroups: tiledGrid(ctx, planes),
    label,
  });
  return t;
}

/** image [.., 3, H, W] (its image number `index`) times masks [m, H, W] → [m, 3, H, W]. */
export function maskImage(
  ctx: GpuContext,
  image: GpuTensor,
  index: number,
  masks: GpuTensor,
  label = 'mask.image',
): GpuTensor {
  const [m, h, w] = masks.shape;
  const out = ctx.tensor([m, 3, h, w], label);
  ctx.dispatch({
    pipeline: { shader: 'maps', entryPoint: 'mask_image' },
    buffers: { image, masks, masked: out },
    params: { planes: m, h, w, srcOffset: index * 3 * h * w },
    invocations: m * 3 * h * w,
    label,
  });
  return out;
}

/**
 * acc [H, W] = (acc +) Σ_m score[scoreFrom + m] · maps[m]; `relu` clamps the result at 0.
 */
export function weightedSum(
  ctx: GpuContext,
  maps: GpuTensor,
  score: GpuTensor,
  acc: GpuTensor,
  opts: { scoreFrom?: number; accumulate?: boolean; relu?: boolean; label?: string } = {},
): void {
  const [m, h, w] = maps.shape;
  ctx.dispatch({
    pipeline: {
      shader: 'maps',
      entryPoint: 'weighted_sum',
      constants: { ACCUMULATE: opts.accumulate ? 1 : 0, RELU: opts.relu ? 1 : 0 },
    },
    buffers: { maps, score, acc },
    params: { planes: m, h, w, scaleOffset: opts.scoreFrom ?? 0 },
    invocations: h * w,
    label: opts.label ?? 'weighted.sum',
  });
}

export type ScoreMode = 'logit' | 'abs-logit' | 'softmax';
const SCORE_MODE: Record<ScoreMode, number> = { logit: 0, 'abs-logit': 1, softmax: 2 };

/** scores[offset + row] = f(logits[row, cls]) for every row of logits [rows, classes]. */
export function gatherScores(
  ctx: GpuContext,
  logits: GpuTensor,
  cls: number,
  scores: GpuTensor,
  offset: number,
  mode: ScoreMode,
  label = 'scores',
): void {
  const [rows, classes] = logits.shape;
  ctx.dispatch({
    pipeline: { shader: 'softmax', entryPoint: 'gather_scores', constants: { MODE: SCORE_MODE[mode] } },
    buffers: { x: logits, scores },
    params: { rows, cols: classes, cls, offset },
    invocations: rows,
    label,
  });
}
