/**
 * A torchvision ResNet on the GPU: weights uploaded once, forward with named taps.
 *
 * Each conv runs with its BatchNorm, the residual add and the ReLU fused into the conv kernel's
 * epilogue. Where a tap asks for a value that fusion skips over (a conv's raw output, or the last
 * BatchNorm's output before the residual add) that unit is split: the conv runs with a pass-through
 * epilogue, the tap is kept, and channel_affine applies the rest.
 *
 * Tap names are torchvision module names and their values that module's output: `conv1`, `bn1`,
 * `relu`, `maxpool`, `layer1`…`layer4`, `layerX.Y`, `layerX.Y.convK`, `layerX.Y.bnK`,
 * `layerX.Y.downsample` (= `.downsample.1`), `layerX.Y.downsample.0`, `avgpool` ([n, c]), `fc`;
 * and one name torchvision lacks (its blocks call one shared `relu` module several times):
 * `layerX.Y.reluK`, the ReLU output after `bnK` inside a block (K < last).
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { dtypeOf, type GpuTensor, type StorageType } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import {
  conv2d,
  convOutSize,
  identityScaleShift,
  packScaleShift,
  uploadConv,
  DEFAULT_CONV_VARIANT,
  type ConvLayer,
} from '../kernels/conv2d.js';
import { uploadConvGrad, type ConvGradLayer } from '../kernels/conv2d-grad.js';
import { ConvTuner } from '../kernels/conv-tuner.js';
import { channelAffine } from '../kernels/channel-affine.js';
import { linear, type LinearLayer } from '../kernels/linear.js';
import { globalAvgPool, maxPool2d } from '../kernels/pool.js';
import { softmax } from '../kernels/softmax.js';
import { requireF16, toF16 } from '../kernels/precision.js';
import { asBatch, inputTensor, type InputOptions, type ModelInput } from './input.js';
import { convInputs, parseResNet, type ConvBnSpec, type ResNetSpec } from './resnet-spec.js';

interface ConvUnit {
  spec: ConvBnSpec;
  /** conv with BatchNorm fused. */
  fused: ConvLayer;
  /** conv alone (scale 1, shift = conv bias), made on first use by a conv tap. */
  raw?: ConvLayer;
  /** Weights for the input gradient, made on first use by a backward pass. */
  grad?: ConvGradLayer;
  bn: GpuTensor; // packed scale/shift for channel_affine
}

export interface ForwardResult {
  logits: GpuTensor;
  /**
   * The requested taps, now the caller's to release (ctx.release). A tensor may stand under two
   * names (`layer4` and `layer4.1`; `fc` is `logits` itself): releasing it twice is harmless.
   */
  taps: Map<string, GpuTensor>;
}

export class ResNet {
  private units = new Map<string, ConvUnit>();
  private fc: LinearLayer;
  private disposed = false;
  readonly tapNames: readonly string[];
  /**
   * How the scoring forwards (no taps, tuned convs: RISE, Abs-CAM Final, Score-CAM, insertion /
   * deletion, predict) store activations and weights: f32 (the default), or f16 with f32 sums where
   * the adapter has shader-f16 — half the memory traffic, ~1e-3 relative error per layer (bounds in
   * test/precision.test.ts). Passes with taps and the gradient passes stay f32.
   */
  private precisionValue: StorageType = 'f32';

  private constructor(
    readonly ctx: GpuContext,
    readonly spec: ResNetSpec,
  ) {
    const add = (s: ConvBnSpec) => {
      const shift = s.bias ? s.shift.map((v, i) => v + s.bias![i] * s.scale[i]) : s.shift;
      const fused = uploadConv(ctx, s.weight, s.scale, shift, s, s.convName);
      const bnSS = packScaleShift(s.scale, s.shift);
      this.units.set(s.convName, {
        spec: s,
        fused,
        bn: ctx.upload({ shape: [bnSS.length], data: bnSS }, `${s.bnName}.affine`),
      });
    };
    add(spec.stem);
    for (const b of spec.blocks) {
      b.convs.forEach(add);
      if (b.downsample) add(b.downsample);
    }
    this.fc = {
      weight: ctx.upload(spec.fc.weight, 'fc.weight'),
      bias: ctx.upload({ shape: [spec.numClasses], data: spec.fc.bias }, 'fc.bias'),
      inFeatures: spec.featureChannels,
      outFeatures: spec.numClasses,
    };
    this.tapNames = tapNamesOf(spec);
  }

