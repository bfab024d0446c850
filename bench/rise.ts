/**
 * RISE on a ResNet-18 (random full-size weights, or --weights): masks/s, total time and peak GPU
 * memory for N masks; the share of GPU time outside the forward pass (mask making, masking,
 * accumulation) from timestamp queries over two batches; and, as the peer in the same run, a plain
 * batched forward: RISE's masks/s over its images/s. With --compare-n M also runs N = M and reports
 * both peaks (they should be equal). Writes bench/results/rise.json.
 *
 *   npm run build && node dist/bench/rise.js [--size 224] [--masks 500] [--batch 32] [--compare-n 4000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { GpuContext } from '../src/gpu/context.js';
import { ResNet } from '../src/model/resnet.js';
import { RiseExplainer } from '../src/explain/rise.js';
import { loadWeightsFile } from '../src/io/files.js';
import { progressReporter } from '../src/cli/progress.js';
import { randomResNet } from './random-resnet.js';
import { benchOptions } from './options.js';

const values = benchOptions({ size: '224', masks: '500', batch: '32', weights: undefined, 'compare-n': undefined });
const size = Number(values.size);
const N = Number(values.masks);
const batch = Number(values.batch);

const ctx = await GpuContext.node();
try {
  const model = ResNet.fromStateDict(
    ctx,
    values.weights ? loadWeightsFile(values.weights) : randomResNet('resnet18', 4),
    values.weights ?? 'resnet18',
  );
  const rise = new RiseExplainer(model);
  const image = {
    shape: [1, 3, size, size],
    data: new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 0.013)),
  };
  console.log(`${model.spec.arch} at ${size}x${size}, N = ${N}, batch ${batch}; adapter: ${ctx.adapterInfo}`);

  // Share of GPU time per kind of kernel, over two batches (tuned first: a profile of the steady state).
  await model.prepare([1, 3, size, size]);
  await model.prepare([batch, 3, size, size]);
  ctx.startProfiling();
  await rise.explain(image, { masks: 2 * batch, batch });
  const times = await ctx.stopProfiling();
  const riseNs = times.filter((t) => t.label.startsWith('rise.')).reduce((s, t) => s + t.ns, 0);
  const allNs = times.reduce((s, t) => s + t.ns, 0);

  const t0 = performance.now();
  const r = await rise.explain(image, { masks: N, batch, onProgress: progressReporter('rise') });
  const ms = performance.now() - t0;

  const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 });
  const x = ctx.upload({
    shape: [r.parameters.batch, 3, size, size],
    data: new Float32Array(r.parameters.batch * 3 * size * size).fill(0.1),
  });
  await model.prepare(x.shape); // tuned already by RISE itself: the same convs
  bench.add('plain forward', async () => {
    const { logits } = model.forward(x);
    await ctx.sync();
    ctx.release(logits);
  });
  await bench.run();
  const fwdMs = (bench.tasks[0].result as { latency: { mean: number } }).latency.mean;
  ctx.release(x);

  const rows = [
    {
      task: `rise N=${N}`,
      'total s': +(ms / 1000).toFixed(1),
      'masks/s': +((1000 * N) / ms).toFixed(2),
      'peak MiB': +(r.peakGpuBytes / 2 ** 20).toFixed(1),
      'GPU time outside forward': `${((100 * riseNs) / allNs).toFixed(1)}%`,
    },
    {
      task: `plain forward, batch ${r.parameters.batch}`,
      'total s': +(fwdMs / 1000).toFixed(2),
      'masks/s': +((1000 * r.parameters.batch) / fwdMs).toFixed(2),
      'peak MiB': '',
      'GPU time outside forward': '',
    },
  ];
  let compare: { n: number; peakMiB: number } | undefined;
  if (values['compare-n']) {
    const m = Number(values['compare-n']);
    const c = await rise.explain(image, { masks: m, batch, onProgress: progressReporter(`rise N=${m}`) });
    compare = { n: m, peakMiB: +(c.peakGpuBytes / 2 ** 20).toFixed(1) };
    rows.push({
      task: `rise N=${m}`,
      'total s': +(c.timingsMs.total / 1000).toFixed(1),
      'masks/s': +((1000 * m) / c.timingsMs.total).toFixed(2),
      'peak MiB': compare.peakMiB,
      'GPU time outside forward': '',
    });
  }
  console.table(rows);
  const ratio = N / ms / (r.parameters.batch / fwdMs);
  console.log(`RISE masks/s relative to a plain batched forward: ${ratio.toFixed(2)}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/rise.json',
    JSON.stringify(
      {
        size,
        masks: N,
        batch,
        arch: model.spec.arch,
        adapter: ctx.adapterInfo,
        date: new Date().toISOString(),
        rows,
        riseVsPlainForward: ratio,
        compare,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ctx.close();
}
