// conv2d: direct convolution as an implicit GEMM with a fused per-channel affine epilogue.
//
//   y[n,co,oy,ox] = act( (Σ_{ci,ky,kx} w[co,ci,ky,kx] · x[n,ci,oy·S−P+ky, ox·S−P+kx]) · scale[co]
//                        + shift[co] + res[n,co,oy,ox] )
//
// scale/shift carry eval-mode BatchNorm (scale = γ/√(var+ε), shift = β − mean·scale, plus any conv
// bias); res and ReLU are switched by override constants. Each invocation owns a register tile of
// 4 output channels (one vec4 of weights, since w is stored [ci][ky][kx][co/4] as vec4) × PX output
// pixels of the flattened (n, oy, ox) index, so one weight load feeds PX FMAs and one input load
// feeds 4. Taps (ky, kx) are the outer loops and input channels the inner one, so addresses and
// bounds checks are worked out once per tap (1.4–1.9x faster on lavapipe than channels outside,
// ResNet-18's convs at batch 4). No workgroup memory: on lavapipe barriers cost more than the
// cached global loads they would save. Kernel size, stride and padding are override constants.

override KH: u32 = 3u;
override KW: u32 = 3u;
override STRIDE: u32 = 1u;
override PAD: u32 = 1u;
override RELU: bool = false;
override RESIDUAL: bool = false;
override WG: u32 = 64u;
const PX: u32 = 4u;

struct Params {
  batch: u32, cin: u32, h: u32, w: u32,
  cout: u32, ho: u32, wo: u32, cout4: u32,
  tiles: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scaleShift: array<vec4<f32>>; // [cout4] scale, then [cout4] shift
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // x and z of the grid together index pixel tiles (z only when x would pass 65535 workgroups).
  let tile = gid.x + gid.z * nwg.x * WG;
  let cq = gid.y;
  if (tile >= p.tiles || cq >= p.cout4) { return; }

  let hw = p.ho * p.wo;
  let total = p.batch * hw;
  var base: array<u32, PX>;   // offset of image n, channel 0 in x
  var iy0: array<i32, PX>;
  var ix0: array<i32, PX>;
  var valid: array<bool, PX>;
  for (var j = 0u; j < PX; j++) {
    let o = tile * PX + j;
    valid[j] = o < total;
    let oc = min(o, total - 1u);
    let n = oc / hw;
    let r = oc % hw;
    base[j] = n * p.cin * p.h * p.w;
    iy0[j] = i32((r / p.wo) * STRIDE) - i32(PAD);
    ix0[j] = i32((r % p.wo) * STRIDE) - i32(PAD);
  }

  // Taps outermost: each pixel's input offset and bounds check depend on (ky, kx) only, so they
  // are computed once per tap, and the channel loop inside is branch-free: an out-of-bounds tap
  // reads a valid address and is multiplied by 0.
  var acc: array<vec4<f32>, PX>;
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
      var wi = (ky * KW + kx) * p.cout4 + cq;
      for (var ci = 0u; ci < p.cin; ci++) {
        let wv = weight[wi];
        wi += wStride;
        for (var j = 0u; j < PX; j++) {
          acc[j] += wv * (x[off[j]] * inside[j]);
          off[j] += plane;
        }
      }
    }
  }

  let scale = scaleShift[cq];
  let shift = scaleShift[p.cout4 + cq];
  for (var j = 0u; j < PX; j++) {
    if (!valid[j]) { continue; }
    let o = tile * PX + j;
    let n = o / hw;
    let r = o % hw;
    let v = acc[j] * scale + shift;
    for (var c = 0u; c < 4u; c++) {
      let co = cq * 4u + c;
      if (co >= p.cout) { break; }
      let idx = (n * p.cout + co) * hw + r;
      var out = v[c];
      if (RESIDUAL) { out += res[idx]; }
      if (RELU) { out = max(out, 0.0); }
      y[idx] = out;
    }
  }
}