  static fromStateDict(ctx: GpuContext, sd: Map<string, HostTensor>, source?: string): ResNet {
    return new ResNet(ctx, parseResNet(sd, source));
  }

  get numClasses(): number {
    return this.spec.numClasses;
  }

  /** fc weight [classes, features] on the GPU. */
  get fcWeight(): GpuTensor {
    return this.fc.weight;
  }

  /**
   * Frees the model's GPU memory now: every weight, and the tuned and gradient forms made since.
   * The model cannot be used afterwards. (GpuContext.close() frees it too, with everything else.)
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const weights: GpuTensor[] = [this.fc.weight, this.fc.bias];
    const conv = (p: ConvLayer) =>
      weights.push(
        p.weight,
        p.scaleShift,
        ...p.winograd.values(),
        ...(p.half ? [p.half.weight, ...p.half.winograd.values()] : []),
      );
    for (const u of this.units.values()) {
      weights.push(u.bn);
      conv(u.fused);
      if (u.raw) conv(u.raw);
      if (u.grad) weights.push(u.grad.weight, ...(u.grad.transposed?.winograd.values() ?? []));
    }
    this.units.clear();
    this.ctx.destroy(...weights);
  }

  /** Input-gradient weights of a conv unit (BatchNorm scale folded in), uploaded on first use. */
  convGrad(convName: string): ConvGradLayer {
    this.assertAlive();
    const u = this.units.get(convName);
    if (!u) throw new Error(`no conv named ${convName}`);
    u.grad ??= uploadConvGrad(this.ctx, u.spec.weight, u.spec.scale, u.spec, `${convName}.grad`);
    return u.grad;
  }

  /** Checks an input shape [n, c, h, w] against the model; throws a one-line XaiError. */
  checkInput(shape: readonly number[], source = 'input'): void {
    this.assertAlive();
    if (shape.length !== 4)
      throw new XaiError(`${source} has shape [${shape}]: expected [batch, ${this.spec.inChannels}, height, width]`);
    const [n, c, h, w] = shape;
    if (c !== this.spec.inChannels)
      throw new XaiError(`${source} has ${c} channels, the model takes ${this.spec.inChannels}`);
    if (n < 1 || h < 1 || w < 1) throw new XaiError(`${source} has an empty shape [${shape}]`);
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('ResNet used after dispose()');
  }

  checkTaps(taps: readonly string[]): void {
    for (const t of taps) {
      if (!this.tapNames.includes(t)) {
        throw new XaiError(`unknown layer "${t}"; valid names: ${summarizeTaps(this.tapNames)}`);
      }
    }
  }

  get precision(): StorageType {
    return this.precisionValue;
  }

  set precision(p: StorageType) {
    if (p === 'f16') requireF16(this.ctx);
    this.precisionValue = p;
  }

  private get tuner(): ConvTuner {
    return ConvTuner.of(this.ctx);
  }

  /**
   * Tunes every conv of a forward at this input shape (see kernels/conv-tuner.ts): the first call
   * per shape class and adapter times the candidate variants, later ones (and later processes, via
   * the on-disk store) find the choice made. Forwards run without it use the static defaults.
   */
  async prepare(shape: readonly number[]): Promise<void> {
    await this.tuneEach(shape, (conv, n, H, W) =>
      this.tuner.tune(this.units.get(conv.convName)!.fused, [n, conv.weight.shape[1], H, W], this.precision),
    );
  }

