/**
 * Abs-CAM on a full-size ResNet-18 (random weights): Init (one forward + backward) timed with
 * tinybench, Final (one forward + backward + one masked forward per channel of the layer) run
 * once with progress. Reports time, forward passes per second, peak GPU memory, and, as the peer
 * in the same run, a plain forward of one batch of the same size: Final's passes/s over the plain
 * forward's images/s shows what mask making and score accumulation cost.
 * Writes bench/results/abscam.json.
 *
 *   npm run build && node dist/bench/abscam.js [--size 224] [--layer layer4] [--batch 32]
 */
import { Bench } from 'tinybench';
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { ResNet } from '../src/model/resnet.js';
import { CamExplainer } from '../src/explain/cam.js';
import { progressReporter } from '../src/cli/progress.js';
import { randomResNet } from './random-resnet.js';
import { GRAD_GATHER } from '../src/kernels/conv2d-grad.js';
import { ConvTuner } from '../src/kernels/conv-tuner.js';
import { gradientAt } from '../src/model/gradient.js';
import { benchOptions } from './options.js';

const values = benchOptions({ size: '224', layer: 'layer4', batch: '32' });
const size = Number(values.size);
const batch = Number(values.batch);

const ctx = await GpuContext.node();
try {
  const model = ResNet.fromStateDict(ctx, randomResNet('resnet18', 4), 'resnet18');
  const explainer = new CamExplainer(model);
  const image = {
    shape: [1, 3, size, size],
    data: new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 0.013)),
  };
  console.log(`resnet18 at ${size}x${size}, ${values.layer}, adapter: ${ctx.adapterInfo}`);

  const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 });
  const x = ctx.upload({ shape: [batch, 3, size, size], data: new Float32Array(batch * 3 * size * size).fill(0.1) });
  await model.prepare(x.shape); // the plain forward runs the convs Final's batches run (and tuning is not timed)
  bench.add('abscam-init', async () => {
    await explainer.absCamInit(image, { layer: values.layer });
  });
  bench.add(`plain forward, batch ${batch}`, async () => {
    const { logits } = model.forward(x);
    await ctx.sync();
    ctx.release(logits);
  });
  await bench.run();
  const [initMs, fwdMs] = bench.tasks.map((t) => (t.result as { latency: { mean: number } }).latency.mean);
  ctx.release(x);

  // The backward alone, down to the input (every conv's input gradient): GPU time of the gradient
  // kernels, the tuned choice per conv against the 4-pixel gather for all, same run.
  const backward: Record<string, number> = {};
  if (ctx.startProfiling()) {
    await ctx.stopProfiling();
    const xi = ctx.upload(image);
    for (let r = 0; r < 3; r++) {
      for (const [name, forced] of [
        ['tuned', undefined],
        ['gather', GRAD_GATHER],
      ] as const) {
        ConvTuner.of(ctx).forceGrad(forced);
        ctx.startProfiling();
        const g = await gradientAt(model, xi, 'input', [0]);
        const ns = (await ctx.stopProfiling()).filter((k) => k.label.includes('.grad')).reduce((a, k) => a + k.ns, 0);
        ctx.release(g.logits, g.gradient);
        backward[name] = Math.min(backward[name] ?? Infinity, ns / 1e6);
      }
    }
    ConvTuner.of(ctx).forceGrad(undefined);
    ctx.release(xi);
    console.log(
      `backward to the input, GPU ms (best of 3): tuned ${backward.tuned.toFixed(1)}, gather ${backward.gather.toFixed(1)} (${(backward.gather / backward.tuned).toFixed(2)}x)`,
    );
  }

  const t0 = performance.now();
  const final = await explainer.absCamFinal(image, {
    layer: values.layer,
    batch,
    onProgress: progressReporter('abscam-final'),
  });
  const finalMs = performance.now() - t0;
  const rows = [
    { task: 'abscam-init', ms: +initMs.toFixed(0), 'passes/s': +(1000 / initMs).toFixed(2), 'peak MiB': '' },
    {
      task: 'abscam-final',
      ms: +finalMs.toFixed(0),
      'passes/s': +((1000 * final.forwardPasses) / finalMs).toFixed(2),
      'peak MiB': +(final.peakGpuBytes / 2 ** 20).toFixed(1),
    },
    {
      task: `plain forward, batch ${batch}`,
      ms: +fwdMs.toFixed(0),
      'passes/s': +((1000 * batch) / fwdMs).toFixed(2),
      'peak MiB': '',
    },
  ];
  console.table(rows);
  const ratio = final.forwardPasses / finalMs / (batch / fwdMs);
  console.log(`abscam-final forward passes/s relative to a plain batched forward: ${ratio.toFixed(2)}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/abscam.json',
    JSON.stringify(
      {
        size,
        layer: values.layer,
        batch,
        adapter: ctx.adapterInfo,
        date: new Date().toISOString(),
        rows,
        finalVsPlainForward: ratio,
        backwardGpuMs: backward,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ctx.close();
}
