// Row-wise kernels over logits [rows, cols] (rows are class vectors: short), one invocation per row.
//   softmax:        y = exp(x − max) / Σ exp(x − max), the max subtracted for range safety as
//                   PyTorch does.
//   gather_scores:  one score per row for one class `cls`, written to scores[offset + row]:
//                   MODE 0 the logit, 1 its absolute value, 2 its softmax probability.

override MODE: u32 = 0u;

struct Params { rows: u32, cols: u32, cls: u32, offset: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;

// max and Σ exp(x − max) of the row starting at b.
fn softmaxTerms(b: u32) -> vec2<f32> {
  var m = -3.402823e38;
  for (var i = 0u; i < p.cols; i++) { m = max(m, x[b + i]); }
  var s = 0.0;
  for (var i = 0u; i < p.cols; i++) { s += exp(x[b + i] - m); }
  return vec2<f32>(m, s);
}

@compute @workgroup_size(FLAT_WG) fn softmax(f: Flat) {
  let row = flatIndex(f);
  if (row >= p.rows) { return; }
  let b = row * p.cols;
  let t = softmaxTerms(b);
  for (var i = 0u; i < p.cols; i++) { y[b + i] = exp(x[b + i] - t.x) / t.y; }
}

@compute @workgroup_size(FLAT_WG) fn gather_scores(f: Flat) {
  let row = flatIndex(f);
  if (row >= p.rows) { return; }
  let b = row * p.cols;
  let l = x[b + p.cls];
  var s = l;
  if (MODE == 1u) { s = abs(l); }
  if (MODE == 2u) {
    let t = softmaxTerms(b);
    s = exp(l - t.x) / t.y;
  }
  scores[p.offset + row] = s;
}
