/**
 * RISE (Petsiuk et al., BMVC 2018) on the GPU, as the original project's code computes it:
 *
 *   sal[c] = Σ_i score_i[c] · mask_i / (N · p1)            binary masks
 *   sal[c] = Σ_i score_i[c] · mask_i / (N · mean of masks)   Gaussian and Perlin masks
 *
 * for every class c, with score = logits (the original project) or softmax (the paper). Per batch the masks are
 * made on the GPU (or taken from a masks file), multiplied into the image, scored by one forward,
 * and accumulated into the maps on the GPU: memory holds one batch whatever N is. Running sums of
 * squares for one class give the maps' standard error, and with `tolerance` the run stops once
 * the largest per-pixel standard error is below tolerance × the map's range.
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { maskImage } from '../kernels/maps.js';
import { MaskGenerator } from '../kernels/rise-masks.js';
import { riseAccumulate, riseConvergence, riseFinalize, riseMaskSum, type RiseNorm } from '../kernels/rise.js';
import { softmax } from '../kernels/softmax.js';
import { argmaxRows } from '../model/argmax.js';
import { withInput, type InputOptions, type ModelInput } from '../model/input.js';
import type { ResNet } from '../model/resnet.js';
import type { Explainer, RiseExtras } from './explainer.js';
import { planMasks, type MaskMode } from '../kernels/rise-mask-plan.js';

export interface RiseOptions extends InputOptions {
  /** Number of masks N (default 4000, the RISE paper's for ResNet-50). */
  masks?: number;
  /** Grid size s (default 7) and keep probability p1 (default 0.5), the RISE paper's. */
  grid?: number;
  p1?: number;
  mode?: MaskMode;
  seed?: number;
  /** Masked images per forward (default 32, fewer where one binding cannot hold them). */
  batch?: number;
  /** 'logits' (default, the original project's code) or 'softmax' (the RISE paper). */
  scores?: 'logits' | 'softmax';
  /** Masks [N, H, W] or [N, 1, H, W] instead of generated ones (the original project's masks.npy). */
  masksFile?: HostTensor;
  /** Stop once max standard error ≤ tolerance · (max − min) of the map of `classIndex`. */
  tolerance?: number;
  /** The class whose standard error is tracked (default: top-1). */
  classIndex?: number;
  onProgress?: (done: number, total: number) => void;
}

/** A RISE result; `saliency` is [classes, H, W] float32, on the host or (explainToGpu) the GPU. */
export interface RiseResultOf<S> {
  /** [classes, H, W] */
  saliency: S;
  /** The tracked class, its logit, and the standard error of its map. */
  classIndex: number;
  score: number;
  standardError: { max: number; mean: number };
  masksUsed: number;
  stoppedEarly: boolean;
  forwardPasses: number;
  timingsMs: { total: number };
  peakGpuBytes: number;
  parameters: {
    masks: number;
    grid: number;
    p1: number;
    mode: MaskMode;
    seed: number;
    batch: number;
    scores: string;
    masksFile: boolean;
    tolerance?: number;
  };
}

export type RiseResult = RiseResultOf<HostTensor>;
/** The maps of classes from, from + 1, ... in one tensor [group, H, W]. */
interface ClassGroup {
  from: number;
  acc: GpuTensor;
}
/** The maps left on the GPU: `saliency.buffer` may be bound by the host; release it with ctx.release. */
export type RiseGpuResult = RiseResultOf<GpuTensor>;

/** N, s and p1 are the RISE paper's for ResNet-50; logits are the original project's scores. */
export const RISE_DEFAULTS = { masks: 4000, grid: 7, p1: 0.5, seed: 0, scores: 'logits' } as const; // batch: ResNet.defaultBatch

/** Batches between convergence checks once `tolerance` is set (each check reads 16 bytes back). */
const CHECK_EVERY = 4;

export class RiseExplainer {
  readonly ctx: GpuContext;

  constructor(readonly model: ResNet) {
    this.ctx = model.ctx;
  }

  /** image: one ImageNet-normalised [1, 3, H, W] or [3, H, W] on the host or the GPU, or one image source (model/input.ts). */
  async explain(image: ModelInput, opts: RiseOptions = {}): Promise<RiseResult> {
    const t0 = performance.now();
    const r = await withInput(this.ctx, image, opts, (x) => this.explainTensor(x, opts, t0, false));
    const [first] = r.saliency;
    const [, H, W] = first.acc.shape;
    const out = new Float32Array(this.model.numClasses * H * W);
    try {
      for (const g of r.saliency) out.set((await this.ctx.read(g.acc)).data, g.from * H * W);
    } finally {
      this.ctx.release(...r.saliency.map((g) => g.acc));
    }
    return {
      ...r,
      saliency: { shape: [this.model.numClasses, H, W], data: out },
      timingsMs: { total: Math.round(performance.now() - t0) },
    };
  }

