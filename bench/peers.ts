/**
 * Our ResNet-18 forward beside its peers, in one run, on the same weights: tfjs-backend-webgpu on
 * the same Dawn adapter (Node, with a navigator.gpu made from the `webgpu` package), onnxruntime-node
 * on the CPU, and PyTorch on the CPU (when /usr/bin/python3, or $PYTHON, has torch and torchvision;
 * it builds torchvision's resnet18 itself: timing only). Every engine reads its logits back, and
 * tfjs's and onnxruntime's logits are checked against ours first (the same model, not just the same
 * shape). Prints a table with each engine's ratio to ours and writes bench/results/peers.json.
 *
 *   npm run bench:peers -- [--size 224] [--batches 1,16] [--iterations 3] [--skip tfjs,ort,torch,methods]
 *                          [--masks 500] [--causal-size 112] [--step 112]
 *
 * Then the methods end to end, ours against PyTorch on the CPU (bench/peers/torch_methods.py, the
 * same work written plainly in PyTorch), on a 4-class ResNet-18 with random weights: RISE with
 * --masks masks at --size, Abs-CAM Final at layer4, insertion + deletion at --causal-size with
 * --step pixels per step; batch 32 each. (tfjs and onnxruntime have no explainers: their forward
 * ratio above is what a method built on them would inherit.)
 *
 * Peers are devDependencies only. LP_NUM_THREADS (lavapipe) is process-wide, so ours and tfjs run
 * with the same setting (acquire.ts sets it before either loads Dawn).
 */
import { Bench } from 'tinybench';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { relToMax } from '../src/io/tensor.js';
import { ResNet } from '../src/model/resnet.js';
import { parseResNet } from '../src/model/resnet-spec.js';
import { randomResNet } from './random-resnet.js';
import { RiseExplainer } from '../src/explain/rise.js';
import { CamExplainer } from '../src/explain/cam.js';
import { CausalMetrics } from '../src/metrics/causal.js';
import { resnetOnnx, resnetTfjs } from './peers/graphs.js';
import { benchOptions } from './options.js';

const values = benchOptions({
  size: '224',
  batches: '1,16',
  iterations: '3',
  skip: '',
  masks: '500',
  'causal-size': '112',
  step: '112',
});
const size = Number(values.size);
const batches = values.batches!.split(',').map(Number);
const iterations = Number(values.iterations);
const skip = new Set(values.skip!.split(',').filter(Boolean));
const maxBatch = Math.max(...batches);
const METHOD_BATCH = 32;
const masks = Number(values.masks);
const causalSize = Number(values['causal-size']);
const step = Number(values.step);
const methodMs = new Map<string, number>();

const sd = randomResNet('resnet18', 1000);
const spec = parseResNet(sd, 'resnet18');
const input = new Float32Array(maxBatch * 3 * size * size).map((_, i) => Math.sin(i * 0.013) * 1.5);
const inputOf = (b: number) => input.subarray(0, b * 3 * size * size);

interface Row {
  engine: string;
  device: string;
  batch: number;
  ms: number;
  'img/s': number;
  'vs ours': string;
}
const rows: Row[] = [];
const notes: string[] = [];
const time = async (fn: () => Promise<unknown>) => {
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench.add('t', fn);
  await bench.run();
  return (bench.tasks[0].result as { latency: { mean: number } }).latency.mean;
};

