// `webgpu-xai report` end to end on a small folder of the bundled demo set (a broken image and a
// file named "<b>x.png" among them), `--from` rebuilding the page without a GPU, the page in
// headless Chromium, and the paging of a large report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpyFile } from '../src/io/files.js';
import { decodeImage } from '../src/io/image.js';
import { PAGE_SIZE, renderPages, type Results } from '../src/report/page.js';
import { cli, ROOT } from './cli-helpers.js';
import { openFile } from './chromium.js';

const tmp = mkdtempSync(join(tmpdir(), 'webgpu-xai-report-'));
const SET = `${ROOT}weights/demo-set/`;
const images = join(tmp, 'images');
const masks = join(tmp, 'masks');
mkdirSync(images);
mkdirSync(masks);
// Two demo images under their names, one under a name that is HTML, and a truncated PNG.
for (const [name, source] of [
  ['ring-1.png', 'ring-1.png'],
  ['pair-1.png', 'pair-1.png'],
  ['<b>x.png', 'round-1.png'],
]) {
  copyFileSync(`${SET}images/${source}`, join(images, name));
  copyFileSync(`${SET}masks/${source}`, join(masks, name));
}
writeFileSync(
  join(images, 'broken.png'),
  new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
);
const out = join(tmp, 'report');
const METHODS = ['abscam-init', 'rise'];
const run = cli([
  'report',
  '--weights',
  `${ROOT}weights/demo-resnet18-w16.pth`,
  '--images',
  images,
  '--gt-masks',
  masks,
  '--class-names',
  `${ROOT}weights/demo-labels.txt`,
  '--methods',
  METHODS.join(','),
  '--masks',
  '32',
  '--size',
  '112',
  '--step',
  '448',
  '--out',
  out,
]);
const results = () => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;

/** Every data-key of a page with its exact value and the text shown. */
const keyedNumbers = (html: string) =>
  [...html.matchAll(/data-key="([^"]+)" data-value="([^"]+)">([^<]*)</g)].map((m) => ({
    key: m[1],
    value: m[2],
    text: m[3],
  }));
/** The value at a data-key's path in results.json ("summary.rise.insertion.mean", "rows.3.auc.deletion"). */
const at = (r: unknown, key: string) =>
  key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], r);

test('report writes the tables, every map, overlays and a page; a broken image is listed, the rest rendered', () => {
  assert.is(run.code, 0, run.stderr);
  assert.match(run.raw, /report \(images × methods\): \d+\/8 .*ETA .*\(pair-1\.png: rise\)/);
  assert.match(run.stderr, /skipped broken\.png: .*truncated PNG/);
  const r = results();
  assert.equal([...new Set(r.rows.map((row) => row.image))], ['<b>x.png', 'pair-1.png', 'ring-1.png']);
  assert.equal(
    r.skipped.map((s) => s.image),
    ['broken.png'],
  );
  assert.is(r.summary.rise['pointing hit'].n, 3);
  const meta = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.is(meta.model.architecture, 'resnet18');
  assert.equal(meta.model.classNames, ['round', 'elongated', 'ring', 'pair']);
  assert.match(meta.model.sha256, /^[0-9a-f]{64}$/);
  for (const [image, info] of Object.entries(meta.images) as [
    string,
    { id: string; top: { probability: number }[] },
  ][]) {
    assert.is(info.top.length, 3, image);
    assert.ok(info.top[0].probability >= info.top[1].probability && info.top[1].probability >= info.top[2].probability);
    assert.is(decodeImage(readFileSync(join(out, 'maps', info.id, 'input.png')), 'input').width, 112);
    for (const m of METHODS) {
      assert.equal(loadNpyFile(join(out, 'maps', info.id, `${m}.npy`)).shape, [112, 112]);
      assert.is(decodeImage(readFileSync(join(out, 'maps', info.id, `${m}.png`)), 'overlay').height, 112);
    }
  }
  assert.equal(
    meta.riseSheets.map((s: { file: string }) => s.file),
    ['rise-masks-rise.png'],
  );
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(!html.includes('<b>x.png'), 'a file name is text, not markup');
  assert.ok(html.includes('&lt;b&gt;x.png'));
  assert.match(html, /broken\.png<\/b>: .*truncated PNG/);
  // Offline: no script, every src/href is a file beside the page.
  assert.not.match(html, /<script|<link|@import|url\(/);
  for (const [, ref] of html.matchAll(/(?:src|href)="([^"]*)"/g)) {
    assert.ok(existsSync(join(out, ref.replace(/&amp;/g, '&'))), `${ref} is a file of the output`);
  }
  const nums = keyedNumbers(html);
  assert.ok(nums.length >= 3 * METHODS.length * 3, `${nums.length} numbers keyed`);
  for (const n of nums) {
    assert.is(Number(n.value), at(r, n.key), n.key);
    assert.is(n.text, Number(n.value).toFixed(n.key.endsWith('.n') ? 0 : 3), n.key);
  }
});

