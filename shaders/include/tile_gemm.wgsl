// The workgroup-memory step of the 16×16-invocation GEMMs (conv2d_tiled, winograd's gemm_tiled):
// each step stages KT rows of 16 vec4s of A (4 output channels each) and of B (4 columns each:
// pixels or Winograd tiles), one vec4 of each per invocation, then every invocation adds its
// 4 channels (row ly) × 4 columns (column lx) of the product. Call it in uniform control flow.
const KT: u32 = 16u;
var<workgroup> tileA: array<vec4<f32>, 256>; // [KT][16 vec4 of channels]
var<workgroup> tileB: array<vec4<f32>, 256>; // [KT][16 vec4 of columns]

fn tile_step(slot: u32, a: vec4<f32>, b: vec4<f32>, ly: u32, lx: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  tileA[slot] = a;
  tileB[slot] = b;
  workgroupBarrier();
  for (var k = 0u; k < KT; k++) {
    let av = tileA[k * 16u + ly];
    let bv = tileB[k * 16u + lx];
    (*acc)[0] += av.x * bv;
    (*acc)[1] += av.y * bv;
    (*acc)[2] += av.z * bv;
    (*acc)[3] += av.w * bv;
  }
  workgroupBarrier();
}
