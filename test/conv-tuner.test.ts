// The conv autotuner (forward convs in f32 and f16, input gradients): it times only validated
// candidates and picks the fastest, keeps the choice
// per adapter and version on disk (a later process finds it without timing), falls back to the
// static defaults when tuning is off, survives a corrupt cache, and names the valid variants when
// WEBGPU_XAI_CONV is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuContext } from '../src/gpu/context.js';
import { FileTuneStore } from '../src/gpu/tune-cache.js';
import { uploadConv, variantApplies, variantName } from '../src/kernels/conv2d.js';
import {
  CONV_CANDIDATES,
  ConvTuner,
  convKey,
  gradKey,
  GRAD_CANDIDATES,
  staticDefault,
} from '../src/kernels/conv-tuner.js';
import { gradStaticDefault, gradVariantApplies, uploadConvGrad } from '../src/kernels/conv2d-grad.js';
import { VERSION } from '../src/version.js';
import { randomArray, rng } from './helpers.js';

const rand = rng();
const cacheDir = mkdtempSync(join(tmpdir(), 'webgpu-xai-tuner-'));
process.env.WEBGPU_XAI_CACHE_DIR = cacheDir;
delete process.env.WEBGPU_XAI_TUNE;
delete process.env.WEBGPU_XAI_CONV;
const cacheFile = join(cacheDir, 'webgpu-xai', 'tuning.json');

let ctx: GpuContext;
const conv = () => {
  const [co, ci] = [12, 7];
  return uploadConv(
    ctx,
    { shape: [co, ci, 3, 3], data: randomArray(co * ci * 9, rand) },
    randomArray(co, rand, 0.5, 1.5),
    randomArray(co, rand),
    { stride: 1, pad: 1 },
  );
};
const xShape = [3, 7, 19, 17];

test.before(async () => {
  ctx = await GpuContext.node();
});

test('tunes: the choice is the fastest validated candidate, stored under this adapter and version', async () => {
  const c = conv();
  const tuner = new ConvTuner(ctx);
  assert.equal(tuner.choose(c, xShape), staticDefault(c), 'before tuning: the static default');
  const v = await tuner.tune(c, xShape);
  const choice = tuner.choices.get(convKey(c, xShape))!;
  assert.is(choice.source, 'tuned');
  assert.is(choice.variant, variantName(v));
  const applicable = CONV_CANDIDATES.filter((k) => variantApplies(k, c)).map(variantName);
  assert.equal(
    Object.keys(choice.timesMs!).sort(),
    applicable.sort(),
    'every applicable candidate validated and timed',
  );
  assert.ok(
    Object.values(choice.timesMs!).every((t) => t >= choice.timesMs![choice.variant]),
    'the fastest one',
  );
  const stored = JSON.parse(readFileSync(cacheFile, 'utf8'));
  assert.is(stored[`${ctx.adapterInfo} | webgpu-xai ${VERSION}`][convKey(c, xShape)], choice.variant);
  console.log(`  ${ctx.adapterInfo}: ${choice.key} → ${choice.variant} (${JSON.stringify(choice.timesMs)})`);
});

