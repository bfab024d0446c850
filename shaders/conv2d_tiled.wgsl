// conv2d_tiled: the direct convolution of conv2d.wgsl (same weights, epilogue and result up to
// rounding) as a workgroup-tiled implicit GEMM, the form discrete GPUs are fast at:
//
//   y[co][p] = Σ_k W[k][co] · X[k][p]     k = (ci, ky, kx), p = (n, oy, ox), X read in place (im2col
//                                          is never stored)
//
// A workgroup of 16×16 invocations owns a block of 64 output channels × 64 output pixels, each
// invocation 4 channels × 4 pixels. KT rows of k at a time are staged in workgroup memory: every
// invocation loads one vec4 of weights (4 channels; weights are [k][co/4] as vec4) and one vec4 of
// inputs (4 pixels, gathered with their bounds checks), then all 256 read them from there — each
// global load feeds 64 FMAs across the workgroup. On lavapipe the two barriers per step cost more
// than that saves; the tuner (conv-tuner.ts) measures it per adapter.

// #include conv_io
// #include tile_gemm

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let block = wid.x + wid.z * nwg.x;  // 64 output pixels
  let g = wid.y;                      // 64 output channels
  let lin = lid.y * 16u + lid.x;
  let row = lin / 16u;                // the k (within the step) this invocation stages
  let col = lin % 16u;                // and its vec4 column
  let hw = p.ho * p.wo;
  let total = p.batch * hw;
  let plane = p.h * p.w;

  // The 4 pixels this invocation stages: where their windows start.
  var base: array<u32, 4>;
  var iy0: array<i32, 4>;
  var ix0: array<i32, 4>;
  var live: array<bool, 4>;
  for (var q = 0u; q < 4u; q++) {
    let o = block * 64u + col * 4u + q;
    live[q] = o < total;
    let oc = min(o, total - 1u);
    base[q] = (oc / hw) * p.cin * plane;
    iy0[q] = i32(((oc % hw) / p.wo) * STRIDE) - i32(PAD);
    ix0[q] = i32(((oc % hw) % p.wo) * STRIDE) - i32(PAD);
  }

  let K = p.cin * KH * KW;
  let loadCq = g * 16u + col;
  var acc: array<vec4<f32>, 4>;       // acc[c]: the 4 pixels of channel (g·16 + lid.y)·4 + c
  for (var k0 = 0u; k0 < K; k0 += KT) {
    let k = k0 + row;
    var wv = vec4<f32>(0.0);
    if (k < K && loadCq < p.cout4) { wv = vec4<f32>(weight[k * p.cout4 + loadCq]); }
    let ci = k / (KH * KW);
    let ky = i32((k % (KH * KW)) / KW);
    let kx = i32(k % KW);
    var xv = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
      let iy = iy0[q] + ky;
      let ix = ix0[q] + kx;
      let ok = k < K && live[q] && iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
      let idx = base[q] + ci * plane + u32(iy) * p.w + u32(ix);
      xv[q] = select(0.0, f32(x[select(0u, idx, ok)]), ok);
    }
    tile_step(lin, wv, xv, lid.y, lid.x, &acc);
  }

  let cq = g * 16u + lid.y;
  if (cq >= p.cout4) { return; }
  let scale = scaleShift[cq];
  let shift = scaleShift[p.cout4 + cq];
  for (var c = 0u; c < 4u; c++) {
    let co = cq * 4u + c;
    if (co >= p.cout) { break; }
    for (var q = 0u; q < 4u; q++) {
      let o = block * 64u + lid.x * 4u + q;
      if (o >= total) { break; }
      let idx = ((o / hw) * p.cout + co) * hw + o % hw;
      var out = acc[c][q] * scale[c] + shift[c];
      if (RESIDUAL) { out += f32(res[idx]); }
      if (RELU) { out = max(out, 0.0); }
      y[idx] = act(out);
    }
  }
}
