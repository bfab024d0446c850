// Insertion / deletion: the GPU ranking and step images against CPU constructions, the blur and
// the AUC arithmetic, and whole curves and AUCs against the RISE authors' protocol in PyTorch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { ResNet } from '../src/model/resnet.js';
import type { HostTensor } from '../src/io/tensor.js';
import { auc, BLUR_1D, CausalMetrics } from '../src/metrics/causal.js';
import { rankPixels, stepImages } from '../src/kernels/causal.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { conv2dRef } from './reference.js';

const DIR = new URL('../../test/fixtures/causal/', import.meta.url).pathname;
const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const rand = rng();

/** Pixels by value descending, ties by index ascending. */
function rankRef(v: ArrayLike<number>): Uint32Array {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);
  const rank = new Uint32Array(v.length);
  order.forEach((p, r) => (rank[p] = r));
  return rank;
}

test('pixel ranking: bitonic sort on the GPU equals a CPU sort, ties by index (odd sizes)', async () => {
  const ctx = await gpu();
  const saved = ctx.maxWorkgroupsPerDim;
  // The last pass folds the grid into y, as images over 2048² need (2 workgroups per row).
  for (const [h, w, limit] of [
    [37, 29, saved],
    [16, 16, saved],
    [1, 5, saved],
    [37, 29, 2],
  ]) {
    // Coarse values so that many pixels tie.
    const v = randomArray(h * w, rand).map((x) => Math.round(x * 20) / 20);
    ctx.maxWorkgroupsPerDim = limit;
    try {
      const got = await ctx.read(rankPixels(ctx, ctx.upload({ shape: [h, w], data: v })));
      assert.equal(
        Array.from(new Uint32Array(got.data.buffer)),
        Array.from(rankRef(v)),
        `${h}x${w}, ${limit} workgroups per dimension`,
      );
    } finally {
      ctx.maxWorkgroupsPerDim = saved;
    }
  }
});

test('step images equal the CPU construction (insertion from a start image, deletion to zeros)', async () => {
  const ctx = await gpu();
  const [h, w, step] = [7, 5, 4];
  const P = h * w;
  const start = randomArray(3 * P, rand);
  const finish = randomArray(3 * P, rand);
  const sal = randomArray(P, rand);
  const rank = rankRef(sal);
  const gRank = rankPixels(ctx, ctx.upload({ shape: [h, w], data: sal }));
  const gStart = ctx.upload({ shape: [1, 3, h, w], data: start });
  const gFinish = ctx.upload({ shape: [1, 3, h, w], data: finish });
  for (const withFinish of [true, false]) {
    const got = await ctx.read(stepImages(ctx, gRank, gStart, withFinish ? gFinish : undefined, step, 3, 4)); // k = 3..6
    const ref = new Float32Array(4 * 3 * P);
    for (let b = 0; b < 4; b++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < P; p++) {
          ref[(b * 3 + c) * P + p] = rank[p] < (3 + b) * step ? (withFinish ? finish[c * P + p] : 0) : start[c * P + p];
        }
    assert.equal(Array.from(got.data), Array.from(ref), `finish ${withFinish}`);
  }
});

test('blur: per-channel 11x11 Gaussian, zero padding 5 (float64 reference and PyTorch)', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  const image = loadNpyFile(`${DIR}input.npy`);
  const got = await ctx.read(new CausalMetrics(model).blur(ctx.upload(image)));
  assertClose(got.data, loadNpyFile(`${DIR}blurred.npy`).data, 1e-6, 1e-5, 'blur vs PyTorch');
  const w = new Float64Array(3 * 3 * 121);
  for (let c = 0; c < 3; c++)
    for (let k = 0; k < 121; k++) w[(c * 3 + c) * 121 + k] = BLUR_1D[Math.floor(k / 11)] * BLUR_1D[k % 11];
  const ref = conv2dRef({
    x: image.data,
    xShape: image.shape,
    w,
    wShape: [3, 3, 11, 11],
    scale: [1, 1, 1],
    shift: [0, 0, 0],
    stride: 1,
    pad: 5,
  });
  assertClose(got.data, ref.data, 1e-6, 1e-5, 'blur vs float64');
});

test('AUC: trapezoid over the n + 1 scores', () => {
  assert.is(auc([1, 0]), 0.5);
  assert.is(auc([0, 1, 1]), 0.75);
  assert.ok(Math.abs(auc([0.2, 0.4, 0.9, 1]) - (0.1 + 0.4 + 0.9 + 0.5) / 3) < 1e-15);
});

const index = JSON.parse(readFileSync(`${DIR}index.json`, 'utf8')) as Record<
  string,
  { class: number; auc: number; steps: number }
>;

for (const step of [37, 224]) {
  test(`insertion and deletion curves at step ${step} (48x40 input) match PyTorch at every point`, async () => {
    const ctx = await gpu();
    const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
    const results = await new CausalMetrics(model).evaluate(
      loadNpyFile(`${DIR}input.npy`),
      loadNpyFile(`${DIR}saliency.npy`),
      ['insertion', 'deletion'],
      { step, batch: 10 },
    );
    for (const r of results) {
      const want = index[`${r.metric}/${step}`];
      assert.is(r.classIndex, want.class);
      assert.is(r.scores.length, want.steps + 1);
      assertClose(r.scores, loadNpyFile(`${DIR}curve-${r.metric}-step${step}.npy`).data, 1e-5, 0, `${r.metric} curve`);
      assert.ok(Math.abs(r.auc - want.auc) < 1e-5, `${r.metric} AUC ${r.auc} vs ${want.auc}`);
    }
  });
}

test('a saliency map of the wrong size, NaN and infinities are refused', async () => {
  const ctx = await gpu();
  const metrics = new CausalMetrics(ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`)));
  const image = loadNpyFile(`${DIR}input.npy`);
  for (const [sal, pattern] of [
    [
      { shape: [40, 48], data: new Float32Array(1920) },
      /saliency map has shape \[40,48\]; for this 48x40 input it must be \[48, 40\]/,
    ],
    [
      { shape: [48, 40], data: new Float32Array(1920).fill(NaN) },
      /saliency map's plane 0 holds NaN at \[0,0\] \(non-finite values are refused\)/,
    ],
    [{ shape: [48, 40], data: new Float32Array(1920).fill(-Infinity, 41) }, /holds -Infinity at \[1,1\]/],
  ] as const) {
    try {
      await metrics.evaluate(image, sal as unknown as HostTensor);
      assert.unreachable('expected an error');
    } catch (e) {
      assert.match((e as Error).message, pattern);
    }
  }
});

test.after(closeGpu);
test.run();
