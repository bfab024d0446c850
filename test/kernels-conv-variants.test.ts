// Every conv variant the tuner may choose (kernels/conv-tuner.ts CONV_CANDIDATES: direct register
// tiles and Winograd F(2×2,3×3) / F(4×4,3×3)) against the float64 CPU reference, on fresh random
// data with odd sizes (not multiples of any tile), batch > 1, the residual and ReLU epilogue and a
// partial last channel group; plus Winograd in chunks and a grid folded past the workgroup limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, uploadConv, variantApplies, variantName, type ConvVariant } from '../src/kernels/conv2d.js';
import { CONV_CANDIDATES } from '../src/kernels/conv-tuner.js';
import { winogradLimits } from '../src/kernels/winograd.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { conv2dRef } from './reference.js';

const rand = rng();

// Inputs and weights in [-1, 1], at most 9·13 products per output. The direct sum and F(2×2) stay
// near float32 rounding (the bound the single-kernel conv tests always had). F(4×4)'s transforms scale
// values by up to 8 and 5 (Aᵀ, Bᵀ) and its filter transform by 1/24, so its rounding is ~10× larger:
// observed up to 1.5e-5 here; bound 1e-4 + 1e-4·|ref|.
function tolerance(v: ConvVariant): [number, number] {
  return v.algo === 'winograd' && v.m === 4 ? [1e-4, 1e-4] : [2e-5, 1e-5];
}

interface Case { name: string; n: number; ci: number; h: number; w: number; co: number; k: number; s: number; p: number; relu: boolean; residual: boolean }

// The cases of the conv tests (they lived in kernels-forward.test.ts while there was one variant)
// and the ones Winograd's tiles and channel groups add.
const cases: Case[] = [
  { name: '3x3/s1/p1 + residual + relu', n: 3, ci: 13, h: 11, w: 9, co: 10, k: 3, s: 1, p: 1, relu: true, residual: true },
  { name: '3x3/s1/p1 + residual + relu, 5 channels in', n: 3, ci: 5, h: 9, w: 11, co: 7, k: 3, s: 1, p: 1, relu: true, residual: true },
  { name: '3x3/s1/p1, 1 pixel wide', n: 2, ci: 5, h: 7, w: 1, co: 6, k: 3, s: 1, p: 1, relu: false, residual: false },
  { name: '3x3/s1/p1, 33 channels out', n: 2, ci: 4, h: 6, w: 13, co: 33, k: 3, s: 1, p: 1, relu: true, residual: false },
  { name: '7x7/s2/p3', n: 2, ci: 3, h: 23, w: 19, co: 10, k: 7, s: 2, p: 3, relu: true, residual: false },
  { name: '3x3/s2/p1 + residual', n: 2, ci: 6, h: 13, w: 10, co: 9, k: 3, s: 2, p: 1, relu: false, residual: true },
  { name: '3x3/s2/p1', n: 2, ci: 6, h: 13, w: 10, co: 8, k: 3, s: 2, p: 1, relu: false, residual: false },
  { name: '1x1/s1 + residual', n: 2, ci: 9, h: 7, w: 5, co: 13, k: 1, s: 1, p: 0, relu: false, residual: true },
  { name: '1x1/s2', n: 3, ci: 4, h: 11, w: 9, co: 6, k: 1, s: 2, p: 0, relu: true, residual: false },
];

/** Fresh random inputs for a case, on the GPU, and the float64 reference of the conv. */
async function setup(c: Case) {
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
  /** Runs the conv as `variant` and checks it against the reference within the variant's tolerance. */
  const check = async (variant: ConvVariant, what: string) => {
    const y = await ctx.read(conv2d(ctx, gx, conv, { relu: c.relu, residual: gr, variant }));
    assert.equal(y.shape, expected.shape, `${variantName(variant)} ${what}: shape`);
    const [abs, rel] = tolerance(variant);
    assertClose(y.data, expected.data, abs, rel, `${variantName(variant)} ${what}`);
  };
  return { ctx, conv, check };
}

for (const c of cases) {
  test(`conv variants: ${c.name} (n=${c.n}, ${c.ci}→${c.co}, ${c.h}x${c.w})`, async () => {
    const { conv, check } = await setup(c);
    const applicable = CONV_CANDIDATES.filter((v) => variantApplies(v, conv));
    if (c.k === 3 && c.s === 1 && !applicable.some((v) => v.algo === 'winograd')) throw new Error('Winograd should apply');
    for (const v of applicable) await check(v, c.name);
  });
}

test('Winograd in many chunks of tiles (a small temporary budget) gives the same result', async () => {
  const c = { name: 'chunks', n: 3, ci: 6, h: 13, w: 11, co: 9, k: 3, s: 1, p: 1, relu: true, residual: true };
  const { check } = await setup(c);
  const saved = winogradLimits.tempBytes;
  try {
    for (const v of CONV_CANDIDATES.filter((k) => k.algo === 'winograd')) {
      const m = (v as { m: number }).m;
      winogradLimits.tempBytes = 4 * (m + 2) ** 2 * c.co * 8; // 8 tiles a chunk: 7 to 15 chunks, the last partial
      await check(v, 'in chunks');
    }
  } finally {
    winogradLimits.tempBytes = saved;
  }
});

test('conv variants with the grid folded into z (small workgroup limit)', async () => {
  const { ctx, check } = await setup({ name: 'folded', n: 2, ci: 3, h: 21, w: 17, co: 5, k: 3, s: 1, p: 1, relu: false, residual: false });
  const saved = ctx.maxWorkgroupsPerDim;
  ctx.maxWorkgroupsPerDim = 2;
  try {
    for (const v of CONV_CANDIDATES) await check(v, 'folded grid');
  } finally {
    ctx.maxWorkgroupsPerDim = saved;
  }
});

test.after(closeGpu);
test.run();
