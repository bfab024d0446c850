// Helpers shared by the PNG and JPEG decoders.
import { XaiError } from '../errors.js';

export const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PIL refuses images over 2 * Image.MAX_IMAGE_PIXELS (its decompression-bomb check); so do we. */
export const MAX_PIXELS = 2 * 89478485;

export function checkPixelCount(width: number, height: number, name: string): void {
  if (width === 0 || height === 0) throw new XaiError(`${name}: the image is ${width}x${height} pixels`);
  if (width * height > MAX_PIXELS) {
    throw new XaiError(
      `${name}: the image is ${width}x${height} = ${width * height} pixels, over the limit of ${MAX_PIXELS} (a decompression bomb?)`,
    );
  }
}

export const startsWith = (b: Uint8Array, magic: number[]): boolean =>
  b.length >= magic.length && magic.every((m, i) => b[i] === m);

/** A library's error as one line of text. */
export const oneLine = (e: unknown): string =>
  String((e as Error)?.message ?? e)
    .replace(/\s+/g, ' ')
    .trim();
