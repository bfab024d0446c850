/**
 * A contact sheet of masks, as the original project's visualize_masks_and_masked_images shows them: the masks
 * in grey on the first row and, given an image, the image times each mask on the second.
 */
import type { RgbImage } from '../io/preprocess.js';

const GAP = 4;

/** masks: count × h × w values in [0, 1]; image (h × w) optional. */
export function maskSheet(masks: Float32Array, count: number, h: number, w: number, image?: RgbImage): RgbImage {
  const rows = image ? 2 : 1;
  const width = count * w + (count + 1) * GAP;
  const height = rows * h + (rows + 1) * GAP;
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let m = 0; m < count; m++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Math.min(1, Math.max(0, masks[(m * h + y) * w + x]));
        const x0 = GAP + m * (w + GAP) + x;
        const top = ((GAP + y) * width + x0) * 3;
        data.fill(Math.round(255 * v), top, top + 3);
        if (image) {
          const bottom = ((2 * GAP + h + y) * width + x0) * 3;
          for (let c = 0; c < 3; c++) data[bottom + c] = Math.round(image.data[(y * w + x) * 3 + c] * v);
        }
      }
    }
  }
  return { width, height, data };
}
