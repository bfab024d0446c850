// The interface every forward-conv kernel shares (conv2d, conv2d_tiled): geometry and epilogue
// switches as overrides, sizes as the Params uniform, and the bindings conv2d.ts fills.
// `act` is the storage type of activations, residual and weights: f32, or f16 under
// --precision f16 (pipelines.ts specialises it); the sums are f32 either way.
alias act = f32;
// #include conv_geometry
override RELU: bool = false;
override RESIDUAL: bool = false;

struct Params {
  batch: u32, cin: u32, h: u32, w: u32,
  cout: u32, ho: u32, wo: u32, cout4: u32,
  tiles: u32, groups: u32, _p1: u32, _p2: u32,
}

// #include kernel
@group(0) @binding(1) var<storage, read> x: array<act>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<act>>;      // [ci][ky][kx][co/4]
@group(0) @binding(3) var<storage, read> scaleShift: array<vec4<f32>>;  // [cout4] scale, then [cout4] shift
@group(0) @binding(4) var<storage, read> res: array<act>;
@group(0) @binding(5) var<storage, read_write> y: array<act>;
