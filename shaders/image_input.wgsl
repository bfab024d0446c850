// An 8-bit RGBA texture (rgba8unorm or bgra8unorm: textureLoad returns RGBA for both) → one
// ImageNet-normalised [3, outH, outW] image of a batch tensor, exactly as the CPU path
// (src/io/preprocess.ts) does it: PIL's Image.resize(BILINEAR) — a separable triangle filter
// stretched by the downscale factor (antialiasing), weights in fixed point with 22 fractional bits
// computed on the host by the same code, integer sums, rounded and clamped to 8 bits after each
// pass — then ToTensor + Normalize through a [3, 256] table the host computes in float32 op by op
// as torch does. Integer arithmetic and a table lookup: the result is the CPU path's, bit for bit.
//
//   resize_rows: texture [inH, inW] → rows [3, inH, outW] (levels 0..255), filtered along x.
//     One invocation per (y, output x), all three channels.
//   resize_cols: rows → out[offset + c·outH·outW + y·outW + x], filtered along y, normalised.
//     One invocation per output pixel. A pass whose size does not change (PIL skips it) has one
//     weight of exactly 1.0 per pixel, so running it changes nothing.

struct Params {
  inW: u32, inH: u32, outW: u32, outH: u32,
  ksize: u32, offset: u32, _a: u32, _b: u32,
}

const HALF: i32 = 1 << 21; // rounding: add half of 2^22 before the shift
const BITS: u32 = 22u;

fn clip8(s: i32) -> i32 {
  return clamp(s >> BITS, 0, 255);
}

// #include kernel
// bounds[2·o] = first input index of output o, bounds[2·o + 1] = taps; kk[o·ksize + t] = weights.
@group(0) @binding(1) var<storage, read> xBounds: array<i32>;
@group(0) @binding(2) var<storage, read> xWeights: array<i32>;
@group(0) @binding(3) var<storage, read_write> rowsOut: array<i32>;
@group(0) @binding(4) var image: texture_2d<f32>;

@compute @workgroup_size(FLAT_WG) fn resize_rows(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.inH * p.outW) { return; }
  let y = i / p.outW;
  let o = i % p.outW;
  let first = xBounds[2u * o];
  let taps = xBounds[2u * o + 1u];
  var s = vec3<i32>(HALF);
  for (var t = 0; t < taps; t++) {
    let rgb = vec3<i32>(round(textureLoad(image, vec2<i32>(first + t, i32(y)), 0).rgb * 255.0));
    s += rgb * xWeights[o * p.ksize + u32(t)];
  }
  let plane = p.inH * p.outW;
  rowsOut[i] = clip8(s.r);
  rowsOut[plane + i] = clip8(s.g);
  rowsOut[2u * plane + i] = clip8(s.b);
}

@group(0) @binding(1) var<storage, read> yBounds: array<i32>;
@group(0) @binding(2) var<storage, read> yWeights: array<i32>;
@group(0) @binding(3) var<storage, read> rowsIn: array<i32>;
@group(0) @binding(4) var<storage, read> lut: array<f32>; // [3, 256]: (v/255 − mean_c)/std_c
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(FLAT_WG) fn resize_cols(f: Flat) {
  let i = flatIndex(f);
  let outHW = p.outH * p.outW;
  if (i >= outHW) { return; }
  let o = i / p.outW;
  let x = i % p.outW;
  let first = yBounds[2u * o];
  let taps = yBounds[2u * o + 1u];
  let plane = p.inH * p.outW;
  for (var c = 0u; c < 3u; c++) {
    var s = HALF;
    for (var t = 0; t < taps; t++) {
      s += rowsIn[c * plane + u32(first + t) * p.outW + x] * yWeights[o * p.ksize + u32(t)];
    }
    dst[p.offset + c * outHW + i] = lut[c * 256u + u32(clip8(s))];
  }
}
