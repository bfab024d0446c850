// The Node-only side of image I/O: read an image file into a model-ready tensor, write a PNG.
import { readFileBytes, writeFileAtomic } from './files.js';
import { decodeImage, encodePng, resizeBilinearPIL, toNormalizedTensor, type RgbImage } from './image.js';
import type { HostTensor } from './tensor.js';

/**
 * A PNG or JPEG file as torchvision's `Normalize(ToTensor(Resize((height, width))(img)))` sees
 * it: [1, 3, height, width] float32, ImageNet-normalised.
 */
export function loadImageTensor(path: string, size: { height: number; width: number }): HostTensor {
  const img = decodeImage(readFileBytes(path), path);
  return toNormalizedTensor(resizeBilinearPIL(img, size.width, size.height));
}

/** Writes `img` as an RGB PNG (atomically, creating the parent folders). */
export function saveRgbPng(path: string, img: RgbImage): void {
  writeFileAtomic(path, encodePng(img));
}
