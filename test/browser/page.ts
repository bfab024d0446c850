// Runs inside headless Chromium (test/browser.test.ts serves it): the library as a web page uses
// it, on a GPUDevice the page itself owns, with weights and inputs fetched as bytes. Posts what
// it computed back to the test server.
import {
  CamExplainer,
  CausalMetrics,
  ConvTuner,
  GpuContext,
  parseNpy,
  parseWeights,
  ResNet,
  RiseExplainer,
} from '../../src/index.js';

async function bytes(path: string): Promise<Uint8Array> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function run(): Promise<unknown> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter in the browser');
  // The host app's device: created by the page, lent to the engine, destroyed by the page.
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
  });
  const ctx = GpuContext.fromDevice(device);
  const dir = '/test/fixtures/model/';
  const model = ResNet.fromStateDict(ctx, parseWeights(await bytes(`${dir}resnet18-w8-c5.pth`), 'resnet18-w8-c5.pth'));
  const x = parseNpy(await bytes(`${dir}resnet18-w8-c5.input-0.npy`), 'input-0.npy');
  const logits = await model.predict(x);
  const cam = await new CamExplainer(model).absCamInit(x, { layer: 'layer4' });
  const rdir = '/test/fixtures/rise/';
  const riseInput = parseNpy(await bytes(`${rdir}input.npy`), 'input.npy');
  const rise = await new RiseExplainer(model).explain(riseInput, {
    masksFile: parseNpy(await bytes(`${rdir}masks-binary.npy`), 'masks-binary.npy'),
    p1: 0.5,
  });
  const cdir = '/test/fixtures/causal/';
  const curves = await new CausalMetrics(model).evaluate(
    parseNpy(await bytes(`${cdir}input.npy`), 'input.npy'),
    parseNpy(await bytes(`${cdir}saliency.npy`), 'saliency.npy'),
    ['insertion', 'deletion'],
    { step: 37 },
  );
  const tuning = [...ConvTuner.of(ctx).choices.values()];
  await ctx.close();
  const stillAlive = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }); // close() left the host's device alone
  stillAlive.destroy();
  device.destroy();
  const info = adapter.info;
  return {
    adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
    logits: Array.from(logits.data),
    cam: Array.from(cam.saliency.data),
    classes: cam.classes,
    rise: Array.from(rise.saliency.data),
    insertion: curves[0].scores,
    deletion: curves[1].scores,
    tuning,
  };
}

run().then(
  (result) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: true, result }) }),
  (e: unknown) =>
    fetch('/result', { method: 'POST', body: JSON.stringify({ ok: false, error: String((e as Error)?.stack ?? e) }) }),
);
