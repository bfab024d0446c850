/**
 * Gradients on the GPU: ∂logit[n, c_n] / ∂A for a tap A of a ResNet, by a backward pass through
 * the layers after the tap (head, then residual blocks from last to first, then the stem if asked).
 *
 * Only what the tap needs is kept: the forward records the activations of the blocks after the tap
 * (their inputs and post-ReLU values, for the ReLU masks), nothing before it; each activation and
 * gradient is freed as soon as the backward is past it. BatchNorm is folded into the conv weights
 * of the backward, ReLU is a mask fused into the kernel that produces the gradient, the residual
 * sum is an addend fused the same way.
 *
 * Tap names: block outputs (`layer4`, `layer3.1`, ...), `maxpool`, `relu` (the stem's ReLU) and
 * `input` (the image).
 */
import { XaiError } from '../errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { conv2dGradInput, type ConvGradOptions } from '../kernels/conv2d-grad.js';
import { ConvTuner } from '../kernels/conv-tuner.js';
import { headGrad } from '../kernels/head-grad.js';
import { maxPool2dGrad } from '../kernels/pool.js';
import { argmaxRows } from './argmax.js';
import type { ResNet } from './resnet.js';
import type { BlockSpec } from './resnet-spec.js';

export interface GradientResult {
  /** [n, classes] */
  logits: GpuTensor;
  /** The tap's value A (for `input`: x itself, still the caller's). */
  activation: GpuTensor;
  /** ∂logit[n, classes[n]] / ∂A, same shape as A. */
  gradient: GpuTensor;
  /** The class used per image. */
  classes: Uint32Array;
}

