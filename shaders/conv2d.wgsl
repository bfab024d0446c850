// conv2d: direct convolution as an implicit GEMM with a fused per-channel affine epilogue.
//
//   y[n,co,oy,ox] = act( (Σ_{ci,ky,kx} w[co,ci,ky,kx] · x[n,ci,oy·S−P+ky, ox·S−P+kx]) · scale[co]
//                        + shift[co] + res[n,co,oy,ox] )
//
// scale/shift carry eval-mode BatchNorm (scale = γ/√(var+ε), shift = β − mean·scale, plus any conv
// bias); res and ReLU are switched by override constants. Each invocation owns a register tile of
// PX output pixels (of the flattened (n, oy, ox) index) × 4·CO4 output channels (CO4 vec4 weight
// loads, w being stored [ci][ky][kx][co/4] as vec4). One input load feeds 4·CO4 FMAs and one vec4
// weight load feeds 4·PX. The weight index depends only on the workgroup's channel group, so its
// loads are uniform across the workgroup; the input loads differ per invocation (on lavapipe, one
// SIMD lane per invocation, a per-lane load is a gather). Measured there, 4 pixels × 8 channels
// (PX 4, CO4 2) is best; tiles deep in channels (PX 1, CO4 4 or 8), though they gather less, were
// 2× slower (more uniform loads, spilled registers). On a GPU the balance differs, which is why
// PX and CO4 are chosen per adapter by the tuner (src/kernels/conv-tuner.ts).
// Taps (ky, kx) are the outer loops and input channels the inner one, so addresses and bounds
// checks are worked out once per tap; an out-of-bounds tap reads a valid address times 0.
// Kernel size, stride, padding and the epilogue are override constants; PX and CO4 size register
// arrays, so they are module constants that the pipeline cache specialises (PipelineKey.defines).

// #include conv_io
override WG: u32 = 64u;
const PX: u32 = 4u;
const CO4: u32 = 1u;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // x and z of the grid together index pixel tiles (z only when x would pass 65535 workgroups).
  let tile = gid.x + gid.z * nwg.x * WG;
  let g = gid.y; // channel group: vec4 columns g·CO4 .. g·CO4 + CO4 − 1
  if (tile >= p.tiles || g >= p.groups) { return; }

  let hw = p.ho * p.wo;
  let total = p.batch * hw;
  var base: array<u32, PX>;   // offset of image n, channel 0 in x
  var iy0: array<i32, PX>;
  var ix0: array<i32, PX>;
  for (var j = 0u; j < PX; j++) {
    let o = min(tile * PX + j, total - 1u);
    let n = o / hw;
    let r = o % hw;
    base[j] = n * p.cin * p.h * p.w;
    iy0[j] = i32((r / p.wo) * STRIDE) - i32(PAD);
    ix0[j] = i32((r % p.wo) * STRIDE) - i32(PAD);
  }

  var acc: array<vec4<f32>, PX * CO4>;
  let plane = p.h * p.w;
  let wStride = KH * KW * p.cout4;
  for (var ky = 0u; ky < KH; ky++) {
    for (var kx = 0u; kx < KW; kx++) {
      var off: array<u32, PX>;
      var inside: array<f32, PX>;
      for (var j = 0u; j < PX; j++) {
        let iy = iy0[j] + i32(ky);
        let ix = ix0[j] + i32(kx);
        let ok = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
        inside[j] = select(0.0, 1.0, ok);
        off[j] = base[j] + select(0u, u32(iy) * p.w + u32(ix), ok);
      }
      // Columns past cout4 (a partial last group) read other weights and are never stored.
      var wi = (ky * KW + kx) * p.cout4 + g * CO4;
      for (var ci = 0u; ci < p.cin; ci++) {
        var wv: array<vec4<f32>, CO4>;
        for (var q = 0u; q < CO4; q++) { wv[q] = vec4<f32>(weight[wi + q]); }
        wi += wStride;
        for (var j = 0u; j < PX; j++) {
          let xv = f32(x[off[j]]) * inside[j];
          off[j] += plane;
          for (var q = 0u; q < CO4; q++) { acc[j * CO4 + q] += wv[q] * xv; }
        }
      }
    }
  }

  for (var q = 0u; q < CO4; q++) {
    let cq = g * CO4 + q;
    if (cq >= p.cout4) { break; }
    let scale = scaleShift[cq];
    let shift = scaleShift[p.cout4 + cq];
    for (var j = 0u; j < PX; j++) {
      let o = tile * PX + j;
      if (o >= total) { break; }
      let n = o / hw;
      let r = o % hw;
      let v = acc[j * CO4 + q] * scale + shift;
      for (var c = 0u; c < 4u; c++) {
        let co = cq * 4u + c;
        if (co >= p.cout) { break; }
        let idx = (n * p.cout + co) * hw + r;
        var out = v[c];
        if (RESIDUAL) { out += f32(res[idx]); }
        if (RELU) { out = max(out, 0.0); }
        y[idx] = act(out);
      }
    }
  }
}
