// conv2d_grad: gradient of a convolution with respect to its input (a transposed convolution),
// written as a gather so that every output element is owned by one invocation (no atomics):
//
//   dx[n,ci,iy,ix] = Σ_{co,ky,kx} w'[co,ci,ky,kx] · dy[n,co,oy,ox]
//                    over oy = (iy + P − ky)/S, ox = (ix + P − kx)/S where those divide exactly
//                    and fall inside the output
//
// then  v = dx (+ addend) (· [mask > 0]).  w' is the conv weight with the BatchNorm scale folded in
// (the forward is y = conv(x, w)·scale + shift, so ∂/∂x sees w·scale), stored [co][ky][kx][ci/4]
// as vec4: one load gives 4 input channels. `addend` sums the other branch of a residual block;
// `mask` is the ReLU that produced x, applied when the gradient flows on into that ReLU's input.
// Register tile: 4 input channels × PX input pixels per invocation. The PX pixels of a tile lie in
// one row, STRIDE apart (ix = phase + STRIDE·(PX·b + j)), so they share the parity of ix and iy
// modulo the stride: whether a tap (ky, kx) reaches an output position at all is then the same for
// the whole tile, and taps that miss are skipped, not multiplied by 0. At stride 2 that is 3 taps in
// 4 (the 7×7 stem's gradient: 12 of 49 taps per pixel).

// #include conv_geometry
override ADD: bool = false;
override MASK: bool = false;
override WG: u32 = 64u;
const PX: u32 = 4u;

struct Params {
  batch: u32, cin: u32, h: u32, w: u32,      // the input x (what we produce the gradient of)
  cout: u32, ho: u32, wo: u32, cin4: u32,    // the output y (dy)
  tiles: u32, rowTiles: u32, _p1: u32, _p2: u32, // rowTiles: tiles per row, STRIDE phases × blocks of PX
}

// #include kernel
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> addend: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = gid.x + gid.z * nwg.x * WG;
  let cq = gid.y;
  if (tile >= p.tiles || cq >= p.cin4) { return; }

  let row = tile / p.rowTiles;           // (n, iy)
  let phase = (tile % p.rowTiles) % STRIDE;
  let block = (tile % p.rowTiles) / STRIDE;
  let n = row / p.h;
  let iy = row % p.h;
  let base = n * p.cout * p.ho * p.wo;   // image n, channel 0 of dy
  let ty = i32(iy + PAD);                // iy + P, the same for the tile
  var tx: array<i32, PX>;                // ix + P
  var valid: array<bool, PX>;
  for (var j = 0u; j < PX; j++) {
    let ix = phase + STRIDE * (block * PX + j);
    valid[j] = ix < p.w;
    tx[j] = i32(ix + PAD);
  }

  // Taps outermost (as in conv2d.wgsl): which dy element each pixel reads, if any, depends on
  // (ky, kx) only; the output-channel loop inside is branch-free.
  var acc: array<vec4<f32>, PX>;
  let plane = p.ho * p.wo;
  let wStride = KH * KW * p.cin4;
  for (var ky = 0u; ky < KH; ky++) {
    let sy = ty - i32(ky);
    let oy = u32(max(sy, 0)) / STRIDE;
    if (sy < 0 || oy * STRIDE != u32(sy) || oy >= p.ho) { continue; } // the whole tile misses this row
    for (var kx = 0u; kx < KW; kx++) {
      // Every pixel of the tile has tx ≡ phase + P (mod STRIDE): the stride test is the tile's.
      if ((u32(tx[0] + i32(STRIDE * KW)) - kx) % STRIDE != 0u) { continue; }
      var off: array<u32, PX>;
      var hit: array<f32, PX>;
      for (var j = 0u; j < PX; j++) {
        let sx = tx[j] - i32(kx);
        let ox = u32(max(sx, 0)) / STRIDE;
        let ok = valid[j] && sx >= 0 && ox < p.wo;
        hit[j] = select(0.0, 1.0, ok);
        off[j] = base + select(0u, oy * p.wo + ox, ok);
      }
      var wi = (ky * KW + kx) * p.cin4 + cq;
      for (var co = 0u; co < p.cout; co++) {
        let wv = weight[wi];
        wi += wStride;
        for (var j = 0u; j < PX; j++) {
          acc[j] += wv * (dy[off[j]] * hit[j]);
          off[j] += plane;
        }
      }
    }
  }

  let hw = p.h * p.w;
  for (var j = 0u; j < PX; j++) {
    if (!valid[j]) { continue; }
    let r = iy * p.w + phase + STRIDE * (block * PX + j);
    for (var c = 0u; c < 4u; c++) {
      let ci = cq * 4u + c;
      if (ci >= p.cin) { break; }
      let idx = (n * p.cin + ci) * hw + r;
      var v = acc[j][c];
      if (ADD) { v += addend[idx]; }
      if (MASK) { v = select(0.0, v, mask[idx] > 0.0); }
      dx[idx] = v;
    }
  }
}
