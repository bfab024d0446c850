// head_grad: gradient of one class logit per image with respect to the last feature map A
// ([n, k, h, w]) through global average pooling and the fc layer:
//
//   ∂logit[n, c_n] / ∂A[n, k, i, j] = W[c_n, k] / (h·w)
//
// with c_n read from `classes` per image. MASK multiplies by [A > 0] (A came out of a ReLU and the
// gradient flows on through it); then binding 2 is A, else it is not read.
override MASK: bool = false;

struct Params { batch: u32, channels: u32, hw: u32, classes: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> fcWeight: array<f32>; // [classes, channels]
@group(0) @binding(2) var<storage, read> classes: array<u32>;  // [batch]
@group(0) @binding(3) var<storage, read> act: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(FLAT_WG) fn main(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.batch * p.channels * p.hw) { return; }
  let k = (i / p.hw) % p.channels;
  let n = i / (p.hw * p.channels);
  var g = fcWeight[classes[n] * p.channels + k] / f32(p.hw);
  if (MASK && act[i] <= 0.0) { g = 0.0; }
  grad[i] = g;
}
