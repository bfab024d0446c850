/**
 * The conv autotuner: for each (adapter, conv shape, batch bucket) it picks the fastest of the
 * candidate variants (conv2d.ts: direct register tiles, Winograd F(2×2) and F(4×4)) by timing them
 * on the real shape — GPU timestamps where the adapter has them, wall clock otherwise. A candidate
 * is timed only after its output matched the default variant's on the same data within
 * VALIDATE_REL of the output's largest magnitude; one that does not is never chosen.
 *
 * Input gradients (conv2d-grad.ts) are tuned the same way per (conv, input size, batch bucket):
 * the gather at several tile widths and, for 3×3 stride-1 convs, the Winograd forms, validated
 * against the 4-pixel gather (`tuneGrad`, `chooseGrad`; model/gradient.ts tunes what a backward pass
 * needs before it runs).
 *
 * Choices persist in the context's TuneStore (on disk in Node, keyed by adapter and version; in
 * memory in a browser). `choose` is synchronous and never times anything: before `tune` has run
 * for a shape it returns the static default (Winograd F(2×2) for 3×3 stride-1 convs, which on
 * lavapipe is ~3× faster than the direct conv and rounds no worse; direct 4×1 otherwise).
 *
 * Environment (Node): WEBGPU_XAI_TUNE=0 turns tuning off: no timing, and the static defaults even
 * where the store holds a choice (runs that must not depend on past tuning); WEBGPU_XAI_CONV=<variant
 * name> forces one variant wherever it applies.
 */
import { XaiError } from '../errors.js';
import { relToMax } from '../io/tensor.js';
import type { GpuContext } from '../gpu/context.js';
import type { StorageType } from '../gpu/tensor.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { toF16 } from './precision.js';
import {
  conv2dGradInput,
  gradStaticDefault,
  gradVariantApplies,
  GRAD_GATHER,
  type ConvGradLayer,
} from './conv2d-grad.js';
import {
  conv2d,
  parseVariant,
  variantApplies,
  variantName,
  DEFAULT_CONV_VARIANT,
  type ConvGeometry,
  type ConvLayer,
  type ConvVariant,
} from './conv2d.js';

/** Candidates in order of preference on a tie (the first is also the validation reference). */
export const CONV_CANDIDATES: readonly ConvVariant[] = [
  DEFAULT_CONV_VARIANT,
  { algo: 'direct', px: 2, co4: 4, wg: 64 },
  { algo: 'direct', px: 4, co4: 2, wg: 64 },
  { algo: 'direct', px: 4, co4: 1, wg: 128 },
  { algo: 'direct', px: 4, co4: 4, wg: 256, tiled: true },
  { algo: 'winograd', m: 2, co4: 1, wg: 64 },
  { algo: 'winograd', m: 2, co4: 2, wg: 64 },
  { algo: 'winograd', m: 4, co4: 1, wg: 64 },
  { algo: 'winograd', m: 4, co4: 2, wg: 64 },
  { algo: 'winograd', m: 2, co4: 4, wg: 256, tiled: true },
  { algo: 'winograd', m: 4, co4: 4, wg: 256, tiled: true },
];

const WINOGRAD2: ConvVariant = { algo: 'winograd', m: 2, co4: 1, wg: 64 };

/**
 * Input-gradient candidates (conv2d-grad.ts): the gather at 4, 2 and 8 pixels per invocation (the
 * first is the reference), and for 3×3 stride-1 convs Winograd in the forms the forward has.
 */
export const GRAD_CANDIDATES: readonly ConvVariant[] = [
  GRAD_GATHER,
  { algo: 'direct', px: 2, co4: 1, wg: 64 },
  { algo: 'direct', px: 8, co4: 1, wg: 64 },
  { algo: 'winograd', m: 2, co4: 1, wg: 64 },
  { algo: 'winograd', m: 2, co4: 2, wg: 64 },
  { algo: 'winograd', m: 4, co4: 2, wg: 64 },
  { algo: 'winograd', m: 2, co4: 4, wg: 256, tiled: true },
];
/**
 * Largest |candidate − reference| allowed, relative to the reference's max |value|, per storage
 * type. In f16 both outputs are rounded to 11 significant bits (one rounding is 2^-11 ≈ 4.9e-4 of
 * a value) and Winograd stores its transformed tiles in f16 too, which F(4×4)'s transforms amplify;
 * 1e-2 admits that and still refuses a wrong kernel (one wrong tap moves the output by ~1e-1).
 */
export const VALIDATE_REL: Record<StorageType, number> = { f32: 1e-4, f16: 1e-2 };
const REPS = 2;

