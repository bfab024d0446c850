// Saliency map plumbing, per plane of a [planes, H, W] stack.
//
//   upsample: bilinear resize [planes, h, w] → [planes, H, W] as PyTorch's F.interpolate(mode=
//     'bilinear', align_corners=False): source = (dst + 0.5)·(in/out) − 0.5, clamped at 0, the
//     upper neighbour clamped to the edge. With ALIGN_CORNERS, as align_corners=True (PyTorch's
//     UpsamplingBilinear2d, which pytorch-grad-cam's Score-CAM uses for its masks): source =
//     dst·(in − 1)/(out − 1), 0 when out = 1, so the corner pixels of input and output coincide.
//     Planes are read from `srcOffset` on; with SCALE each plane is multiplied by
//     scale[scaleOffset + plane] first (Abs-CAM Final's w_k·A_k).
//   minmax_normalize: (v − min) / (max − min + 1e-8) per plane, in place. One workgroup per plane:
//     each invocation reduces a strided slice, then a tree reduction in workgroup memory.
//   mask_image: out[m, c, y, x] = image[imageOffset + (c, y, x)] · mask[m, y, x] for 3 channels.
//   weighted_sum: acc[px] (+)= Σ_m score[scoreOffset + m] · maps[m, px]; ACCUMULATE adds to what
//     acc holds, RELU clamps the total at 0 (set on the last call).

override SCALE: bool = false;
override ALIGN_CORNERS: bool = false;
override ACCUMULATE: bool = false;
override RELU: bool = false;

struct Params {
  planes: u32, h: u32, w: u32, outH: u32,
  outW: u32, srcOffset: u32, scaleOffset: u32, _p: u32,
}

// #include kernel
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(FLAT_WG) fn upsample(f: Flat) {
  let i = flatIndex(f);
  let outHW = p.outH * p.outW;
  if (i >= p.planes * outHW) { return; }
  let plane = i / outHW;
  let r = i % outHW;
  var sy: f32;
  var sx: f32;
  if (ALIGN_CORNERS) {
    // PyTorch's scale (in − 1)/(out − 1), computed first, then times the destination index.
    let scaleY = select(0.0, f32(p.h - 1u) / f32(p.outH - 1u), p.outH > 1u);
    let scaleX = select(0.0, f32(p.w - 1u) / f32(p.outW - 1u), p.outW > 1u);
    sy = f32(r / p.outW) * scaleY;
    sx = f32(r % p.outW) * scaleX;
  } else {
    sy = max((f32(r / p.outW) + 0.5) * (f32(p.h) / f32(p.outH)) - 0.5, 0.0);
    sx = max((f32(r % p.outW) + 0.5) * (f32(p.w) / f32(p.outW)) - 0.5, 0.0);
  }
  let y0 = min(u32(sy), p.h - 1u);
  let x0 = min(u32(sx), p.w - 1u);
  let y1 = min(y0 + 1u, p.h - 1u);
  let x1 = min(x0 + 1u, p.w - 1u);
  let ly = sy - f32(y0);
  let lx = sx - f32(x0);
  let b = p.srcOffset + plane * p.h * p.w;
  let top = (1.0 - lx) * src[b + y0 * p.w + x0] + lx * src[b + y0 * p.w + x1];
  let bottom = (1.0 - lx) * src[b + y1 * p.w + x0] + lx * src[b + y1 * p.w + x1];
  var v = (1.0 - ly) * top + ly * bottom;
  if (SCALE) { v *= scale[p.scaleOffset + plane]; }
  dst[i] = v;
}

@group(0) @binding(1) var<storage, read_write> planes: array<f32>;
var<workgroup> lo: array<f32, 256>;
var<workgroup> hi: array<f32, 256>;

@compute @workgroup_size(256)
fn minmax_normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = wid.x + wid.y * nwg.x;
  if (plane >= p.planes) { return; } // uniform per workgroup, so the barriers below stay uniform
  let n = p.h * p.w;
  let base = plane * n;
  var a = 3.402823e38;
  var b = -3.402823e38;
  for (var i = t; i < n; i += 256u) {
    let v = planes[base + i];
    a = min(a, v);
    b = max(b, v);
  }
  lo[t] = a;
  hi[t] = b;
  for (var s = 128u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (t < s) {
      lo[t] = min(lo[t], lo[t + s]);
      hi[t] = max(hi[t], hi[t + s]);
    }
  }
  workgroupBarrier();
  let mn = lo[0];
  let range = hi[0] - mn + 1e-8;
  for (var i = t; i < n; i += 256u) {
    planes[base + i] = (planes[base + i] - mn) / range;
  }
}

@group(0) @binding(1) var<storage, read> image: array<f32>;
@group(0) @binding(2) var<storage, read> masks: array<f32>;
@group(0) @binding(3) var<storage, read_write> masked: array<f32>;

@compute @workgroup_size(FLAT_WG) fn mask_image(f: Flat) {
  let i = flatIndex(f);
  let hw = p.h * p.w;
  if (i >= p.planes * 3u * hw) { return; }
  let m = i / (3u * hw);
  let r = i % (3u * hw); // c·hw + pixel
  masked[i] = image[p.srcOffset + r] * masks[m * hw + r % hw];
}

@group(0) @binding(1) var<storage, read> maps: array<f32>;
@group(0) @binding(2) var<storage, read> score: array<f32>;
@group(0) @binding(3) var<storage, read_write> acc: array<f32>;

@compute @workgroup_size(FLAT_WG) fn weighted_sum(f: Flat) {
  let px = flatIndex(f);
  let hw = p.h * p.w;
  if (px >= hw) { return; }
  var s = 0.0;
  if (ACCUMULATE) { s = acc[px]; }
  for (var m = 0u; m < p.planes; m++) {
    s += score[p.scaleOffset + m] * maps[m * hw + px];
  }
  if (RELU) { s = max(s, 0.0); }
  acc[px] = s;
}
