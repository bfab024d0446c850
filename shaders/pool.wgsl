// Pooling over NCHW planes.
//   maxpool: one invocation per output element; window K×K, stride S, padding P (padding never
//            wins, as in PyTorch: it is −∞). K, S, P are override constants.
//   avgpool: global average pool, one invocation per (n, c) plane, summing its h·w values in order.

override K: u32 = 3u;
override S: u32 = 2u;
override P: u32 = 1u;

struct Params { planes: u32, h: u32, w: u32, ho: u32, wo: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn maxpool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * 64u;
  let hwo = p.ho * p.wo;
  if (o >= p.planes * hwo) { return; }
  let plane = o / hwo;
  let r = o % hwo;
  let y0 = i32((r / p.wo) * S) - i32(P);
  let x0 = i32((r % p.wo) * S) - i32(P);
  let base = plane * p.h * p.w;
  var m = -3.402823e38;
  for (var ky = 0u; ky < K; ky++) {
    let iy = y0 + i32(ky);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < K; kx++) {
      let ix = x0 + i32(kx);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      m = max(m, x[base + u32(iy) * p.w + u32(ix)]);
    }
  }
  y[o] = m;
}

@compute @workgroup_size(64)
fn avgpool(@builtin(global_invocation_id) gid: vec3<u32>) {
  let plane = gid.x;
  if (plane >= p.planes) { return; }
  let n = p.h * p.w;
  let base = plane * n;
  var s = 0.0;
  for (var i = 0u; i < n; i++) { s += x[base + i]; }
  y[plane] = s / f32(n);
}
