/**
 * The CAM explainers on the GPU, for a batch of images and one class per image (default: top-1):
 *
 *   Abs-CAM Init   w_k = mean|G_k|;  cam = Σ_k w_k·A_k → upsample → min-max normalise
 *   Abs-CAM Final  M_k = normalise(upsample(w_k·A_k));  y_k = |logit_c(x ⊙ M_k)|;
 *                  saliency = ReLU(Σ_k y_k·M_k)   (not normalised)
 *   Grad-CAM       w_k = mean G_k;  cam = ReLU(Σ_k w_k·A_k) → upsample → normalise
 *   Grad-CAM++     w_k = Σ_hw α·ReLU(G), α = G²/(2G² + Σ_hw A·G³ + 1e-6) → as Grad-CAM
 *   Score-CAM      M_k = normalise(upsample_ac(A_k));  w = softmax_k(logit_c(x ⊙ M_k));
 *                  cam = ReLU(Σ_k w_k·A_k) → upsample → normalise
 *
 * A is the tap's value, G = ∂logit_c/∂A (model/gradient.ts); upsampling is bilinear with
 * align_corners=False, except upsample_ac (Score-CAM's channel masks only): align_corners=True, as
 * pytorch-grad-cam's score_cam.py (UpsamplingBilinear2d); normalise is (v − min)/(max − min + 1e-8). Abs-CAM Final and Score-CAM
 * score one masked image per channel: the channel maps, the masked inputs and the forwards are
 * made on the GPU in batches of `batch` channels, so peak memory holds one batch, whatever the
 * channel count.
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { withInput, type InputOptions, type ModelInput } from '../model/input.js';
import { channelWeights, combineChannels, type WeightMode } from '../kernels/cam.js';
import {
  gatherScores,
  maskImage,
  minMaxNormalize,
  upsampleBilinear,
  weightedSum,
  type UpsampleOptions,
} from '../kernels/maps.js';
import { softmax } from '../kernels/softmax.js';
import { gradientAt, gradientTapNames } from '../model/gradient.js';
import type { ResNet } from '../model/resnet.js';
import type { CamExtras, Explainer } from './explainer.js';

export const CAM_METHODS = ['abscam-init', 'abscam-final', 'gradcam', 'gradcam++', 'scorecam'] as const;
export type CamMethod = (typeof CAM_METHODS)[number];
/** The methods that score one masked image per channel: they take `batch` and report progress. */
const MASKED: readonly CamMethod[] = ['abscam-final', 'scorecam'];
const isMasked = (m: CamMethod): m is 'abscam-final' | 'scorecam' => MASKED.includes(m);
export const CAM_DEFAULTS = { layer: 'layer4' } as const; // batch: ResNet.defaultBatch (the adapter's limits)

export interface CamOptions extends InputOptions {
  /** Tap (default `layer4`): a block output, `layer1`…`layer4` or `layerX.Y`. */
  layer?: string;
  /** One class for all images or one per image (default: each image's top-1 class). */
  classIndex?: number | number[];
  /** Masked images per forward batch for Abs-CAM Final / Score-CAM (default: 32, or fewer if the adapter needs). */
  batch?: number;
  /** Called as masked forwards complete (Abs-CAM Final / Score-CAM). */
  onProgress?: (done: number, total: number) => void;
}

/** A CAM result; `saliency` is [n, H, W] float32 at input resolution, on the host or (explainToGpu) the GPU. */
export interface CamResultOf<S> {
  method: CamMethod;
  layer: string;
  /** Class explained per image. */
  classes: number[];
  /** logit of that class per image. */
  scores: number[];
  saliency: S;
  /** Forward passes run (1 for the gradient pass, plus one per masked image). */
  forwardPasses: number;
  timingsMs: { total: number };
  /** Peak bytes the buffer pool held during the call. */
  peakGpuBytes: number;
}

export type CamResult = CamResultOf<HostTensor>;
/** The maps left on the GPU: `saliency.buffer` may be bound by the host; release it with ctx.release. */
export type CamGpuResult = CamResultOf<GpuTensor>;

const WEIGHTS: Record<Exclude<CamMethod, 'scorecam'>, WeightMode> = {
  'abscam-init': 'abs-mean',
  'abscam-final': 'abs-mean',
  gradcam: 'mean',
  'gradcam++': 'gradcam++',
};

export class CamExplainer {
  readonly ctx: GpuContext;

  constructor(readonly model: ResNet) {
    this.ctx = model.ctx;
  }

  absCamInit(image: ModelInput, opts?: CamOptions): Promise<CamResult> {
    return this.explain('abscam-init', image, opts);
  }

  absCamFinal(image: ModelInput, opts?: CamOptions): Promise<CamResult> {
    return this.explain('abscam-final', image, opts);
  }

