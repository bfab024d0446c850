// winograd: 3×3 stride-1 pad-1 convolution by Winograd's minimal filtering F(M×M, 3×3) (Lavin &
// Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), in three passes:
//
//   input   V[ξ][ci][t] = (Bᵀ d B)[ξ]      d: the (M+2)×(M+2) input patch of output tile t
//   gemm    Mx[ξ][co][t] = Σ_ci U[ξ][ci][co] · V[ξ][ci][t]     U = G g Gᵀ, made on the host
//   output  y[n,co,tile] = act( (Aᵀ Mx A)·scale[co] + shift[co] + res )     (M×M pixels)
//
// act is ReLU (the forward) or the mask of a ReLU backward: v·[mask > 0] (conv2d_grad at stride 1,
// which is this same convolution with the filter transposed and flipped, see conv2d-grad.ts).
//
// ξ runs over the (M+2)² transform positions; t over the output tiles of all images. Per output
// pixel and channel pair the GEMM does (M+2)²/M² multiplies instead of 9: 4 at M = 2 (2.25× fewer)
// and 2.25 at M = 4 (4× fewer). The price is rounding: the transforms add and scale, so the error
// grows with M (bounded in test/kernels-winograd.test.ts). The GEMM pass is a plain GEMM with no
// bounds checks: each invocation owns 4 tiles (one vec4 of V, t being innermost) × 4·CO4 output
// channels (CO4 vec4 loads of U, uniform across the workgroup). t is padded to a multiple of 4
// (T4 vec4s); padded columns of V hold stale values that only reach padded columns of Mx, which the
// output pass never reads. M and CO4 size arrays, so they are module constants (defines).
// Large inputs run in chunks of tiles [first, first + tiles) so that V and Mx stay within a fixed
// budget (winograd.ts): t below is the tile's index in its chunk, first + t its index in the image
// batch.
// `act` is the storage type of x, V, U, Mx, the residual and y: f32, or f16 under --precision f16
// (pipelines.ts specialises it); every sum is f32. The mask (backward only) is always f32.

alias act = f32;
const M: u32 = 2u;
const CO4: u32 = 1u;
const ALPHA: u32 = M + 2u;
override RELU: bool = false;
override RESIDUAL: bool = false;
override MASK: bool = false;
override WG: u32 = 64u;

// Bᵀ (ALPHA×ALPHA) and Aᵀ (M×ALPHA), row-major, for M = 2 and M = 4.
const BT2 = array<f32, 16>(1, 0, -1, 0,  0, 1, 1, 0,  0, -1, 1, 0,  0, 1, 0, -1);
const AT2 = array<f32, 8>(1, 1, 1, 0,  0, 1, -1, -1);
const BT4 = array<f32, 36>(4, 0, -5, 0, 1, 0,  0, -4, -4, 1, 1, 0,  0, 4, -4, -1, 1, 0,
                           0, -2, -1, 2, 1, 0,  0, 2, -1, -2, 1, 0,  0, 4, 0, -5, 0, 1);
const AT4 = array<f32, 24>(1, 1, 1, 1, 1, 0,  0, 1, -1, 2, -2, 0,  0, 1, 1, 4, 4, 0,  0, 1, -1, 8, -8, 1);

fn bt(i: u32, j: u32) -> f32 {
  if (M == 2u) { return BT2[i * 4u + j]; }
  return BT4[i * 6u + j];
}
fn at(i: u32, j: u32) -> f32 {
  if (M == 2u) { return AT2[i * 4u + j]; }
  return AT4[i * 6u + j];
}

struct Params {
  batch: u32, c: u32, h: u32, w: u32,        // c: input channels (input pass), output channels (output pass)
  tilesH: u32, tilesW: u32, tiles: u32, t4: u32, // tiles, t4: of this chunk
  cin: u32, cout4: u32, groups: u32, cout: u32,
  first: u32, _p0: u32, _p1: u32, _p2: u32,  // the chunk's first tile
}

