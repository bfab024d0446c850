// The saliency overlay drawn on the GPU into a host's texture or canvas (kernels/overlay.ts),
// the picture viz/overlay.ts makes on the CPU: one [H, W] map, already scaled to [0, 1] by its
// own min and max, coloured by matplotlib's jet (a 256-entry table: bin min(255, floor(v·256))),
// blended over what the target holds with the pipeline's blend constant (alpha):
// target = alpha·jet + (1 − alpha)·target. A full-screen triangle; each fragment takes the map
// pixel under it (nearest: the map is stretched to the target's size).

struct Params {
  w: u32, h: u32, targetW: u32, targetH: u32,
}

@group(0) @binding(0) var<storage, read> map: array<f32>;
@group(0) @binding(1) var<storage, read> jet: array<f32>; // [256, 3], 0..1
@group(0) @binding(2) var<uniform> p: Params;

@vertex
fn vertex_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
  let xy = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u)); // (0,0) (2,0) (0,2): covers the square
  return vec4<f32>(xy * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fragment_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
  // pos.xy is the pixel centre, y down (row 0 at the top, as the map's).
  let x = min(u32(pos.x * f32(p.w) / f32(p.targetW)), p.w - 1u);
  let y = min(u32(pos.y * f32(p.h) / f32(p.targetH)), p.h - 1u);
  let v = map[y * p.w + x];
  let k = min(u32(max(floor(v * 256.0), 0.0)), 255u);
  return vec4<f32>(jet[3u * k], jet[3u * k + 1u], jet[3u * k + 2u], 1.0);
}
