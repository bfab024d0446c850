// linear: y[n, o] = b[o] + Σ_i x[n, i] · W[o, i]  (PyTorch nn.Linear layout, W row-major [out, in]).
// One invocation per output; the inner product reads x and W four at a time, the tail of an
// in-size that is not a multiple of 4 one at a time.

struct Params { batch: u32, inF: u32, outF: u32, _p0: u32 }

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.z * nwg.x * 64u; // output feature (folded into z past the limit); y: the image
  let n = gid.y;
  if (o >= p.outF || n >= p.batch) { return; }
  let xb = n * p.inF;
  let wb = o * p.inF;
  var acc = vec4<f32>(0.0);
  var i = 0u;
  for (; i + 4u <= p.inF; i += 4u) {
    let xv = vec4<f32>(x[xb + i], x[xb + i + 1u], x[xb + i + 2u], x[xb + i + 3u]);
    let wv = vec4<f32>(weight[wb + i], weight[wb + i + 1u], weight[wb + i + 2u], weight[wb + i + 3u]);
    acc += xv * wv;
  }
  var s = acc.x + acc.y + acc.z + acc.w;
  for (; i < p.inF; i++) { s += x[xb + i] * weight[wb + i]; }
  y[n * p.outF + o] = s + bias[o];
}
