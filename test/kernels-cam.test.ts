// CAM and saliency-map kernels against float64 CPU references on fresh random data.
import { test } from 'uvu';
import { channelWeights, combineChannels, type WeightMode } from '../src/kernels/cam.js';
import {
  gatherScores,
  maskImage,
  minMaxNormalize,
  upsampleBilinear,
  weightedSum,
  type ScoreMode,
} from '../src/kernels/maps.js';
import { assertClose, closeGpu, gpu, randomArray, rng } from './helpers.js';
import { minMaxRef, upsampleRef } from './reference.js';

const rand = rng();

test('channel weights: mean |G|, mean G, Grad-CAM++ (zeros in G included)', async () => {
  const ctx = await gpu();
  const [n, k, h, w] = [2, 5, 3, 7];
  const hw = h * w;
  const A = randomArray(n * k * hw, rand, 0, 2);
  const G = randomArray(n * k * hw, rand).map((v, i) => (i % 9 === 0 ? 0 : v));
  const gA = ctx.upload({ shape: [n, k, h, w], data: A });
  const gG = ctx.upload({ shape: [n, k, h, w], data: G });
  for (const mode of ['abs-mean', 'mean', 'gradcam++'] as WeightMode[]) {
    const got = await ctx.read(channelWeights(ctx, gA, gG, mode));
    const ref = new Float64Array(n * k);
    for (let c = 0; c < n * k; c++) {
      const g = G.subarray(c * hw, (c + 1) * hw);
      const sumA = A.subarray(c * hw, (c + 1) * hw).reduce((s, v) => s + v, 0);
      if (mode === 'abs-mean') ref[c] = g.reduce((s, v) => s + Math.abs(v), 0) / hw;
      else if (mode === 'mean') ref[c] = g.reduce((s, v) => s + v, 0) / hw;
      else
        ref[c] = g.reduce(
          (s, v) => s + (v === 0 ? 0 : ((v * v) / (2 * v * v + sumA * v ** 3 + 1e-6)) * Math.max(v, 0)),
          0,
        );
    }
    assertClose(got.data, ref, 1e-6, 1e-5, `channel weights ${mode}`);
  }
});

test('combine channels: per-image and shared weights, with and without ReLU', async () => {
  const ctx = await gpu();
  const [n, k, h, w] = [3, 6, 5, 4];
  const A = randomArray(n * k * h * w, rand);
  const W = randomArray(n * k, rand);
  const gA = ctx.upload({ shape: [n, k, h, w], data: A });
  for (const shared of [false, true]) {
    for (const relu of [false, true]) {
      const weights = shared
        ? ctx.upload({ shape: [k], data: W.subarray(0, k) })
        : ctx.upload({ shape: [n, k], data: W });
      const got = await ctx.read(combineChannels(ctx, gA, weights, { relu }));
      const ref = new Float64Array(n * h * w);
      for (let b = 0; b < n; b++)
        for (let p = 0; p < h * w; p++) {
          let s = 0;
          for (let c = 0; c < k; c++) s += W[(shared ? 0 : b) * k + c] * A[(b * k + c) * h * w + p];
          ref[b * h * w + p] = relu ? Math.max(s, 0) : s;
        }
      assertClose(got.data, ref, 1e-6, 1e-5, `combine (shared ${shared}, relu ${relu})`);
    }
  }
});

test('bilinear upsample (PyTorch align_corners=False): up, down, odd, a plane range, scaled', async () => {
  const ctx = await gpu();
  const [planes, h, w] = [5, 7, 4];
  const src = randomArray(planes * h * w, rand);
  const scale = randomArray(planes, rand, 0.5, 2);
  const gSrc = ctx.upload({ shape: [planes, h, w], data: src });
  const gScale = ctx.upload({ shape: [planes], data: scale });
  for (const [H, W] of [
    [29, 13],
    [3, 2],
    [7, 9],
  ]) {
    const got = await ctx.read(
      upsampleBilinear(ctx, gSrc, H, W, { fromPlane: 1, planes: 3, scale: gScale, scaleFrom: 1 }),
    );
    const ref = new Float64Array(3 * H * W);
    for (let p = 0; p < 3; p++)
      ref.set(
        upsampleRef(src.subarray((p + 1) * h * w, (p + 2) * h * w), h, w, H, W).map((v) => v * scale[p + 1]),
        p * H * W,
      );
    assertClose(got.data, ref, 1e-6, 1e-5, `upsample to ${H}x${W}`);
  }
});

