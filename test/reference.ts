/** float64 CPU references for the forward kernels (the definitions the tests hold the GPU to). */

export interface Conv2dRef {
  x: ArrayLike<number>;
  xShape: number[]; // [n, ci, h, w]
  w: ArrayLike<number>;
  wShape: number[]; // [co, ci, kh, kw]
  scale: ArrayLike<number>;
  shift: ArrayLike<number>;
  stride: number;
  pad: number;
  residual?: ArrayLike<number>;
  relu?: boolean;
}

/**
 * Every product of a convolution (stride, zero padding): tap(y, x, w, o) with the flat indices of
 * the output [n, co, ho, wo], the input [n, ci, h, w] and the weight [co, ci, kh, kw], and the
 * output channel o, for each tap inside the input; per output, in the order (ci, ky, kx).
 */
function forEachConvTap(
  [n, ci, h, w]: number[],
  [co, , kh, kw]: number[],
  stride: number,
  pad: number,
  tap: (y: number, x: number, w: number, o: number) => void,
): void {
  const ho = convOut(h, kh, stride, pad);
  const wo = convOut(w, kw, stride, pad);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < co; o++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          const y = ((b * co + o) * ho + oy) * wo + ox;
          for (let i = 0; i < ci; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * stride - pad + ky;
                const ix = ox * stride - pad + kx;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                  tap(y, ((b * ci + i) * h + iy) * w + ix, ((o * ci + i) * kh + ky) * kw + kx, o);
              }
        }
}

/** Output size of a conv or pool window of k along a side of `size`. */
const convOut = (size: number, k: number, stride: number, pad: number) => Math.floor((size + 2 * pad - k) / stride) + 1;

export function conv2dRef(a: Conv2dRef): { data: Float64Array; shape: number[] } {
  const [n, , h, w] = a.xShape;
  const [co, , kh, kw] = a.wShape;
  const ho = convOut(h, kh, a.stride, a.pad);
  const wo = convOut(w, kw, a.stride, a.pad);
  const out = new Float64Array(n * co * ho * wo);
  forEachConvTap(a.xShape, a.wShape, a.stride, a.pad, (y, x, wi) => {
    out[y] += a.w[wi] * a.x[x];
  });
  for (let y = 0; y < out.length; y++) {
    const o = Math.floor(y / (ho * wo)) % co;
    const v = out[y] * a.scale[o] + a.shift[o] + (a.residual ? a.residual[y] : 0);
    out[y] = a.relu ? Math.max(v, 0) : v;
  }
  return { data: out, shape: [n, co, ho, wo] };
}

/**
 * Per output of a k×k / stride s / pad p max-pool over x [n, c, h, w]: the offset in its plane of
 * the window's first maximum in raster order (PyTorch's tie rule). Output o is in plane ⌊o / (ho·wo)⌋.
 */
function maxPoolArgmax(x: ArrayLike<number>, [n, c, h, w]: number[], k: number, s: number, p: number) {
  const ho = convOut(h, k, s, p);
  const wo = convOut(w, k, s, p);
  const at = new Int32Array(n * c * ho * wo);
  for (let pl = 0; pl < n * c; pl++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let best = -Infinity;
        let arg = -1;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const iy = oy * s - p + ky;
            const ix = ox * s - p + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(pl * h + iy) * w + ix];
            if (v > best || arg < 0) {
              best = v;
              arg = iy * w + ix;
            }
          }
        at[(pl * ho + oy) * wo + ox] = arg;
      }
  return { at, plane: (o: number) => Math.floor(o / (ho * wo)) * h * w };
}

export function maxPoolRef(x: ArrayLike<number>, shape: number[], k: number, s: number, p: number): Float64Array {
  const { at, plane } = maxPoolArgmax(x, shape, k, s, p);
  return Float64Array.from(at, (a, o) => x[plane(o) + a]);
}

export function avgPoolRef(x: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array(n * c);
  for (let pl = 0; pl < n * c; pl++) {
    let s = 0;
    for (let i = 0; i < h * w; i++) s += x[pl * h * w + i];
    out[pl] = s / (h * w);
  }
  return out;
}

export function linearRef(
  x: ArrayLike<number>,
  n: number,
  inF: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  outF: number,
): Float64Array {
  const out = new Float64Array(n * outF);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      out[r * outF + o] = s;
    }
  return out;
}

export function softmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[r * cols + i]);
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(x[r * cols + i] - m);
    for (let i = 0; i < cols; i++) out[r * cols + i] = Math.exp(x[r * cols + i] - m) / s;
  }
  return out;
}

/** Input gradient of y = conv(x, w)·scale (+ shift): dx = Σ w·scale·dy, then (+ addend) (· [mask > 0]). */
export function conv2dGradRef(a: {
  dy: ArrayLike<number>;
  dyShape: number[];
  w: ArrayLike<number>;
  wShape: number[];
  scale: ArrayLike<number>;
  stride: number;
  pad: number;
  inputSize: [number, number];
  addend?: ArrayLike<number>;
  mask?: ArrayLike<number>;
}): Float64Array {
  const n = a.dyShape[0];
  const ci = a.wShape[1];
  const [h, w] = a.inputSize;
  const dx = new Float64Array(n * ci * h * w);
  forEachConvTap([n, ci, h, w], a.wShape, a.stride, a.pad, (y, x, wi, o) => {
    dx[x] += a.w[wi] * (a.dy[y] * a.scale[o]);
  });
  for (let i = 0; i < dx.length; i++) {
    if (a.addend) dx[i] += a.addend[i];
    if (a.mask && !(a.mask[i] > 0)) dx[i] = 0;
  }
  return dx;
}

/** maxpool input gradient: each window sends dy to its first maximum (PyTorch's tie rule). */
export function maxPoolGradRef(
  x: ArrayLike<number>,
  shape: number[],
  dy: ArrayLike<number>,
  k: number,
  s: number,
  p: number,
  mask = false,
): Float64Array {
  const { at, plane } = maxPoolArgmax(x, shape, k, s, p);
  const dx = new Float64Array(x.length);
  at.forEach((a, o) => {
    dx[plane(o) + a] += dy[o];
  });
  if (mask) for (let i = 0; i < dx.length; i++) if (!(x[i] > 0)) dx[i] = 0;
  return dx;
}

/**
 * PyTorch F.interpolate(mode='bilinear') of one plane, in float64: align_corners=False (half-pixel
 * centres, clamped at 0) by default, or align_corners=True (source = dst·(in − 1)/(out − 1), 0 for
 * an output of 1), as UpsamplingBilinear2d.
 */
export function upsampleRef(
  src: ArrayLike<number>,
  h: number,
  w: number,
  H: number,
  W: number,
  alignCorners = false,
): Float64Array {
  const out = new Float64Array(H * W);
  const src1 = alignCorners
    ? (d: number, inSize: number, outSize: number) => (outSize > 1 ? (d * (inSize - 1)) / (outSize - 1) : 0)
    : (d: number, inSize: number, outSize: number) => Math.max((d + 0.5) * (inSize / outSize) - 0.5, 0);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const sy = src1(y, h, H);
      const sx = src1(x, w, W);
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const y1 = Math.min(y0 + 1, h - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const ly = sy - y0;
      const lx = sx - x0;
      const at = (yy: number, xx: number) => src[yy * w + xx];
      out[y * W + x] =
        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
    }
  return out;
}

export function minMaxRef(v: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    lo = Math.min(lo, v[i]);
    hi = Math.max(hi, v[i]);
  }
  return Float64Array.from(v, (x) => (x - lo) / (hi - lo + 1e-8));
}