export interface ConvChoice {
  key: string;
  variant: string;
  /** tuned: timed now; cached: from the store; default: not tuned; forced: WEBGPU_XAI_CONV. */
  source: 'tuned' | 'cached' | 'default' | 'forced';
  /** GPU (or wall) milliseconds per candidate, when tuned now. */
  timesMs?: Record<string, number>;
}

function env(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] : undefined;
}

/** The batch bucket: the next power of two (batches of one bucket share a choice). */
function bucket(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

export function convKey(conv: ConvGeometry, xShape: readonly number[], dtype: StorageType = 'f32'): string {
  const [n, , h, w] = xShape;
  return `conv2d ${conv.kh}x${conv.kw}/s${conv.stride}/p${conv.pad} ${conv.cin}>${conv.cout} ${h}x${w} n${bucket(n)}${dtype === 'f16' ? ' f16' : ''}`;
}

/** The key of an input gradient: the forward conv it belongs to and that conv's input size. */
export function gradKey(conv: ConvGeometry, dyShape: readonly number[], inputSize: readonly number[]): string {
  return `conv2d_grad ${conv.kh}x${conv.kw}/s${conv.stride}/p${conv.pad} ${conv.cin}<${conv.cout} ${inputSize[0]}x${inputSize[1]} n${bucket(dyShape[0])}`;
}

/** Fixed, non-zero test data of both signs. */
function testData(shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.7311) + 0.25;
  return { shape: [...shape], data };
}

export function staticDefault(conv: ConvGeometry): ConvVariant {
  return variantApplies(WINOGRAD2, conv) ? WINOGRAD2 : DEFAULT_CONV_VARIANT;
}

const tuners = new WeakMap<GpuContext, ConvTuner>();

/** What the context's convs ran as, for reports (explanation.json): conv shape → variant and source. */
export function convChoices(ctx: GpuContext): Record<string, string> {
  return Object.fromEntries([...ConvTuner.of(ctx).choices.values()].map((c) => [c.key, `${c.variant} (${c.source})`]));
}

export class ConvTuner {
  /** Every choice this process used or made, by key (what explanation.json and the bench report). */
  readonly choices = new Map<string, ConvChoice>();
  readonly enabled: boolean;
  /** How many shapes this tuner has timed (ResNet.prepare frees the pool after timing). */
  timed = 0;
  private forced: ConvVariant | undefined;
  private forcedGrad: ConvVariant | undefined;

  /** A tuner of its own (ConvTuner.of gives the context's shared one; tests make fresh ones). */
  constructor(private ctx: GpuContext) {
    const t = env('WEBGPU_XAI_TUNE');
    this.enabled = !(t === '0' || t === 'off' || t === 'false');
    const f = env('WEBGPU_XAI_CONV');
    if (f) {
      this.forced = parseVariant(f);
      if (!this.forced) {
        throw new XaiError(
          `WEBGPU_XAI_CONV=${f} is not a conv variant; valid: ${CONV_CANDIDATES.map(variantName).join(', ')}`,
        );
      }
    }
  }

  static of(ctx: GpuContext): ConvTuner {
    let t = tuners.get(ctx);
    if (!t) tuners.set(ctx, (t = new ConvTuner(ctx)));
    return t;
  }

  /**
   * Forces one variant wherever it applies (undefined: back to tuned/default choices); what
   * WEBGPU_XAI_CONV does, for benchmarks that compare variants in one process.
   */
  force(v: ConvVariant | undefined): void {
    this.forced = v;
  }

  /** The same for input gradients (bench/abscam.ts compares the gather with the tuned choice). */
  forceGrad(v: ConvVariant | undefined): void {
    this.forcedGrad = v;
  }

  /** The variant for this conv, input shape and storage type, without timing anything. */
  choose(conv: ConvGeometry, xShape: readonly number[], dtype: StorageType = 'f32'): ConvVariant {
    return (
      this.known(convKey(conv, xShape, dtype), this.forced, (v) => variantApplies(v, conv, dtype)) ??
      staticDefault(conv)
    );
  }

  /** Times the candidates for this conv, input shape and storage type unless a choice is known. */
  async tune(conv: ConvLayer, xShape: readonly number[], dtype: StorageType = 'f32'): Promise<ConvVariant> {
    const key = convKey(conv, xShape, dtype);
    const chosen = this.choose(conv, xShape, dtype);
    if (this.choices.has(key) || !this.enabled) return chosen;
    const ctx = this.ctx;
    const x32 = ctx.upload(testData([xShape[0], conv.cin, xShape[2], xShape[3]]), 'tune.input');
    const x = dtype === 'f16' ? toF16(ctx, x32, 'tune.input') : x32;
    try {
      const candidates = CONV_CANDIDATES.filter((v) => variantApplies(v, conv, dtype));
      return await this.pick(key, candidates, VALIDATE_REL[dtype], (v) =>
        conv2d(ctx, x, conv, { variant: v, label: `tune.${variantName(v)}` }),
      );
    } finally {
      ctx.release(x, x === x32 ? undefined : x32);
    }
  }

