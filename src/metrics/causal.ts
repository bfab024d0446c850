/**
 * Insertion and Deletion (Petsiuk et al., RISE, BMVC 2018), as the RISE authors' CausalMetric
 * computes them (docs/SEMANTICS.md §5), with every step image made on the GPU and scored in batches:
 *
 *   class c = top-1 of the unmodified image (or given); score = softmax probability of c;
 *   order = pixels by saliency, descending (ties: lower pixel index first); n = ceil(HW / step);
 *   step image k = start with the pixels order[0 : k·step] taken from finish, k = 0..n;
 *   deletion: start = image, finish = 0; insertion: start = blur(image), finish = image;
 *   AUC = (Σ scores − scores[0]/2 − scores[n]/2) / n.
 *
 * blur is a per-channel convolution with outer(k, k), k = BLUR_1D, zero padding 5: run as a conv2d
 * whose 3×3 channel matrix is diagonal, so it needs no kernel of its own.
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { assertFinite, type HostTensor } from '../io/tensor.js';
import { conv2d, uploadConv, type ConvLayer } from '../kernels/conv2d.js';
import { rankPixels, stepImages } from '../kernels/causal.js';
import { gatherScores } from '../kernels/maps.js';
import { argmaxRows } from '../model/argmax.js';
import { withInput, type InputOptions, type ModelInput } from '../model/input.js';
import type { ResNet } from '../model/resnet.js';

export type CausalMetricName = 'insertion' | 'deletion';
export const CAUSAL_METRICS: readonly CausalMetricName[] = ['insertion', 'deletion'];
/** Pixels per step: 224, the RISE code's. */
export const DEFAULT_STEP = 224;

/** scipy gaussian_filter of an 11×11 delta with sigma 5, one axis (the RISE code's kernel). */
export const BLUR_1D = [
  0.0879581458, 0.0888961198, 0.0904741965, 0.0921911178, 0.0934893884, 0.0939820633, 0.0934893884, 0.0921911178,
  0.0904741965, 0.0888961198, 0.0879581458,
];

export interface CausalOptions extends InputOptions {
  /** Pixels per step (default DEFAULT_STEP). */
  step?: number;
  /** Class to score (default: top-1 of the unmodified image). */
  classIndex?: number;
  /** Step images per forward (default 32, fewer if the adapter needs). */
  batch?: number;
}

export interface CausalResult {
  metric: CausalMetricName;
  /** n + 1 probabilities of `classIndex`, steps 0..n. */
  scores: number[];
  auc: number;
  classIndex: number;
  step: number;
  forwardPasses: number;
}

export function auc(scores: readonly number[]): number {
  const n = scores.length - 1;
  return (scores.reduce((a, b) => a + b, 0) - scores[0] / 2 - scores[n] / 2) / n;
}

export class CausalMetrics {
  readonly ctx: GpuContext;
  private blurConv: ConvLayer | undefined;

  constructor(readonly model: ResNet) {
    this.ctx = model.ctx;
  }

  /**
   * Both curves for one image and one saliency map, sharing the ranking and the class. image: one
   * image as model/input.ts takes it (a host or GPU tensor, or an image source).
   */
  async evaluate(
    image: ModelInput,
    saliency: HostTensor,
    metrics: readonly CausalMetricName[] = CAUSAL_METRICS,
    opts: CausalOptions = {},
  ): Promise<CausalResult[]> {
    return withInput(this.ctx, image, opts, (x) => this.evaluateTensor(x, saliency, metrics, opts));
  }

