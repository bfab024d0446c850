// Output on the GPU: CamExplainer.explainToGpu and RiseExplainer.explainToGpu leave the maps in a
// GPU buffer (equal to what explain reads back), and drawOverlay blends the colour-mapped map over a host texture, which
// must show what the CPU overlay (viz/overlay.ts, the CLI's overlay.png) computes from the same
// image and map. Tolerance: 1 level per channel (the GPU blends in float and rounds once to
// 8 bits; the CPU rounds the same sum in float64, so ties may go the other way), except where
// the map value sits within 1e-4 of a colour bin's edge (float32 against float64 scaling may
// pick the neighbouring bin): there, within 1 level of either bin's colour.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drawOverlay } from '../src/kernels/overlay.js';
import { JET_LUT } from '../src/viz/colormap.js';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { CamExplainer } from '../src/explain/cam.js';
import { RiseExplainer } from '../src/explain/rise.js';
import { ResNet } from '../src/model/resnet.js';
import type { GpuContext } from '../src/gpu/context.js';
import { closeGpu, gpu, randomArray, rng, SEED } from './helpers.js';

const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const rand = rng(SEED + 20);

type Format = 'rgba8unorm' | 'bgra8unorm';
const ORDER: Record<Format, number[]> = { rgba8unorm: [0, 1, 2], bgra8unorm: [2, 1, 0] };

function targetTexture(ctx: GpuContext, rgb: Uint8Array, w: number, h: number, format: Format): GPUTexture {
  const usage = GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC | GPUTextureUsage.COPY_DST;
  const t = ctx.device.createTexture({ size: [w, h], format, usage });
  const px = new Uint8Array(4 * w * h).fill(255);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) px[4 * i + ORDER[format][c]] = rgb[3 * i + c];
  ctx.device.queue.writeTexture({ texture: t }, px, { bytesPerRow: 4 * w }, [w, h]);
  return t;
}

async function readRgb(ctx: GpuContext, t: GPUTexture, format: Format): Promise<Uint8Array> {
  const row = Math.ceil((4 * t.width) / 256) * 256;
  const buf = ctx.device.createBuffer({
    size: row * t.height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const enc = ctx.device.createCommandEncoder();
  enc.copyTextureToBuffer({ texture: t }, { buffer: buf, bytesPerRow: row }, [t.width, t.height]);
  ctx.device.queue.submit([enc.finish()]);
  await buf.mapAsync(GPUMapMode.READ);
  const bytes = new Uint8Array(buf.getMappedRange());
  const out = new Uint8Array(3 * t.width * t.height);
  for (let y = 0; y < t.height; y++)
    for (let x = 0; x < t.width; x++) {
      for (let c = 0; c < 3; c++) out[3 * (y * t.width + x) + c] = bytes[y * row + 4 * x + ORDER[format][c]];
    }
  buf.destroy();
  return out;
}

/** Checks the GPU picture against the CPU overlay's arithmetic in float64, pixel by pixel. */
function checkOverlay(got: Uint8Array, image: Uint8Array, map: ArrayLike<number>, alpha: number, what: string): void {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  for (let i = 0; i < map.length; i++) {
    const t = ((map[i] - lo) / (hi - lo)) * 256;
    const bins = [Math.min(255, Math.floor(t))];
    if (Math.abs(t - Math.round(t)) < 1e-4)
      bins.push(Math.min(255, Math.max(0, Math.round(t) - (bins[0] === Math.round(t) ? 1 : 0))));
    const ok = bins.some((k) =>
      [0, 1, 2].every(
        (c) => Math.abs(got[3 * i + c] - ((1 - alpha) * image[3 * i + c] + alpha * JET_LUT[3 * k + c])) <= 1,
      ),
    );
    if (!ok)
      assert.unreachable(
        `${what}: pixel ${i} got ${[...got.subarray(3 * i, 3 * i + 3)]}, image ${[...image.subarray(3 * i, 3 * i + 3)]}, bin ${bins} (TEST_SEED=${SEED})`,
      );
  }
}

for (const format of ['rgba8unorm', 'bgra8unorm'] as const) {
  test(`drawOverlay on a ${format} texture equals the CPU overlay (odd size, plane 1 of 3, alpha 0.4)`, async () => {
    const ctx = await gpu();
    const [w, h] = [37, 23];
    const image = Uint8Array.from({ length: 3 * w * h }, () => Math.floor(256 * rand()));
    const maps = randomArray(3 * w * h, rand, -3, 5);
    const target = targetTexture(ctx, image, w, h, format);
    const saliency = ctx.upload({ shape: [3, h, w], data: maps });
    drawOverlay(ctx, saliency, target, { plane: 1, alpha: 0.4 });
    checkOverlay(await readRgb(ctx, target, format), image, maps.subarray(w * h, 2 * w * h), 0.4, format);
    assert.equal((await ctx.read(saliency)).data, maps, "the caller's map is left as it was");
    ctx.release(saliency);
    target.destroy();
  });
}

test('drawOverlay stretches the map to a larger target (nearest pixel)', async () => {
  const ctx = await gpu();
  const [w, h, s] = [9, 7, 3];
  const image = Uint8Array.from({ length: 3 * w * s * h * s }, () => Math.floor(256 * rand()));
  const map = randomArray(w * h, rand);
  const target = targetTexture(ctx, image, w * s, h * s, 'rgba8unorm');
  const saliency = ctx.upload({ shape: [h, w], data: map });
  drawOverlay(ctx, saliency, target);
  const stretched = Float32Array.from(
    { length: w * s * h * s },
    (_, i) => map[Math.floor(Math.floor(i / (w * s)) / s) * w + Math.floor((i % (w * s)) / s)],
  );
  checkOverlay(await readRgb(ctx, target, 'rgba8unorm'), image, stretched, 0.5, 'stretched');
  ctx.release(saliency);
  target.destroy();
});

test('explainToGpu (CAM and RISE) leaves the maps explain reads back in a GPU buffer', async () => {
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  const x = loadNpyFile(`${MODEL}resnet18-w8-c5.input-0.npy`);
  const cam = new CamExplainer(model);
  for (const method of ['gradcam', 'abscam-final'] as const) {
    const host = await cam.explain(method, x, { layer: 'layer4', batch: 16 });
    const onGpu = await cam.explainToGpu(method, x, { layer: 'layer4', batch: 16 });
    assert.equal(onGpu.saliency.shape, host.saliency.shape);
    assert.ok(onGpu.saliency.buffer.usage & GPUBufferUsage.STORAGE, 'a buffer the host can bind');
    assert.equal((await ctx.read(onGpu.saliency)).data, host.saliency.data, method);
    assert.equal(onGpu.classes, host.classes);
    ctx.release(onGpu.saliency);
  }
  // RISE: every class's map, from one image (the masks depend on the seed only: the same maps).
  const one = { shape: [1, ...x.shape.slice(1)], data: x.data.subarray(0, x.data.length / x.shape[0]) };
  const rise = new RiseExplainer(model);
  const host = await rise.explain(one, { masks: 40, batch: 16, seed: 7 });
  const onGpu = await rise.explainToGpu(one, { masks: 40, batch: 16, seed: 7 });
  assert.equal(onGpu.saliency.shape, host.saliency.shape);
  assert.equal((await ctx.read(onGpu.saliency)).data, host.saliency.data, 'rise');
  assert.is(onGpu.classIndex, host.classIndex);
  ctx.release(onGpu.saliency);
  model.dispose();
  await closeGpu();
});

test.run();
