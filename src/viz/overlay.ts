/** Saliency over an image: the map scaled to its own min..max (as imshow does), jet, alpha-blended. */
import type { RgbImage } from '../io/preprocess.js';
import { JET_LUT } from './colormap.js';

/** `map` holds image.height × image.width values; alpha is the heatmap's weight. */
export function overlayHeatmap(image: RgbImage, map: ArrayLike<number>, alpha = 0.5): RgbImage {
  const n = image.width * image.height;
  if (map.length !== n) throw new Error(`overlay: map has ${map.length} values, image ${image.width}x${image.height}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(255, Math.floor(((map[i] - lo) / span) * 256));
    for (let c = 0; c < 3; c++) {
      out[3 * i + c] = Math.round((1 - alpha) * image.data[3 * i + c] + alpha * JET_LUT[3 * k + c]);
    }
  }
  return { width: image.width, height: image.height, data: out };
}