// ---- ours ---------------------------------------------------------------------------------------
const ctx = await GpuContext.node();
const ours = new Map<number, number>();
let ourLogits: Float32Array;
try {
  const model = ResNet.fromStateDict(ctx, sd, 'resnet18');
  for (const b of batches) await model.prepare([b, 3, size, size]);
  ourLogits = (await model.predict({ shape: [1, 3, size, size], data: inputOf(1) })).data;
  for (const b of batches) {
    const x = ctx.upload({ shape: [b, 3, size, size], data: inputOf(b) });
    const ms = await time(async () => {
      const { logits } = model.forward(x);
      await ctx.read(logits);
      ctx.release(logits);
    });
    ctx.release(x);
    ours.set(b, ms);
    rows.push({
      engine: 'webgpu-xai (tuned)',
      device: ctx.adapterInfo,
      batch: b,
      ms: +ms.toFixed(1),
      'img/s': +((1000 * b) / ms).toFixed(2),
      'vs ours': '1.00',
    });
  }
  if (!skip.has('methods')) await ourMethods(ctx);
} finally {
  await ctx.close();
}
const ratio = (b: number, ms: number) => `${(ours.get(b)! / ms).toFixed(2)}`;

// ---- the methods end to end: ours, then PyTorch's (after the forward peers) -----------------------
async function ourMethods(ctx: GpuContext): Promise<void> {
  const model = ResNet.fromStateDict(ctx, randomResNet('resnet18', 4), 'resnet18');
  const image = {
    shape: [1, 3, size, size],
    data: new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 0.013)),
  };
  const small = {
    shape: [1, 3, causalSize, causalSize],
    data: new Float32Array(3 * causalSize ** 2).map((_, i) => Math.sin(i * 0.013)),
  };
  const saliency = {
    shape: [causalSize, causalSize],
    data: new Float32Array(causalSize ** 2).map((_, i) => Math.sin(i * 0.37)),
  };
  for (const [b, s] of [
    [1, size],
    [METHOD_BATCH, size],
    [1, causalSize],
    [METHOD_BATCH, causalSize],
  ])
    await model.prepare([b, 3, s, s]);
  const timeOnce = async (name: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    methodMs.set(name, performance.now() - t0);
  };
  await timeOnce('rise', () => new RiseExplainer(model).explain(image, { masks, batch: METHOD_BATCH }));
  await timeOnce('abscam-final', () =>
    new CamExplainer(model).absCamFinal(image, { layer: 'layer4', batch: METHOD_BATCH }),
  );
  await timeOnce('insertion+deletion', () =>
    new CausalMetrics(model).evaluate(small, saliency, ['insertion', 'deletion'], { step, batch: METHOD_BATCH }),
  );
}

// ---- tfjs-backend-webgpu on the same Dawn adapter -------------------------------------------------
let keepDawn: unknown; // the Dawn instance tfjs uses: referenced until the process ends (acquire.ts)
if (!skip.has('tfjs')) {
  const { create } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  const gpu = create([]); // held for the whole run (see acquire.ts: Dawn must outlive its devices)
  (globalThis as { navigator?: unknown }).navigator = { gpu };
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  await tf.setBackend('webgpu');
  await tf.ready();
  const forward = resnetTfjs(tf, spec);
  const check = forward(tf.tensor4d(inputOf(1), [1, 3, size, size]));
  const diff = relToMax(await check.data(), ourLogits!);
  check.dispose();
  notes.push(
    `tfjs-backend-webgpu ${tf.version_core}: logits within ${diff.toExponential(1)} of ours (relative to max)`,
  );
  for (const b of batches) {
    const x = tf.tensor4d(inputOf(b), [b, 3, size, size]);
    const ms = await time(async () => {
      const y = forward(x);
      await y.data();
      y.dispose();
    });
    x.dispose();
    rows.push({
      engine: 'tfjs-backend-webgpu',
      device: 'same Dawn adapter',
      batch: b,
      ms: +ms.toFixed(1),
      'img/s': +((1000 * b) / ms).toFixed(2),
      'vs ours': ratio(b, ms),
    });
  }
  tf.engine().reset();
  keepDawn = gpu;
}