test('input gradients: validated candidates timed, the fastest stored; f16 forward shapes are their own keys', async () => {
  const [co, ci] = [12, 7];
  const w = { shape: [co, ci, 3, 3], data: randomArray(co * ci * 9, rand) };
  const tuner = new ConvTuner(ctx);
  for (const stride of [1, 2]) {
    const g = uploadConvGrad(ctx, w, randomArray(co, rand, 0.5, 1.5), { stride, pad: 1 });
    const size = [xShape[2], xShape[3]];
    const dyShape = [xShape[0], co, Math.floor((size[0] - 1) / stride) + 1, Math.floor((size[1] - 1) / stride) + 1];
    assert.equal(
      tuner.chooseGrad(g, dyShape, size),
      gradStaticDefault(g, size, dyShape),
      'before tuning: the static default',
    );
    const v = await tuner.tuneGrad(g, dyShape, size);
    const choice = tuner.choices.get(gradKey(g, dyShape, size))!;
    assert.is(choice.variant, variantName(v));
    const applicable = GRAD_CANDIDATES.filter((k) => gradVariantApplies(k, g, size, dyShape)).map(variantName);
    assert.equal(
      Object.keys(choice.timesMs!).sort(),
      applicable.sort(),
      `stride ${stride}: every applicable candidate timed`,
    );
    assert.is(
      applicable.some((n) => n.startsWith('winograd')),
      stride === 1,
      'Winograd only at stride 1',
    );
    assert.ok(
      Object.values(choice.timesMs!).every((t) => t >= choice.timesMs![choice.variant]),
      'the fastest one',
    );
    console.log(`  ${choice.key} → ${choice.variant}`);
  }
  const c = conv();
  await tuner.tune(c, xShape, 'f16');
  assert.ok(tuner.choices.get(convKey(c, xShape, 'f16'))!.timesMs, 'f16 timed under its own key');
  assert.is(tuner.choices.get(convKey(c, xShape)), undefined, 'the f32 key untouched');
  assert.not.ok(
    Object.keys(tuner.choices.get(convKey(c, xShape, 'f16'))!.timesMs!).some((n) => n.startsWith('winograd4')),
    'no F(4×4) in f16',
  );
});

test('a later process finds the choice without timing; another adapter does not', async () => {
  const c = conv();
  const first = new ConvTuner(ctx);
  const v = await first.tune(c, xShape);
  ctx.tuneStore = await FileTuneStore.open(ctx.adapterInfo); // as a new process opens it
  const later = new ConvTuner(ctx);
  assert.equal(later.choose(c, xShape), v);
  assert.is(later.choices.get(convKey(c, xShape))!.source, 'cached');
  await later.tune(c, xShape);
  assert.is(later.choices.get(convKey(c, xShape))!.timesMs, undefined, 'no timing the second time');
  const other = await FileTuneStore.open('some other adapter');
  assert.is(other.get(convKey(c, xShape)), undefined);
});

test('batches of one power-of-two bucket share a choice; other shapes do not', () => {
  const c = conv();
  assert.is(convKey(c, [5, 7, 19, 17]), convKey(c, [8, 7, 19, 17]));
  assert.is.not(convKey(c, [9, 7, 19, 17]), convKey(c, [8, 7, 19, 17]));
  assert.is.not(convKey(c, [3, 7, 19, 18]), convKey(c, xShape));
});

test('WEBGPU_XAI_TUNE=0: static defaults, no timing, stored choices ignored', async () => {
  const c = conv();
  await new ConvTuner(ctx).tune(c, xShape);
  process.env.WEBGPU_XAI_TUNE = '0';
  try {
    const off = new ConvTuner(ctx);
    assert.not.ok(off.enabled);
    assert.equal(await off.tune(c, xShape), staticDefault(c));
    assert.is(off.choices.size, 0);
  } finally {
    delete process.env.WEBGPU_XAI_TUNE;
  }
});

test('a corrupt cache file counts as empty and is rewritten', async () => {
  writeFileSync(cacheFile, '{ not json');
  ctx.tuneStore = await FileTuneStore.open(ctx.adapterInfo);
  const c = conv();
  await new ConvTuner(ctx).tune(c, xShape);
  assert.ok(JSON.parse(readFileSync(cacheFile, 'utf8')));
});

test('WEBGPU_XAI_CONV forces a variant where it applies and names the valid ones when wrong', () => {
  const c = conv();
  process.env.WEBGPU_XAI_CONV = 'winograd4-1-wg64';
  try {
    assert.equal(new ConvTuner(ctx).choose(c, xShape), { algo: 'winograd', m: 4, co4: 1, wg: 64 });
    process.env.WEBGPU_XAI_CONV = 'fastest';
    assert.throws(
      () => new ConvTuner(ctx),
      /WEBGPU_XAI_CONV=fastest is not a conv variant; valid: direct-4x1-wg64, .*winograd4-2-wg64/,
    );
  } finally {
    delete process.env.WEBGPU_XAI_CONV;
  }
});

test("VERSION (part of the cache key) is package.json's", () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.is(VERSION, pkg.version);
});

test.after(async () => {
  await ctx.close();
});
test.run();
