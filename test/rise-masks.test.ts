// RISE masks: the WGSL generator equals the CPU reference bit for bit (all modes, odd sizes),
// is independent of batching, and has the statistics the RISE scheme promises.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planMasks, type MaskMode } from '../src/kernels/rise-mask-plan.js';
import { MaskGenerator } from '../src/kernels/rise-masks.js';
import { closeGpu, gpu, SEED } from './helpers.js';
import { gridsRef, upsampleRef } from './reference-rise.js';

const modes: MaskMode[] = ['binary', 'gaussian', 'perlin'];

for (const mode of modes) {
  test(`${mode} masks: GPU equals the CPU reference bit for bit (37x29, grid 5, p1 0.3)`, async () => {
    const ctx = await gpu();
    const p = planMasks({ height: 37, width: 29, grid: 5, p1: 0.3, mode, seed: SEED });
    const gen = new MaskGenerator(ctx, p);
    const got = await ctx.read(gen.generate(11, 6));
    const ref = gridsRef(p, 11, 6);
    const want = upsampleRef(p, ref.grids, ref.shifts);
    const bad = got.data.findIndex((v, i) => !Object.is(v, want[i]));
    assert.is(bad, -1, `first difference at ${bad}: ${got.data[bad]} vs ${want[bad]} (TEST_SEED=${SEED})`);
  });
}

/** A generator of 24x20 masks (p1 0.5, the suite's seed) on the test device. */
async function generator(grid: number, mode: MaskMode) {
  const ctx = await gpu();
  return { ctx, gen: new MaskGenerator(ctx, planMasks({ height: 24, width: 20, grid, p1: 0.5, mode, seed: SEED })) };
}

test('the same seed gives the same masks at batch 1 and batch 64', async () => {
  const { ctx, gen } = await generator(4, 'gaussian');
  const whole = (await ctx.read(gen.generate(0, 64))).data;
  const per = 24 * 20;
  for (const i of [0, 1, 37, 63]) {
    const one = (await ctx.read(gen.generate(i, 1))).data;
    assert.ok(
      one.every((v, k) => v === whole[i * per + k]),
      `mask ${i}`,
    );
  }
});

test('the masks are the same with every grid folded past the workgroup limit (1 per dimension)', async () => {
  const { ctx, gen } = await generator(5, 'binary');
  const plain = (await ctx.read(gen.generate(3, 40))).data;
  const saved = ctx.maxWorkgroupsPerDim;
  ctx.maxWorkgroupsPerDim = 1;
  try {
    assert.equal(Array.from((await ctx.read(gen.generate(3, 40))).data), Array.from(plain));
  } finally {
    ctx.maxWorkgroupsPerDim = saved;
  }
});

test('mask statistics: values in [0, 1], mean ≈ p1 (binary) / 0.5 (Gaussian), smooth', async () => {
  const ctx = await gpu();
  const N = 400;
  for (const [mode, p1, mean] of [
    ['binary', 0.3, 0.3],
    ['gaussian', 0.5, 0.5],
    ['perlin', 0.5, 0.5],
  ] as const) {
    const p = planMasks({ height: 56, width: 56, grid: 7, p1, mode, seed: SEED });
    const m = (await ctx.read(new MaskGenerator(ctx, p).generate(0, N))).data;
    let sum = 0;
    let jump = 0;
    for (let i = 0; i < m.length; i++) {
      assert.ok(m[i] >= 0 && m[i] <= 1, `${mode}: value ${m[i]} outside [0, 1]`);
      sum += m[i];
      if (i % 56 !== 55) jump = Math.max(jump, Math.abs(m[i + 1] - m[i]));
    }
    const avg = sum / m.length;
    // N·7·7 = 19600 grid values: the mean's standard error is < 0.004; 5σ bounds.
    const tol = mode === 'perlin' ? 0.05 : 0.02;
    assert.ok(Math.abs(avg - mean) < tol, `${mode}: mean ${avg.toFixed(4)}, want ${mean} ± ${tol}`);
    // Bilinear up-sampling by cell = 8: neighbours differ by at most 1/8 of a grid step (≤ 1).
    assert.ok(jump <= 1 / 8 + 1e-6, `${mode}: neighbouring pixels differ by ${jump}`);
  }
});

test('bad mask parameters are refused', () => {
  assert.throws(
    () => planMasks({ height: 10, width: 10, grid: 11, p1: 0.5, mode: 'binary', seed: 0 }),
    /grid 11 is larger than the image/,
  );
  assert.throws(
    () => planMasks({ height: 10, width: 10, grid: 3, p1: 0, mode: 'binary', seed: 0 }),
    /p1 must be in \(0, 1\]/,
  );
  assert.throws(
    () => planMasks({ height: 10, width: 10, grid: 3, p1: 1.5, mode: 'binary', seed: 0 }),
    /p1 must be in \(0, 1\]/,
  );
  assert.throws(
    () => planMasks({ height: 10, width: 10, grid: 0, p1: 0.5, mode: 'binary', seed: 0 }),
    /grid must be a whole number/,
  );
});

test.after(closeGpu);
test.run();
