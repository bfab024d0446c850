// Forward kernels against float64 CPU references on fresh random data (odd sizes, batch > 1).
import { test } from 'uvu';
import { conv2d, uploadConv } from '../src/kernels/conv2d.js';
import { globalAvgPool, maxPool2d } from '../src/kernels/pool.js';
import { linear } from '../src/kernels/linear.js';
import { softmax } from '../src/kernels/softmax.js';
import { channelAffine } from '../src/kernels/channel-affine.js';
import { packScaleShift } from '../src/kernels/conv2d.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { avgPoolRef, conv2dRef, linearRef, maxPoolRef, softmaxRef } from './reference.js';

const rand = rng();
// f32 accumulation over ≤ 150 products of values in [-1, 1]: errors stay near 1e-6.
const ABS = 2e-5;
const REL = 1e-5;

const convCases = [
  { name: '7x7/s2/p3', n: 2, ci: 3, h: 23, w: 19, co: 10, k: 7, s: 2, p: 3, relu: true, residual: false },
  { name: '3x3/s1/p1 + residual + relu', n: 3, ci: 5, h: 9, w: 11, co: 7, k: 3, s: 1, p: 1, relu: true, residual: true },
  { name: '3x3/s2/p1', n: 2, ci: 6, h: 13, w: 10, co: 8, k: 3, s: 2, p: 1, relu: false, residual: false },
  { name: '1x1/s1', n: 2, ci: 9, h: 7, w: 5, co: 13, k: 1, s: 1, p: 0, relu: false, residual: true },
  { name: '1x1/s2', n: 3, ci: 4, h: 11, w: 9, co: 6, k: 1, s: 2, p: 0, relu: true, residual: false },
];

for (const c of convCases) {
  test(`conv2d ${c.name} (n=${c.n}, ${c.ci}→${c.co}, ${c.h}x${c.w})`, async () => {
    const ctx = await gpu();
    const x = randomArray(c.n * c.ci * c.h * c.w, rand);
    const w = randomArray(c.co * c.ci * c.k * c.k, rand);
    const scale = randomArray(c.co, rand, 0.5, 1.5);
    const shift = randomArray(c.co, rand);
    const ref = conv2dRef({ x, xShape: [c.n, c.ci, c.h, c.w], w, wShape: [c.co, c.ci, c.k, c.k], scale, shift, stride: c.s, pad: c.p, relu: c.relu });
    const residual = c.residual ? randomArray(ref.data.length, rand) : undefined;
    const expected = conv2dRef({ x, xShape: [c.n, c.ci, c.h, c.w], w, wShape: [c.co, c.ci, c.k, c.k], scale, shift, stride: c.s, pad: c.p, relu: c.relu, residual });
    const conv = uploadConv(ctx, { shape: [c.co, c.ci, c.k, c.k], data: w }, scale, shift, { stride: c.s, pad: c.p });
    const gx = ctx.upload({ shape: [c.n, c.ci, c.h, c.w], data: x });
    const gr = residual ? ctx.upload({ shape: expected.shape, data: residual }) : undefined;
    const y = await ctx.read(conv2d(ctx, gx, conv, { relu: c.relu, residual: gr }));
    assertClose(y.data, expected.data, ABS, REL, `conv2d ${c.name}`);
    if (y.shape.join() !== expected.shape.join()) throw new Error(`shape ${y.shape} != ${expected.shape}`);
  });
}

