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
import { CONV_CASES, randomConvWeights, variantTolerance, type ConvCase } from './conv-cases.js';
import { conv2dRef } from './reference.js';

const rand = rng();

/** Fresh random inputs for a case, on the GPU, and the float64 reference of the conv. */
async function setup(c: ConvCase) {
  const ctx = await gpu();
  const x = randomArray(c.n * c.ci * c.h * c.w, rand);
  const { w, wShape, scale } = randomConvWeights(c, rand);
  const shift = randomArray(c.co, rand);
  const geometry = { xShape: [c.n, c.ci, c.h, c.w], w, wShape, scale, shift, stride: c.s, pad: c.p, relu: c.relu };
  const outShape = conv2dRef({ ...geometry, x }).shape;
  const residual = c.residual
    ? randomArray(
        outShape.reduce((a, b) => a * b),
        rand,
      )
    : undefined;
  const expected = conv2dRef({ ...geometry, x, residual });
  const conv = uploadConv(ctx, { shape: wShape, data: w }, scale, shift, { stride: c.s, pad: c.p });
  const gx = ctx.upload({ shape: [c.n, c.ci, c.h, c.w], data: x });
  const gr = residual ? ctx.upload({ shape: expected.shape, data: residual }) : undefined;
  /** Runs the conv as `variant` and checks it against the reference within the variant's tolerance. */
  const check = async (variant: ConvVariant, what: string) => {
    const y = await ctx.read(conv2d(ctx, gx, conv, { relu: c.relu, residual: gr, variant }));
    assert.equal(y.shape, expected.shape, `${variantName(variant)} ${what}: shape`);
    const [abs, rel] = variantTolerance(variant);
    assertClose(y.data, expected.data, abs, rel, `${variantName(variant)} ${what}`);
  };
  return { ctx, conv, check };
}

for (const c of CONV_CASES) {
  const epilogue = `${c.residual ? ' + residual' : ''}${c.relu ? ' + relu' : ''}`;
  test(`conv variants: ${c.name}${epilogue} (n=${c.n}, ${c.ci}→${c.co}, ${c.h}x${c.w})`, async () => {
    const { conv, check } = await setup(c);
    const applicable = CONV_CANDIDATES.filter((v) => variantApplies(v, conv));
    if (c.k === 3 && c.s === 1 && !applicable.some((v) => v.algo === 'winograd'))
      throw new Error('Winograd should apply');
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
  const { ctx, check } = await setup({
    name: 'folded',
    n: 2,
    ci: 3,
    h: 21,
    w: 17,
    co: 5,
    k: 3,
    s: 1,
    p: 1,
    relu: false,
    residual: false,
  });
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