  gradCam(image: ModelInput, opts?: CamOptions): Promise<CamResult> {
    return this.explain('gradcam', image, opts);
  }

  gradCamPlusPlus(image: ModelInput, opts?: CamOptions): Promise<CamResult> {
    return this.explain('gradcam++', image, opts);
  }

  scoreCam(image: ModelInput, opts?: CamOptions): Promise<CamResult> {
    return this.explain('scorecam', image, opts);
  }

  /** image: ImageNet-normalised [n, 3, H, W] (or [3, H, W]) on the host or the GPU, or image sources (model/input.ts). */
  async explain(method: CamMethod, image: ModelInput, opts: CamOptions = {}): Promise<CamResult> {
    const t0 = performance.now();
    const r = await this.explainToGpu(method, image, opts);
    try {
      const host = await this.ctx.read(r.saliency);
      return { ...r, saliency: host, timingsMs: { total: Math.round(performance.now() - t0) } };
    } finally {
      this.ctx.release(r.saliency);
    }
  }

  /**
   * As explain, with the maps left on the GPU (no readback of them; the classes' logits are read):
   * for a host that binds them (drawOverlay, its own shaders). The saliency tensor is the caller's.
   */
  async explainToGpu(method: CamMethod, image: ModelInput, opts: CamOptions = {}): Promise<CamGpuResult> {
    if (!CAM_METHODS.includes(method))
      throw new XaiError(`unknown CAM method "${method}"; methods: ${CAM_METHODS.join(', ')}`);
    const t0 = performance.now();
    return withInput(this.ctx, image, opts, (x) => this.explainTensor(method, x, opts, t0));
  }

  private async explainTensor(method: CamMethod, x: GpuTensor, opts: CamOptions, t0: number): Promise<CamGpuResult> {
    const ctx = this.ctx;
    this.model.checkInput(x.shape);
    const [n, , H, W] = x.shape;
    const layer = opts.layer ?? CAM_DEFAULTS.layer;
    const layers = gradientTapNames(this.model).filter((t) => t.startsWith('layer'));
    if (!layers.includes(layer))
      throw new XaiError(`unknown layer "${layer}"; CAM layers (block outputs): ${layers.join(', ')}`);
    const classes =
      opts.classIndex === undefined
        ? undefined
        : typeof opts.classIndex === 'number'
          ? Array(n).fill(opts.classIndex)
          : opts.classIndex;
    const endPeak = ctx.pool.trackPeak();

    const g = await gradientAt(this.model, x, layer, classes);
    const logits = await ctx.read(g.logits);
    const cls = Array.from(g.classes);
    const scores = cls.map((c, i) => logits.data[i * this.model.numClasses + c]);
    let saliency: GpuTensor;
    let forwardPasses = 1;
    if (isMasked(method)) {
      const perImage: GpuTensor[] = [];
      for (let i = 0; i < n; i++) {
        const r =
          method === 'abscam-final'
            ? await this.absCamFinalOne(x, i, g.activation, g.gradient, cls[i], opts)
            : await this.scoreCamOne(x, i, g.activation, cls[i], opts);
        perImage.push(r.map);
        forwardPasses += r.passes;
      }
      saliency = perImage.length === 1 ? perImage[0] : this.stack(perImage, [n, H, W]);
    } else {
      const w = channelWeights(ctx, g.activation, g.gradient, WEIGHTS[method]);
      const cam = combineChannels(ctx, g.activation, w, { relu: method !== 'abscam-init' });
      saliency = minMaxNormalize(ctx, upsampleBilinear(ctx, cam, H, W, { label: 'cam.upsample' }));
      ctx.release(w, cam);
    }
    ctx.release(g.logits, g.activation, g.gradient);
    const peak = endPeak();
    return {
      method,
      layer,
      classes: cls,
      scores,
      saliency: { ...saliency, shape: [n, H, W] },
      forwardPasses,
      timingsMs: { total: Math.round(performance.now() - t0) },
      peakGpuBytes: peak,
    };
  }

  /** Abs-CAM Final for image i of x: ReLU(Σ_k |logit_c(x ⊙ M_k)|·M_k), channels in batches. */
  private async absCamFinalOne(
    x: GpuTensor,
    i: number,
    act: GpuTensor,
    grad: GpuTensor,
    cls: number,
    opts: CamOptions,
  ) {
    const ctx = this.ctx;
    const [, K] = act.shape;
    const [, , H, W] = x.shape;
    const w = channelWeights(ctx, act, grad, 'abs-mean');
    const acc = ctx.tensor([H, W], 'abscam.final');
    const scores = ctx.tensor([K], 'abscam.scores');
    await this.maskedForwards(x, i, act, opts, { scale: w, label: 'abscam.maps' }, (maps, logits, from, last) => {
      gatherScores(ctx, logits, cls, scores, from, 'abs-logit');
      weightedSum(ctx, maps, scores, acc, { scoreFrom: from, accumulate: from > 0, relu: last });
    });
    ctx.release(w, scores);
    return { map: acc, passes: K };
  }