  /**
   * Tunes the input gradients of the named convs for a backward from an input of this shape (the
   * tuner's `tuneGrad`): what model/gradient.ts runs next, and nothing else.
   */
  async prepareGradients(shape: readonly number[], convNames: readonly string[]): Promise<void> {
    const wanted = new Set(convNames);
    await this.tuneEach(shape, async (conv, n, H, W) => {
      if (!wanted.has(conv.convName)) return;
      const g = this.convGrad(conv.convName);
      const dyShape = [n, g.cout, convOutSize(H, g.kh, g.stride, g.pad), convOutSize(W, g.kw, g.stride, g.pad)];
      await this.tuner.tuneGrad(g, dyShape, [H, W]);
    });
  }

  /** Calls tune for every conv of an input of this shape (with its input size), in order. */
  private async tuneEach(
    shape: readonly number[],
    tune: (conv: ConvBnSpec, n: number, h: number, w: number) => Promise<unknown>,
  ): Promise<void> {
    this.checkInput(shape);
    const [n, , h, w] = shape;
    const timedBefore = this.tuner.timed;
    for (const { conv, h: H, w: W } of convInputs(this.spec, h, w)) await tune(conv, n, H, W);
    if (this.tuner.timed > timedBefore) {
      // Timing left buffers of every conv shape's size in the pool; free them rather than hold
      // them for the rest of the run (at 224 and batch 32 they came to ~2 GiB).
      await this.ctx.sync();
      this.ctx.pool.trim();
    }
  }

  /**
   * Runs the network on x ([n, c, h, w], ImageNet-normalised). x stays the caller's.
   * `convs: 'direct'` runs every conv as the direct kernel instead of the tuned variant: the
   * gradient passes do, see model/gradient.ts. A forward with no taps and tuned convs runs at
   * this.precision; the logits are f32 either way.
   */
  forward(x: GpuTensor, tapNames: readonly string[] = [], opts: { convs?: 'tuned' | 'direct' } = {}): ForwardResult {
    this.checkInput(x.shape);
    this.checkTaps(tapNames);
    const ctx = this.ctx;
    const direct = opts.convs === 'direct';
    const sink = new TapSink(ctx, new Set(tapNames), x, direct);
    const half = this.precision === 'f16' && tapNames.length === 0 && !direct;
    const stemInput = half ? toF16(ctx, x, 'input.f16') : x;
    let h = sink.replace(stemInput, this.convUnit(stemInput, 'conv1', { relu: true }, sink));
    sink.keep('relu', h);
    h = sink.replace(h, maxPool2d(ctx, h, 3, 2, 1, 'maxpool'));
    sink.keep('maxpool', h);
    for (const b of this.spec.blocks) {
      const input = h;
      let residual = input;
      if (b.downsample) {
        residual = this.convUnit(input, b.downsample.convName, {}, sink);
        sink.keep(`${b.name}.downsample`, residual);
      }
      let t = input;
      b.convs.forEach((c, i) => {
        const last = i === b.convs.length - 1;
        const next = this.convUnit(t, c.convName, { relu: true, residual: last ? residual : undefined }, sink);
        if (!last) sink.keep(`${b.name}.relu${i + 1}`, next);
        if (t !== input) sink.drop(t);
        t = next;
      });
      if (residual !== input) sink.drop(residual);
      sink.drop(input);
      h = t;
      sink.keep(b.name, h);
      const [stage, index] = b.name.split('.');
      if (Number(index) === this.spec.stageDepths[Number(stage.slice(5)) - 1] - 1) sink.keep(stage, h);
    }
    const feat = sink.replace(h, globalAvgPool(ctx, h, 'avgpool'));
    sink.keep('avgpool', feat);
    const logits = sink.replace(feat, linear(ctx, feat, this.fc, 'fc'));
    sink.keep('fc', logits);
    return { logits, taps: sink.taps };
  }

  /**
   * Logits for a batch (a host tensor, a GPU tensor or image sources: model/input.ts), split into
   * chunks that fit the adapter's binding size. One readback per chunk.
   */
  async predict(input: ModelInput, opts?: InputOptions): Promise<HostTensor> {
    return (await this.run(input, false, opts)).logits;
  }

