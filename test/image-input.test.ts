// Host images on the GPU (shaders/image_input.wgsl via kernels/image-source.ts): random RGBA textures
// of odd sizes, several per batch, in both accepted formats, resized and normalised on the GPU,
// against the CPU path (io/preprocess.ts: PIL's fixed-point bilinear resize, whose integer sums
// are exact in float64, then torch's float32 normalisation), which the image tests check against
// Pillow. Tolerance: none — the kernel does the same integer arithmetic and the same table
// lookup, so every value must be equal bit for bit. Then predict / Abs-CAM Init / RISE /
// insertion–deletion from a texture against the same calls on the host tensor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imagesToTensor } from '../src/kernels/image-source.js';
import { loadWeightsFile } from '../src/io/files.js';
import { resizeBilinearPIL, toNormalizedTensor, type RgbImage } from '../src/io/preprocess.js';
import { CamExplainer } from '../src/explain/cam.js';
import { RiseExplainer } from '../src/explain/rise.js';
import { CausalMetrics } from '../src/metrics/causal.js';
import { ResNet } from '../src/model/resnet.js';
import { XaiError } from '../src/errors.js';
import type { GpuContext } from '../src/gpu/context.js';
import { closeGpu, gpu, rng, SEED } from './helpers.js';

const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const rand = rng(SEED + 10);

function randomRgb(width: number, height: number): RgbImage {
  return { width, height, data: Uint8Array.from({ length: 3 * width * height }, () => Math.floor(256 * rand())) };
}

/** A texture holding the image (alpha random too: it must be ignored). */
function texture(
  ctx: GpuContext,
  img: RgbImage,
  format: 'rgba8unorm' | 'bgra8unorm',
  usage = GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
): GPUTexture {
  const t = ctx.device.createTexture({ size: [img.width, img.height], format, usage });
  const px = new Uint8Array(4 * img.width * img.height);
  const order = format === 'rgba8unorm' ? [0, 1, 2] : [2, 1, 0];
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) px[4 * i + order[c]] = img.data[3 * i + c];
    px[4 * i + 3] = Math.floor(256 * rand());
  }
  ctx.device.queue.writeTexture({ texture: t }, px, { bytesPerRow: 4 * img.width, rowsPerImage: img.height }, [
    img.width,
    img.height,
  ]);
  return t;
}

const cases: { inputs: [number, number][]; out: [number, number] }[] = [
  {
    inputs: [
      [37, 29],
      [13, 9],
      [64, 47],
    ],
    out: [17, 12],
  }, // shrink (antialiased windows), and enlarge
  {
    inputs: [
      [31, 23],
      [23, 31],
    ],
    out: [31, 40],
  }, // one axis unchanged (PIL skips that pass)
  {
    inputs: [
      [5, 3],
      [101, 77],
      [17, 12],
    ],
    out: [17, 12],
  }, // identity for the last
];

for (const format of ['rgba8unorm', 'bgra8unorm'] as const) {
  test(`${format} textures, resized and normalised on the GPU, equal the CPU path bit for bit`, async () => {
    const ctx = await gpu();
    for (const { inputs, out } of cases) {
      const images = inputs.map(([w, h]) => randomRgb(w, h));
      const textures = images.map((img) => texture(ctx, img, format));
      const x = await imagesToTensor(ctx, textures, { width: out[0], height: out[1] });
      assert.equal(x.shape, [images.length, 3, out[1], out[0]]);
      const got = (await ctx.read(x)).data;
      ctx.release(x);
      images.forEach((img, i) => {
        const ref = toNormalizedTensor(resizeBilinearPIL(img, out[0], out[1])).data;
        const mine = got.subarray(i * ref.length, (i + 1) * ref.length);
        const bad = ref.findIndex((v, k) => !Object.is(v, mine[k]));
        assert.is(
          bad,
          -1,
          `${format} ${img.width}x${img.height} → ${out}: element ${bad} got ${mine[bad]}, want ${ref[bad]} (TEST_SEED=${SEED})`,
        );
      });
      for (const t of textures) t.destroy();
    }
  });
}

test('a texture of another format or without TEXTURE_BINDING is refused in one line', async () => {
  const ctx = await gpu();
  const r8 = ctx.device.createTexture({ size: [4, 4], format: 'r8unorm', usage: GPUTextureUsage.TEXTURE_BINDING });
  const refused = (p: Promise<unknown>, message: RegExp) =>
    p.then(
      () => assert.unreachable('accepted'),
      (e: Error) => assert.ok(e instanceof XaiError && message.test(e.message) && !e.message.includes('\n'), e.message),
    );
  await refused(imagesToTensor(ctx, r8), /r8unorm texture; the model reads rgba8unorm or bgra8unorm/);
  const copyOnly = ctx.device.createTexture({ size: [4, 4], format: 'rgba8unorm', usage: GPUTextureUsage.COPY_DST });
  await refused(imagesToTensor(ctx, copyOnly), /TEXTURE_BINDING/);
  await refused(imagesToTensor(ctx, [], { width: 4, height: 4 }), /no images/);
  await refused(imagesToTensor(ctx, r8, { width: 0, height: 4 }), /positive integers/);
  r8.destroy();
  copyOnly.destroy();
});

test('predict, Abs-CAM Init, RISE and insertion/deletion from textures equal the same calls on the host tensor', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  const size = { width: 53, height: 61 };
  const images = [randomRgb(80, 67), randomRgb(41, 90)];
  const host = images.map((img) => toNormalizedTensor(resizeBilinearPIL(img, size.width, size.height)));
  const batch = { shape: [2, 3, size.height, size.width], data: Float32Array.from([...host[0].data, ...host[1].data]) };
  const textures = images.map((img, i) => texture(ctx, img, i ? 'bgra8unorm' : 'rgba8unorm'));

  assert.equal((await model.predict(textures, { inputSize: size })).data, (await model.predict(batch)).data, 'predict');
  const cam = new CamExplainer(model);
  const a = await cam.absCamInit(textures, { inputSize: size, layer: 'layer3' });
  const b = await cam.absCamInit(batch, { layer: 'layer3' });
  assert.equal(a.saliency.data, b.saliency.data, 'Abs-CAM Init');
  assert.equal(a.classes, b.classes);
  const rise = new RiseExplainer(model);
  const riseOpts = { masks: 12, batch: 4 };
  assert.equal(
    (await rise.explain(textures[1], { ...riseOpts, inputSize: size })).saliency.data,
    (await rise.explain(host[1], riseOpts)).saliency.data,
    'RISE',
  );
  const metrics = new CausalMetrics(model);
  const map = { shape: [size.height, size.width], data: b.saliency.data.subarray(0, size.height * size.width) };
  const t = await metrics.evaluate(textures[0], map, ['insertion', 'deletion'], { step: 301, inputSize: size });
  const h = await metrics.evaluate(host[0], map, ['insertion', 'deletion'], { step: 301 });
  assert.equal(
    t.map((r) => r.scores),
    h.map((r) => r.scores),
    'insertion/deletion',
  );
  model.dispose();
  metrics.dispose();
  for (const tex of textures) tex.destroy();
  await closeGpu();
});

test.run();
