// Backward kernels against float64 CPU references on fresh random data (odd sizes, batch > 1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dGradInput, gradVariantApplies, uploadConvGrad, GRAD_GATHER } from '../src/kernels/conv2d-grad.js';
import { GRAD_CANDIDATES } from '../src/kernels/conv-tuner.js';
import { variantName, type ConvVariant } from '../src/kernels/conv2d.js';
import { maxPool2dGrad } from '../src/kernels/pool.js';
import { headGrad } from '../src/kernels/head-grad.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { conv2dGradRef, maxPoolGradRef } from './reference.js';

const rand = rng();
const ABS = 2e-5;
const REL = 1e-5;

/** Bounds |got − ref| ≤ abs + rel·|ref|: F(4×4) rounds ~10× worse than the rest (as in the forward). */
function tolerance(v: ConvVariant): [number, number] {
  return v.algo === 'winograd' && v.m === 4 ? [1e-4, 1e-4] : [ABS, REL];
}

const cases = [
  { name: '3x3/s1/p1', n: 2, ci: 5, co: 7, h: 9, w: 11, k: 3, s: 1, p: 1, add: true, mask: true },
  { name: '3x3/s1/p1 (17 channels in, 1 wide)', n: 3, ci: 17, co: 6, h: 7, w: 1, k: 3, s: 1, p: 1, add: false, mask: true },
  { name: '3x3/s2/p1 (odd input)', n: 3, ci: 6, co: 5, h: 13, w: 10, k: 3, s: 2, p: 1, add: false, mask: true },
  { name: '7x7/s2/p3', n: 2, ci: 3, co: 6, h: 19, w: 17, k: 7, s: 2, p: 3, add: false, mask: false },
  { name: '1x1/s2', n: 2, ci: 9, co: 4, h: 11, w: 9, k: 1, s: 2, p: 0, add: true, mask: false },
  { name: '1x1/s1', n: 3, ci: 4, co: 10, h: 5, w: 7, k: 1, s: 1, p: 0, add: false, mask: true },
];

for (const c of cases) {
  test(`conv2d input gradient ${c.name}${c.add ? ' + addend' : ''}${c.mask ? ' + relu mask' : ''}`, async () => {
    const ctx = await gpu();
    const ho = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
    const wo = Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1;
    const dy = randomArray(c.n * c.co * ho * wo, rand);
    const w = randomArray(c.co * c.ci * c.k * c.k, rand);
    const scale = randomArray(c.co, rand, 0.5, 1.5);
    const size = c.n * c.ci * c.h * c.w;
    const addend = c.add ? randomArray(size, rand) : undefined;
    const mask = c.mask ? randomArray(size, rand) : undefined; // about half ≤ 0
    const ref = conv2dGradRef({ dy, dyShape: [c.n, c.co, ho, wo], w, wShape: [c.co, c.ci, c.k, c.k], scale, stride: c.s, pad: c.p, inputSize: [c.h, c.w], addend, mask });
    const params = uploadConvGrad(ctx, { shape: [c.co, c.ci, c.k, c.k], data: w }, scale, { stride: c.s, pad: c.p });
    const up = (a: Float32Array | undefined) => a && ctx.upload({ shape: [c.n, c.ci, c.h, c.w], data: a });
    const gdy = ctx.upload({ shape: [c.n, c.co, ho, wo], data: dy });
    // Every variant the tuner may choose for this shape, and the untuned default.
    const dyShape = [c.n, c.co, ho, wo];
    const variants = [undefined, ...GRAD_CANDIDATES.filter((v) => gradVariantApplies(v, params, [c.h, c.w], dyShape))];
    if (c.k === 3 && c.s === 1 && !variants.some((v) => v?.algo === 'winograd')) throw new Error('Winograd should apply');
    for (const variant of variants) {
      const dx = conv2dGradInput(ctx, gdy, params, { inputSize: [c.h, c.w], addend: up(addend), mask: up(mask), variant });
      assert.equal(dx.shape, [c.n, c.ci, c.h, c.w]);
      const [abs, rel] = variant ? tolerance(variant) : [ABS, REL];
      assertClose((await ctx.read(dx)).data, ref, abs, rel, `conv2d grad ${c.name} ${variant ? variantName(variant) : '(default)'}`);
    }
  });
}

test('conv2d input gradient with the grid folded into z (small workgroup limit), both kernels', async () => {
  const ctx = await gpu();
  for (const c of [cases[2], cases[3], cases[0]]) { // 3x3/s2 (odd input), 7x7/s2, 3x3/s1
    const ho = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
    const wo = Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1;
    const dy = randomArray(c.n * c.co * ho * wo, rand);
    const w = randomArray(c.co * c.ci * c.k * c.k, rand);
    const scale = randomArray(c.co, rand, 0.5, 1.5);
    const ref = conv2dGradRef({ dy, dyShape: [c.n, c.co, ho, wo], w, wShape: [c.co, c.ci, c.k, c.k], scale, stride: c.s, pad: c.p, inputSize: [c.h, c.w] });
    const params = uploadConvGrad(ctx, { shape: [c.co, c.ci, c.k, c.k], data: w }, scale, { stride: c.s, pad: c.p });
    const gdy = ctx.upload({ shape: [c.n, c.co, ho, wo], data: dy });
    const saved = ctx.maxWorkgroupsPerDim;
    ctx.maxWorkgroupsPerDim = 2;
    try {
      for (const variant of [undefined, GRAD_GATHER]) {
        const dx = conv2dGradInput(ctx, gdy, params, { inputSize: [c.h, c.w], variant });
        assertClose((await ctx.read(dx)).data, ref, ABS, REL, `conv2d grad ${c.name} folded${variant ? ' (gather)' : ''}`);
      }
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
  const g = await ctx.read(headGrad(ctx, ctx.upload({ shape: [classes, k], data: fc }), ctx.upload({ shape: [n], data: cls }).buffer, ctx.upload({ shape: [n, k, h, w], data: feats }), { mask: true }));
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
