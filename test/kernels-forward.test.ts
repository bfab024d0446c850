// Forward kernels against float64 CPU references on fresh random data (odd sizes, batch > 1).
import { test } from 'uvu';
import { globalAvgPool, maxPool2d } from '../src/kernels/pool.js';
import { linear } from '../src/kernels/linear.js';
import { softmax } from '../src/kernels/softmax.js';
import { channelAffine } from '../src/kernels/channel-affine.js';
import { packScaleShift } from '../src/kernels/conv2d.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { avgPoolRef, linearRef, maxPoolRef, softmaxRef } from './reference.js';

const rand = rng();
// The conv kernels (every variant) are tested in kernels-conv-variants.test.ts.

test('maxpool 3x3/s2/p1, odd sizes, also with a folded grid', async () => {
  const ctx = await gpu();
  for (const limit of [ctx.maxWorkgroupsPerDim, 2]) {
    const saved = ctx.maxWorkgroupsPerDim;
    ctx.maxWorkgroupsPerDim = limit;
    const shape = [3, 5, 15, 12];
    const x = randomArray(
      shape.reduce((a, b) => a * b),
      rand,
    );
    const y = await ctx.read(maxPool2d(ctx, ctx.upload({ shape, data: x })));
    ctx.maxWorkgroupsPerDim = saved;
    assertClose(y.data, maxPoolRef(x, shape, 3, 2, 1), 0, 0, `maxpool (limit ${limit})`);
  }
});

test('global average pool', async () => {
  const ctx = await gpu();
  const shape = [3, 7, 5, 9];
  const x = randomArray(
    shape.reduce((a, b) => a * b),
    rand,
  );
  const y = await ctx.read(globalAvgPool(ctx, ctx.upload({ shape, data: x })));
  assertClose(y.data, avgPoolRef(x, shape), 1e-6, 1e-5, 'avgpool');
});

test('linear (in not a multiple of 4)', async () => {
  const ctx = await gpu();
  const [n, inF, outF] = [3, 37, 5];
  const x = randomArray(n * inF, rand);
  const w = randomArray(outF * inF, rand);
  const b = randomArray(outF, rand);
  const fc = {
    weight: ctx.upload({ shape: [outF, inF], data: w }),
    bias: ctx.upload({ shape: [outF], data: b }),
    inFeatures: inF,
    outFeatures: outF,
  };
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
  const y = await ctx.read(
    channelAffine(ctx, ctx.upload({ shape, data: x }), ctx.upload({ shape: [ss.length], data: ss }), {
      relu: true,
      residual: ctx.upload({ shape, data: r }),
    }),
  );
  const ref = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    const c = Math.floor(i / 21) % 5;
    ref[i] = Math.max(0, x[i] * scale[c] + shift[c] + r[i]);
  }
  assertClose(y.data, ref, 1e-6, 1e-6, 'channel affine');
});

test.after(closeGpu);
test.run();
