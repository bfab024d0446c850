// The CAM explainers against PyTorch (float64 goldens from scripts/fixtures/cam_fixtures.py):
// Abs-CAM Init/Final, Grad-CAM, Grad-CAM++, Score-CAM at layer4 and layer3, batch of 2 images.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { ResNet } from '../src/model/resnet.js';
import { CAM_METHODS, CamExplainer } from '../src/explain/cam.js';
import { closeGpu, gpu, relToMax } from './helpers.js';

const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const CAM = new URL('../../test/fixtures/cam/', import.meta.url).pathname;
const index = JSON.parse(readFileSync(`${CAM}index.json`, 'utf8')) as {
  cams: Record<string, { input: string; classes: number[] }>;
};

// The bar: within 1e-3 of PyTorch relative to the map's maximum.
const REL = 1e-3;

// The first entry runs twice: also with 1 workgroup per grid dimension before folding, so that every
// kernel on the way (forward, backward, CAM reductions, maps, scores) folds its grid.
const entries = Object.entries(index.cams).map(([key, entry]) => ({
  key,
  entry,
  limit: undefined as number | undefined,
}));
for (const { key, entry, limit } of [...entries, { ...entries[0], limit: 1 }]) {
  const [name, layer] = key.split('/');
  test(`${CAM_METHODS.join(', ')} at ${layer} of ${name} match PyTorch${limit ? ' (grids folded)' : ''}`, async () => {
    const ctx = await gpu();
    const explainer = new CamExplainer(ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}${name}.pth`), name));
    const image = loadNpyFile(`${MODEL}${entry.input}`);
    const saved = ctx.maxWorkgroupsPerDim;
    if (limit) ctx.maxWorkgroupsPerDim = limit;
    try {
      for (const method of CAM_METHODS) {
        const r = await explainer.explain(method, image, { layer, batch: 7 }); // 7: batches that do not divide the channel count
        assert.equal(r.classes, entry.classes, `${method} classes`);
        const ref = loadNpyFile(`${CAM}${method}-${name}-${layer}.npy`);
        assert.equal(r.saliency.shape, ref.shape, `${method} shape`);
        const err = relToMax(r.saliency.data, ref.data);
        assert.ok(err <= REL, `${method} at ${layer}: error ${err.toExponential(2)} of the maximum > ${REL}`);
      }
    } finally {
      ctx.maxWorkgroupsPerDim = saved;
    }
  });
}

test('explicit classes, progress, and GPU memory that does not grow with the channels scored', async () => {
  const ctx = await gpu();
  const explainer = new CamExplainer(ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`)));
  const image = loadNpyFile(`${MODEL}resnet18-w8-c5.input-0.npy`);
  const seen: number[] = [];
  const allocated: number[] = [];
  const r = await explainer.absCamFinal(image, {
    layer: 'layer4',
    classIndex: [4, 0],
    batch: 16,
    onProgress: (d) => {
      seen.push(d);
      allocated.push(ctx.pool.allocatedBytes);
    },
  });
  assert.equal(r.classes, [4, 0]);
  assert.equal(seen, [16, 32, 48, 64, 16, 32, 48, 64]);
  // Memory reaches a steady state that does not grow with the channels scored: within each image,
  // the batches after the second allocate nothing. (The first batch may still find buffers the
  // gradient pass left in the pool, whose convs run as the direct kernel while scoring batches run
  // the tuned variant with other temporaries; the second image may take one more buffer than the
  // first: the first image's map stays alive in a size bucket the batches had used.)
  for (const image of [allocated.slice(1, 4), allocated.slice(5)]) {
    assert.equal(
      image,
      image.map(() => image[0]),
      `bytes after each batch: ${allocated}`,
    );
  }
  assert.is(r.forwardPasses, 1 + 2 * 64);
  assert.ok(
    r.saliency.data.every((v) => v >= 0),
    'ReLU',
  );
  const g = await explainer.gradCam(image, { classIndex: 2 });
  assert.equal(g.classes, [2, 2]);
});

test('bad layer and class give clear errors', async () => {
  const ctx = await gpu();
  const explainer = new CamExplainer(ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`)));
  const image = loadNpyFile(`${MODEL}resnet18-w8-c5.input-0.npy`);
  for (const [opts, pattern] of [
    [
      { layer: 'layer7' },
      /unknown layer "layer7"; CAM layers \(block outputs\): layer1, layer2, layer3, layer4, layer1\.0/,
    ],
    [{ layer: 'maxpool' }, /unknown layer "maxpool"; CAM layers/],
    [{ classIndex: 9 }, /class 9 is out of range: the model has classes 0..4/],
  ] as const) {
    try {
      await explainer.gradCam(image, opts);
      assert.unreachable('expected an error');
    } catch (e) {
      assert.match((e as Error).message, pattern);
    }
  }
});

test.after(closeGpu);
test.run();
