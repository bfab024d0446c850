/**
 * A host's images as model input, without a CPU round trip: a GPUTexture (rgba8unorm or
 * bgra8unorm, with TEXTURE_BINDING usage) is read where it is; an ImageBitmap, <img>, canvas,
 * <video> or VideoFrame is first copied into a texture of ours by the queue
 * (copyExternalImageToTexture, GPU to GPU where the browser can). Then kernels/image-input.ts
 * resizes and normalises on the GPU. Several sources make a batch.
 */
import { XaiError } from '../errors.js';
import { sourceSize } from '../io/browser-image.js';
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { textureToTensor } from './image-input.js';

export type ImageSource =
  | GPUTexture
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | VideoFrame;

export interface ImageSize {
  height: number;
  width: number;
}

/** What image sources are resized to when a call gives no `inputSize` (the CLI's default). */
export const DEFAULT_INPUT_SIZE: ImageSize = { height: 224, width: 224 };

const TEXTURE_FORMATS: readonly GPUTextureFormat[] = ['rgba8unorm', 'bgra8unorm'];

export function isTexture(s: unknown): s is GPUTexture {
  return typeof s === 'object' && s !== null && typeof (s as GPUTexture).createView === 'function' && 'format' in s;
}

/** Whether `s` is an image source (a texture or something copyExternalImageToTexture takes). */
export function isImageSource(s: unknown): s is ImageSource {
  if (isTexture(s)) return true;
  const kinds = [
    'ImageBitmap',
    'HTMLImageElement',
    'HTMLCanvasElement',
    'OffscreenCanvas',
    'HTMLVideoElement',
    'VideoFrame',
  ];
  return kinds.some(
    (k) =>
      typeof (globalThis as Record<string, unknown>)[k] === 'function' &&
      s instanceof ((globalThis as Record<string, unknown>)[k] as new () => object),
  );
}

/** The sources, resized and ImageNet-normalised, as a new [n, 3, H, W] tensor (the caller's to release). */
export async function imagesToTensor(
  ctx: GpuContext,
  sources: ImageSource | readonly ImageSource[],
  size: ImageSize = DEFAULT_INPUT_SIZE,
): Promise<GpuTensor> {
  const list = Array.isArray(sources) ? sources : [sources as ImageSource];
  if (list.length === 0) throw new XaiError('no images given');
  const { height, width } = size;
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new XaiError(`cannot resize to ${width}x${height}: the size must be positive integers`);
  }
  const textures = await Promise.all(
    list.map((s, i) => (isTexture(s) ? checkTexture(s, i) : copyToTexture(ctx, s, i))),
  );
  const ours = textures.filter((t, i) => t !== list[i]);
  const out = ctx.tensor([list.length, 3, height, width], 'image');
  textures.forEach((t, i) => textureToTensor(ctx, t.createView(), t.width, t.height, out, i));
  // Submitted now: the host's texture is read in order with the host's own queue work, and our
  // copies may be destroyed (submitted work keeps what it uses).
  ctx.flush();
  for (const t of ours) t.destroy();
  return out;
}

function checkTexture(t: GPUTexture, i: number): GPUTexture {
  if (!TEXTURE_FORMATS.includes(t.format))
    throw new XaiError(`image ${i}: a ${t.format} texture; the model reads ${TEXTURE_FORMATS.join(' or ')}`);
  if (t.dimension !== '2d' || !(t.usage & GPUTextureUsage.TEXTURE_BINDING)) {
    throw new XaiError(`image ${i}: the texture must be 2-D with TEXTURE_BINDING usage`);
  }
  return t;
}

/**
 * A texture of ours holding the source's pixels. Where the queue cannot copy a source directly
 * (Chromium 156 on SwiftShader refuses every VideoFrame: "Failed to copy content from video
 * element"), it goes through createImageBitmap first, which the browser also does on the GPU
 * where it can.
 */
async function copyToTexture(
  ctx: GpuContext,
  source: Exclude<ImageSource, GPUTexture>,
  i: number,
): Promise<GPUTexture> {
  const { width, height } = sourceSize(source);
  if (!(width > 0 && height > 0))
    throw new XaiError(`image ${i} has no pixels yet (not loaded, or a video before its first frame)`);
  const texture = ctx.device.createTexture({
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    label: 'image.source',
  });
  const copy = (from: GPUCopyExternalImageSource) =>
    ctx.device.queue.copyExternalImageToTexture({ source: from }, { texture, premultipliedAlpha: false }, [
      width,
      height,
    ]);
  try {
    copy(source);
  } catch {
    try {
      copy(await createImageBitmap(source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' }));
    } catch (e) {
      texture.destroy();
      throw new XaiError(`image ${i}: cannot copy it to the GPU (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return texture;
}