  private async evaluateTensor(
    x: GpuTensor,
    saliency: HostTensor,
    metrics: readonly CausalMetricName[],
    opts: CausalOptions,
  ): Promise<CausalResult[]> {
    const ctx = this.ctx;
    this.model.checkInput(x.shape);
    if (x.shape[0] !== 1) throw new XaiError(`insertion/deletion take one image at a time, got ${x.shape[0]}`);
    const [, , H, W] = x.shape;
    const step = opts.step ?? DEFAULT_STEP;
    if (!Number.isInteger(step) || step < 1) throw new XaiError(`step must be a whole number ≥ 1, got ${step}`);
    for (const m of metrics)
      if (!CAUSAL_METRICS.includes(m))
        throw new XaiError(`unknown metric "${m}"; metrics: ${CAUSAL_METRICS.join(', ')}`);
    const cls = opts.classIndex ?? (await this.topClass(x));
    if (!Number.isInteger(cls) || cls < 0 || cls >= this.model.numClasses) {
      throw new XaiError(`class ${cls} is out of range: the model has classes 0..${this.model.numClasses - 1}`);
    }
    const map = saliencyPlane(saliency, cls, H, W);
    const mapOnGpu = ctx.upload(map, 'saliency');
    const rank = rankPixels(ctx, mapOnGpu);
    ctx.release(mapOnGpu);
    const n = Math.ceil((H * W) / step);
    const batch = Math.max(1, Math.min(opts.batch ?? this.model.defaultBatch(H, W), n + 1, this.model.maxBatch(H, W)));
    await this.model.prepare([batch, ...x.shape.slice(1)]);
    const results: CausalResult[] = [];
    for (const metric of metrics) {
      const start = metric === 'deletion' ? x : this.blur(x);
      const finish = metric === 'deletion' ? undefined : x;
      const scores = ctx.tensor([n + 1], `${metric}.scores`);
      for (let k = 0; k <= n; k += batch) {
        const count = Math.min(batch, n + 1 - k);
        const images = stepImages(ctx, rank, start, finish, step, k, count);
        const { logits } = this.model.forward(images);
        gatherScores(ctx, logits, cls, scores, k, 'softmax', `${metric}.score`);
        ctx.release(images, logits);
      }
      const curve = Array.from((await ctx.read(scores)).data);
      ctx.release(scores, start === x ? undefined : start);
      results.push({ metric, scores: curve, auc: auc(curve), classIndex: cls, step, forwardPasses: n + 1 });
    }
    ctx.release(rank);
    return results;
  }

  /** Frees the blur's weights (made on the first insertion curve). */
  dispose(): void {
    if (this.blurConv)
      this.ctx.destroy(this.blurConv.weight, this.blurConv.scaleShift, ...this.blurConv.winograd.values());
    this.blurConv = undefined;
  }

  private async topClass(x: GpuTensor): Promise<number> {
    const { logits } = this.model.forward(x);
    const cls = argmaxRows(await this.ctx.read(logits))[0];
    this.ctx.release(logits);
    return cls;
  }

  /** blur(x) for x [n, 3, H, W]. */
  blur(x: GpuTensor): GpuTensor {
    this.blurConv ??= uploadBlur(this.ctx);
    return conv2d(this.ctx, x, this.blurConv, { label: 'blur' });
  }
}

function uploadBlur(ctx: GpuContext): ConvLayer {
  const w = new Float32Array(3 * 3 * 11 * 11);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 11; y++)
      for (let x = 0; x < 11; x++) w[((c * 3 + c) * 11 + y) * 11 + x] = BLUR_1D[y] * BLUR_1D[x];
  }
  return uploadConv(
    ctx,
    { shape: [3, 3, 11, 11], data: w },
    new Float32Array(3).fill(1),
    new Float32Array(3),
    { stride: 1, pad: 5 },
    'blur',
  );
}

/** The [H, W] map to rank: a [H, W] or [1, H, W] map as is, the class's plane of a [C, H, W] one. */
function saliencyPlane(s: HostTensor, cls: number, H: number, W: number): HostTensor {
  const shape = s.shape;
  const planes = shape.length === 2 ? 1 : shape.length === 3 ? shape[0] : -1;
  if (planes < 1 || shape[shape.length - 2] !== H || shape[shape.length - 1] !== W) {
    throw new XaiError(
      `the saliency map has shape [${shape}]; for this ${H}x${W} input it must be [${H}, ${W}] or [classes, ${H}, ${W}]`,
    );
  }
  if (planes > 1 && cls >= planes)
    throw new XaiError(`the saliency map has ${planes} planes, no plane for class ${cls}`);
  const plane = planes === 1 ? 0 : cls;
  const data = s.data.subarray(plane * H * W, (plane + 1) * H * W);
  return assertFinite({ shape: [H, W], data }, `the saliency map's plane ${plane}`);
}