export function gradientTapNames(model: ResNet): string[] {
  const blocks = model.spec.blocks.map((b) => b.name);
  return ['input', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', ...blocks];
}

/** The block whose output a tap name denotes (`layer3` → its last block), or undefined for stem taps. */
function tapBlockIndex(model: ResNet, tap: string): number | undefined {
  const blocks = model.spec.blocks;
  const stage = /^layer([1-4])$/.exec(tap);
  if (stage) return blocks.map((b) => b.name.startsWith(`layer${stage[1]}.`)).lastIndexOf(true);
  const i = blocks.findIndex((b) => b.name === tap);
  return i >= 0 ? i : undefined;
}

/**
 * Runs the forward on x [n, c, h, w] and the backward to `tap` for one class per image
 * (`classes[n]`; default: each image's top-1 class).
 */
export async function gradientAt(
  model: ResNet,
  x: GpuTensor,
  tap: string,
  classes?: ArrayLike<number>,
): Promise<GradientResult> {
  const ctx = model.ctx;
  const blocks = model.spec.blocks;
  const valid = gradientTapNames(model);
  if (!valid.includes(tap))
    throw new XaiError(`unknown layer "${tap}" for gradients; valid names: ${valid.join(', ')}`);
  const n = x.shape[0];
  const tapBlock = tapBlockIndex(model, tap);
  const first = tapBlock === undefined ? 0 : tapBlock + 1; // first block the backward goes through

  // The convs the backward goes through, their input gradients tuned (once per shape) first.
  const through = blocks.slice(first).flatMap((b) => [...b.convs, ...(b.downsample ? [b.downsample] : [])]);
  await model.prepareGradients(
    x.shape,
    [...through, ...(tap === 'input' ? [model.spec.stem] : [])].map((c) => c.convName),
  );

  // Stem taps need maxpool's output (layer1.0's input) and, below it, the ReLU output it pooled.
  const want = tapBlock !== undefined ? [blocks[tapBlock].name] : tap === 'maxpool' ? ['maxpool'] : ['maxpool', 'relu'];
  for (let i = first; i < blocks.length; i++) {
    want.push(blocks[i].name);
    blocks[i].convs.slice(0, -1).forEach((_, k) => want.push(`${blocks[i].name}.relu${k + 1}`));
  }
  // The forward runs every conv as the direct kernel, whatever the tuner chose for scoring passes:
  // deep in a float32 ResNet some pre-activations sit within rounding of 0, and a change of
  // summation order (Winograd's) flips their ReLU and moves the gradient by up to 10% of its
  // maximum (measured on the ResNet-50 golden fixture at layer3 and layer4.1; PyTorch's own float32
  // is 2–3% off float64 at layer3.0). One forward costs little next to the methods' many.
  const { logits, taps } = model.forward(x, want, { convs: 'direct' });
  const acts = new Map(taps);

  let cls: Uint32Array;
  if (classes) {
    const list = Array.from(classes);
    if (list.length !== n) throw new XaiError(`${list.length} classes given for ${n} images`);
    const bad = list.find((c) => !Number.isInteger(c) || c < 0 || c >= model.numClasses);
    if (bad !== undefined)
      throw new XaiError(`class ${bad} is out of range: the model has classes 0..${model.numClasses - 1}`);
    cls = Uint32Array.from(list);
  } else {
    cls = argmaxRows(await ctx.read(logits));
  }
  const clsBuffer = ctx.upload({ shape: [n], data: cls }, 'classes');

  const inputOf = (i: number) => (i === 0 ? acts.get('maxpool')! : acts.get(blocks[i - 1].name)!);
  const last = blocks[blocks.length - 1];
  let g = headGrad(ctx, model.fcWeight, clsBuffer.buffer, acts.get(last.name)!, { mask: first < blocks.length });
  for (let i = blocks.length - 1; i >= first; i--) {
    const next = blockBackward(model, blocks[i], g, inputOf(i), acts, i > first);
    ctx.release(g);
    g = next;
  }
  let activation: GpuTensor;
  if (tapBlock !== undefined) activation = acts.get(blocks[tapBlock].name)!;
  else if (tap === 'maxpool') activation = acts.get('maxpool')!;
  else {
    const relu = acts.get('relu')!;
    const dRelu = maxPool2dGrad(ctx, relu, g, { mask: tap === 'input', label: 'maxpool.grad' });
    ctx.release(g);
    g = dRelu;
    activation = relu;
    if (tap === 'input') {
      const stem = model.spec.stem;
      g = gradInput(model, dRelu, stem.convName, { inputSize: [x.shape[2], x.shape[3]], label: 'conv1.grad' });
      ctx.release(dRelu);
      activation = x;
    }
  }
  const keep = new Set([activation, logits]);
  ctx.release(clsBuffer, ...[...acts.values()].filter((t) => !keep.has(t)));
  return { logits, activation, gradient: g, classes: cls };
}

/** The input gradient of one conv of the model, computed as the tuner chose for its shape. */
function gradInput(model: ResNet, dy: GpuTensor, convName: string, opts: ConvGradOptions): GpuTensor {
  const conv = model.convGrad(convName);
  const variant = ConvTuner.of(model.ctx).chooseGrad(conv, dy.shape, opts.inputSize);
  return conv2dGradInput(model.ctx, dy, conv, { ...opts, variant });
}

/**
 * dz (gradient at the block's pre-ReLU sum, already masked) → gradient at the block input x,
 * multiplied by [x > 0] when `maskInput` (the backward goes on into the block that produced x).
 */
function blockBackward(
  model: ResNet,
  b: BlockSpec,
  dz: GpuTensor,
  x: GpuTensor,
  acts: Map<string, GpuTensor>,
  maskInput: boolean,
): GpuTensor {
  const ctx = model.ctx;
  const size = (t: GpuTensor): [number, number] => [t.shape[2], t.shape[3]];
  const identityGrad = b.downsample
    ? gradInput(model, dz, b.downsample.convName, { inputSize: size(x), label: `${b.name}.downsample.grad` })
    : dz;
  let g = dz;
  for (let k = b.convs.length - 1; k >= 0; k--) {
    const input = k === 0 ? x : acts.get(`${b.name}.relu${k}`)!;
    const mask = k === 0 ? (maskInput ? x : undefined) : input;
    const next = gradInput(model, g, b.convs[k].convName, {
      inputSize: size(input),
      mask,
      addend: k === 0 ? identityGrad : undefined,
      label: `${b.convs[k].convName}.grad`,
    });
    if (g !== dz) ctx.release(g);
    g = next;
  }
  if (identityGrad !== dz) ctx.release(identityGrad);
  return g;
}
