// Backward kernels against float64 CPU references on fresh random data (odd sizes, batch > 1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dGradInput, gradVariantApplies, uploadConvGrad, GRAD_GATHER } from '../src/kernels/conv2d-grad.js';
import { GRAD_CANDIDATES } from '../src/kernels/conv-tuner.js';
import { variantName, type ConvVariant } from '../src/kernels/conv2d.js';
import { maxPool2dGrad } from '../src/kernels/pool.js';
import { headGrad } from '../src/kernels/head-grad.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { CONV_CASES, convCase, randomConvWeights, variantTolerance, type ConvCase } from './conv-cases.js';
import { conv2dGradRef, maxPoolGradRef } from './reference.js';

const rand = rng();

/**
 * A case's output gradient dy, weights and the float64 reference of dx on the GPU; with `epilogue`,
 * a ReLU mask where the forward case has a ReLU and an addend where it adds a residual.
 */
async function setup(c: ConvCase, epilogue: boolean) {
  const ctx = await gpu();
  const ho = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
  const wo = Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1;
  const dyShape = [c.n, c.co, ho, wo];
  const dy = randomArray(c.n * c.co * ho * wo, rand);
  const { w, wShape, scale } = randomConvWeights(c, rand);
  const size = c.n * c.ci * c.h * c.w;
  const addend = epilogue && c.residual ? randomArray(size, rand) : undefined;
  const mask = epilogue && c.relu ? randomArray(size, rand) : undefined; // about half ≤ 0
  const ref = conv2dGradRef({
    dy,
    dyShape,
    w,
    wShape,
    scale,
    stride: c.s,
    pad: c.p,
    inputSize: [c.h, c.w],
    addend,
    mask,
  });
  const conv = uploadConvGrad(ctx, { shape: wShape, data: w }, scale, { stride: c.s, pad: c.p });
  const up = (a: Float32Array | undefined) => a && ctx.upload({ shape: [c.n, c.ci, c.h, c.w], data: a });
  const gdy = ctx.upload({ shape: dyShape, data: dy });
  const options = { inputSize: [c.h, c.w] as [number, number], addend: up(addend), mask: up(mask) };
  /** dx as `variant` (undefined: the untuned default) against the reference, within its tolerance. */
  const check = async (variant: ConvVariant | undefined, what: string) => {
    const dx = conv2dGradInput(ctx, gdy, conv, { ...options, variant });
    assert.equal(dx.shape, [c.n, c.ci, c.h, c.w]);
    const [abs, rel] = variantTolerance(variant);
    assertClose(
      (await ctx.read(dx)).data,
      ref,
      abs,
      rel,
      `conv2d grad ${c.name}${what} ${variant ? variantName(variant) : '(default)'}`,
    );
  };
  // Every variant the tuner may choose for this shape.
  const candidates = GRAD_CANDIDATES.filter((v) => gradVariantApplies(v, conv, [c.h, c.w], dyShape));
  return { ctx, candidates, check };
}

for (const c of CONV_CASES) {
  test(`conv2d input gradient ${c.name}${c.residual ? ' + addend' : ''}${c.relu ? ' + relu mask' : ''}`, async () => {
    const { candidates, check } = await setup(c, true);
    if (c.k === 3 && c.s === 1 && !candidates.some((v) => v.algo === 'winograd'))
      throw new Error('Winograd should apply');
    for (const variant of [undefined, ...candidates]) await check(variant, '');
  });
}

test('conv2d input gradient with the grid folded into z (small workgroup limit), both kernels', async () => {
  for (const name of ['3x3/s2/p1, odd input', '7x7/s2/p3', '3x3/s1/p1, 5 channels in']) {
    const { ctx, check } = await setup(convCase(name), false);
    const saved = ctx.maxWorkgroupsPerDim;
    ctx.maxWorkgroupsPerDim = 2;
    try {
      for (const variant of [undefined, GRAD_GATHER]) await check(variant, ' folded');
    } finally {
      ctx.maxWorkgroupsPerDim = saved;
    }
  }
});

test('maxpool gradient routes to the first maximum, ties included, with and without mask', async () => {
  const ctx = await gpu();
  const shape = [2, 3, 15, 12];
  const total = shape.reduce((a, b) => a * b);
  // Values on a coarse grid so that windows often hold equal maxima.
  const x = randomArray(total, rand).map((v) => Math.round(v * 3) / 3);
  const ho = 8;
  const wo = 6;
  const dy = randomArray(2 * 3 * ho * wo, rand);
  const gx = ctx.upload({ shape, data: x });
  const gdy = ctx.upload({ shape: [2, 3, ho, wo], data: dy });
  for (const mask of [false, true]) {
    const dx = await ctx.read(maxPool2dGrad(ctx, gx, gdy, { mask }));
    assertClose(dx.data, maxPoolGradRef(x, shape, dy, 3, 2, 1, mask), 1e-6, 1e-6, `maxpool grad (mask ${mask})`);
  }
});

test('head gradient: W[c_n, k] / hw per image class, with relu mask', async () => {
  const ctx = await gpu();
  const [n, k, h, w, classes] = [3, 6, 3, 5, 4];
  const fc = randomArray(classes * k, rand);
  const feats = randomArray(n * k * h * w, rand);
  const cls = new Uint32Array([2, 0, 3]);
  const g = await ctx.read(
    headGrad(
      ctx,
      ctx.upload({ shape: [classes, k], data: fc }),
      ctx.upload({ shape: [n], data: cls }).buffer,
      ctx.upload({ shape: [n, k, h, w], data: feats }),
      { mask: true },
    ),
  );
  const ref = new Float64Array(n * k * h * w);
  for (let i = 0; i < ref.length; i++) {
    const b = Math.floor(i / (k * h * w));
    const ch = Math.floor(i / (h * w)) % k;
    ref[i] = feats[i] > 0 ? fc[cls[b] * k + ch] / (h * w) : 0;
  }
  assertClose(g.data, ref, 1e-7, 1e-6, 'head grad');
});

test.after(closeGpu);
test.run();
