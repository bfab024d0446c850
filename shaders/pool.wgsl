// Pooling over NCHW planes.
//   maxpool: one invocation per output element; window K×K, stride S, padding P (padding never
//            wins, as in PyTorch: it is −∞). K, S, P are override constants.
//   avgpool: global average pool, one invocation per (n, c) plane, summing its h·w values in order.
// `act` is the storage type of the forward's activations (f32, or f16 under --precision f16); the
// average pool's output (the features the fc layer reads) is f32 either way.
alias act = f32;

override K: u32 = 3u;
override S: u32 = 2u;
override P: u32 = 1u;

struct Params { planes: u32, h: u32, w: u32, ho: u32, wo: u32, _p0: u32, _p1: u32, _p2: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<act>;
@group(0) @binding(2) var<storage, read_write> y: array<act>;
@group(0) @binding(2) var<storage, read_write> features: array<f32>;

@compute @workgroup_size(FLAT_WG) fn maxpool(f: Flat) {
  let o = flatIndex(f);
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
      m = max(m, f32(x[base + u32(iy) * p.w + u32(ix)]));
    }
  }
  y[o] = act(m);
}

@compute @workgroup_size(FLAT_WG) fn avgpool(f: Flat) {
  let plane = flatIndex(f);
  if (plane >= p.planes) { return; }
  let n = p.h * p.w;
  let base = plane * n;
  var s = 0.0;
  for (var i = 0u; i < n; i++) { s += f32(x[base + i]); }
  features[plane] = s / f32(n);
}

// maxpool_grad: gradient of maxpool with respect to its input, as a gather: an input element
// receives dy of every window that picked it. Windows are re-scanned in PyTorch's order and the
// first maximum wins, as in PyTorch's CPU kernel, so ties route the gradient the same way.
// Binding 0 is the maxpool input x, 1 the gradient dy of its output, 2 the result dx; MASK
// multiplies by [x > 0] (x came out of a ReLU, and the gradient flows on through it).
override MASK: bool = false;

@group(0) @binding(1) var<storage, read> gx: array<f32>;
@group(0) @binding(2) var<storage, read> gdy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gdx: array<f32>;

@compute @workgroup_size(FLAT_WG) fn maxpool_grad(f: Flat) {
  let i = flatIndex(f);
  let hw = p.h * p.w;
  if (i >= p.planes * hw) { return; }
  let plane = i / hw;
  let r = i % hw;
  let iy = i32(r / p.w);
  let ix = i32(r % p.w);
  let base = plane * hw;
  // Windows containing (iy, ix): oy·S − P ≤ iy ≤ oy·S − P + K − 1.
  let oyLo = max(0, (iy + i32(P) - i32(K) + i32(S)) / i32(S));
  let oyHi = min(i32(p.ho) - 1, (iy + i32(P)) / i32(S));
  let oxLo = max(0, (ix + i32(P) - i32(K) + i32(S)) / i32(S));
  let oxHi = min(i32(p.wo) - 1, (ix + i32(P)) / i32(S));
  var g = 0.0;
  for (var oy = oyLo; oy <= oyHi; oy++) {
    for (var ox = oxLo; ox <= oxHi; ox++) {
      var best = -3.402823e38;
      var at = -1;
      for (var ky = 0; ky < i32(K); ky++) {
        let y = oy * i32(S) - i32(P) + ky;
        if (y < 0 || y >= i32(p.h)) { continue; }
        for (var kx = 0; kx < i32(K); kx++) {
          let x = ox * i32(S) - i32(P) + kx;
          if (x < 0 || x >= i32(p.w)) { continue; }
          let v = gx[base + u32(y * i32(p.w) + x)];
          if (v > best || at < 0) { best = v; at = y * i32(p.w) + x; }
        }
      }
      if (at == i32(r)) { g += gdy[(plane * p.ho + u32(oy)) * p.wo + u32(ox)]; }
    }
  }
  if (MASK && gx[i] <= 0.0) { g = 0.0; }
  gdx[i] = g;
}
