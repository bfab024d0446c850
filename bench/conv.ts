/**
 * Conv variants per conv shape: GPU time (timestamp queries) and effective GFLOP/s (the direct
 * conv's FLOPs over the time, so Winograd's fewer multiplies show as a higher figure) of each
 * variant on every distinct conv of a ResNet at the given size and batch. Each variant's output is
 * checked against the default variant's before it is timed; variants are timed in interleaved
 * rounds (best of --reps), so a noisy machine hurts them alike. Writes bench/results/conv.json.
 *
 *   node dist/bench/conv.js [--arch resnet18] [--size 224] [--batch 16] [--reps 3]
 *                           [--variants direct-4x1-wg64,winograd2-1-wg64]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { relToMax } from '../src/io/tensor.js';
import {
  conv2d,
  convOutSize,
  parseVariant,
  uploadConv,
  variantApplies,
  variantName,
  DEFAULT_CONV_VARIANT,
  type ConvVariant,
} from '../src/kernels/conv2d.js';
import { convInputs, parseResNet, type ConvBnSpec } from '../src/model/resnet-spec.js';
import { type ARCHS, randomResNet } from './random-resnet.js';
import { benchOptions } from './options.js';

const values = benchOptions({
  arch: 'resnet18',
  size: '224',
  batch: '16',
  reps: '3',
  variants: 'direct-4x1-wg64,direct-2x4-wg64,winograd2-1-wg64,winograd4-1-wg64',
});
const size = Number(values.size);
const batch = Number(values.batch);
const reps = Number(values.reps);
const variants: ConvVariant[] = values.variants!.split(',').map((t) => {
  const v = parseVariant(t);
  if (!v) throw new Error(`unknown variant ${t}`);
  return v;
});

/** Distinct conv shapes of the network, in order, with the input size each one sees. */
function convShapes(): { conv: ConvBnSpec; h: number }[] {
  const spec = parseResNet(randomResNet(values.arch as keyof typeof ARCHS, 1000), values.arch);
  const seen = new Set<string>();
  return convInputs(spec, size, size).filter(({ conv, h }) => {
    const key = `${conv.weight.shape}|${conv.stride}|${h}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const ctx = await GpuContext.node();
const rows: Record<string, string | number>[] = [];
try {
  if (!ctx.startProfiling()) throw new Error('this adapter has no timestamp queries');
  await ctx.stopProfiling();
  console.log(`conv variants, ${values.arch} at ${size}, batch ${batch}; adapter: ${ctx.adapterInfo}`);
  for (const { conv: c, h } of convShapes()) {
    const [co, ci, kh, kw] = c.weight.shape;
    const conv = uploadConv(ctx, c.weight, c.scale, c.shift, c, c.convName);
    const x = ctx.upload({
      shape: [batch, ci, h, h],
      data: new Float32Array(batch * ci * h * h).map((_, i) => Math.sin(i * 0.37)),
    });
    const ho = convOutSize(h, kh, c.stride, c.pad);
    const flops = 2 * batch * co * ci * kh * kw * ho * ho;
    const ref = await ctx.read(conv2d(ctx, x, conv, { variant: DEFAULT_CONV_VARIANT }));
    const row: Record<string, string | number> = {
      conv: c.convName,
      shape: `${ci}→${co} ${kh}x${kw}/s${c.stride} @${h}`,
    };
    const usable = variants.filter((v) => variantApplies(v, conv));
    for (const v of usable) {
      const err = relToMax((await ctx.read(conv2d(ctx, x, conv, { variant: v }))).data, ref.data);
      if (!(err <= 1e-3))
        throw new Error(`${c.convName} ${variantName(v)}: max |Δ| ${err} of the output's largest magnitude`);
    }
    const best = new Map<string, number>();
    for (let r = 0; r < reps; r++) {
      for (const v of usable) {
        ctx.startProfiling();
        ctx.release(conv2d(ctx, x, conv, { variant: v, relu: true, label: variantName(v) }));
        const ns = (await ctx.stopProfiling()).reduce((a, k) => a + k.ns, 0);
        best.set(variantName(v), Math.min(best.get(variantName(v)) ?? Infinity, ns));
      }
    }
    for (const [name, ns] of best) row[name] = +(flops / ns).toFixed(2);
    rows.push(row);
    console.log(JSON.stringify(row));
    ctx.release(x);
  }
  console.log(`effective GFLOP/s per variant (direct-conv FLOPs / GPU time), best of ${reps}`);
  console.table(rows);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/conv.json',
    JSON.stringify(
      { arch: values.arch, size, batch, adapter: ctx.adapterInfo, date: new Date().toISOString(), rows },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ctx.close();
}