  /**
   * As explain, with the maps of every class left on the GPU in one tensor [classes, H, W] (for a
   * host that binds them: drawOverlay with `plane` = the class, its own shaders). The saliency
   * tensor is the caller's. Refused where the maps of all classes exceed one binding.
   */
  async explainToGpu(image: ModelInput, opts: RiseOptions = {}): Promise<RiseGpuResult> {
    const t0 = performance.now();
    const r = await withInput(this.ctx, image, opts, (x) => this.explainTensor(x, opts, t0, true));
    return { ...r, saliency: r.saliency[0].acc };
  }

  /** The run; the maps of the classes stay on the GPU in groups that each fit one binding. */
  private async explainTensor(
    x: GpuTensor,
    opts: RiseOptions,
    t0: number,
    oneBinding: boolean,
  ): Promise<RiseResultOf<ClassGroup[]>> {
    const ctx = this.ctx;
    const model = this.model;
    model.checkInput(x.shape);
    if (x.shape[0] !== 1) throw new XaiError(`RISE explains one image at a time, got a batch of ${x.shape[0]}`);
    const [, , H, W] = x.shape;
    const P = H * W;
    const C = model.numClasses;
    const mode = opts.mode ?? 'binary';
    const p1 = opts.p1 ?? RISE_DEFAULTS.p1;
    const grid = opts.grid ?? RISE_DEFAULTS.grid;
    const seed = opts.seed ?? RISE_DEFAULTS.seed;
    const file = opts.masksFile ? masksFromFile(opts.masksFile, H, W) : undefined;
    const N = file ? file.count : (opts.masks ?? RISE_DEFAULTS.masks);
    if (!Number.isInteger(N) || N <= 0) throw new XaiError(`the number of masks must be a whole number > 0, got ${N}`);
    if (opts.masks !== undefined && file && opts.masks !== file.count)
      throw new XaiError(`--masks ${opts.masks} but the masks file holds ${file.count}`);
    if (opts.tolerance !== undefined && !(opts.tolerance > 0))
      throw new XaiError(`tolerance must be > 0, got ${opts.tolerance}`);
    // Masks are validated even when a file replaces them: p1 normalises binary maps either way.
    const generator = file
      ? undefined
      : new MaskGenerator(ctx, planMasks({ height: H, width: W, grid, p1, mode, seed }));
    try {
      if (file && !(p1 > 0 && p1 <= 1)) throw new XaiError(`p1 must be in (0, 1], got ${p1}`);
      const norm: RiseNorm = { byMean: mode !== 'binary', p1 };
      const batch = Math.max(
        1,
        Math.min(
          opts.batch ?? model.defaultBatch(H, W),
          N,
          model.maxBatch(H, W),
          Math.floor(ctx.limits.maxStorageBufferBindingSize / (4 * 3 * P)),
        ),
      );
      const endPeak = ctx.pool.trackPeak();

      await model.prepare(x.shape);
      await model.prepare([batch, ...x.shape.slice(1)]);
      const first = model.forward(x);
      const logits0 = await ctx.read(first.logits);
      ctx.release(first.logits);
      const cls = opts.classIndex ?? argmaxRows(logits0)[0];
      if (!Number.isInteger(cls) || cls < 0 || cls >= C)
        throw new XaiError(`class ${cls} is out of range: the model has classes 0..${C - 1}`);

      // Class groups whose [group, P] accumulator fits one binding (read back one by one).
      const perGroup = Math.max(1, Math.floor(ctx.limits.maxStorageBufferBindingSize / (4 * P)));
      if (oneBinding && perGroup < C) {
        throw new XaiError(
          `the maps of ${C} classes at ${H}x${W} take ${((4 * C * P) / 2 ** 20).toFixed(0)} MiB, more than one binding holds: use explain (host maps)`,
        );
      }
      const groups: ClassGroup[] = [];
      for (let c = 0; c < C; c += perGroup)
        groups.push({ from: c, acc: ctx.tensor([Math.min(perGroup, C - c), H, W], 'rise.saliency') });
      const s1 = ctx.tensor([1, P], 'rise.s1');
      const s2 = ctx.tensor([1, P], 'rise.s2');
      const total = ctx.tensor([1], 'rise.total');

      let done = 0;
      let stoppedEarly = false;
      let batches = 0;
      while (done < N && !stoppedEarly) {
        const count = Math.min(batch, N - done);
        const masks = file
          ? ctx.upload({ shape: [count, H, W], data: file.data.subarray(done * P, (done + count) * P) }, 'rise.masks')
          : generator!.generate(done, count);
        const masked = maskImage(ctx, x, 0, masks, 'rise.masked');
        const { logits } = model.forward(masked);
        const scores = opts.scores === 'softmax' ? softmax(ctx, logits, 'rise.softmax') : logits;
        const accumulate = done > 0;
        for (const g of groups) riseAccumulate(ctx, scores, masks, g.acc, g.from, { accumulate });
        riseAccumulate(ctx, scores, masks, s1, cls, { accumulate });
        riseAccumulate(ctx, scores, masks, s2, cls, { accumulate, squares: true });
        riseMaskSum(ctx, masks, total, accumulate);
        ctx.release(masks, masked, logits, scores === logits ? undefined : scores);
        done += count;
        batches++;
        if (opts.onProgress) {
          await ctx.sync(); // progress means work done, not work queued
          opts.onProgress(done, N);
        }
        if (opts.tolerance && done < N && batches % CHECK_EVERY === 0) {
          const st = await this.stats(s1, s2, total, done, norm);
          stoppedEarly = st.max <= opts.tolerance * (st.hi - st.lo);
        }
      }
      const st = await this.stats(s1, s2, total, done, norm);
      for (const g of groups) riseFinalize(ctx, g.acc, total, done, norm);
      ctx.release(s1, s2, total);
      const peak = endPeak();
      return {
        saliency: groups,
        classIndex: cls,
        score: logits0.data[cls],
        standardError: { max: st.max, mean: st.mean },
        masksUsed: done,
        stoppedEarly,
        forwardPasses: 1 + done,
        timingsMs: { total: Math.round(performance.now() - t0) },
        peakGpuBytes: peak,
        parameters: {
          masks: N,
          grid,
          p1,
          mode,
          seed,
          batch,
          scores: opts.scores ?? RISE_DEFAULTS.scores,
          masksFile: !!file,
          tolerance: opts.tolerance,
        },
      };
    } finally {
      generator?.dispose(); // the Gaussian table
    }
  }