test('--from rebuilds the same page from the files alone (no GPU: the Vulkan driver hidden)', () => {
  const before = readFileSync(join(out, 'index.html'), 'utf8');
  rmSync(join(out, 'index.html'));
  const r = cli(['report', '--from', out], {
    VK_ICD_FILENAMES: '/nonexistent.json',
    VK_DRIVER_FILES: '/nonexistent.json',
  });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(out, 'index.html'), 'utf8'), before);
  // An evaluate-dataset output (no report.json, no maps): the tables, without pictures.
  const plain = join(tmp, 'plain');
  cpSync(out, plain, { recursive: true });
  for (const f of ['report.json', 'maps', 'index.html', 'rise-masks-rise.png'])
    rmSync(join(plain, f), { recursive: true });
  const p = cli(['report', '--from', plain]);
  assert.is(p.code, 0, p.stderr);
  const html = readFileSync(join(plain, 'index.html'), 'utf8');
  assert.not.match(html, /<img/);
  assert.equal(keyedNumbers(html), keyedNumbers(before));
});

test('report refuses a bad command line or a folder that is not an output, in one line', () => {
  const both = cli(['report', '--weights', 'w.pth', '--images', images, '--input', 'a.png', '--out', join(tmp, 'x')]);
  assert.is(both.code, 2);
  assert.match(both.stderr, /give --images DIR or --input I \(one or more\), not both/);
  const extra = cli(['report', '--from', out, '--masks', '8']);
  assert.is(extra.code, 2);
  assert.match(extra.stderr, /--from rebuilds .* takes no other option \(got --masks\)/);
  const notOutput = cli(['report', '--from', images]);
  assert.is(notOutput.code, 1);
  assert.match(notOutput.stderr, /holds no results\.json: not a report or evaluate-dataset output folder/);
  const used = cli(['report', '--weights', `${ROOT}weights/demo-resnet18-w16.pth`, '--images', images, '--out', out]);
  assert.is(used.code, 1);
  assert.match(used.stderr, /--out .* is not empty/);
});

test('the page in headless Chromium: no console error, every image decodes, the numbers are results.json', async () => {
  const page = await openFile(
    join(out, 'index.html'),
    `({
    images: [...document.images].map((i) => ({ src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0 })),
    numbers: [...document.querySelectorAll('[data-key]')].map((e) => ({ key: e.dataset.key, value: e.dataset.value, text: e.textContent })),
    svgs: document.querySelectorAll('svg').length,
    text: document.body.innerText,
  })`,
    60_000,
  );
  assert.equal(page.errors, []);
  const v = page.value as {
    images: { src: string; ok: boolean }[];
    numbers: { key: string; value: string; text: string }[];
    svgs: number;
    text: string;
  };
  assert.is(
    v.images.length,
    1 + 3 * (1 + METHODS.length),
    'the RISE sheet, and per image its input and an overlay per method',
  );
  for (const img of v.images) assert.ok(img.ok, `${img.src} decoded`);
  const r = results();
  assert.equal(v.numbers, keyedNumbers(readFileSync(join(out, 'index.html'), 'utf8')));
  for (const n of v.numbers) assert.is(Number(n.value), at(r, n.key), n.key);
  assert.ok(v.svgs >= 2 + 3 * METHODS.length, 'mean curves and small curves are inline SVG');
  assert.ok(v.text.includes('<b>x.png'), 'the HTML-like file name shows as text');
});

test(`a report of ${2 * PAGE_SIZE + 7} images: pages of ${PAGE_SIZE}, each holding its rows only`, () => {
  const names = Array.from({ length: 2 * PAGE_SIZE + 7 }, (_, i) => `img-${String(i).padStart(3, '0')}.png`);
  const rows = names.map((image, i) => ({
    image,
    method: 'rise',
    class: 1,
    auc: { insertion: (i % 10) / 10 },
    seconds: 1,
    explainSeconds: 0.5,
  }));
  const results: Results = {
    weights: 'w.pth',
    images: 'dir',
    methods: ['rise'],
    metrics: ['insertion'],
    step: 224,
    size: { height: 112, width: 112 },
    rows,
    skipped: [],
    summary: { rise: { insertion: { mean: 0.45, std: 0.3, n: rows.length } } },
    meanCurves: { rise: { insertion: [0.1, 0.5, 1] } },
  };
  const pages = renderPages({ results, parameters: [['methods', 'rise']], record: () => undefined });
  assert.equal(
    pages.map((p) => p.file),
    ['index.html', 'page-2.html', 'page-3.html'],
  );
  const rowsOf = (html: string) => [...html.matchAll(/<div>(img-\d+\.png)<\/div>/g)].map((m) => m[1]);
  assert.equal(
    pages.flatMap((p) => rowsOf(p.html)),
    names,
  );
  assert.is(rowsOf(pages[2].html).length, 7);
  for (const p of pages) assert.match(p.html, /data-key="summary\.rise\.insertion\.mean" data-value="0\.45">0\.450</);
});

test.after(() => {
  if (!process.env.KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
});

test.run();
