// RISE mask generation, in two steps (see src/kernels/rise-mask-plan.ts for the scheme and why it is
// bit-exact on every device):
//
//   rise_grid:     one invocation per (mask, grid cell): the cell's value in fixed point
//                  (1.0 = 2^BITS) — MODE 0 binary (u < p1), 1 Gaussian (inverse-CDF table),
//                  2 Perlin (integer gradient noise) —, and per mask its shift (dy, dx).
//   rise_upsample: one invocation per mask pixel: the bilinear value of the up-sampled grid at the
//                  shifted position (half-pixel centres, mirror edges), as an exact integer sum,
//                  then one float conversion.
//
// Random words are mix(mix(mix(k ^ φ) ^ mask) ^ mix(seed)) with k = 0 (dy), 1 (dx), 2 + cell
// (binary/Gaussian value) or 2 + lattice point (Perlin gradient).

override MODE: u32 = 0u;

struct Params {
  first: u32, count: u32, grid: u32, seed: u32,        // masks first .. first+count-1
  height: u32, width: u32, cellH: u32, cellW: u32,
  upH: u32, upW: u32, bits: u32, threshold: u32,
  scale: f32, _p0: u32, _p1: u32, _p2: u32,
}

fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn randomWord(seed: u32, mask: u32, k: u32) -> u32 {
  return mix32(mix32(mix32(k ^ 0x9e3779b9u) ^ mask) ^ mix32(seed));
}

// #include kernel
@group(0) @binding(1) var<storage, read> gaussTable: array<u32>;
@group(0) @binding(2) var<storage, read_write> grids: array<u32>;   // [count][grid²]
@group(0) @binding(3) var<storage, read_write> shifts: array<u32>;  // [count][2]: dy, dx

// Perlin gradient noise at grid cell (a, b), in 16-bit fixed point, lattice of L×L cells.
fn perlin(mask: u32, a: u32, b: u32) -> i32 {
  let L = max(2u, (p.grid + 1u) / 2u);
  let pa = ((2u * a + 1u) * L * 65536u) / (2u * p.grid);
  let pb = ((2u * b + 1u) * L * 65536u) / (2u * p.grid);
  let ia = pa >> 16u;
  let ib = pb >> 16u;
  let fa = i32(pa & 0xffffu);
  let fb = i32(pb & 0xffffu);
  var d: array<i32, 4>;
  for (var c = 0u; c < 4u; c++) {
    let ca = ia + (c >> 1u);
    let cb = ib + (c & 1u);
    let h = randomWord(p.seed, mask, 2u + ca * (L + 1u) + cb) & 7u;
    let ox = fa - i32(c >> 1u) * 65536;
    let oy = fb - i32(c & 1u) * 65536;
    var gx = 0;
    var gy = 0;
    if (h < 4u) { gx = select(-1, 1, (h & 1u) == 0u); gy = select(-1, 1, (h & 2u) == 0u); }
    else if (h < 6u) { gx = select(-1, 1, h == 4u); }
    else { gy = select(-1, 1, h == 6u); }
    d[c] = gx * ox + gy * oy;
  }
  let wa = fade(fa >> 4);
  let wb = fade(fb >> 4);
  let top = d[0] + (((d[1] - d[0]) * wb) >> 12u);
  let bottom = d[2] + (((d[3] - d[2]) * wb) >> 12u);
  return top + (((bottom - top) * wa) >> 12u);
}

// 6t⁵ − 15t⁴ + 10t³ for t in 12-bit fixed point (0..4095 → 0..4096).
fn fade(t: i32) -> i32 {
  let t2 = (t * t) >> 12u;
  let t3 = (t2 * t) >> 12u;
  let poly = (((6 * t - 61440) * t) >> 12u) + 40960;
  return (t3 * poly) >> 12u;
}

@compute @workgroup_size(FLAT_WG) fn rise_grid(f: Flat) {
  let cells = p.grid * p.grid;
  let i = flatIndex(f);
  if (i >= p.count * cells) { return; }
  let m = i / cells;
  let cell = i % cells;
  let mask = p.first + m;
  let one = 1u << p.bits;
  var g = 0u;
  if (MODE == 0u) {
    g = select(0u, one, (randomWord(p.seed, mask, 2u + cell) >> 8u) < p.threshold);
  } else if (MODE == 1u) {
    g = gaussTable[randomWord(p.seed, mask, 2u + cell) >> 16u];
  } else {
    let n = perlin(mask, cell / p.grid, cell % p.grid);
    let v = i32(one >> 1u) + (n >> (16u - p.bits)); // 0.5 + noise, clipped to [0, 1]
    g = u32(clamp(v, 0, i32(one)));
  }
  grids[i] = g;
  if (cell == 0u) {
    shifts[2u * m] = randomWord(p.seed, mask, 0u) % p.cellH;
    shifts[2u * m + 1u] = randomWord(p.seed, mask, 1u) % p.cellW;
  }
}

@group(0) @binding(1) var<storage, read> ugrids: array<u32>;
@group(0) @binding(2) var<storage, read> ushifts: array<u32>;
@group(0) @binding(3) var<storage, read_write> masks: array<f32>;   // [count][height][width]

// Source row (or column) of up-sampled position u: the two grid indices, mirrored into [0, s−1],
// and the weight numerator r of the second one (weights (den − r)/den and r/den, den = 2·upSize).
fn source(u: u32, upSize: u32) -> vec3<u32> {
  let den = i32(2u * upSize);
  let num = i32((2u * u + 1u) * p.grid) - i32(upSize);
  let i0 = select(num / den, (num - den + 1) / den, num < 0); // floor division
  let r = num - i0 * den;
  return vec3<u32>(mirror(i0), mirror(i0 + 1), u32(r));
}

// Mirror about the edge cells (d c b | a b c d | c b a), as ndimage's 'mirror' (skimage 'reflect');
// a 1-cell grid mirrors onto itself.
fn mirror(i: i32) -> u32 {
  let last = i32(p.grid) - 1;
  return u32(clamp(select(select(i, 2 * last - i, i > last), -i, i < 0), 0, last));
}

@compute @workgroup_size(FLAT_WG) fn rise_upsample(f: Flat) {
  let i = flatIndex(f);
  let hw = p.height * p.width;
  if (i >= p.count * hw) { return; }
  let m = i / hw;
  let y = (i % hw) / p.width;
  let x = i % p.width;
  let sy = source(y + ushifts[2u * m], p.upH);
  let sx = source(x + ushifts[2u * m + 1u], p.upW);
  let denH = 2u * p.upH;
  let denW = 2u * p.upW;
  let g = m * p.grid * p.grid;
  let top = (denW - sx.z) * ugrids[g + sy.x * p.grid + sx.x] + sx.z * ugrids[g + sy.x * p.grid + sx.y];
  let bottom = (denW - sx.z) * ugrids[g + sy.y * p.grid + sx.x] + sx.z * ugrids[g + sy.y * p.grid + sx.y];
  let num = (denH - sy.z) * top + sy.z * bottom; // < 2^32 by the choice of bits
  masks[i] = (f32(num >> 16u) * 65536.0 + f32(num & 0xffffu)) * p.scale;
}
