// The package as npm ships it: `npm pack` makes the tarball, which is unpacked and served to
// headless Chromium; a page with no bundler imports it through an import map, decodes the demo
// image with the platform's decoder, preprocesses it on the CPU and on the GPU (from an
// ImageBitmap, an <img> and a VideoFrame) and classifies it. Its pixels and logits must equal
// what Node computes from the same files, and the GPU path must equal the CPU path bit for bit. Also: README.md's lists of each entry's exports
// are what the entries export.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, loadWeightsFile, resizeBilinearPIL, ResNet, toNormalizedTensor } from '../src/node.js';
import { closeGpu, gpu, relToMax } from './helpers.js';
import { runPage } from './chromium.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SIZE = 112;

/** The runtime names README.md lists for an entry: the backticked names of its "exports" lines. */
function readmeExports(entry: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`<!-- exports ${entry} -->`);
  const end = readme.indexOf('<!-- /exports -->', start);
  assert.ok(start >= 0 && end > start, `README.md has no export list for ${entry}`);
  return [...readme.slice(start, end).matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
}

test('README.md lists exactly what each entry exports', async () => {
  const browser = Object.keys(await import('../src/index.js')).sort();
  const node = Object.keys(await import('../src/node.js'))
    .filter((k) => !browser.includes(k))
    .sort();
  assert.equal(readmeExports('webgpu-xai'), browser);
  assert.equal(readmeExports('webgpu-xai/node'), node);
});

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "webgpu-xai": "/package/dist/src/index.js" } }</script>
<script type="module">
import * as xai from 'webgpu-xai';
const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
async function run() {
  const bitmap = await xai.decodeImageBitmap(await bytes('/package/weights/demo.png'), 'demo.png');
  const rgb = xai.rgbFromImage(bitmap);
  const x = xai.toNormalizedTensor(xai.resizeBilinearPIL(rgb, ${SIZE}, ${SIZE}));
  const ctx = await xai.GpuContext.browser();
  // One variant everywhere: tuning on SwiftShader takes a minute (test/browser.test.ts covers it).
  xai.ConvTuner.of(ctx).force(xai.parseVariant('direct-4x1-wg64'));
  const model = xai.ResNet.fromStateDict(ctx, xai.parseWeights(await bytes('/package/weights/demo-resnet18-w16.pth'), 'demo.pth'));
  const logits = await model.predict(x);
  // The GPU path from each kind of source: resized and normalised on the GPU, no CPU round trip.
  const size = { height: ${SIZE}, width: ${SIZE} };
  const onGpu = await xai.imagesToTensor(ctx, bitmap, size);
  const gpuInput = Array.from((await ctx.read(onGpu)).data);
  ctx.release(onGpu);
  const img = new Image();
  img.src = URL.createObjectURL(new Blob([await bytes('/package/weights/demo.png')], { type: 'image/png' }));
  await img.decode();
  const frame = new VideoFrame(bitmap, { timestamp: 0 });
  const fromSources = {};
  for (const [kind, source] of [['ImageBitmap', bitmap], ['HTMLImageElement', img], ['VideoFrame', frame]]) {
    fromSources[kind] = Array.from((await model.predict(source, { inputSize: size })).data);
  }
  frame.close();
  // Abs-CAM Init from the bitmap (GPU preprocessing) and from host pixels (canvas readback, CPU
  // resize, upload), after one warm-up each: a measurement for the report, not a check.
  const cam = new xai.CamExplainer(model);
  const timeIt = async (fn) => { await fn(); const t0 = performance.now(); for (let i = 0; i < 3; i++) await fn(); return (performance.now() - t0) / 3; };
  const camMs = {
    texture: await timeIt(() => cam.absCamInit(bitmap, { inputSize: size })),
    host: await timeIt(() => cam.absCamInit(xai.toNormalizedTensor(xai.resizeBilinearPIL(xai.rgbFromImage(bitmap), ${SIZE}, ${SIZE})))),
  };
  model.dispose();
  await ctx.close();
  return { exports: Object.keys(xai), rgb: Array.from(rgb.data), logits: Array.from(logits.data), cpuInput: Array.from(x.data), gpuInput, fromSources, camMs };
}
run().then(
  (result) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: true, result }) }),
  (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ ok: false, error: String(e?.stack ?? e) }) }),
);
</script>`;

test('a page with no bundler imports the tarball npm pack makes and classifies like Node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-xai-pack-'));
  // --ignore-scripts: the suite has built dist/ already (pack would run `prepare`, the build).
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  );
  execFileSync('tar', ['-xzf', join(dir, filename), '-C', dir]);
  const pkg = join(dir, 'package');
  for (const f of [
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/node.js',
    'dist/src/node.d.ts',
    'bin/webgpu-xai.js',
    'weights/demo.png',
  ]) {
    assert.ok(existsSync(join(pkg, f)), `the tarball lacks ${f}`);
  }
  assert.not.ok(existsSync(join(pkg, 'dist/test')), 'the tarball ships the tests');

  const r = await runPage<{
    exports: string[];
    rgb: number[];
    logits: number[];
    cpuInput: number[];
    gpuInput: number[];
    fromSources: Record<string, number[]>;
    camMs: { texture: number; host: number };
  }>({ root: dir, html: PAGE, timeoutMs: 180_000 });
  assert.ok(r.ok, `the page failed: ${r.error}`);
  const { exports, rgb, logits, cpuInput, gpuInput, fromSources, camMs } = r.result!;
  console.log(
    `  Abs-CAM Init in Chromium (SwiftShader), ${SIZE}x${SIZE}, mean of 3: from an ImageBitmap ${camMs.texture.toFixed(0)} ms, from host pixels ${camMs.host.toFixed(0)} ms`,
  );
  // An ImageBitmap through copyExternalImageToTexture and the GPU resize: the CPU path's bits.
  assert.equal(gpuInput, cpuInput, 'GPU-preprocessed input differs from the CPU path');
  for (const [kind, l] of Object.entries(fromSources)) assert.equal(l, logits, `predict from ${kind}`);
  assert.equal(exports.sort(), Object.keys(await import('../src/index.js')).sort());

  const png = decodeImage(readFileSync(join(ROOT, 'weights/demo.png')), 'demo.png');
  assert.ok(
    Buffer.from(Uint8Array.from(rgb)).equals(Buffer.from(png.data)),
    'the browser decoded other pixels than Node',
  );
  const ctx = await gpu();
  const model = ResNet.fromStateDict(ctx, loadWeightsFile(join(ROOT, 'weights/demo-resnet18-w16.pth')));
  const ref = await model.predict(toNormalizedTensor(resizeBilinearPIL(png, SIZE, SIZE)));
  // Same input bits, other adapters (SwiftShader, lavapipe) and possibly other tuned conv variants.
  const err = relToMax(logits, ref.data);
  assert.ok(err <= 1e-4, `browser logits differ from Node's by ${err} of the largest`);
  await closeGpu();
});

test.run();
