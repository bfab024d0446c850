// RISE scoring reductions, per batch of B masked images with scores [B, C] (logits or softmax):
//
//   accumulate:     acc[c, p] (+)= Σ_b score[b, c] · mask[b, p] for the classes c of one group
//                   (classFrom ..), one invocation per (pixel, class); SQUARES instead adds
//                   Σ_b (score[b, c] · mask[b, p])² for the single class c = classFrom (the running
//                   statistics behind the standard error).
//   mask_sum:       total[0] += Σ_{b,p} mask[b, p]: one workgroup, strided sums, tree reduction.
//   finalize:       acc ·= 1/(N·p1) (binary masks) or P/total, i.e. 1/(N · mean mask) (NORM_MEAN).
//   convergence:    for one class, from its sum S1 and sum of squares S2 over N masks:
//                   z = score·mask/norm, mean = S1/(N·norm), SE = sqrt(max(S2/(N·norm²) − mean², 0)/N);
//                   writes [max SE, min mean, max mean, mean SE] (one workgroup).

override SQUARES: bool = false;
override NORM_MEAN: bool = false;

struct Params {
  batch: u32, classes: u32, pixels: u32, classFrom: u32,
  groupSize: u32, masks: u32, p1: f32, accumulate: u32,
}

// #include kernel
@group(0) @binding(1) var<storage, read> score: array<f32>;     // [B, C]
@group(0) @binding(2) var<storage, read> maskBatch: array<f32>; // [B, P]
@group(0) @binding(3) var<storage, read_write> acc: array<f32>; // [groupSize, P] or [P]

@compute @workgroup_size(64)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let px = gid.x + gid.z * nwg.x * 64u;
  let c = gid.y;
  if (px >= p.pixels || c >= p.groupSize) { return; }
  let cls = p.classFrom + c;
  var s = 0.0;
  for (var b = 0u; b < p.batch; b++) {
    let v = score[b * p.classes + cls] * maskBatch[b * p.pixels + px];
    s += select(v, v * v, SQUARES);
  }
  let i = c * p.pixels + px;
  acc[i] = select(s, acc[i] + s, p.accumulate != 0u);
}

@group(0) @binding(1) var<storage, read> sumMasks: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn mask_sum(@builtin(local_invocation_index) t: u32) {
  let n = p.batch * p.pixels;
  var s = 0.0;
  for (var i = t; i < n; i += 256u) { s += sumMasks[i]; }
  partial[t] = s;
  for (var k = 128u; k > 0u; k >>= 1u) {
    workgroupBarrier();
    if (t < k) { partial[t] += partial[t + k]; }
  }
  if (t == 0u) { total[0] = select(partial[0], total[0] + partial[0], p.accumulate != 0u); }
}

@group(0) @binding(1) var<storage, read> totalIn: array<f32>;
@group(0) @binding(2) var<storage, read_write> sal: array<f32>;

fn norm(t: f32) -> f32 {
  // The normaliser of one mask: p1, or the mean of all masks so far (t: the sum of all masks).
  return select(p.p1, t / (f32(p.masks) * f32(p.pixels)), NORM_MEAN);
}

@compute @workgroup_size(FLAT_WG) fn finalize(f: Flat) {
  let i = flatIndex(f);
  if (i >= p.groupSize * p.pixels) { return; }
  sal[i] = sal[i] / (f32(p.masks) * norm(totalIn[0]));
}

@group(0) @binding(1) var<storage, read> s1: array<f32>;
@group(0) @binding(2) var<storage, read> s2: array<f32>;
@group(0) @binding(3) var<storage, read> ctotal: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
var<workgroup> red: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn convergence(@builtin(local_invocation_index) t: u32) {
  let n = f32(p.masks);
  let z = norm(ctotal[0]);
  var r = vec4<f32>(0.0, 3.402823e38, -3.402823e38, 0.0);
  for (var i = t; i < p.pixels; i += 256u) {
    let mean = s1[i] / (n * z);
    let se = sqrt(max(s2[i] / (n * z * z) - mean * mean, 0.0) / n);
    r = vec4<f32>(max(r.x, se), min(r.y, mean), max(r.z, mean), r.w + se);
  }
  red[t] = r;
  for (var k = 128u; k > 0u; k >>= 1u) {
    workgroupBarrier();
    if (t < k) {
      let a = red[t];
      let b = red[t + k];
      red[t] = vec4<f32>(max(a.x, b.x), min(a.y, b.y), max(a.z, b.z), a.w + b.w);
    }
  }
  if (t == 0u) {
    let v = red[0];
    stats[0] = v.x;
    stats[1] = v.y;
    stats[2] = v.z;
    stats[3] = v.w / f32(p.pixels);
  }
}