  /** Logits and softmax probabilities for a batch, from one forward per chunk. */
  async classify(input: ModelInput, opts?: InputOptions): Promise<{ logits: HostTensor; probabilities: HostTensor }> {
    const r = await this.run(input, true, opts);
    return { logits: r.logits, probabilities: r.probabilities! };
  }

  private async run(
    input: ModelInput,
    withProbabilities: boolean,
    opts: InputOptions = {},
  ): Promise<{ logits: HostTensor; probabilities?: HostTensor }> {
    // A host batch is uploaded chunk by chunk; anything else is on the GPU first, chunks copied out.
    const host = 'data' in input ? asBatch(input) : undefined;
    const gpu = host ? undefined : await inputTensor(this.ctx, input, opts);
    try {
      const inShape = host?.shape ?? gpu!.x.shape;
      this.checkInput(inShape);
      const [n, c, hh, ww] = inShape;
      const chunk = this.maxBatch(hh, ww);
      const shape = [n, this.numClasses];
      const logits = new Float32Array(n * this.numClasses);
      const probabilities = withProbabilities ? new Float32Array(n * this.numClasses) : undefined;
      const per = c * hh * ww;
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        await this.prepare([m, c, hh, ww]);
        let x: GpuTensor;
        if (host)
          x = this.ctx.upload({ shape: [m, c, hh, ww], data: host.data.subarray(i * per, (i + m) * per) }, 'input');
        else if (m === n) x = gpu!.x;
        else this.ctx.copy(gpu!.x, 4 * i * per, (x = this.ctx.tensor([m, c, hh, ww], 'input')), 0, 4 * m * per);
        const out = this.forward(x).logits;
        const probs = probabilities ? softmax(this.ctx, out) : undefined;
        logits.set((await this.ctx.read(out)).data, i * this.numClasses);
        if (probs) probabilities!.set((await this.ctx.read(probs)).data, i * this.numClasses);
        this.ctx.release(x === gpu?.x ? undefined : x, out, probs);
      }
      return { logits: { shape, data: logits }, probabilities: probabilities && { shape, data: probabilities } };
    } finally {
      if (gpu?.owned) this.ctx.release(gpu.x);
    }
  }

  /**
   * The batch of the scoring forwards (RISE, Abs-CAM Final, Score-CAM, insertion/deletion) when the
   * caller gives none, from the adapter's limits: the largest power of two up to 64 whose working
   * set — about 4 activations of the largest size live at once per image, plus the tuned convs'
   * bounded temporaries — fits in min(maxBufferSize, 512 MiB), and whose largest activation fits
   * one binding. WebGPU does not say how much memory a device has; maxBufferSize is what it does
   * say, and 512 MiB keeps a browser tab or a small GPU comfortable. ResNet-18: 32 at 224, 64 at
   * 112 and below; 16 at 224 where buffers are capped at 256 MiB.
   */
  defaultBatch(h: number, w: number): number {
    const perImage = 4 * 4 * this.largestActivation(h, w);
    const budget = Math.min(this.ctx.limits.maxBufferSize, 512 * 2 ** 20);
    const fit = Math.min(64, Math.floor(budget / perImage), this.maxBatch(h, w));
    return fit < 1 ? 1 : 2 ** Math.floor(Math.log2(fit));
  }

  /** The largest batch whose biggest activation fits one storage binding. */
  maxBatch(h: number, w: number): number {
    const perImage = 4 * this.largestActivation(h, w);
    const limit = Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
    const b = Math.floor(limit / perImage);
    if (b < 1)
      throw new XaiError(
        `an input of ${h}x${w} needs ${(perImage / 2 ** 20).toFixed(0)} MiB per activation, more than this adapter binds (${(limit / 2 ** 20).toFixed(0)} MiB)`,
      );
    return b;
  }

  /** Elements of the largest activation of one image (a conv's output; the pools only shrink them). */
  largestActivation(h: number, w: number): number {
    let largest = 0;
    for (const { conv, h: H, w: W } of convInputs(this.spec, h, w)) {
      const [co, , kh, kw] = conv.weight.shape;
      largest = Math.max(
        largest,
        co * convOutSize(H, kh, conv.stride, conv.pad) * convOutSize(W, kw, conv.stride, conv.pad),
      );
    }
    return largest;
  }

  /** One conv + BatchNorm (+ residual) (+ ReLU), split where taps need the inner values. */
  private convUnit(
    x: GpuTensor,
    convName: string,
    post: { relu?: boolean; residual?: GpuTensor },
    sink: TapSink,
  ): GpuTensor {
    const ctx = this.ctx;
    const u = this.units.get(convName)!;
    const bnName = u.spec.bnName;
    const wantConv = sink.wants(convName);
    const wantBn = sink.wants(bnName);
    const hasPost = !!post.relu || !!post.residual;
    const variant = sink.direct ? DEFAULT_CONV_VARIANT : this.tuner.choose(u.fused, x.shape, dtypeOf(x));
    if (!wantConv && (!wantBn || !hasPost)) {
      const y = conv2d(ctx, x, u.fused, { ...post, label: convName, variant });
      sink.keep(bnName, y);
      return y;
    }
    let bnOut: GpuTensor;
    if (wantConv) {
      u.raw ??= this.rawConv(u);
      const c = conv2d(ctx, x, u.raw, { label: convName, variant });
      sink.keep(convName, c);
      if (!wantBn) return channelAffine(ctx, c, u.bn, { ...post, label: bnName });
      bnOut = channelAffine(ctx, c, u.bn, { label: bnName });
    } else {
      bnOut = conv2d(ctx, x, u.fused, { label: convName, variant });
    }
    sink.keep(bnName, bnOut);
    if (!hasPost) return bnOut;
    return channelAffine(ctx, bnOut, identityScaleShift(ctx, bnOut.shape[1]), { ...post, label: `${bnName}+post` });
  }

  private rawConv(u: ConvUnit): ConvLayer {
    const co = u.spec.weight.shape[0];
    return uploadConv(
      this.ctx,
      u.spec.weight,
      new Float32Array(co).fill(1),
      u.spec.bias ?? new Float32Array(co),
      u.spec,
      `${u.spec.convName}.raw`,
    );
  }
}

