/**
 * Matplotlib's `jet` colormap as a 256-entry lookup table (the original project shows saliency with
 * `imshow(map, cmap='jet', alpha=0.5)` over the image): piecewise-linear channels from
 * matplotlib's segment data, sampled at 256 points as its LinearSegmentedColormap does.
 */
const JET: Record<'r' | 'g' | 'b', [number, number][]> = {
  r: [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  g: [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  b: [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
};

function channel(points: [number, number][], x: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (x <= x1) {
      const [x0, y0] = points[i - 1];
      return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return points[points.length - 1][1];
}

/** jet(i / 255) as RGB bytes, i = 0..255. */
export const JET_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    lut[3 * i] = Math.round(255 * channel(JET.r, x));
    lut[3 * i + 1] = Math.round(255 * channel(JET.g, x));
    lut[3 * i + 2] = Math.round(255 * channel(JET.b, x));
  }
  return lut;
})();
