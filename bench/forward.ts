/**
 * ResNet forward throughput on this adapter: images/s and GFLOP/s at batch 1 and 16 (tinybench),
 * then GPU time per layer from timestamp queries. Prints tables and writes bench/results/forward.json.
 *
 *   npm run bench -- [--arch resnet18] [--size 224] [--batches 1,16] [--iterations 3] [--baseline]
 *                    [--precision f32,f16]
 *
 * The model is tuned first (ResNet.prepare; the time is reported); --baseline also times every
 * conv as the direct 4×1 kernel (0.1.0's) in the same run, for a before/after ratio; each
 * --precision listed is timed in the same run (f16: half-precision storage, where the adapter has
 * shader-f16).
 */
import { Bench } from 'tinybench';
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { ResNet } from '../src/model/resnet.js';
import { convInputs } from '../src/model/resnet-spec.js';
import { convOutSize } from '../src/kernels/conv2d.js';
import { ConvTuner } from '../src/kernels/conv-tuner.js';
import { DEFAULT_CONV_VARIANT, variantName } from '../src/kernels/conv2d.js';
import { type ARCHS, randomResNet } from './random-resnet.js';
import type { StorageType } from '../src/gpu/tensor.js';
import { benchOptions } from './options.js';

const values = benchOptions({
  arch: 'resnet18',
  size: '224',
  batches: '1,16',
  iterations: '3',
  baseline: false,
  precision: 'f32',
});
const arch = values.arch as keyof typeof ARCHS;
const size = Number(values.size);
const batches = values.batches!.split(',').map(Number);
const precisions = values.precision!.split(',') as StorageType[];
if (precisions.some((p) => p !== 'f32' && p !== 'f16'))
  throw new Error(`--precision takes f32 and/or f16, not ${values.precision}`);

/** Multiply-adds ×2 of every conv and the fc for one image. */
function flopsPerImage(model: ResNet, h: number, w: number): number {
  let flops = 2 * model.spec.featureChannels * model.spec.numClasses;
  for (const { conv, h: H, w: W } of convInputs(model.spec, h, w)) {
    const [co, ci, kh, kw] = conv.weight.shape;
    flops +=
      2 * co * ci * kh * kw * convOutSize(H, kh, conv.stride, conv.pad) * convOutSize(W, kw, conv.stride, conv.pad);
  }
  return flops;
}

const ctx = await GpuContext.node();
try {
  const model = ResNet.fromStateDict(ctx, randomResNet(arch, 1000), arch);
  const gflop = flopsPerImage(model, size, size) / 1e9;
  console.log(`${arch} at ${size}x${size}: ${gflop.toFixed(2)} GFLOP per image; adapter: ${ctx.adapterInfo}`);

  const inputs = new Map(
    batches.map((b) => {
      const data = new Float32Array(b * 3 * size * size).map((_, i) => Math.sin(i * 0.01));
      return [b, ctx.upload({ shape: [b, 3, size, size], data }, 'bench.input')];
    }),
  );
  const tuner = ConvTuner.of(ctx);
  const tuneStart = performance.now();
  for (const precision of precisions) {
    model.precision = precision;
    for (const b of batches) await model.prepare([b, 3, size, size]);
  }
  const tuneMs = performance.now() - tuneStart;
  console.log(`tuning: ${(tuneMs / 1000).toFixed(1)} s (${tuner.enabled ? 'on' : 'off'}); choices:`);
  console.table([...tuner.choices.values()].map((c) => ({ key: c.key, variant: c.variant, source: c.source })));

  // The tuned forward against the 0.1.0 kernel (every conv direct 4×1) in the same run.
  const bench = new Bench({
    name: 'forward',
    iterations: Number(values.iterations),
    time: 0,
    warmupIterations: 1,
    warmupTime: 0,
  });
  const modes = [
    ...precisions.map((precision) => ({
      name: precisions.length > 1 ? `tuned ${precision}` : 'tuned',
      force: undefined,
      precision,
    })),
    ...(values.baseline
      ? [{ name: variantName(DEFAULT_CONV_VARIANT), force: DEFAULT_CONV_VARIANT, precision: 'f32' as const }]
      : []),
  ];
  for (const b of batches) {
    for (const mode of modes) {
      bench.add(`${arch} batch ${b} ${mode.name}`, async () => {
        tuner.force(mode.force);
        model.precision = mode.precision;
        const { logits } = model.forward(inputs.get(b)!);
        await ctx.sync();
        ctx.release(logits);
        tuner.force(undefined);
      });
    }
  }
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number; rme: number }; state: string };
    if (!r.latency) throw new Error(`${t.name}: ${r.state}`);
    const b = Number(/batch (\d+)/.exec(t.name)![1]);
    const s = r.latency.mean / 1000;
    return {
      task: t.name,
      batch: b,
      'ms/batch': +r.latency.mean.toFixed(1),
      '±%': +r.latency.rme.toFixed(1),
      'img/s': +(b / s).toFixed(2),
      'GFLOP/s': +((gflop * b) / s).toFixed(2),
    };
  });
  console.table(rows);

  // Per-layer GPU time (one batch-1 forward with timestamp queries).
  let layers: { layer: string; ms: number; share: string }[] = [];
  model.precision = precisions[0];
  if (ctx.startProfiling()) {
    const { logits } = model.forward(inputs.get(batches[0])!);
    ctx.release(logits);
    const times = await ctx.stopProfiling();
    const total = times.reduce((a, t) => a + t.ns, 0);
    const byLayer = new Map<string, number>();
    for (const t of times) {
      const layer = /^layer\d/.test(t.label) ? t.label.split('.').slice(0, 2).join('.') : t.label;
      byLayer.set(layer, (byLayer.get(layer) ?? 0) + t.ns);
    }
    layers = [...byLayer].map(([layer, ns]) => ({
      layer,
      ms: +(ns / 1e6).toFixed(2),
      share: `${((100 * ns) / total).toFixed(1)}%`,
    }));
    console.log(`GPU time per layer, batch ${batches[0]} (timestamp queries; total ${(total / 1e6).toFixed(1)} ms):`);
    console.table(layers);
  } else {
    console.log('this adapter has no timestamp queries: no per-layer times');
  }
  mkdirSync('bench/results', { recursive: true });
  const report = {
    arch,
    size,
    precisions,
    gflopPerImage: gflop,
    adapter: ctx.adapterInfo,
    lpNumThreads: process.env.LP_NUM_THREADS ?? null,
    date: new Date().toISOString(),
    tuneSeconds: tuneMs / 1000,
    convChoices: [...tuner.choices.values()],
    results: rows,
    layers,
  };
  writeFileSync('bench/results/forward.json', JSON.stringify(report, null, 2) + '\n');
  console.log('wrote bench/results/forward.json');
} finally {
  await ctx.close();
}
