// Whole-model golden checks: logits and tap values of small torchvision ResNets (18/34/50 graphs,
// odd class counts, several input sizes, a float16 checkpoint) against PyTorch, from the files
// that scripts/fixtures/model_fixtures.py wrote.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { ResNet } from '../src/model/resnet.js';
import { closeGpu, gpu, relToMax } from './helpers.js';

const DIR = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const index = JSON.parse(readFileSync(`${DIR}index.json`, 'utf8')) as {
  models: Record<string, { classes: number; inputs: number[][]; taps: string[] }>;
};

// References are float64 results. Logits within 1e-4 of max |logit| (the bar the issue sets).
// Taps within 5e-5 of their max: float32 arithmetic itself is that far off float64 deep in the
// net (PyTorch's float32 layer3 of the ResNet-50 fixture: 1.9e-5; ours: 1.5e-5).
const LOGITS_REL = 1e-4;
const TAP_REL = 5e-5;

for (const [name, entry] of Object.entries(index.models)) {
  const weights = `${DIR}${name}.pth`;
  test(`${name}: logits match PyTorch at ${entry.inputs.map((s) => `${s[0]}x${s[2]}x${s[3]}`).join(', ')}`, async () => {
    const ctx = await gpu();
    const model = ResNet.fromStateDict(ctx, loadWeightsFile(weights), name);
    assert.is(model.numClasses, entry.classes);
    for (let k = 0; k < entry.inputs.length; k++) {
      const logits = await model.predict(loadNpyFile(`${DIR}${name}.input-${k}.npy`));
      const ref = loadNpyFile(`${DIR}${name}.logits-${k}.npy`);
      assert.equal(logits.shape, ref.shape);
      const err = relToMax(logits.data, ref.data);
      assert.ok(err <= LOGITS_REL, `${name} input ${k}: relative error ${err.toExponential(2)} > ${LOGITS_REL}`);
    }
  });
  if (entry.taps.length === 0) continue;
  test(`${name}: taps ${entry.taps.join(', ')} match PyTorch`, async () => {
    const ctx = await gpu();
    const model = ResNet.fromStateDict(ctx, loadWeightsFile(weights), name);
    const x = ctx.upload(loadNpyFile(`${DIR}${name}.input-0.npy`));
    const { logits, taps } = model.forward(x, entry.taps);
    for (const tap of entry.taps) {
      const got = await ctx.read(taps.get(tap)!);
      const ref = loadNpyFile(`${DIR}${name}.tap-${tap}.npy`);
      assert.equal(got.shape, ref.shape, `${tap} shape`);
      const err = relToMax(got.data, ref.data);
      assert.ok(err <= TAP_REL, `${name} tap ${tap}: relative error ${err.toExponential(2)} > ${TAP_REL}`);
    }
    const ref = loadNpyFile(`${DIR}${name}.logits-0.npy`);
    assert.ok(relToMax((await ctx.read(logits)).data, ref.data) <= LOGITS_REL, 'logits with taps split out');
  });
}

test('batches larger than one binding are split and give the same logits', async () => {
  const ctx = await gpu();
  const name = 'resnet18-w8-c5';
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${DIR}${name}.pth`), name);
  const input = loadNpyFile(`${DIR}${name}.input-0.npy`);
  const whole = await model.predict(input);
  const saved = model.maxBatch;
  model.maxBatch = () => 1; // force one image per chunk
  const split = await model.predict(input);
  model.maxBatch = saved;
  assert.equal(Array.from(split.data), Array.from(whole.data));
});

test('unknown tap lists the valid names', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${DIR}resnet18-w8-c5.pth`));
  const x = ctx.upload({ shape: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32).fill(0.5) });
  assert.throws(
    () => model.forward(x, ['layer5']),
    /unknown layer "layer5"; valid names: conv1, bn1, relu, maxpool, layer1, layer1.0/,
  );
  assert.throws(
    () => model.forward(ctx.upload({ shape: [1, 1, 32, 32], data: new Float32Array(1024) })),
    /1 channels, the model takes 3/,
  );
});

test('grids folded past the workgroup limit (1 per dimension here) give the same logits and probabilities', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${DIR}resnet18-w8-c5.pth`), 'resnet18-w8-c5');
  const input = loadNpyFile(`${DIR}resnet18-w8-c5.input-0.npy`);
  const plain = await model.classify(input);
  const saved = ctx.maxWorkgroupsPerDim;
  ctx.maxWorkgroupsPerDim = 1;
  try {
    const folded = await model.classify(input);
    assert.equal(Array.from(folded.logits.data), Array.from(plain.logits.data));
    assert.equal(Array.from(folded.probabilities.data), Array.from(plain.probabilities.data));
  } finally {
    ctx.maxWorkgroupsPerDim = saved;
  }
});

test("the default batch follows the adapter's limits: a power of two up to 64 whose working set fits", async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${DIR}resnet18-w8-c5.pth`), 'resnet18-w8-c5');
  const budget = Math.min(ctx.limits.maxBufferSize, 512 * 2 ** 20);
  let previous = Infinity;
  for (const size of [32, 224, 1024, 2048, 4096]) {
    const b = model.defaultBatch(size, size);
    const perImage = 16 * model.largestActivation(size, size);
    assert.ok(Number.isInteger(Math.log2(b)) && b <= 64 && b <= model.maxBatch(size, size), `${size}: ${b}`);
    assert.ok(b === 1 || b * perImage <= budget, `${size}: batch ${b} needs ${b * perImage} bytes of ${budget}`);
    assert.ok(
      b === 64 || 2 * b * perImage > budget || 2 * b > model.maxBatch(size, size),
      `${size}: batch ${b} could double`,
    );
    assert.ok(b <= previous, 'larger inputs never get larger batches');
    previous = b;
  }
  assert.is(model.defaultBatch(32, 32), 64);
  assert.ok(model.defaultBatch(4096, 4096) < 64);
});

test.after(closeGpu);
test.run();
