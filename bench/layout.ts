/**
 * Does a channel-blocked layout pay? An experiment, not a variant: the direct conv on NC4HW4
 * tensors ([n][c/4][h][w] as vec4: one load gives 4 input channels of a pixel, feeding 16 FMAs
 * with 4 uniform weight vec4s) against our best NCHW direct form (`direct-4x2-wg64`: 4 pixels ×
 * 8 channels a thread, a scalar gather per pixel and input channel) and the tuned choice, on the
 * 3×3 stride-1 convs of a ResNet-18 at 224. Same FLOPs; the NC4HW4 kernel's output is checked
 * against conv2d's before it is timed; layout conversions are not timed (a network would stay in
 * NC4HW4). Wall clock over the submitted work, best of --reps, interleaved.
 *
 *   node dist/bench/layout.js [--batch 16] [--reps 5]
 */
import { GpuContext } from '../src/gpu/context.js';
import { relToMax } from '../src/io/tensor.js';
import { conv2d, parseVariant, uploadConv } from '../src/kernels/conv2d.js';
import { ConvTuner } from '../src/kernels/conv-tuner.js';
import { benchOptions } from './options.js';

const values = benchOptions({ batch: '16', reps: '5' });
const batch = Number(values.batch);
const reps = Number(values.reps);

// PX pixels × CO4 vec4s of output channels per invocation, as conv2d.wgsl's register tile.
const NC4 = /* wgsl */ `
struct P { batch: u32, cin4: u32, h: u32, w: u32, cout4: u32, tiles: u32, groups: u32, _p: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // [n][ci4][h][w]
@group(0) @binding(2) var<storage, read> wt: array<vec4<f32>>;  // [ci4][ky][kx][co4][j]: out channels of in channel 4·ci4 + j
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>; // [n][co4][h][w]
const PX: u32 = 4u;
const CO4: u32 = 2u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let tile = gid.x;
  let g = gid.y;
  if (tile >= p.tiles || g >= p.groups) { return; }
  let hw = p.h * p.w;
  let total = p.batch * hw;
  var n: array<u32, PX>;
  var iy0: array<i32, PX>;
  var ix0: array<i32, PX>;
  for (var j = 0u; j < PX; j++) {
    let o = min(tile * PX + j, total - 1u);
    n[j] = o / hw;
    iy0[j] = i32((o % hw) / p.w) - 1;
    ix0[j] = i32((o % hw) % p.w) - 1;
  }
  var acc: array<vec4<f32>, PX * CO4>;
  for (var ky = 0u; ky < 3u; ky++) {
    for (var kx = 0u; kx < 3u; kx++) {
      var off: array<u32, PX>;
      var inside: array<f32, PX>;
      for (var j = 0u; j < PX; j++) {
        let iy = iy0[j] + i32(ky);
        let ix = ix0[j] + i32(kx);
        let ok = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
        inside[j] = select(0.0, 1.0, ok);
        off[j] = n[j] * p.cin4 * hw + select(0u, u32(iy) * p.w + u32(ix), ok);
      }
      for (var ci4 = 0u; ci4 < p.cin4; ci4++) {
        var xv: array<vec4<f32>, PX>;
        for (var j = 0u; j < PX; j++) { xv[j] = x[off[j] + ci4 * hw] * inside[j]; }
        for (var q = 0u; q < CO4; q++) {
          let wb = (((ci4 * 3u + ky) * 3u + kx) * p.cout4 + g * CO4 + q) * 4u;
          let w0 = wt[wb];
          let w1 = wt[wb + 1u];
          let w2 = wt[wb + 2u];
          let w3 = wt[wb + 3u];
          for (var j = 0u; j < PX; j++) {
            acc[j * CO4 + q] += w0 * xv[j].x + w1 * xv[j].y + w2 * xv[j].z + w3 * xv[j].w;
          }
        }
      }
    }
  }
  for (var q = 0u; q < CO4; q++) {
    let c4 = g * CO4 + q;
    if (c4 >= p.cout4) { break; }
    for (var j = 0u; j < PX; j++) {
      let o = tile * PX + j;
      if (o >= total) { break; }
      y[(n[j] * p.cout4 + c4) * hw + o % hw] = acc[j * CO4 + q];
    }
  }
}`;

/** NCHW → NC4HW4 (channels a multiple of 4 here). */
function toNc4(data: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++)
        out[((b * (c / 4) + (ch >> 2)) * h * w + i) * 4 + (ch & 3)] = data[(b * c + ch) * h * w + i];
  return out;
}