  /** Score-CAM for image i of x: softmax over channels of logit_c(x ⊙ M_k) weighs A_k;
   *  the masks are upsampled with align_corners=True, the final map as every method's. */
  private async scoreCamOne(x: GpuTensor, i: number, act: GpuTensor, cls: number, opts: CamOptions) {
    const ctx = this.ctx;
    const [, K, h, w] = act.shape;
    const [, , H, W] = x.shape;
    const scores = ctx.tensor([1, K], 'scorecam.scores');
    const one = ctx.tensor([1, K, h, w], 'scorecam.act');
    ctx.copy(act, i * one.bytes, one, 0, one.bytes);
    await this.maskedForwards(x, i, act, opts, { alignCorners: true, label: 'scorecam.maps' }, (_maps, logits, from) =>
      gatherScores(ctx, logits, cls, scores, from, 'logit'),
    );
    const weights = softmax(ctx, scores, 'scorecam.softmax');
    const cam = combineChannels(ctx, one, weights, { relu: true });
    const map = minMaxNormalize(ctx, upsampleBilinear(ctx, cam, H, W, { label: 'cam.upsample' }));
    ctx.release(scores, weights, one, cam);
    return { map, passes: K };
  }

  /**
   * For the channels k of image i's activation in batches [from, from + count): maps = channel
   * k upsampled to the input size (`maps`: times scale[k], align_corners), normalised, image i
   * masked by each, forward, then use(maps, logits, from, isLastBatch).
   */
  private async maskedForwards(
    x: GpuTensor,
    i: number,
    act: GpuTensor,
    opts: CamOptions,
    maps: Pick<UpsampleOptions, 'scale' | 'alignCorners' | 'label'>,
    use: (maps: GpuTensor, logits: GpuTensor, from: number, last: boolean) => void,
  ): Promise<void> {
    const ctx = this.ctx;
    const [, , H, W] = x.shape;
    const total = act.shape[1];
    const makeMaps = (from: number, count: number) => {
      const first = i * total + from;
      return upsampleBilinear(ctx, act, H, W, { ...maps, fromPlane: first, planes: count, scaleFrom: first });
    };
    const batch = Math.max(1, Math.min(opts.batch ?? this.model.defaultBatch(H, W), this.model.maxBatch(H, W)));
    await this.model.prepare([Math.min(batch, total), ...x.shape.slice(1)]);
    for (let from = 0; from < total; from += batch) {
      const count = Math.min(batch, total - from);
      const maps = minMaxNormalize(ctx, makeMaps(from, count));
      const masked = maskImage(ctx, x, i, maps);
      const { logits } = this.model.forward(masked);
      use(maps, logits, from, from + count >= total);
      ctx.release(maps, masked, logits);
      if (opts.onProgress) {
        await ctx.sync(); // progress means work done, not work queued
        opts.onProgress(from + count, total);
      }
    }
  }

  private stack(maps: GpuTensor[], shape: number[]): GpuTensor {
    const out = this.ctx.tensor(shape, 'cam.stack');
    maps.forEach((m, k) => this.ctx.copy(m, 0, out, k * m.bytes, m.bytes));
    this.ctx.release(...maps);
    return out;
  }
}

/** The registry's entry for a CAM method: CamExplainer behind the one Explainer contract. */
export function camExplainer(method: CamMethod, summary: string): Explainer {
  const masked = isMasked(method);
  return {
    name: method,
    family: 'cam',
    summary,
    batched: true,
    defaults: CAM_DEFAULTS,
    progress: masked ? 'masked forwards, all images' : undefined,
    explain: (model, image, o = {}) =>
      withInput(model.ctx, image, o, async (x) => {
        const r = await new CamExplainer(model).explain(method, x, {
          layer: o.layer,
          batch: o.batch,
          classIndex: o.classIndex,
          onProgress: o.onProgress,
        });
        return {
          method,
          family: 'cam',
          saliency: r.saliency,
          saliencyPer: 'image',
          classes: r.classes,
          scores: r.scores,
          forwardPasses: r.forwardPasses,
          peakGpuBytes: r.peakGpuBytes,
          timingsMs: r.timingsMs,
          parameters: {
            layer: r.layer,
            batch: masked ? (o.batch ?? model.defaultBatch(x.shape[2], x.shape[3])) : undefined,
          },
          extras: { layer: r.layer },
        };
      }),
    note: (r) => ` at ${(r.extras as CamExtras).layer}`,
  };
}
