// Lifetimes on a device a host lends us: every buffer we create is counted (device.createBuffer
// and each buffer's destroy() are wrapped), then the library does a bit of everything — predict,
// each CAM family, RISE with generated Gaussian masks (its table), insertion/deletion (the blur),
// conv tuning — and we check that dispose() frees each object's memory and that close() leaves
// no buffer of ours alive while the host's device and its own buffers stay usable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireNodeDevice } from '../src/gpu/acquire.js';
import { GpuContext } from '../src/gpu/context.js';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { CamExplainer } from '../src/explain/cam.js';
import { RiseExplainer } from '../src/explain/rise.js';
import { CausalMetrics } from '../src/metrics/causal.js';
import { planMasks } from '../src/kernels/rise-mask-plan.js';
import { MaskGenerator } from '../src/kernels/rise-masks.js';
import { ResNet } from '../src/model/resnet.js';

const MODEL = new URL('../../test/fixtures/model/', import.meta.url).pathname;

/** Wraps device.createBuffer so that the buffers alive now can be listed by label. */
function countBuffers(device: GPUDevice): () => string[] {
  const live = new Set<GPUBuffer>();
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const b = create(desc);
    live.add(b);
    const destroy = b.destroy.bind(b);
    b.destroy = () => {
      live.delete(b);
      destroy();
    };
    return b;
  };
  return () => [...live].map((b) => b.label || '(no label)');
}

test("dispose() frees each object's buffers and close() frees every buffer we made on a borrowed device", async () => {
  const acquired = await acquireNodeDevice();
  const device = acquired.device;
  const live = countBuffers(device);
  const hostBuffer = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE, label: 'host' });
  const ctx = GpuContext.fromDevice(device);
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`));
  const x = loadNpyFile(`${MODEL}resnet18-w8-c5.input-0.npy`);
  const [, , H, W] = x.shape;
  const one = { shape: [1, 3, H, W], data: x.data.subarray(0, 3 * H * W) };
  await model.predict(x);
  const cam = new CamExplainer(model);
  const init = await cam.absCamInit(x, { layer: 'layer3' });
  await cam.absCamFinal(x, { layer: 'layer4', batch: 16 });
  await cam.scoreCam(x, { layer: 'layer4', batch: 16 });
  await new RiseExplainer(model).explain(one, { masks: 20, mode: 'gaussian', batch: 8 });
  const metrics = new CausalMetrics(model);
  await metrics.evaluate(
    one,
    { shape: [H, W], data: init.saliency.data.subarray(0, H * W) },
    ['insertion', 'deletion'],
    { step: 97, batch: 8 },
  );
  const generator = new MaskGenerator(
    ctx,
    planMasks({ height: 9, width: 7, grid: 3, p1: 0.5, mode: 'gaussian', seed: 1 }),
  );
  ctx.release(generator.generate(0, 2));

  await ctx.sync();
  ctx.pool.trim(); // what is released goes; what objects hold stays
  const held = live();
  assert.ok(
    held.some((l) => l.endsWith('.weight')),
    'the model holds weights before dispose()',
  );
  assert.ok(held.includes('blur.weight') && held.includes('rise.gaussTable'), `held: ${held}`);

  model.dispose();
  metrics.dispose();
  generator.dispose();
  // Left: the context's own per-device caches (uniform blocks, the unused-binding placeholder,
  // the identity scale/shift of split taps) and the host's buffer — no weights, tables or tensors.
  const contextCaches = new Set(['params', 'unused', 'identity.scaleShift', 'host']);
  const left = live().filter((l) => !contextCaches.has(l));
  assert.equal(left, [], `alive after dispose(): ${left.join(', ')}`);
  assert.throws(() => model.checkInput(x.shape), /used after dispose/);

  await ctx.close();
  assert.equal(live(), ['host'], "alive after close(): only the host's own buffer");
  // The device is still the host's to use.
  const again = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'host.after' });
  again.destroy();
  hostBuffer.destroy();
  device.destroy();
  acquired.keepAlive = null;
});

test.run();