/** Collects the wanted taps of one forward and frees every other intermediate. */
class TapSink {
  readonly taps = new Map<string, GpuTensor>();
  private kept = new Set<GpuTensor>();

  constructor(
    private ctx: GpuContext,
    private want: Set<string>,
    private input: GpuTensor,
    readonly direct: boolean,
  ) {}

  wants(name: string): boolean {
    return this.want.has(name);
  }

  keep(name: string, t: GpuTensor): void {
    if (!this.want.has(name)) return;
    this.taps.set(name, t);
    this.kept.add(t);
  }

  /** Frees t unless it is the caller's input or a tap. */
  drop(t: GpuTensor): void {
    if (t !== this.input && !this.kept.has(t)) this.ctx.release(t);
  }

  /** drop(old), return next: for a stage whose input is no longer needed. */
  replace(old: GpuTensor, next: GpuTensor): GpuTensor {
    this.drop(old);
    return next;
  }
}

function tapNamesOf(spec: ResNetSpec): string[] {
  const names = ['conv1', 'bn1', 'relu', 'maxpool'];
  for (let l = 1; l <= 4; l++) {
    names.push(`layer${l}`);
    for (const b of spec.blocks.filter((x) => x.name.startsWith(`layer${l}.`))) {
      names.push(b.name);
      b.convs.forEach((c, i) =>
        names.push(c.convName, c.bnName, ...(i < b.convs.length - 1 ? [`${b.name}.relu${i + 1}`] : [])),
      );
      if (b.downsample) names.push(`${b.name}.downsample`, `${b.name}.downsample.0`, `${b.name}.downsample.1`);
    }
  }
  names.push('avgpool', 'fc');
  return names;
}

function summarizeTaps(names: readonly string[]): string {
  const top = names.filter((n) => !n.includes('.') || /^layer\d\.\d+$/.test(n));
  return `${top.join(', ')} (and layerX.Y.convK / .bnK / .reluK / .downsample inside each block)`;
}
