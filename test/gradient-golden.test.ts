// Gradients at taps against PyTorch autograd (float64 goldens from scripts/fixtures/cam_fixtures.py)
// and the input gradient against central finite differences of our own forward.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { ResNet } from '../src/model/resnet.js';
import { gradientAt } from '../src/model/gradient.js';
import { closeGpu, gpu, relToMax, rng, SEED } from './helpers.js';

const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const CAM = new URL('../../test/fixtures/cam/', import.meta.url).pathname;
const index = JSON.parse(readFileSync(`${CAM}index.json`, 'utf8')) as {
  gradients: Record<string, { input: string; classes: number[] }>;
};

// float32 forward + backward against float64: within 1e-4 of the largest gradient component.
const GRAD_REL = 1e-4;
const models = new Map<string, ResNet>();

for (const [key, entry] of Object.entries(index.gradients)) {
  const [name, tap] = key.split('/');
  test(`gradient of logit[class] at ${tap} of ${name} matches PyTorch (classes ${entry.classes})`, async () => {
    const ctx = await gpu();
    if (!models.has(name)) models.set(name, ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}${name}.pth`), name));
    const model = models.get(name)!;
    const x = ctx.upload(loadNpyFile(`${MODEL}${entry.input}`));
    const explicit = name.startsWith('resnet18') ? entry.classes : undefined; // resnet50 case: top-1 by default
    const r = await gradientAt(model, x, tap, explicit);
    assert.equal(Array.from(r.classes), entry.classes, 'classes');
    const act = await ctx.read(r.activation);
    const grad = await ctx.read(r.gradient);
    const refAct = loadNpyFile(`${CAM}act-${name}-${tap}.npy`);
    const refGrad = loadNpyFile(`${CAM}grad-${name}-${tap}.npy`);
    assert.equal([act.shape, grad.shape], [refAct.shape, refGrad.shape], 'shapes');
    const actErr = relToMax(act.data, refAct.data);
    const gradErr = relToMax(grad.data, refGrad.data);
    assert.ok(actErr <= 5e-5, `activation error ${actErr.toExponential(2)}`);
    assert.ok(gradErr <= GRAD_REL, `gradient error ${gradErr.toExponential(2)} > ${GRAD_REL}`);
    ctx.release(r.logits, r.gradient, r.activation === x ? undefined : r.activation, x);
  });
}

test('input gradient agrees with central finite differences of the forward', async () => {
  const ctx = await gpu();
  const name = 'resnet18-w8-c5';
  const model = models.get(name) ?? ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}${name}.pth`), name);
  const input = loadNpyFile(`${MODEL}${name}.input-1.npy`); // [1, 3, 97, 75]
  const cls = 2;
  const r = await gradientAt(model, ctx.upload(input), 'input', [cls]);
  const grad = (await ctx.read(r.gradient)).data;
  // Directional derivatives along unit vectors v: the gradient's own direction (derivative |∇|)
  // and 7 random ones (derivative ⟨∇, v⟩), each from logit(x + h·v) − logit(x − h·v) in one batch.
  // Single-pixel differences would drown in float32 rounding (~1e-6 per logit, different at
  // every input) or cross ReLU kinks; a direction spreads h over all 21825 values.
  const rand = rng();
  const norm = Math.hypot(...grad);
  const dirs = [Float32Array.from(grad, (g) => g / norm)];
  for (let k = 0; k < 7; k++) {
    const v = Float32Array.from(grad, () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
    const len = Math.hypot(...v);
    dirs.push(v.map((e) => e / len));
  }
  // Along the gradient itself the logit bends fastest (ReLUs switch): even in float64 PyTorch's
  // difference quotient there is 2.268 at h = 1e-2 and 2.302 at h = 1e-3 for |∇| = 2.315.
  const h = 1e-3;
  const per = input.data.length;
  const batch = new Float32Array(2 * dirs.length * per);
  dirs.forEach((v, i) => {
    for (let j = 0; j < per; j++) {
      batch[2 * i * per + j] = input.data[j] + h * v[j];
      batch[(2 * i + 1) * per + j] = input.data[j] - h * v[j];
    }
  });
  const logits = await model.predict({ shape: [2 * dirs.length, 3, 97, 75], data: batch });
  const k = logits.shape[1];
  dirs.forEach((v, i) => {
    const fd = (logits.data[2 * i * k + cls] - logits.data[(2 * i + 1) * k + cls]) / (2 * h);
    const expected = v.reduce((s, e, j) => s + e * grad[j], 0);
    assert.ok(
      Math.abs(fd - expected) <= 1e-2 * norm,
      `direction ${i}: finite difference ${fd}, ⟨∇, v⟩ ${expected}, |∇| ${norm} (TEST_SEED=${SEED})`,
    );
  });
});

test('bad gradient taps and classes are refused clearly', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  const x = ctx.upload(loadNpyFile(`${MODEL}resnet18-w8-c5.input-0.npy`));
  for (const [tap, classes, pattern] of [
    ['layer9', undefined, /unknown layer "layer9" for gradients; valid names: input, relu, maxpool, layer1/],
    ['layer4', [0, 5], /class 5 is out of range: the model has classes 0..4/],
    ['layer4', [0], /1 classes given for 2 images/],
  ] as const) {
    try {
      await gradientAt(model, x, tap, classes);
      assert.unreachable('expected an error');
    } catch (e) {
      assert.match((e as Error).message, pattern);
    }
  }
});

test.after(closeGpu);
test.run();
