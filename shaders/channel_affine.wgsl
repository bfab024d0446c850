// channel_affine: y = act(x · scale[c] + shift[c] + res), elementwise over NCHW, c = channel of the
// element. Used where a BatchNorm cannot be fused into the conv before it because that conv's
// output itself is wanted (a tap at `layerX.Y.convK`).

override RELU: bool = false;
override RESIDUAL: bool = false;

struct Params { total: u32, channels: u32, hw: u32, _p0: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scaleShift: array<f32>; // [channels4·4] scale, then shift
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(FLAT_WG) fn main(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.total) { return; }
  let c = (i / p.hw) % p.channels;
  let padded = (p.channels + 3u) / 4u * 4u;
  var v = x[i] * scaleShift[c] + scaleShift[padded + c];
  if (RESIDUAL) { v += res[i]; }
  if (RELU) { v = max(v, 0.0); }
  y[i] = v;
}