test('bilinear upsample, align_corners=True (UpsamplingBilinear2d): odd sizes, up, down, to 1, batch x planes, a plane range', async () => {
  const ctx = await gpu();
  for (const [n, k, h, w] of [
    [2, 3, 7, 5],
    [3, 2, 1, 9],
    [2, 2, 13, 11],
  ]) {
    const src = randomArray(n * k * h * w, rand);
    const gSrc = ctx.upload({ shape: [n, k, h, w], data: src });
    for (const [H, W] of [
      [31, 17],
      [3, 4],
      [1, 5],
      [h, w],
    ]) {
      for (const [from, planes] of [
        [0, n * k],
        [1, n * k - 2],
      ]) {
        const got = await ctx.read(upsampleBilinear(ctx, gSrc, H, W, { fromPlane: from, planes, alignCorners: true }));
        const ref = new Float64Array(planes * H * W);
        for (let p = 0; p < planes; p++)
          ref.set(upsampleRef(src.subarray((p + from) * h * w, (p + from + 1) * h * w), h, w, H, W, true), p * H * W);
        // abs 4e-6: the kernel's source coordinate d·(in − 1)/(out − 1) is float32 (as PyTorch's
        // float32 kernel), off by up to ~12·2⁻²³ at 13 rows, times neighbour differences up to 2.
        assertClose(
          got.data,
          ref,
          4e-6,
          1e-5,
          `align-corners upsample ${n}x${k}x${h}x${w} to ${H}x${W}, planes ${from}+${planes}`,
        );
      }
    }
  }
});

test('min-max normalise per plane (planes smaller and larger than a workgroup)', async () => {
  const ctx = await gpu();
  for (const [planes, h, w] of [
    [3, 5, 7],
    [2, 41, 33],
  ]) {
    const v = randomArray(planes * h * w, rand, -3, 5);
    const got = await ctx.read(minMaxNormalize(ctx, ctx.upload({ shape: [planes, h, w], data: v })));
    const ref = new Float64Array(v.length);
    for (let p = 0; p < planes; p++) ref.set(minMaxRef(v.subarray(p * h * w, (p + 1) * h * w)), p * h * w);
    assertClose(got.data, ref, 1e-6, 1e-6, `normalise ${planes}x${h}x${w}`);
  }
});

test('mask image: image i of a batch times each mask', async () => {
  const ctx = await gpu();
  const [n, m, h, w] = [3, 4, 5, 7];
  const img = randomArray(n * 3 * h * w, rand);
  const masks = randomArray(m * h * w, rand, 0, 1);
  const got = await ctx.read(
    maskImage(ctx, ctx.upload({ shape: [n, 3, h, w], data: img }), 2, ctx.upload({ shape: [m, h, w], data: masks })),
  );
  const ref = new Float64Array(m * 3 * h * w);
  for (let k = 0; k < m; k++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < h * w; p++) {
        ref[(k * 3 + c) * h * w + p] = img[(2 * 3 + c) * h * w + p] * masks[k * h * w + p];
      }
  assertClose(got.data, ref, 0, 1e-7, 'mask image');
});

test('weighted sum of maps: accumulate over calls, ReLU on the last', async () => {
  const ctx = await gpu();
  const [m, h, w] = [5, 6, 9];
  const maps1 = randomArray(m * h * w, rand);
  const maps2 = randomArray(m * h * w, rand);
  const score = randomArray(2 * m, rand, -2, 2);
  const gScore = ctx.upload({ shape: [2 * m], data: score });
  const acc = ctx.tensor([h, w]);
  weightedSum(ctx, ctx.upload({ shape: [m, h, w], data: maps1 }), gScore, acc, { scoreFrom: 0 });
  weightedSum(ctx, ctx.upload({ shape: [m, h, w], data: maps2 }), gScore, acc, {
    scoreFrom: m,
    accumulate: true,
    relu: true,
  });
  const ref = new Float64Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += score[k] * maps1[k * h * w + p] + score[m + k] * maps2[k * h * w + p];
    ref[p] = Math.max(s, 0);
  }
  assertClose((await ctx.read(acc)).data, ref, 1e-6, 1e-5, 'weighted sum');
});

test('gather scores: logit, |logit|, softmax probability, at an offset', async () => {
  const ctx = await gpu();
  const [rows, classes, cls] = [5, 7, 3];
  const logits = randomArray(rows * classes, rand, -10, 10);
  const gl = ctx.upload({ shape: [rows, classes], data: logits });
  for (const mode of ['logit', 'abs-logit', 'softmax'] as ScoreMode[]) {
    const scores = ctx.upload({ shape: [rows + 2], data: new Float32Array(rows + 2).fill(-1) });
    gatherScores(ctx, gl, cls, scores, 2, mode);
    const ref = new Float64Array(rows + 2).fill(-1);
    for (let r = 0; r < rows; r++) {
      const row = logits.subarray(r * classes, (r + 1) * classes);
      const l = row[cls];
      const m = Math.max(...row);
      ref[2 + r] =
        mode === 'logit'
          ? l
          : mode === 'abs-logit'
            ? Math.abs(l)
            : Math.exp(l - m) / row.reduce((s, v) => s + Math.exp(v - m), 0);
    }
    assertClose((await ctx.read(scores)).data, ref, 1e-7, 1e-5, `scores ${mode}`);
  }
});

test.after(closeGpu);
test.run();