  private async stats(s1: GpuTensor, s2: GpuTensor, total: GpuTensor, masks: number, norm: RiseNorm) {
    const t = riseConvergence(this.ctx, s1, s2, total, masks, norm);
    const [max, lo, hi, mean] = (await this.ctx.read(t)).data;
    this.ctx.release(t);
    return { max, lo, hi, mean };
  }
}

/** The registry's entry for a RISE method (mask `mode`): RiseExplainer behind the one Explainer contract. */
export function riseExplainer(name: string, mode: MaskMode, summary: string): Explainer {
  return {
    name,
    family: 'rise',
    summary,
    batched: false,
    progress: 'masks',
    defaults: { rise: { ...RISE_DEFAULTS, mode } },
    async explain(model, image, o = {}) {
      const r = await new RiseExplainer(model).explain(image, {
        ...o.rise,
        inputSize: o.inputSize,
        mode: o.rise?.mode ?? mode,
        classIndex: oneClass(o.classIndex),
        batch: o.batch,
        onProgress: o.onProgress,
      });
      const extras: RiseExtras = {
        masksUsed: r.masksUsed,
        stoppedEarly: r.stoppedEarly,
        standardError: r.standardError,
      };
      return {
        method: name,
        family: 'rise',
        saliency: r.saliency,
        saliencyPer: 'class',
        classes: [r.classIndex],
        scores: [r.score],
        forwardPasses: r.forwardPasses,
        peakGpuBytes: r.peakGpuBytes,
        timingsMs: r.timingsMs,
        parameters: r.parameters,
        extras,
      };
    },
    note: (r) => {
      const e = r.extras as RiseExtras;
      return `: ${e.masksUsed} masks${e.stoppedEarly ? ' (converged early)' : ''}, max standard error ${e.standardError.max.toExponential(2)}`;
    },
  };
}

/** RISE explains one image, so one class. */
function oneClass(c: number | number[] | undefined): number | undefined {
  if (!Array.isArray(c)) return c;
  if (c.length !== 1) throw new XaiError(`RISE explains one image for one class, got ${c.length} classes`);
  return c[0];
}

/** A masks file's [N, H, W] or [N, 1, H, W] as N masks of H×W, checked against the input size. */
function masksFromFile(t: HostTensor, H: number, W: number): { count: number; data: Float32Array } {
  const s = t.shape;
  const ok = (s.length === 3 || (s.length === 4 && s[1] === 1)) && s[s.length - 2] === H && s[s.length - 1] === W;
  if (!ok)
    throw new XaiError(
      `the masks file has shape [${s}]; for this ${H}x${W} input it must be [N, ${H}, ${W}] or [N, 1, ${H}, ${W}]`,
    );
  return { count: s[0], data: t.data };
}
