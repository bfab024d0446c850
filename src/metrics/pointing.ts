/**
 * The pointing game (Zhang et al., ECCV 2016): a hit when the saliency maximum lies within 15 px
 * of the ground-truth region; plus the energy-based variant (Wang et al., Score-CAM): the share of
 * the map's non-negative mass inside the region. A map is one H×W plane, the region a H×W mask.
 * These are two reductions over one small map, done on the CPU.
 */
export const POINTING_TOLERANCE = 15;

export interface PointingResult {
  hit: boolean;
  /** Σ max(s, 0) inside / Σ max(s, 0) (0 for an all-non-positive map). */
  energy: number;
  /** The maximum's position (first in raster order). */
  peak: [number, number];
}

export function pointingGame(
  saliency: ArrayLike<number>,
  region: Uint8Array,
  height: number,
  width: number,
  tolerance = POINTING_TOLERANCE,
): PointingResult {
  let best = 0;
  let inside = 0;
  let total = 0;
  for (let i = 0; i < height * width; i++) {
    if (saliency[i] > saliency[best]) best = i;
    const v = Math.max(saliency[i], 0);
    total += v;
    if (region[i]) inside += v;
  }
  const py = Math.floor(best / width);
  const px = best % width;
  let hit = false;
  for (let y = Math.max(0, py - tolerance); y <= Math.min(height - 1, py + tolerance) && !hit; y++) {
    for (let x = Math.max(0, px - tolerance); x <= Math.min(width - 1, px + tolerance); x++) {
      if (region[y * width + x] && (y - py) ** 2 + (x - px) ** 2 <= tolerance ** 2) {
        hit = true;
        break;
      }
    }
  }
  return { hit, energy: total > 0 ? inside / total : 0, peak: [py, px] };
}

/** Boxes [x0, y0, x1, y1] in pixels of an image of origW × origH, as a mask at the model size. */
export function boxesToRegion(
  boxes: readonly number[][],
  origW: number,
  origH: number,
  height: number,
  width: number,
): Uint8Array {
  const region = new Uint8Array(height * width);
  for (const [x0, y0, x1, y1] of boxes) {
    const ys = Math.max(0, Math.floor((y0 * height) / origH));
    const ye = Math.min(height, Math.ceil((y1 * height) / origH));
    const xs = Math.max(0, Math.floor((x0 * width) / origW));
    const xe = Math.min(width, Math.ceil((x1 * width) / origW));
    for (let y = ys; y < ye; y++) region.fill(1, y * width + xs, y * width + xe);
  }
  return region;
}

/** A mask image (any non-zero pixel is inside) resized to the model size by nearest neighbour. */
export function maskToRegion(
  mask: { width: number; height: number; data: Uint8Array },
  height: number,
  width: number,
): Uint8Array {
  const region = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width));
      const o = (sy * mask.width + sx) * 3;
      region[y * width + x] = mask.data[o] || mask.data[o + 1] || mask.data[o + 2] ? 1 : 0;
    }
  }
  return region;
}