const ctx = await GpuContext.node();
const device = ctx.device;
const module = device.createShaderModule({ code: NC4 });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const buffer = (data: Float32Array | Uint32Array, usage: number) => {
  const b = device.createBuffer({ size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return b;
};
const wall = async (record: () => void) => {
  await ctx.sync();
  const t0 = performance.now();
  record();
  await ctx.sync();
  return performance.now() - t0;
};
const rows: Record<string, string | number>[] = [];
const tuner = ConvTuner.of(ctx);
try {
  for (const [c, hw] of [
    [64, 56],
    [128, 28],
    [256, 14],
    [512, 7],
  ]) {
    const shape = [batch, c, hw, hw];
    const xData = new Float32Array(batch * c * hw * hw).map((_, i) => Math.sin(i * 0.37));
    const wData = new Float32Array(c * c * 9).map((_, i) => Math.cos(i * 0.11) * 0.05);
    const conv = uploadConv(
      ctx,
      { shape: [c, c, 3, 3], data: wData },
      new Float32Array(c).fill(1),
      new Float32Array(c),
      { stride: 1, pad: 1 },
    );
    const x = ctx.upload({ shape, data: xData });
    await tuner.tune(conv, shape);
    const tuned = tuner.choose(conv, shape);
    const direct = parseVariant('direct-4x2-wg64')!;
    const ref = await ctx.read(conv2d(ctx, x, conv, { variant: direct }));
    // NC4HW4 weights: [ci4][ky][kx][co4][j] vec4 over 4 output channels for input channel 4·ci4 + j.
    const c4 = c / 4;
    const wNc4 = new Float32Array(c * c * 9);
    for (let co = 0; co < c; co++)
      for (let ci = 0; ci < c; ci++)
        for (let t = 0; t < 9; t++)
          wNc4[((((ci >> 2) * 9 + t) * c4 + (co >> 2)) * 4 + (ci & 3)) * 4 + (co & 3)] = wData[(co * c + ci) * 9 + t];
    const xb = buffer(toNc4(xData, shape), GPUBufferUsage.STORAGE);
    const wb = buffer(wNc4, GPUBufferUsage.STORAGE);
    const yb = device.createBuffer({ size: xData.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const tiles = Math.ceil((batch * hw * hw) / 4);
    const groups = Math.ceil(c4 / 2);
    const ub = buffer(new Uint32Array([batch, c4, hw, hw, c4, tiles, groups, 0]), GPUBufferUsage.UNIFORM);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [ub, xb, wb, yb].map((b, i) => ({ binding: i, resource: { buffer: b } })),
    });
    const runNc4 = () => {
      const e = device.createCommandEncoder();
      const pass = e.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.ceil(tiles / 64), groups);
      pass.end();
      device.queue.submit([e.finish()]);
    };
    // Check: NC4HW4 output back to NCHW against conv2d's.
    runNc4();
    const staging = device.createBuffer({
      size: xData.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const e = device.createCommandEncoder();
    e.copyBufferToBuffer(yb, 0, staging, 0, xData.byteLength);
    device.queue.submit([e.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(staging.getMappedRange().slice(0));
    staging.destroy();
    const refNc4 = toNc4(ref.data, shape);
    const err = relToMax(got, refNc4);
    if (!(err < 1e-4)) throw new Error(`NC4HW4 conv ${c}@${hw}: ${err} of max |y| off conv2d`);
    const best = { nc4: Infinity, direct: Infinity, tuned: Infinity };
    for (let r = 0; r < reps; r++) {
      best.nc4 = Math.min(best.nc4, await wall(runNc4));
      best.direct = Math.min(best.direct, await wall(() => ctx.release(conv2d(ctx, x, conv, { variant: direct }))));
      best.tuned = Math.min(best.tuned, await wall(() => ctx.release(conv2d(ctx, x, conv, { variant: tuned }))));
    }
    const gflop = (2 * c * c * 9 * batch * hw * hw) / 1e9;
    const name = (v: typeof tuned) => (v.algo === 'direct' ? `direct-${v.px}x${v.co4}` : `winograd${v.m}`);
    rows.push({
      conv: `3x3 ${c}>${c} @${hw}, batch ${batch}`,
      'NC4HW4 ms': +best.nc4.toFixed(1),
      'NCHW direct-4x2 ms': +best.direct.toFixed(1),
      [`tuned ms`]: +best.tuned.toFixed(1),
      tuned: name(tuned),
      'NC4HW4 GFLOP/s': +(gflop / (best.nc4 / 1000)).toFixed(1),
      'direct / NC4HW4': +(best.direct / best.nc4).toFixed(2),
      'tuned / NC4HW4': +(best.tuned / best.nc4).toFixed(2),
    });
    for (const b of [xb, wb, yb, ub]) b.destroy();
    ctx.release(x);
  }
  console.log(`adapter: ${ctx.adapterInfo}`);
  console.table(rows);
} finally {
  await ctx.close();
}
