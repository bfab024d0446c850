/**
 * The conv autotuner: for each (adapter, conv shape, batch bucket) it picks the fastest of the
 * candidate variants (conv2d.ts: direct register tiles, Winograd F(2×2) and F(4×4)) by timing them
 * on the real shape — GPU timestamps where the adapter has them, wall clock otherwise. A candidate
 * is timed only after its output matched the default variant's on the same data within
 * VALIDATE_REL of the output's largest magnitude; one that does not is never chosen.
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
import {
  conv2d, parseVariant, variantApplies, variantName, DEFAULT_CONV_VARIANT,
  type ConvParams, type ConvVariant,
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
/** Largest |candidate − reference| allowed, relative to the reference's max |value|. */
export const VALIDATE_REL = 1e-4;
const REPS = 2;

type Geometry = Pick<ConvParams, 'cin' | 'cout' | 'kh' | 'kw' | 'stride' | 'pad'>;

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

export function convKey(conv: Geometry, xShape: readonly number[]): string {
  const [n, , h, w] = xShape;
  return `conv2d ${conv.kh}x${conv.kw}/s${conv.stride}/p${conv.pad} ${conv.cin}>${conv.cout} ${h}x${w} n${bucket(n)}`;
}

export function staticDefault(conv: Geometry): ConvVariant {
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

  /** A tuner of its own (ConvTuner.of gives the context's shared one; tests make fresh ones). */
  constructor(private ctx: GpuContext) {
    const t = env('WEBGPU_XAI_TUNE');
    this.enabled = !(t === '0' || t === 'off' || t === 'false');
    const f = env('WEBGPU_XAI_CONV');
    if (f) {
      this.forced = parseVariant(f);
      if (!this.forced) {
        throw new XaiError(`WEBGPU_XAI_CONV=${f} is not a conv variant; valid: ${CONV_CANDIDATES.map(variantName).join(', ')}`);
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

  /** The variant for this conv and input shape, without timing anything. */
  choose(conv: Geometry, xShape: readonly number[]): ConvVariant {
    const key = convKey(conv, xShape);
    if (this.forced && variantApplies(this.forced, conv)) return this.forced;
    const known = this.choices.get(key);
    if (known) return parseVariant(known.variant)!;
    const stored = this.enabled ? this.ctx.tuneStore.get(key) : undefined;
    const v = stored ? parseVariant(stored) : undefined;
    if (v && variantApplies(v, conv)) return this.record(key, v, 'cached');
    return staticDefault(conv);
  }

  /** Times the candidates for this conv and input shape unless a choice is known; returns it. */
  async tune(conv: ConvParams, xShape: readonly number[]): Promise<ConvVariant> {
    const key = convKey(conv, xShape);
    const chosen = this.choose(conv, xShape);
    if (this.choices.has(key) || !this.enabled) return chosen;
    const ctx = this.ctx;
    const [n, , h, w] = xShape;
    const data = new Float32Array(n * conv.cin * h * w);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.7311) + 0.25; // fixed, non-zero, both signs
    const x = ctx.upload({ shape: [n, conv.cin, h, w], data }, 'tune.input');
    const candidates = CONV_CANDIDATES.filter((v) => variantApplies(v, conv));
    try {
      const output = async (v: ConvVariant, label: string) => {
        const y = conv2d(ctx, x, conv, { variant: v, label });
        const host = await ctx.read(y);
        ctx.release(y);
        return host;
      };
      const ref = await output(candidates[0], 'tune.reference');
      const valid: ConvVariant[] = [];
      for (const v of candidates) {
        const got = await output(v, `tune.${variantName(v)}`);
        if (relToMax(got.data, ref.data) <= VALIDATE_REL) valid.push(v);
      }
      const times: Record<string, number> = {};
      for (let r = 0; r < REPS; r++) {
        const best = Math.min(...Object.values(times));
        for (const v of valid) {
          // After the first round, a candidate at 1.5× the best so far is out of the running.
          if (r > 0 && times[variantName(v)] > 1.5 * best) continue;
          const ms = await this.time(() => ctx.release(conv2d(ctx, x, conv, { variant: v, label: `tune.${variantName(v)}` })));
          const name = variantName(v);
          times[name] = Math.min(times[name] ?? Infinity, ms);
        }
      }
      let best = valid[0] ?? candidates[0];
      for (const v of valid) if (times[variantName(v)] < times[variantName(best)]) best = v;
      ctx.tuneStore.set(key, variantName(best));
      this.timed++;
      this.record(key, best, 'tuned', times);
      return best;
    } finally {
      ctx.release(x);
    }
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

  private record(key: string, v: ConvVariant, source: ConvChoice['source'], timesMs?: Record<string, number>): ConvVariant {
    if (!this.choices.has(key)) this.choices.set(key, { key, variant: variantName(v), source, ...(timesMs ? { timesMs } : {}) });
    return v;
  }
}
