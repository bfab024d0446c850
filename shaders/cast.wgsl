// cast: y[i] = x[i] converted from f32 to the storage type `dst` (f16 under --precision f16:
// round to nearest even, values past ±65504 become ±∞, as a half-precision store does anywhere).

alias dst = f32;

struct Params { total: u32, _p0: u32, _p1: u32, _p2: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<dst>;

@compute @workgroup_size(FLAT_WG) fn main(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.total) { return; }
  y[i] = dst(x[i]);
}
