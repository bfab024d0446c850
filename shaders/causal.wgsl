// Insertion / deletion plumbing.
//
//   bitonic_step: one compare-exchange pass of a bitonic sort of (saliency, pixel) pairs, padded to
//     a power of two with (−∞, index). The order is saliency descending, then pixel index
//     ascending, so ties are broken deterministically. The host runs passes (k, j) for
//     k = 2, 4, .. n and j = k/2, .., 1.
//   scatter_rank: rank[pixel] = its position in the sorted order.
//   step_images: images k0 .. k0+B−1 of a curve: pixel p comes from `finish` once
//     rank[p] < k·step, else from `start` (all three channels). FINISH_ZERO: finish is 0.

override FINISH_ZERO: bool = false;

struct Params { n: u32, j: u32, k: u32, pixels: u32, step: u32, first: u32, count: u32, _p: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read_write> keys: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;

fn before(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(FLAT_WG) fn bitonic_step(f: Flat) {
  let i = flatIndex(f); // y folds grids past 65535 workgroups (images over 2048²)
  if (i >= p.n) { return; }
  let partner = i ^ p.j;
  if (partner <= i) { return; }
  let ascending = (i & p.k) == 0u; // in this block the "before" order runs forwards
  let ka = keys[i];
  let kb = keys[partner];
  let ia = idx[i];
  let ib = idx[partner];
  if (before(kb, ib, ka, ia) == ascending) {
    keys[i] = kb;
    keys[partner] = ka;
    idx[i] = ib;
    idx[partner] = ia;
  }
}

@group(0) @binding(1) var<storage, read> sortedIdx: array<u32>;
@group(0) @binding(2) var<storage, read_write> rank: array<u32>;

@compute @workgroup_size(FLAT_WG) fn scatter_rank(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.pixels) { return; }
  rank[sortedIdx[i]] = i;
}

@group(0) @binding(1) var<storage, read> ranks: array<u32>;
@group(0) @binding(2) var<storage, read> start: array<f32>;
@group(0) @binding(3) var<storage, read> finish: array<f32>;
@group(0) @binding(4) var<storage, read_write> images: array<f32>; // [count, 3, pixels]

@compute @workgroup_size(FLAT_WG) fn step_images(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.count * 3u * p.pixels) { return; }
  let b = i / (3u * p.pixels);
  let r = i % (3u * p.pixels);
  let px = r % p.pixels;
  let replaced = ranks[px] < (p.first + b) * p.step;
  var v = start[r];
  if (replaced) { v = select(finish[r], 0.0, FINISH_ZERO); }
  images[i] = v;
}
