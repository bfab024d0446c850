// softmax over the last dimension: one invocation per row, three passes (max, Σ exp(x − max),
// normalise), the max subtracted for range safety as PyTorch does. Rows are class vectors (short).

struct Params { rows: u32, cols: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let b = row * p.cols;
  var m = -3.402823e38;
  for (var i = 0u; i < p.cols; i++) { m = max(m, x[b + i]); }
  var s = 0.0;
  for (var i = 0u; i < p.cols; i++) { s += exp(x[b + i] - m); }
  for (var i = 0u; i < p.cols; i++) { y[b + i] = exp(x[b + i] - m) / s; }
}