// Tile tg of the chunk's images (tg = first + t): its image n, and the row and column of the top-left
// output pixel it covers, as (n, y, x).
fn tileOrigin(tg: u32, tilesH: u32, tilesW: u32) -> vec3<u32> {
  let per = tilesH * tilesW;
  return vec3<u32>(tg / per, (tg % per) / tilesW * M, (tg % per) % tilesW * M);
}

// #include kernel
@group(0) @binding(1) var<storage, read> src: array<act>;
@group(0) @binding(2) var<storage, read_write> dst: array<act>;

// x [n, c, h, w] → V [ALPHA²][c][4·t4]; one invocation per (tile, channel).
@compute @workgroup_size(WG, 1, 1)
fn input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.z * nwg.x * WG;
  let ci = gid.y;
  if (t >= p.tiles || ci >= p.c) { return; }
  let o = tileOrigin(p.first + t, p.tilesH, p.tilesW);
  let y0 = i32(o.y) - 1; // the patch starts one pixel up and left: pad 1
  let x0 = i32(o.z) - 1;
  let base = (o.x * p.c + ci) * p.h * p.w;
  var d: array<f32, ALPHA * ALPHA>;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      let iy = y0 + i32(i);
      let ix = x0 + i32(j);
      let ok = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
      d[i * ALPHA + j] = select(0.0, f32(src[base + select(0u, u32(iy) * p.w + u32(ix), ok)]), ok);
    }
  }
  var bd: array<f32, ALPHA * ALPHA>; // Bᵀ d
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) { s += bt(i, k) * d[k * ALPHA + j]; }
      bd[i * ALPHA + j] = s;
    }
  }
  let stride = p.c * 4u * p.t4;
  var vi = ci * 4u * p.t4 + t;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) { s += bd[i * ALPHA + k] * bt(j, k); }
      dst[vi] = act(s);
      vi += stride;
    }
  }
}

@group(0) @binding(1) var<storage, read> v: array<vec4<act>>;      // [ALPHA²][cin][t4]
@group(0) @binding(2) var<storage, read> u: array<vec4<act>>;      // [ALPHA²][cin][cout4]
@group(0) @binding(3) var<storage, read_write> mx: array<vec4<act>>; // [ALPHA²][cout][t4]

@compute @workgroup_size(WG, 1, 1)
fn gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t4 = gid.x + gid.z * nwg.x * WG;
  let g = gid.y % p.groups;
  let xi = gid.y / p.groups;
  if (t4 >= p.t4 || g >= p.groups) { return; }
  var acc: array<vec4<f32>, 4u * CO4>; // acc[4·k + c]: the 4 tiles of output channel (g·CO4 + k)·4 + c
  var vi = xi * p.cin * p.t4 + t4;
  // Columns past cout4 (a partial last group) read other weights and are never stored.
  var ui = xi * p.cin * p.cout4 + g * CO4;
  for (var ci = 0u; ci < p.cin; ci++) {
    let vv = vec4<f32>(v[vi]);
    vi += p.t4;
    for (var k = 0u; k < CO4; k++) {
      let w = vec4<f32>(u[ui + k]);
      acc[4u * k] += w.x * vv;
      acc[4u * k + 1u] += w.y * vv;
      acc[4u * k + 2u] += w.z * vv;
      acc[4u * k + 3u] += w.w * vv;
    }
    ui += p.cout4;
  }
  for (var k = 0u; k < 4u * CO4; k++) {
    let co = g * CO4 * 4u + k;
    if (co >= p.cout) { break; }
    mx[(xi * p.cout + co) * p.t4 + t4] = vec4<act>(acc[k]);
  }
}

// The same GEMM as `gemm`, in the form fast on discrete GPUs: a workgroup of 16×16 invocations owns
// a 64-channel × 64-tile block of Mx (each invocation 4 channels × 4 tiles, one vec4 of tiles per
// channel); KT input channels of U and V at a time are staged in workgroup memory, one vec4 per
// invocation each, so every global load feeds 64 FMAs across the workgroup instead of one lane's.
// On lavapipe the barriers cost more than the loads they save (the tuner measures it per adapter).
// #include tile_gemm

