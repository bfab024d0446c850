// RISE: mask geometry against the original project's skimage code, saliency with mask files against PyTorch
// (binary and Gaussian masks, logits and softmax scores), batch-size independence, early stopping,
// memory that does not grow with N, and clear errors for bad parameters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { planMasks } from '../src/kernels/rise-mask-plan.js';
import { MaskGenerator } from '../src/kernels/rise-masks.js';
import { RiseExplainer, type RiseOptions } from '../src/explain/rise.js';
import { ResNet } from '../src/model/resnet.js';
import { assertClose, closeGpu, gpu, relToMax } from './helpers.js';

const DIR = new URL('../../test/fixtures/rise/', import.meta.url).pathname;
const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;

for (const mode of ['binary', 'gaussian'] as const) {
  test(`${mode} mask geometry equals the original project's skimage up-sampling and crop (37x29, grid 5)`, async () => {
    const ctx = await gpu();
    const p = planMasks({ height: 37, width: 29, grid: 5, p1: 0.5, mode, seed: 0 });
    const grids = loadNpyFile(`${DIR}geometry-${mode}.grids.npy`);
    const shifts = loadNpyFile(`${DIR}geometry-${mode}.shifts.npy`);
    const fixed = Uint32Array.from(grids.data, (v) => Math.round(v * 2 ** p.bits));
    const masks = new MaskGenerator(ctx, p).upsample(
      ctx.upload({ shape: grids.shape, data: fixed }),
      ctx.upload({ shape: shifts.shape, data: Uint32Array.from(shifts.data) }),
    );
    const ref = loadNpyFile(`${DIR}geometry-${mode}.masks.npy`);
    // Binary grids are exact in fixed point; Gaussian ones are rounded to 2^-bits (bits = 16 here).
    assertClose((await ctx.read(masks)).data, ref.data, mode === 'binary' ? 1e-6 : 1e-5, 1e-6, `${mode} geometry`);
  });
}

let model: ResNet | undefined;
async function explainer(): Promise<RiseExplainer> {
  model ??= ResNet.fromStateDict(await gpu(), loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  return new RiseExplainer(model);
}

for (const [mode, file] of [
  ['binary', 'masks-binary.npy'],
  ['gaussian', 'masks-gaussian.npy'],
] as const) {
  for (const scores of ['logits', 'softmax'] as const) {
    test(`RISE with the original project's ${mode} masks file, ${scores} scores, matches PyTorch for all classes`, async () => {
      const rise = await explainer();
      const r = await rise.explain(loadNpyFile(`${DIR}input.npy`), {
        masksFile: loadNpyFile(`${DIR}${file}`),
        mode,
        p1: 0.5,
        scores,
        batch: 7,
      });
      const ref = loadNpyFile(`${DIR}saliency-${mode}-${scores}.npy`);
      assert.equal(r.saliency.shape, ref.shape);
      assert.is(r.masksUsed, 20);
      const err = relToMax(r.saliency.data, ref.data);
      assert.ok(err <= 1e-4, `error ${err.toExponential(2)} of the maximum`);
    });
  }
}

test('the standard error equals the per-pixel sample statistics of score·mask/p1', async () => {
  const rise = await explainer();
  const image = loadNpyFile(`${DIR}input.npy`);
  const masks = loadNpyFile(`${DIR}masks-binary.npy`); // [20, 1, 48, 48]
  const r = await rise.explain(image, { masksFile: masks, p1: 0.5, batch: 6 });
  const [N, P] = [20, 48 * 48];
  const masked = new Float32Array(N * 3 * P);
  for (let i = 0; i < N; i++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < P; p++) {
        masked[(i * 3 + c) * P + p] = image.data[c * P + p] * masks.data[i * P + p];
      }
  const logits = await model!.predict({ shape: [N, 3, 48, 48], data: masked });
  let max = 0;
  let sum = 0;
  for (let p = 0; p < P; p++) {
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < N; i++) {
      const z = (logits.data[i * 5 + r.classIndex] * masks.data[i * P + p]) / 0.5;
      m1 += z / N;
      m2 += (z * z) / N;
    }
    const se = Math.sqrt(Math.max(m2 - m1 * m1, 0) / N);
    max = Math.max(max, se);
    sum += se;
  }
  assert.ok(Math.abs(r.standardError.max - max) <= 1e-4 * max, `max SE ${r.standardError.max} vs ${max}`);
  assert.ok(Math.abs(r.standardError.mean - sum / P) <= 1e-4 * max, `mean SE ${r.standardError.mean} vs ${sum / P}`);
});

test('generated masks: the same saliency at batch 3 and batch 32', async () => {
  const rise = await explainer();
  const image = loadNpyFile(`${DIR}input.npy`);
  const a = await rise.explain(image, { masks: 40, grid: 6, mode: 'gaussian', seed: 5, batch: 3 });
  const b = await rise.explain(image, { masks: 40, grid: 6, mode: 'gaussian', seed: 5, batch: 32 });
  // The masks are bit-identical; only the order of float32 additions differs.
  assert.ok(relToMax(a.saliency.data, b.saliency.data) < 1e-5);
});

test('early stopping stops when the map has converged, and not before', async () => {
  const rise = await explainer();
  const image = loadNpyFile(`${DIR}input.npy`);
  const loose = await rise.explain(image, { masks: 400, grid: 6, batch: 16, tolerance: 0.3 });
  assert.ok(loose.stoppedEarly && loose.masksUsed < 400, `used ${loose.masksUsed} masks`);
  console.log(`  tolerance 0.3 stopped after ${loose.masksUsed} of 400 masks`);
  const tight = await rise.explain(image, { masks: 128, grid: 6, batch: 16, tolerance: 1e-6 });
  assert.ok(!tight.stoppedEarly && tight.masksUsed === 128);
  assert.ok(tight.standardError.max > 0 && tight.standardError.mean <= tight.standardError.max);
});

test('peak GPU memory is the same for 20 and 200 masks', async () => {
  const rise = await explainer();
  const image = loadNpyFile(`${DIR}input.npy`);
  const small = await rise.explain(image, { masks: 20, batch: 10 });
  const large = await rise.explain(image, { masks: 200, batch: 10 });
  assert.is(large.peakGpuBytes, small.peakGpuBytes);
});

test('bad RISE parameters are refused clearly', async () => {
  const rise = await explainer();
  const image = loadNpyFile(`${DIR}input.npy`);
  for (const [opts, pattern] of [
    [{ masks: 0 }, /number of masks must be a whole number > 0/],
    [{ p1: 1.5 }, /p1 must be in \(0, 1\]/],
    [{ grid: 49 }, /grid 49 is larger than the image \(48x48\)/],
    [
      { masksFile: { shape: [3, 1, 40, 48], data: new Float32Array(3 * 40 * 48) } },
      /masks file has shape \[3,1,40,48\]; for this 48x48 input it must be \[N, 48, 48\]/,
    ],
    [{ classIndex: 7 }, /class 7 is out of range/],
  ] as const) {
    try {
      await rise.explain(image, opts as RiseOptions);
      assert.unreachable('expected an error');
    } catch (e) {
      assert.match((e as Error).message, pattern);
    }
  }
});

test.after(closeGpu);
test.run();
