// Class activation map reductions over a feature map A [n, k, h, w] and its gradient G.
//
//   channel_weights: one invocation per (n, k), summing over the h·w plane in order:
//     MODE 0 (Abs-CAM):   w = mean |G|
//     MODE 1 (Grad-CAM):  w = mean G
//     MODE 2 (Grad-CAM++, closed form with exp(score)): α = G² / (2G² + (Σ_hw A)·G³ + 1e-6),
//                         0 where G = 0;  w = Σ_hw α·max(G, 0)  (eps 1e-6 as pytorch-grad-cam)
//   combine: one invocation per (n, pixel): cam = Σ_k w[n, k]·A[n, k, pixel], ReLU if RELU.
//            weightStride 0 lets one weight vector serve every image.

override MODE: u32 = 0u;
override RELU: bool = false;

struct Params { batch: u32, channels: u32, hw: u32, weightStride: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> act: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;     // channel_weights: G
@group(0) @binding(2) var<storage, read> weights: array<f32>;  // combine: w [n or 1, k]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(FLAT_WG) fn channel_weights(f: Flat) {
  let nk = flatIndex(f);
  if (nk >= p.batch * p.channels) { return; }
  let base = nk * p.hw;
  var s = 0.0;
  if (MODE == 2u) {
    var sumA = 0.0;
    for (var i = 0u; i < p.hw; i++) { sumA += act[base + i]; }
    for (var i = 0u; i < p.hw; i++) {
      let g = grad[base + i];
      if (g != 0.0) {
        let g2 = g * g;
        s += g2 / (2.0 * g2 + sumA * g2 * g + 1e-6) * max(g, 0.0);
      }
    }
  } else {
    for (var i = 0u; i < p.hw; i++) {
      let g = grad[base + i];
      s += select(g, abs(g), MODE == 0u);
    }
    s /= f32(p.hw);
  }
  out[nk] = s;
}

@compute @workgroup_size(FLAT_WG) fn combine(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.batch * p.hw) { return; }
  let n = i / p.hw;
  let px = i % p.hw;
  var s = 0.0;
  for (var k = 0u; k < p.channels; k++) {
    s += weights[n * p.weightStride + k] * act[(n * p.channels + k) * p.hw + px];
  }
  if (RELU) { s = max(s, 0.0); }
  out[i] = s;
}
