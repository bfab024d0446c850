// Images in a browser, decoded by the platform (createImageBitmap): any format the browser reads,
// with no pngjs, zlib or Buffer shims.
//   decodeImageBitmap   bytes or a Blob → ImageBitmap (colour as stored: no colour-space
//                       conversion, alpha not premultiplied — as PIL's convert('RGB') sees it)
//   rgbFromImage        an ImageBitmap, image, canvas or video frame → 8-bit RGB on the host (a
//                       canvas readback), for the CPU path: resizeBilinearPIL, toNormalizedTensor,
//                       overlayHeatmap. The GPU path (gpu/image-input.ts) needs no readback.
// PNGs decode to the same pixels as PIL; a browser's JPEG decoder may differ from libjpeg-turbo's
// by a few levels, as jpeg-js does in Node (README, "Predict").
import { XaiError } from '../errors.js';
import type { RgbImage } from './preprocess.js';

export async function decodeImageBitmap(bytes: Uint8Array | Blob, name = 'image'): Promise<ImageBitmap> {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]);
  if (blob.size === 0) throw new XaiError(`${name}: empty file`);
  try {
    return await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new XaiError(`${name}: the browser cannot decode this image (${(e as Error).message.split('\n')[0]})`);
  }
}

type Drawable = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement | VideoFrame;

/** Width and height of anything a canvas can draw (a video's current frame size). */
export function sourceSize(source: Drawable): { width: number; height: number } {
  if ('displayWidth' in source) return { width: source.displayWidth, height: source.displayHeight };
  if ('videoWidth' in source) return { width: source.videoWidth, height: source.videoHeight };
  if ('naturalWidth' in source) return { width: source.naturalWidth, height: source.naturalHeight };
  return { width: source.width, height: source.height };
}

export function rgbFromImage(source: Drawable): RgbImage {
  const { width, height } = sourceSize(source);
  if (!(width > 0 && height > 0))
    throw new XaiError('the image has no pixels yet (not loaded, or a video before its first frame)');
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!g) throw new XaiError('this browser has no 2D canvas to read the image with');
  g.drawImage(source, 0, 0);
  const rgba = g.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(3 * width * height);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { width, height, data };
}