@compute @workgroup_size(16, 16, 1)
fn gemm_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let block = wid.x + wid.z * nwg.x;  // which 16 vec4s (64 tiles) of t
  let g = wid.y % p.groups;           // which 16 vec4s (64 channels) of co
  let xi = wid.y / p.groups;
  let lin = lid.y * 16u + lid.x;
  let row = lin / 16u;                // the input channel (within the step) this invocation stages
  let col = lin % 16u;                // and its vec4 column
  let loadT4 = block * 16u + col;
  let loadCq = g * 16u + col;
  var acc: array<vec4<f32>, 4>;       // acc[c]: 4 tiles of channel (g·16 + lid.y)·4 + c
  for (var c0 = 0u; c0 < p.cin; c0 += KT) {
    let ci = c0 + row;
    var vv = vec4<f32>(0.0);
    var uu = vec4<f32>(0.0);
    if (ci < p.cin && loadT4 < p.t4) { vv = vec4<f32>(v[(xi * p.cin + ci) * p.t4 + loadT4]); }
    if (ci < p.cin && loadCq < p.cout4) { uu = vec4<f32>(u[(xi * p.cin + ci) * p.cout4 + loadCq]); }
    tile_step(lin, uu, vv, lid.y, lid.x, &acc);
  }
  let t4 = block * 16u + lid.x;
  if (t4 >= p.t4) { return; }
  for (var c = 0u; c < 4u; c++) {
    let co = (g * 16u + lid.y) * 4u + c;
    if (co >= p.cout) { break; }
    mx[(xi * p.cout + co) * p.t4 + t4] = vec4<act>(acc[c]);
  }
}

@group(0) @binding(1) var<storage, read> m: array<act>;               // [ALPHA²][c][4·t4]
@group(0) @binding(2) var<storage, read> scaleShift: array<f32>;      // [c4·4] scale, then shift
@group(0) @binding(3) var<storage, read> res: array<act>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<act>;

// Mx → y [n, c, h, w] (+ BatchNorm, residual, ReLU or mask); one invocation per (tile, channel).
@compute @workgroup_size(WG, 1, 1)
fn output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.z * nwg.x * WG;
  let co = gid.y;
  if (t >= p.tiles || co >= p.c) { return; }
  let stride = p.c * 4u * p.t4;
  var mm: array<f32, ALPHA * ALPHA>;
  var o = co * 4u * p.t4 + t;
  for (var k = 0u; k < ALPHA * ALPHA; k++) {
    mm[k] = f32(m[o]);
    o += stride;
  }
  var am: array<f32, M * ALPHA>; // Aᵀ Mx
  for (var i = 0u; i < M; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) { s += at(i, k) * mm[k * ALPHA + j]; }
      am[i * ALPHA + j] = s;
    }
  }
  let scale = scaleShift[co];
  let shift = scaleShift[p.cout4 * 4u + co];
  let origin = tileOrigin(p.first + t, p.tilesH, p.tilesW);
  let n = origin.x;
  let y0 = origin.y;
  let x0 = origin.z;
  for (var i = 0u; i < M; i++) {
    for (var j = 0u; j < M; j++) {
      let oy = y0 + i;
      let ox = x0 + j;
      if (oy >= p.h || ox >= p.w) { continue; }
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) { s += am[i * ALPHA + k] * at(j, k); }
      let idx = ((n * p.c + co) * p.h + oy) * p.w + ox;
      var out = s * scale + shift;
      if (RESIDUAL) { out += f32(res[idx]); }
      if (RELU) { out = max(out, 0.0); }
      if (MASK) { out = select(0.0, out, mask[idx] > 0.0); }
      y[idx] = act(out);
    }
  }
}
