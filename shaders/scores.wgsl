// gather_scores: one score per row of logits [rows, classes] for one class c, written to
// scores[offset + row]:  MODE 0 the logit, 1 its absolute value, 2 the softmax probability
// (max subtracted first, as PyTorch does).

override MODE: u32 = 0u;

struct Params { rows: u32, classes: u32, cls: u32, offset: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.rows) { return; }
  let b = row * p.classes;
  let l = logits[b + p.cls];
  var s = l;
  if (MODE == 1u) { s = abs(l); }
  if (MODE == 2u) {
    var m = -3.402823e38;
    for (var i = 0u; i < p.classes; i++) { m = max(m, logits[b + i]); }
    var z = 0.0;
    for (var i = 0u; i < p.classes; i++) { z += exp(logits[b + i] - m); }
    s = exp(l - m) / z;
  }
  scores[p.offset + row] = s;
}