test('conv2d with the grid folded into z (small workgroup limit)', async () => {
  const ctx = await gpu();
  const saved = ctx.maxWorkgroupsPerDim;
  ctx.maxWorkgroupsPerDim = 3; // 2·5·21·17/4 tiles = 893 → 14 groups of 64 → x = 3, z = 5
  try {
    const [n, ci, h, w, co] = [2, 2, 21, 17, 5];
    const x = randomArray(n * ci * h * w, rand);
    const wt = randomArray(co * ci * 9, rand);
    const scale = randomArray(co, rand, 0.5, 1.5);
    const shift = randomArray(co, rand);
    const ref = conv2dRef({ x, xShape: [n, ci, h, w], w: wt, wShape: [co, ci, 3, 3], scale, shift, stride: 1, pad: 1 });
    const conv = uploadConv(ctx, { shape: [co, ci, 3, 3], data: wt }, scale, shift, { stride: 1, pad: 1 });
    const y = await ctx.read(conv2d(ctx, ctx.upload({ shape: [n, ci, h, w], data: x }), conv));
    assertClose(y.data, ref.data, ABS, REL, 'conv2d folded grid');
  } finally {
    ctx.maxWorkgroupsPerDim = saved;
  }
});

test('maxpool 3x3/s2/p1, odd sizes, also with a folded grid', async () => {
  const ctx = await gpu();
  for (const limit of [ctx.maxWorkgroupsPerDim, 2]) {
    const saved = ctx.maxWorkgroupsPerDim;
    ctx.maxWorkgroupsPerDim = limit;
    const shape = [3, 5, 15, 12];
    const x = randomArray(shape.reduce((a, b) => a * b), rand);
    const y = await ctx.read(maxPool2d(ctx, ctx.upload({ shape, data: x })));
    ctx.maxWorkgroupsPerDim = saved;
    assertClose(y.data, maxPoolRef(x, shape, 3, 2, 1), 0, 0, `maxpool (limit ${limit})`);
  }
});

test('global average pool', async () => {
  const ctx = await gpu();
  const shape = [3, 7, 5, 9];
  const x = randomArray(shape.reduce((a, b) => a * b), rand);
  const y = await ctx.read(globalAvgPool(ctx, ctx.upload({ shape, data: x })));
  assertClose(y.data, avgPoolRef(x, shape), 1e-6, 1e-5, 'avgpool');
});

test('linear (in not a multiple of 4)', async () => {
  const ctx = await gpu();
  const [n, inF, outF] = [3, 37, 5];
  const x = randomArray(n * inF, rand);
  const w = randomArray(outF * inF, rand);
  const b = randomArray(outF, rand);
  const fc = { weight: ctx.upload({ shape: [outF, inF], data: w }), bias: ctx.upload({ shape: [outF], data: b }), inFeatures: inF, outFeatures: outF };
  const y = await ctx.read(linear(ctx, ctx.upload({ shape: [n, inF], data: x }), fc));
  assertClose(y.data, linearRef(x, n, inF, w, b, outF), 1e-5, 1e-5, 'linear');
});

test('softmax rows', async () => {
  const ctx = await gpu();
  const [rows, cols] = [5, 7];
  const x = randomArray(rows * cols, rand, -20, 20);
  const y = await ctx.read(softmax(ctx, ctx.upload({ shape: [rows, cols], data: x })));
  assertClose(y.data, softmaxRef(x, rows, cols), 1e-7, 1e-5, 'softmax');
});

test('channel affine + residual + relu', async () => {
  const ctx = await gpu();
  const shape = [2, 5, 3, 7];
  const total = 2 * 5 * 3 * 7;
  const x = randomArray(total, rand);
  const r = randomArray(total, rand);
  const scale = randomArray(5, rand, 0.5, 1.5);
  const shift = randomArray(5, rand);
  const ss = packScaleShift(scale, shift);
  const y = await ctx.read(channelAffine(ctx, ctx.upload({ shape, data: x }), ctx.upload({ shape: [ss.length], data: ss }), { relu: true, residual: ctx.upload({ shape, data: r }) }));
  const ref = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    const c = Math.floor(i / 21) % 5;
    ref[i] = Math.max(0, x[i] * scale[c] + shift[c] + r[i]);
  }
  assertClose(y.data, ref, 1e-6, 1e-6, 'channel affine');
});

test.after(closeGpu);
test.run();
