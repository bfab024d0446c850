// The library in a real browser: headless Chromium (WebGPU on SwiftShader) loads dist/ as ES
// modules, runs a ResNet forward and Abs-CAM Init on a device the page owns, and posts the results;
// they must match PyTorch's goldens as in Node. Needs Debian's chromium (scripts/setup.sh --browser).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadNpyFile } from '../src/io/files.js';
import { assertClose } from './helpers.js';
import { runPage } from './chromium.js';
import { CONV_CANDIDATES, type ConvChoice } from '../src/kernels/conv-tuner.js';
import { variantName } from '../src/kernels/conv2d.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PAGE = '<!doctype html><script type="module" src="/dist/test/browser/page.js"></script>';

interface PageResult {
  adapter: string;
  logits: number[];
  cam: number[];
  classes: number[];
  rise: number[];
  insertion: number[];
  deletion: number[];
  tuning: ConvChoice[];
}

test('forward, Abs-CAM, RISE and insertion/deletion in headless Chromium on a page-owned device match PyTorch', async () => {
  const r = await runPage<PageResult>({ root: ROOT, html: PAGE, timeoutMs: 180_000 });
  assert.ok(r.ok, `the page failed: ${r.error}`);
  const { logits, cam, classes, adapter, rise, insertion, deletion, tuning } = r.result!;
  console.log(`  browser adapter: ${adapter}`);
  // The conv tuner ran on this adapter (in memory: a page has no disk cache) and chose, per conv
  // shape, one of the candidates it had timed; the goldens below hold whatever it chose.
  assert.ok(tuning.length > 0, 'the page tuned no conv');
  for (const c of tuning) {
    assert.is(c.source, 'tuned', c.key);
    assert.ok(CONV_CANDIDATES.map(variantName).includes(c.variant), c.variant);
    assert.ok(c.timesMs && c.variant in c.timesMs, `${c.key}: chosen without a timing`);
    assert.ok(
      Object.values(c.timesMs!).every((t) => t >= c.timesMs![c.variant]),
      `${c.key}: ${c.variant} is not the fastest`,
    );
  }
  const picked = new Map<string, number>();
  for (const c of tuning) picked.set(c.variant, (picked.get(c.variant) ?? 0) + 1);
  console.log(
    `  browser tuner: ${tuning.length} conv shapes tuned; chosen: ${[...picked].map(([v, k]) => `${v} ×${k}`).join(', ')}`,
  );
  const dir = `${ROOT}test/fixtures/`;
  const refLogits = loadNpyFile(`${dir}model/resnet18-w8-c5.logits-0.npy`).data;
  const maxLogit = Math.max(...refLogits.map(Math.abs));
  assertClose(logits, refLogits, 1e-4 * maxLogit, 0, 'browser logits (1e-4 of max)');
  const refCam = loadNpyFile(`${dir}cam/abscam-init-resnet18-w8-c5-layer4.npy`).data;
  assertClose(cam, refCam, 1e-3, 0, 'browser Abs-CAM Init (maps in [0, 1])');
  assert.equal(classes, JSON.parse(readFileSync(`${dir}cam/index.json`, 'utf8')).cams['resnet18-w8-c5/layer4'].classes);
  const refRise = loadNpyFile(`${dir}rise/saliency-binary-logits.npy`).data;
  assertClose(rise, refRise, 1e-4 * Math.max(...refRise.map(Math.abs)), 0, 'browser RISE (1e-4 of max)');
  assertClose(insertion, loadNpyFile(`${dir}causal/curve-insertion-step37.npy`).data, 1e-5, 0, 'browser insertion');
  assertClose(deletion, loadNpyFile(`${dir}causal/curve-deletion-step37.npy`).data, 1e-5, 0, 'browser deletion');
});

test.run();
