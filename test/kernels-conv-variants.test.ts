// Every conv variant the tuner may choose (kernels/conv-tuner.ts CONV_CANDIDATES: direct register
// tiles and Winograd F(2×2,3×3) / F(4×4,3×3)) against the float64 CPU reference, on fresh random
// data with odd sizes (not multiples of any tile), batch > 1, the residual and ReLU epilogue and a
// partial last channel group; plus a grid folded past the workgroup limit.
import { test } from 'uvu';
import { conv2d, uploadConv, variantApplies, variantName, type ConvVariant } from '../src/kernels/conv2d.js';
import { CONV_CANDIDATES } from '../src/kernels/conv-tuner.js';
import { winogradLimits } from '../src/kernels/winograd.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { conv2dRef } from './reference.js';

const rand = rng();

// Inputs and weights in [-1, 1], at most 9·13 products per output. The direct sum and F(2×2) stay
// near float32 rounding (the bound of kernels-forward's conv tests). F(4×4)'s transforms scale
// values by up to 8 and 5 (Aᵀ, Bᵀ) and its filter transform by 1/24, so its rounding is ~10× larger:
// observed up to 1.5e-5 here; bound 1e-4 + 1e-4·|ref|.
function tolerance(v: ConvVariant): [number, number] {
  return v.algo === 'winograd' && v.m === 4 ? [1e-4, 1e-4] : [2e-5, 1e-5];
}

const cases = [
  { name: '3x3/s1/p1 + residual + relu', n: 3, ci: 13, h: 11, w: 9, co: 10, k: 3, s: 1, p: 1, relu: true, residual: true },
  { name: '3x3/s1/p1, 1 pixel wide', n: 2, ci: 5, h: 7, w: 1, co: 6, k: 3, s: 1, p: 1, relu: false, residual: false },
  { name: '3x3/s1/p1, 33 channels out', n: 2, ci: 4, h: 6, w: 13, co: 33, k: 3, s: 1, p: 1, relu: true, residual: false },
  { name: '7x7/s2/p3', n: 2, ci: 3, h: 23, w: 19, co: 10, k: 7, s: 2, p: 3, relu: true, residual: false },
  { name: '3x3/s2/p1', n: 2, ci: 6, h: 13, w: 10, co: 9, k: 3, s: 2, p: 1, relu: false, residual: true },
  { name: '1x1/s2', n: 3, ci: 4, h: 11, w: 9, co: 6, k: 1, s: 2, p: 0, relu: true, residual: false },
];

for (const c of cases) {
  test(`conv variants: ${c.name} (n=${c.n}, ${c.ci}→${c.co}, ${c.h}x${c.w})`, async () => {
    const ctx = await gpu();
    const x = randomArray(c.n * c.ci * c.h * c.w, rand);
    const w = randomArray(c.co * c.ci * c.k * c.k, rand);
    const scale = randomArray(c.co, rand, 0.5, 1.5);
    const shift = randomArray(c.co, rand);
    const geometry = { xShape: [c.n, c.ci, c.h, c.w], w, wShape: [c.co, c.ci, c.k, c.k], scale, shift, stride: c.s, pad: c.p, relu: c.relu };
    const outShape = conv2dRef({ ...geometry, x }).shape;
    const residual = c.residual ? randomArray(outShape.reduce((a, b) => a * b), rand) : undefined;
    const expected = conv2dRef({ ...geometry, x, residual });
    const conv = uploadConv(ctx, { shape: [c.co, c.ci, c.k, c.k], data: w }, scale, shift, { stride: c.s, pad: c.p });
    const gx = ctx.upload({ shape: [c.n, c.ci, c.h, c.w], data: x });
    const gr = residual ? ctx.upload({ shape: expected.shape, data: residual }) : undefined;
    const applicable = CONV_CANDIDATES.filter((v) => variantApplies(v, conv));
    if (c.k === 3 && c.s === 1 && !applicable.some((v) => v.algo === 'winograd')) throw new Error('Winograd should apply');
    for (const v of applicable) {
      const y = await ctx.read(conv2d(ctx, gx, conv, { relu: c.relu, residual: gr, variant: v }));
      const [abs, rel] = tolerance(v);
      assertClose(y.data, expected.data, abs, rel, `${variantName(v)} ${c.name}`);
    }
  });
}

test('Winograd in many chunks of tiles (a small temporary budget) gives the same result', async () => {
  const ctx = await gpu();
  const [n, ci, h, w, co] = [3, 6, 13, 11, 9];
  const x = randomArray(n * ci * h * w, rand);
  const wt = randomArray(co * ci * 9, rand);
  const scale = randomArray(co, rand, 0.5, 1.5);
  const shift = randomArray(co, rand);
  const residual = randomArray(n * co * h * w, rand);
  const ref = conv2dRef({ x, xShape: [n, ci, h, w], w: wt, wShape: [co, ci, 3, 3], scale, shift, stride: 1, pad: 1, relu: true, residual });
  const conv = uploadConv(ctx, { shape: [co, ci, 3, 3], data: wt }, scale, shift, { stride: 1, pad: 1 });
  const gx = ctx.upload({ shape: [n, ci, h, w], data: x });
  const gr = ctx.upload({ shape: ref.shape, data: residual });
  const saved = winogradLimits.tempBytes;
  try {
    for (const v of CONV_CANDIDATES.filter((k) => k.algo === 'winograd')) {
      const m = (v as { m: number }).m;
      winogradLimits.tempBytes = 4 * (m + 2) ** 2 * co * 8; // 8 tiles a chunk: 7 to 15 chunks, the last partial
      const y = await ctx.read(conv2d(ctx, gx, conv, { variant: v, relu: true, residual: gr }));
      const [abs, rel] = tolerance(v);
      assertClose(y.data, ref.data, abs, rel, `${variantName(v)} in chunks`);
    }
  } finally {
    winogradLimits.tempBytes = saved;
  }
});

test('conv variants with the grid folded into z (small workgroup limit)', async () => {
  const ctx = await gpu();
  const [n, ci, h, w, co] = [2, 3, 21, 17, 5];
  const x = randomArray(n * ci * h * w, rand);
  const wt = randomArray(co * ci * 9, rand);
  const scale = randomArray(co, rand, 0.5, 1.5);
  const shift = randomArray(co, rand);
  const ref = conv2dRef({ x, xShape: [n, ci, h, w], w: wt, wShape: [co, ci, 3, 3], scale, shift, stride: 1, pad: 1 });
  const conv = uploadConv(ctx, { shape: [co, ci, 3, 3], data: wt }, scale, shift, { stride: 1, pad: 1 });
  const gx = ctx.upload({ shape: [n, ci, h, w], data: x });
  const saved = ctx.maxWorkgroupsPerDim;
  ctx.maxWorkgroupsPerDim = 2;
  try {
    for (const v of CONV_CANDIDATES) {
      const y = await ctx.read(conv2d(ctx, gx, conv, { variant: v }));
      const [abs, rel] = tolerance(v);
      assertClose(y.data, ref.data, abs, rel, `${variantName(v)} folded grid`);
    }
  } finally {
    ctx.maxWorkgroupsPerDim = saved;
  }
});

test.after(closeGpu);
test.run();
