/**
 * Insertion + deletion of one image on a ResNet-18 (random full-size weights, or --weights):
 * our batched GPU path (step images made on the GPU, scored --batch at a time) against a
 * straightforward one-forward-per-step loop on the same engine, as the original project's code runs it (swap
 * the next pixels on the host, upload, forward, read the probability back). Both give the same
 * curves (checked). Prints forwards/s, total time and the ratio; writes bench/results/causal.json.
 *
 *   npm run build && node dist/bench/causal.js [--size 224] [--step 224] [--batch 32]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { ResNet } from '../src/model/resnet.js';
import { auc, CausalMetrics } from '../src/metrics/causal.js';
import { softmax } from '../src/kernels/softmax.js';
import { loadWeightsFile } from '../src/io/files.js';
import type { HostTensor } from '../src/io/tensor.js';
import { randomResNet } from './random-resnet.js';
import { benchOptions } from './options.js';

const values = benchOptions({ size: '224', step: '224', batch: '32', weights: undefined });
const size = Number(values.size);
const step = Number(values.step);
const P = size * size;

const ctx = await GpuContext.node();
try {
  const model = ResNet.fromStateDict(
    ctx,
    values.weights ? loadWeightsFile(values.weights) : randomResNet('resnet18', 4),
    'resnet18',
  );
  const metrics = new CausalMetrics(model);
  const image: HostTensor = {
    shape: [1, 3, size, size],
    data: new Float32Array(3 * P).map((_, i) => Math.sin(i * 0.013)),
  };
  const saliency: HostTensor = {
    shape: [size, size],
    data: new Float32Array(P).map((_, i) => Math.sin(i * 0.37) + i * 1e-7),
  };
  console.log(`resnet18 at ${size}x${size}, step ${step}; adapter: ${ctx.adapterInfo}`);
  // Both paths with tuned convs, tuning itself not timed: the batch the batched path runs, and 1.
  await model.prepare([1, 3, size, size]);
  await model.prepare([Math.min(Number(values.batch), Math.ceil(P / step) + 1), 3, size, size]);

  let t0 = performance.now();
  const batched = await metrics.evaluate(image, saliency, ['insertion', 'deletion'], {
    step,
    batch: Number(values.batch),
  });
  const batchedMs = performance.now() - t0;

  // The per-step loop: host-side images, one forward and one readback per step.
  t0 = performance.now();
  const cls = batched[0].classIndex;
  const order = [...saliency.data.keys()].sort((a, b) => saliency.data[b] - saliency.data[a] || a - b);
  const blurred = (await ctx.read(metrics.blur(ctx.upload(image)))).data;
  const loop: number[][] = [];
  for (const metric of ['insertion', 'deletion']) {
    const cur = Float32Array.from(metric === 'deletion' ? image.data : blurred);
    const finish = metric === 'deletion' ? new Float32Array(3 * P) : image.data;
    const n = Math.ceil(P / step);
    const scores: number[] = [];
    for (let i = 0; i <= n; i++) {
      const x = ctx.upload({ shape: [1, 3, size, size], data: cur });
      const { logits } = model.forward(x);
      const prob = softmax(ctx, logits);
      scores.push((await ctx.read(prob)).data[cls]);
      ctx.release(x, logits, prob);
      for (const p of order.slice(i * step, (i + 1) * step))
        for (let c = 0; c < 3; c++) cur[c * P + p] = finish[c * P + p];
    }
    loop.push(scores);
  }
  const loopMs = performance.now() - t0;
  const diff = Math.max(...batched.flatMap((r, k) => r.scores.map((v, i) => Math.abs(v - loop[k][i]))));
  const forwards = batched[0].forwardPasses + batched[1].forwardPasses;
  const rows = [
    {
      path: 'batched (GPU step images)',
      'total s': +(batchedMs / 1000).toFixed(2),
      'forwards/s': +((1000 * forwards) / batchedMs).toFixed(2),
      'insertion AUC': +batched[0].auc.toFixed(4),
      'deletion AUC': +batched[1].auc.toFixed(4),
    },
    {
      path: 'one forward per step',
      'total s': +(loopMs / 1000).toFixed(2),
      'forwards/s': +((1000 * forwards) / loopMs).toFixed(2),
      'insertion AUC': +auc(loop[0]).toFixed(4),
      'deletion AUC': +auc(loop[1]).toFixed(4),
    },
  ];
  console.table(rows);
  console.log(
    `speed-up of the batched path: ${(loopMs / batchedMs).toFixed(2)}x; largest curve difference ${diff.toExponential(2)}`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/causal.json',
    JSON.stringify(
      {
        size,
        step,
        adapter: ctx.adapterInfo,
        date: new Date().toISOString(),
        rows,
        speedup: loopMs / batchedMs,
        maxCurveDifference: diff,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ctx.close();
}