  /** The variant for this input gradient (dy [n, cout, ho, wo] → the conv's input size), untimed. */
  chooseGrad(conv: ConvGradLayer, dyShape: readonly number[], inputSize: readonly number[]): ConvVariant {
    const applies = (v: ConvVariant) => gradVariantApplies(v, conv, inputSize, dyShape);
    return (
      this.known(gradKey(conv, dyShape, inputSize), this.forcedGrad, applies) ??
      gradStaticDefault(conv, inputSize, dyShape)
    );
  }

  /** Times the input-gradient candidates (GRAD_CANDIDATES) for this shape unless a choice is known. */
  async tuneGrad(conv: ConvGradLayer, dyShape: readonly number[], inputSize: readonly number[]): Promise<ConvVariant> {
    const key = gradKey(conv, dyShape, inputSize);
    const chosen = this.chooseGrad(conv, dyShape, inputSize);
    if (this.choices.has(key) || !this.enabled) return chosen;
    const ctx = this.ctx;
    const dy = ctx.upload(testData(dyShape), 'tune.dy');
    try {
      const candidates = GRAD_CANDIDATES.filter((v) => gradVariantApplies(v, conv, inputSize, dyShape));
      return await this.pick(key, candidates, VALIDATE_REL.f32, (v) =>
        conv2dGradInput(ctx, dy, conv, {
          inputSize: [inputSize[0], inputSize[1]],
          variant: v,
          label: `tune.${variantName(v)}`,
        }),
      );
    } finally {
      ctx.release(dy);
    }
  }

  /** A forced, recorded or stored choice for key that applies; undefined when there is none. */
  private known(
    key: string,
    forced: ConvVariant | undefined,
    applies: (v: ConvVariant) => boolean,
  ): ConvVariant | undefined {
    if (forced && applies(forced)) return forced;
    const recorded = this.choices.get(key);
    if (recorded) return parseVariant(recorded.variant)!;
    const stored = this.enabled ? this.ctx.tuneStore.get(key) : undefined;
    const v = stored ? parseVariant(stored) : undefined;
    return v && applies(v) ? this.record(key, v, 'cached') : undefined;
  }

  /**
   * Validates every candidate against the first (within `tolerance` of the reference's range), times
   * the valid ones (a second round only for those within 1.5× of the best), stores and records the
   * fastest. `run` records one computation and returns its output, which is the caller's to free.
   */
  private async pick(
    key: string,
    candidates: readonly ConvVariant[],
    tolerance: number,
    run: (v: ConvVariant) => GpuTensor,
  ): Promise<ConvVariant> {
    const ctx = this.ctx;
    const readOnce = async (v: ConvVariant) => {
      const y = run(v);
      try {
        return (await ctx.read(y)).data;
      } finally {
        ctx.release(y);
      }
    };
    const ref = await readOnce(candidates[0]);
    const valid: ConvVariant[] = [];
    for (const v of candidates) if (relToMax(await readOnce(v), ref) <= tolerance) valid.push(v);
    const times: Record<string, number> = {};
    for (let r = 0; r < REPS; r++) {
      const best = Math.min(...Object.values(times));
      for (const v of valid) {
        const name = variantName(v);
        if (r > 0 && times[name] > 1.5 * best) continue;
        const ms = await this.time(() => ctx.release(run(v)));
        times[name] = Math.min(times[name] ?? Infinity, ms);
      }
    }
    let best = valid[0] ?? candidates[0];
    for (const v of valid) if (times[variantName(v)] < times[variantName(best)]) best = v;
    ctx.tuneStore.set(key, variantName(best));
    this.timed++;
    return this.record(key, best, 'tuned', times);
  }

  /**
   * Milliseconds of GPU time for the dispatches fn records; wall clock without timestamps, or while
   * someone else's profile is running (which timing our own would end).
   */
  private async time(fn: () => void): Promise<number> {
    const ctx = this.ctx;
    if (!ctx.profiling && ctx.startProfiling()) {
      fn();
      return (await ctx.stopProfiling()).reduce((a, k) => a + k.ns, 0) / 1e6;
    }
    await ctx.sync();
    const t0 = performance.now();
    fn();
    await ctx.sync();
    return performance.now() - t0;
  }

  private record(
    key: string,
    v: ConvVariant,
    source: ConvChoice['source'],
    timesMs?: Record<string, number>,
  ): ConvVariant {
    if (!this.choices.has(key))
      this.choices.set(key, { key, variant: variantName(v), source, ...(timesMs ? { timesMs } : {}) });
    return v;
  }
}
