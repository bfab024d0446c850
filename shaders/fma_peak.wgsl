// fma_peak: the adapter's arithmetic roof for the benchmarks (bench/peak.ts), not used by the
// library. Each invocation runs ITERS rounds of 4 independent vec4 FMAs (16 scalar FMAs, no loads),
// then stores one value so the work cannot be optimised away. FLOPs = 2 · 16 · ITERS per invocation.

override ITERS: u32 = 4096u;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = f32(gid.x) * 1e-9;
  var a = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var b = a + 0.5;
  var c = a + 1.0;
  var d = a + 1.5;
  let m = vec4<f32>(0.999999);
  let k = vec4<f32>(1e-7);
  for (var i = 0u; i < ITERS; i++) {
    a = fma(a, m, k);
    b = fma(b, m, k);
    c = fma(c, m, k);
    d = fma(d, m, k);
  }
  let v = a + b + c + d;
  if (v.x == 12345.0) { sink[gid.x] = v.y; } // never true; keeps the loop alive
}
