/**
 * The adapter's arithmetic roof: GFLOP/s of a plain register FMA loop (shaders/fma_peak.wgsl, 4
 * vec4 accumulators, no memory traffic), timed with GPU timestamps. What the conv kernels' figures
 * in bench/RESULTS.md are measured against. Writes bench/results/peak.json.
 *
 *   node dist/bench/peak.js [--groups 4096] [--iters 4096]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { benchOptions } from './options.js';

const values = benchOptions({ groups: '1024', iters: '4096', reps: '5' });
const groups = Number(values.groups);
const iters = Number(values.iters);
const WG = 64;

const ctx = await GpuContext.node();
try {
  if (!ctx.startProfiling()) throw new Error('this adapter has no timestamp queries');
  await ctx.stopProfiling();
  const sink = ctx.tensor([groups * WG], 'peak.sink');
  const run = () =>
    ctx.dispatch({
      pipeline: { shader: 'fma_peak', constants: { ITERS: iters, WG } },
      buffers: { sink },
      workgroups: [groups],
      label: 'fma_peak',
    });
  run();
  await ctx.sync();
  let best = Infinity;
  for (let r = 0; r < Number(values.reps); r++) {
    ctx.startProfiling();
    run();
    best = Math.min(best, (await ctx.stopProfiling())[0].ns);
  }
  const flops = 2 * 16 * iters * groups * WG;
  const gflops = flops / best;
  console.log(
    `FMA roof on ${ctx.adapterInfo} (LP_NUM_THREADS=${process.env.LP_NUM_THREADS}): ${gflops.toFixed(1)} GFLOP/s (best of ${values.reps}, ${(best / 1e6).toFixed(1)} ms)`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/peak.json',
    JSON.stringify(
      {
        adapter: ctx.adapterInfo,
        lpNumThreads: process.env.LP_NUM_THREADS ?? null,
        date: new Date().toISOString(),
        gflops,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await ctx.close();
}
