// What every kernel shares: its uniform block `p` (the shader's `struct Params`) at binding 0, its
// storage buffers from binding 1 on (dispatches name them; the numbers only need to differ), and for
// the kernels over a 1-D range of FLAT_WG-wide workgroups, the index of an invocation in it:
// GpuContext.dispatch folds a range past 65535 workgroups into y (src/gpu/grid.ts).
@group(0) @binding(0) var<uniform> p: Params;
const FLAT_WG: u32 = 64u;
struct Flat { @builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32> }
fn flatIndex(f: Flat) -> u32 { return f.gid.x + f.gid.y * f.nwg.x * FLAT_WG; }
