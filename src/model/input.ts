/**
 * What predict, the explainers and the causal metrics take as images: a host tensor (uploaded),
 * a GPU tensor (used where it is, still the caller's), or image sources — GPU textures, bitmaps,
 * images, canvases, video frames — resized and normalised on the GPU (kernels/image-source.ts).
 * Tensors are ImageNet-normalised [n, 3, H, W] (or [3, H, W]).
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { imagesToTensor, isImageSource, type ImageSize, type ImageSource } from '../kernels/image-source.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';

export type ModelInput = HostTensor | GpuTensor | ImageSource | readonly ImageSource[];

export interface InputOptions {
  /** The size image sources are resized to (default 224×224); tensors keep theirs. */
  inputSize?: ImageSize;
}

/** The input as a GPU tensor [n, 3, H, W]; `owned`: made here, so the caller of this releases it. */
export async function inputTensor(
  ctx: GpuContext,
  input: ModelInput,
  opts: InputOptions = {},
): Promise<{ x: GpuTensor; owned: boolean }> {
  if (Array.isArray(input) || isImageSource(input))
    return { x: await imagesToTensor(ctx, input as ImageSource | ImageSource[], opts.inputSize), owned: true };
  const t = input as HostTensor | GpuTensor;
  if (!('data' in t)) {
    if (!('buffer' in t)) throw new XaiError('the input is not a tensor, a GPU tensor or an image source');
    return { x: t.shape.length === 3 ? { ...t, shape: [1, ...t.shape] } : t, owned: false };
  }
  return { x: ctx.upload(asBatch(t as HostTensor), 'image'), owned: true };
}

/** Runs fn on the input as a GPU tensor, then releases it if it was made here. */
export async function withInput<T>(
  ctx: GpuContext,
  input: ModelInput,
  opts: InputOptions,
  fn: (x: GpuTensor) => Promise<T>,
): Promise<T> {
  const { x, owned } = await inputTensor(ctx, input, opts);
  try {
    return await fn(x);
  } finally {
    if (owned) ctx.release(x);
  }
}

/** A host image [3, H, W] as a batch of one; anything else as it is. */
export function asBatch(t: HostTensor): HostTensor {
  return t.shape.length === 3 ? { shape: [1, ...t.shape], data: t.data } : t;
}
