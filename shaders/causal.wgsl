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

@group(0) @binding(0) var<storage, read_write> keys: array<f32>;
@group(0) @binding(1) var<storage, read_write> idx: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn before(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(64)
fn bitonic_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u; // y folds grids past 65535 workgroups (images over 2048²)
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

@group(0) @binding(0) var<storage, read> sortedIdx: array<u32>;
@group(0) @binding(1) var<storage, read_write> rank: array<u32>;
@group(0) @binding(2) var<uniform> rp: Params;

@compute @workgroup_size(64)
fn scatter_rank(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= rp.pixels) { return; }
  rank[sortedIdx[i]] = i;
}

@group(0) @binding(0) var<storage, read> ranks: array<u32>;
@group(0) @binding(1) var<storage, read> start: array<f32>;
@group(0) @binding(2) var<storage, read> finish: array<f32>;
@group(0) @binding(3) var<storage, read_write> images: array<f32>; // [count, 3, pixels]
@group(0) @binding(4) var<uniform> sp: Params;

@compute @workgroup_size(64)
fn step_images(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= sp.count * 3u * sp.pixels) { return; }
  let b = i / (3u * sp.pixels);
  let r = i % (3u * sp.pixels);
  let px = r % sp.pixels;
  let replaced = ranks[px] < (sp.first + b) * sp.step;
  var v = start[r];
  if (replaced) { v = select(finish[r], 0.0, FINISH_ZERO); }
  images[i] = v;
}