// ---- onnxruntime-node on the CPU ------------------------------------------------------------------
if (!skip.has('ort')) {
  const ort = await import('onnxruntime-node');
  const threads = availableParallelism();
  const session = await ort.InferenceSession.create(resnetOnnx(spec, size), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
  });
  const run = async (b: number) =>
    (await session.run({ x: new ort.Tensor('float32', inputOf(b).slice(), [b, 3, size, size]) })).logits
      .data as Float32Array;
  const diff = relToMax(await run(1), ourLogits!);
  notes.push(
    `onnxruntime-node ${ort.env.versions.common}: logits within ${diff.toExponential(1)} of ours; ${threads} threads`,
  );
  for (const b of batches) {
    const ms = await time(() => run(b));
    rows.push({
      engine: 'onnxruntime-node',
      device: `CPU, ${threads} threads`,
      batch: b,
      ms: +ms.toFixed(1),
      'img/s': +((1000 * b) / ms).toFixed(2),
      'vs ours': ratio(b, ms),
    });
  }
  await session.release();
}

// ---- PyTorch on the CPU (when there is one with torch) --------------------------------------------
if (!skip.has('torch')) {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  try {
    const script = new URL('../../bench/peers/torch_resnet.py', import.meta.url).pathname;
    const out = JSON.parse(
      execFileSync(python, [script, String(size), batches.join(','), String(iterations)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    notes.push(
      `PyTorch ${out.torch} (${python}): ${out.threads} threads; its own random torchvision weights (timing only)`,
    );
    for (const r of out.results as { batch: number; ms: number }[]) {
      rows.push({
        engine: 'PyTorch',
        device: `CPU, ${out.threads} threads`,
        batch: r.batch,
        ms: +r.ms.toFixed(1),
        'img/s': +((1000 * r.batch) / r.ms).toFixed(2),
        'vs ours': ratio(r.batch, r.ms),
      });
    }
  } catch (e) {
    notes.push(`PyTorch skipped: ${python} could not run it (${(e as Error).message.split('\n')[0]})`);
  }
}

const methodRows: {
  method: string;
  what: string;
  'ours s': number;
  'PyTorch s'?: number;
  'PyTorch / ours'?: string;
}[] = [];
if (!skip.has('methods')) {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  let torchMs: Record<string, number> = {};
  try {
    const script = new URL('../../bench/peers/torch_methods.py', import.meta.url).pathname;
    const out = JSON.parse(
      execFileSync(python, [script, String(size), String(masks), String(causalSize), String(step)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    torchMs = out.ms;
    notes.push(`methods: PyTorch ${out.torch} on the CPU, ${out.threads} threads (bench/peers/torch_methods.py)`);
  } catch (e) {
    notes.push(`PyTorch methods skipped: ${python} could not run them (${(e as Error).message.split('\n')[0]})`);
  }
  const what: Record<string, string> = {
    rise: `N = ${masks} at ${size}`,
    'abscam-final': `layer4 at ${size}`,
    'insertion+deletion': `${causalSize} px, step ${step}`,
  };
  for (const [method, ms] of methodMs) {
    const t = torchMs[method];
    methodRows.push({
      method,
      what: what[method],
      'ours s': +(ms / 1000).toFixed(1),
      ...(t ? { 'PyTorch s': +(t / 1000).toFixed(1), 'PyTorch / ours': (t / ms).toFixed(2) } : {}),
    });
  }
}

console.log(
  `ResNet-18 forward at ${size}x${size}, ${iterations} iterations each, logits read back; LP_NUM_THREADS=${process.env.LP_NUM_THREADS}`,
);
console.table(rows);
if (methodRows.length) {
  console.log(`methods end to end, batch ${METHOD_BATCH} (PyTorch / ours > 1: we are faster)`);
  console.table(methodRows);
}
console.log('vs ours: how many times faster the peer is than webgpu-xai at the same batch (< 1: we are faster)');
for (const n of notes) console.log(`- ${n}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/peers.json',
  JSON.stringify(
    {
      size,
      iterations,
      lpNumThreads: process.env.LP_NUM_THREADS,
      date: new Date().toISOString(),
      rows,
      methods: methodRows,
      notes,
    },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/peers.json');
void keepDawn;
