// The CLI end to end, as a user runs it: `predict` on a checkpoint and an input, the files it
// writes, that the process exits by itself, and that bad input ends in one line and a non-zero code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/cli/args.js';
import { reportError } from '../src/cli/main.js';
import { GpuValidationError, XaiError } from '../src/errors.js';
import { parseCsvLine } from '../src/io/csv.js';
import { encodeNpy } from '../src/io/npy.js';
import { decodeImage, encodePng } from '../src/io/image.js';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { assertClose, encodeSafetensors } from './helpers.js';
import { argv, BIN, cli, flippedDemo, ROOT } from './cli-helpers.js';

const MODEL = `${ROOT}test/fixtures/model/`;
const tmp = mkdtempSync(join(tmpdir(), 'webgpu-xai-cli-'));

test('predict writes logits.npy equal to PyTorch and prediction.json', () => {
  const out = join(tmp, 'run');
  const labels = join(tmp, 'labels.txt');
  writeFileSync(labels, 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
  const r = cli(
    argv`predict --weights ${MODEL}resnet18-w8-c5.pth --input ${MODEL}resnet18-w8-c5.input-1.npy --labels ${labels} --top 2 --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.not.ok(r.jsStack);
  const ref = loadNpyFile(`${MODEL}resnet18-w8-c5.logits-1.npy`);
  const logits = loadNpyFile(join(out, 'logits.npy'));
  assert.equal(logits.shape, [1, 5]);
  assertClose(logits.data, ref.data, 1e-5, 1e-4, 'logits.npy');
  const best = [...ref.data.keys()].sort((a, b) => ref.data[b] - ref.data[a])[0];
  const report = JSON.parse(readFileSync(join(out, 'prediction.json'), 'utf8'));
  assert.is(report.architecture, 'resnet18');
  assert.is(report.predictions.length, 2);
  assert.is(report.predictions[0].index, best);
  assert.is(report.predictions[0].label, ['alpha', 'beta', 'gamma', 'delta', 'epsilon'][best]);
  assert.match(r.stdout, new RegExp(`  1\\. ${report.predictions[0].label}`));
});

test('predict on the bundled demo PNG (resize + normalise + model) matches PyTorch', () => {
  const out = join(tmp, 'demo');
  const r = cli(
    argv`predict --weights ${ROOT}weights/demo-resnet18-w16.pth --input ${ROOT}weights/demo.png --size 112 --labels ${ROOT}weights/demo-labels.txt --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  const expected = JSON.parse(readFileSync(`${ROOT}weights/demo-expected.json`, 'utf8'));
  const logits = loadNpyFile(join(out, 'logits.npy'));
  const maxRef = Math.max(...expected.logits.map(Math.abs));
  assertClose(logits.data, expected.logits, 1e-4 * maxRef, 0, 'demo logits (1e-4 of max |logit|)');
  assert.match(r.stdout, new RegExp(`1\\. ${expected.label} `));
});

test('predict --precision f16 stays within the f16 bound of PyTorch (test/precision.test.ts); an unknown precision is a usage error', () => {
  const out = join(tmp, 'demo-f16');
  const r = cli(
    argv`predict --weights ${ROOT}weights/demo-resnet18-w16.pth --input ${ROOT}weights/demo.png --size 112 --precision f16 --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  const expected = JSON.parse(readFileSync(`${ROOT}weights/demo-expected.json`, 'utf8'));
  const logits = loadNpyFile(join(out, 'logits.npy'));
  assertClose(
    logits.data,
    expected.logits,
    2e-3 * Math.max(...expected.logits.map(Math.abs)),
    0,
    'demo logits in f16 (2e-3 of max |logit|)',
  );
  const bad = cli(
    argv`predict --weights ${ROOT}weights/demo-resnet18-w16.pth --input ${ROOT}weights/demo.png --precision f64`,
  );
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--precision must be one of f32, f16, got "f64"/);
});

test('explain abscam-init on the demo writes saliency.npy, overlay.png and explanation.json', () => {
  const out = join(tmp, 'explain');
  const r = cli(
    argv`explain --method abscam-init --weights ${ROOT}weights/demo-resnet18-w16.pth --input ${ROOT}weights/demo.png --size 112 --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  const sal = loadNpyFile(join(out, 'saliency.npy'));
  assert.equal(sal.shape, [112, 112]);
  assert.is(Math.max(...sal.data), 1); // min-max normalised
  assert.is(Math.min(...sal.data), 0);
  const png = readFileSync(join(out, 'overlay.png'));
  assert.equal([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  const report = JSON.parse(readFileSync(join(out, 'explanation.json'), 'utf8'));
  assert.is(report.method, 'abscam-init');
  assert.is(report.layer, 'layer4');
  assert.equal(report.classes, [2]);
});

test('explain on two images (a batch) with one class each', () => {
  const out = join(tmp, 'explain2');
  const input = `${MODEL}resnet18-w8-c5.input-0.npy`; // [2, 3, 64, 64]
  const r = cli(
    argv`explain --method gradcam --weights ${MODEL}resnet18-w8-c5.pth --input ${input} --class 4,1 --layer layer3 --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(loadNpyFile(join(out, 'saliency.npy')).shape, [2, 64, 64]);
  assert.equal(JSON.parse(readFileSync(join(out, 'explanation.json'), 'utf8')).classes, [4, 1]);
  readFileSync(join(out, 'overlay-1.png'));
});

test("explain rise with the original project's masks file reproduces PyTorch; masks exports .npy and a sheet", () => {
  const RISE = `${ROOT}test/fixtures/rise/`;
  const out = join(tmp, 'rise');
  const r = cli(
    argv`explain --method rise --weights ${MODEL}resnet18-w8-c5.pth --input ${RISE}input.npy --masks-file ${RISE}masks-binary.npy --scores softmax --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  const sal = loadNpyFile(join(out, 'saliency.npy'));
  const ref = loadNpyFile(`${RISE}saliency-binary-softmax.npy`);
  assert.equal(sal.shape, [5, 48, 48]);
  const max = Math.max(...ref.data.map(Math.abs));
  assertClose(sal.data, ref.data, 1e-4 * max, 0, 'RISE saliency via the CLI');
  const report = JSON.parse(readFileSync(join(out, 'explanation.json'), 'utf8'));
  assert.is(report.masksUsed, 20);
  // What each conv shape ran as, and why (the suite's cache starts empty: tuned here).
  const variants = Object.entries(report.convVariants as Record<string, string>);
  assert.ok(variants.length >= 4, JSON.stringify(report.convVariants));
  for (const [key, v] of variants)
    assert.match(
      `${key}: ${v}`,
      /^conv2d \d+x\d+\/s\d\/p\d \d+>\d+ \d+x\d+ n\d+: (direct|winograd)\S+ \((tuned|cached)\)$/,
    );
  const m = cli(
    argv`masks --n 10 --size 48 --grid 6 --mode gaussian --seed 3 --input ${RISE}input.npy --out ${join(tmp, 'masks')}`,
  );
  assert.is(m.code, 0, m.stderr);
  const masks = loadNpyFile(join(tmp, 'masks', 'masks.npy'));
  assert.equal(masks.shape, [10, 1, 48, 48]);
  assert.ok(masks.data.every((v) => v >= 0 && v <= 1));
  readFileSync(join(tmp, 'masks', 'masks.png'));
  // The exported masks, fed back as a masks file, give what the generator gives directly.
  const a = cli(
    argv`explain --method rise-gauss --weights ${MODEL}resnet18-w8-c5.pth --input ${RISE}input.npy --masks 10 --grid 6 --seed 3 --out ${join(tmp, 'ra')}`,
  );
  const b = cli(
    argv`explain --method rise-gauss --weights ${MODEL}resnet18-w8-c5.pth --input ${RISE}input.npy --masks-file ${join(tmp, 'masks', 'masks.npy')} --out ${join(tmp, 'rb')}`,
  );
  assert.equal([a.code, b.code], [0, 0], a.stderr + b.stderr);
  assertClose(
    loadNpyFile(join(tmp, 'ra', 'saliency.npy')).data,
    loadNpyFile(join(tmp, 'rb', 'saliency.npy')).data,
    1e-6,
    1e-6,
    'generated vs exported masks',
  );
});

test('evaluate --metric both writes curves equal to the RISE protocol in PyTorch', () => {
  const C = `${ROOT}test/fixtures/causal/`;
  const out = join(tmp, 'eval');
  const r = cli(
    argv`evaluate --metric both --weights ${MODEL}resnet18-w8-c5.pth --input ${C}input.npy --saliency ${C}saliency.npy --step 37 --out ${out}`,
  );
  assert.is(r.code, 0, r.stderr);
  const index = JSON.parse(readFileSync(`${C}index.json`, 'utf8'));
  for (const metric of ['insertion', 'deletion']) {
    const curve = JSON.parse(readFileSync(join(out, `curve-${metric}.json`), 'utf8'));
    assertClose(curve.scores, loadNpyFile(`${C}curve-${metric}-step37.npy`).data, 1e-5, 0, `${metric} via the CLI`);
    assert.ok(Math.abs(curve.auc - index[`${metric}/37`].auc) < 1e-5);
    assert.match(readFileSync(join(out, `curve-${metric}.svg`), 'utf8'), /AUC 0\.\d{4}/);
  }
});

test('evaluate-dataset: a folder with a broken image gives its table, summary and mean curves', () => {
  const dir = join(tmp, 'dataset');
  mkdirSync(dir, { recursive: true });
  const demo = readFileSync(`${ROOT}weights/demo.png`);
  writeFileSync(join(dir, 'a-ring.png'), demo);
  writeFileSync(join(dir, 'b",flipped.png'), flippedDemo());
  writeFileSync(
    join(dir, 'c-broken.png'),
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2]),
  );
  writeFileSync(
    join(dir, 'd-nan.npy'),
    encodeNpy({ shape: [1, 3, 112, 112], data: new Float32Array(3 * 112 * 112).fill(NaN, 5) }),
  );
  writeFileSync(
    join(dir, 'e-two.npy'),
    encodeNpy({ shape: [2, 3, 112, 112], data: new Float32Array(2 * 3 * 112 * 112) }),
  );
  writeFileSync(join(dir, 'f-small.npy'), encodeNpy({ shape: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64) }));
  symlinkSync(join(dir, 'nowhere.png'), join(dir, 'g-dangling.png'));
  // A name with a quote and a comma: quoted in the labels file, and must not shift results.csv's columns.
  writeFileSync(join(tmp, 'labels.csv'), 'file,class\na-ring.png,2\n"b"",flipped.png",2\n');
  writeFileSync(
    join(tmp, 'boxes.json'),
    JSON.stringify({ 'a-ring.png': [[135, 125, 200, 195]], 'b",flipped.png': [[135, 29, 200, 99]] }),
  );
  const out = join(tmp, 'dataset-out');
  const r =
    cli(argv`evaluate-dataset --weights ${ROOT}weights/demo-resnet18-w16.pth --images ${dir} --methods gradcam,rise --masks 64
    --labels ${join(tmp, 'labels.csv')} --boxes ${join(tmp, 'boxes.json')} --size 112 --step 112 --out ${out}`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipped c-broken\.png: .*c-broken\.png: truncated PNG/);
  assert.match(r.stderr, /skipped d-nan\.npy: .*d-nan\.npy holds NaN at \[0,0,0,5\]/);
  assert.match(r.stderr, /skipped e-two\.npy: e-two\.npy holds 2 images; a data set item is one image/);
  assert.match(r.stderr, /skipped f-small\.npy: .*f-small\.npy is 64x64 but --size 112x112/);
  assert.match(r.stderr, /skipped g-dangling\.png: .*g-dangling\.png: broken symbolic link/);
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 1 + 2 * 2);
  assert.is(
    csv[0],
    'image,method,class,insertion_auc,deletion_auc,pointing_hit,pointing_energy,seconds,explain_seconds',
  );
  const rows = csv.slice(1).map((line) => parseCsvLine(line)!);
  assert.ok(
    rows.every((f) => f.length === 9),
    'every row has 9 fields',
  );
  assert.ok(
    rows.every((f) => Number(f[8]) > 0 && Number(f[8]) <= Number(f[7])),
    'explaining takes part of the time',
  );
  assert.equal(
    rows.map((f) => f.slice(0, 3)),
    [
      ['a-ring.png', 'gradcam', '2'],
      ['a-ring.png', 'rise', '2'],
      ['b",flipped.png', 'gradcam', '2'],
      ['b",flipped.png', 'rise', '2'],
    ],
  );
  assert.match(csv[3], /^"b"",flipped\.png",gradcam,2,0\.\d+,0\.\d+,[01],0\.\d+,\d/);
  const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(
    report.skipped.map((s: { image: string }) => s.image),
    ['c-broken.png', 'd-nan.npy', 'e-two.npy', 'f-small.npy', 'g-dangling.png'],
  );
  assert.is(report.summary.gradcam.insertion.n, 2);
  assert.ok(report.summary.rise['pointing hit'].n === 2);
  assert.is(report.meanCurves.rise.deletion.length, (112 * 112) / 112 + 1);
  readFileSync(join(out, 'curves-insertion.svg'));
  assert.match(r.stdout, /gradcam +insertion 0\.\d+ ± 0\.\d+ \(n=2\)/);
});

test('evaluate-dataset --gt-masks: an image without its mask is skipped, the others scored', () => {
  const dir = join(tmp, 'gt-images');
  const masks = join(tmp, 'gt-masks');
  mkdirSync(dir, { recursive: true });
  mkdirSync(masks, { recursive: true });
  const demo = readFileSync(`${ROOT}weights/demo.png`);
  const img = decodeImage(demo, 'demo.png');
  writeFileSync(join(dir, 'a.png'), demo);
  writeFileSync(join(dir, 'b.png'), demo);
  const mask = new Uint8Array(img.data.length);
  mask.fill(255, 0, 3 * img.width * 100);
  writeFileSync(join(masks, 'a.png'), encodePng({ width: img.width, height: img.height, data: mask }));
  const out = join(tmp, 'gt-out');
  const r = cli(argv`evaluate-dataset --weights ${ROOT}weights/demo-resnet18-w16.pth --images ${dir} --gt-masks ${masks}
    --methods abscam-init --metrics deletion --size 112 --step 1254 --out ${out}`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipped b\.png: no such file: .*gt-masks\/b\.png/);
  const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(
    report.rows.map((row: { image: string }) => row.image),
    ['a.png'],
  );
  assert.is(report.summary['abscam-init']['pointing hit'].n, 1);
});

test('--help on the command and on predict', () => {
  const top = cli(argv`--help`);
  assert.is(top.code, 0);
  assert.match(top.stdout, /predict/);
  const p = cli(argv`predict --help`);
  assert.is(p.code, 0);
  assert.match(p.stdout, /--weights W/);
});

const broken = (name: string, bytes: Uint8Array) => {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
};

/** evaluate-dataset on a one-image folder with the given labels file. */
const datasetWithLabels = (labels: string) => {
  const dir = join(tmp, 'labelled');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a-ring.png'), readFileSync(`${ROOT}weights/demo.png`));
  return [
    'evaluate-dataset',
    '--weights',
    `${ROOT}weights/demo-resnet18-w16.pth`,
    '--images',
    dir,
    '--methods',
    'gradcam',
    '--size',
    '112',
    '--labels',
    broken('labels-bad.csv', new TextEncoder().encode(labels)),
    '--out',
    join(tmp, 'labelled-out'),
  ];
};

// biome-ignore format: a table of cases, one a line
const badCases: [string, () => string[], RegExp, number][] = [
  ['missing weights file', () => ['predict', '--weights', join(tmp, 'nope.pth'), '--input', `${MODEL}resnet18-w8-c5.input-1.npy`], /no such file: .*nope\.pth/, 1],
  ['truncated .pth', () => {
    const full = readFileSync(`${MODEL}resnet18-w8-c5.pth`);
    return ['predict', '--weights', broken('trunc.pth', full.subarray(0, full.length >> 1)), '--input', `${MODEL}resnet18-w8-c5.input-1.npy`];
  }, /trunc\.pth/, 1],
  ['a state_dict that is not a ResNet', () => ['predict', '--weights', `${ROOT}test/fixtures/io/sd.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`], /is not a torchvision ResNet state_dict/, 1],
  ['input with the wrong channel count', () => {
    const x = encodeNpy({ shape: [1, 4, 40, 40], data: new Float32Array(6400).fill(0.1) });
    return ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', broken('four.npy', x)];
  }, /four\.npy has 4 channels, the model takes 3/, 1],
  ['.npy of the wrong rank', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', broken('flat.npy', encodeNpy({ shape: [10], data: new Float32Array(10) }))], /flat\.npy has shape \[10\]/, 1],
  ['corrupt PNG', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', broken('bad.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]))], /bad\.png/, 1],
  ['labels that do not match the classes', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--labels', broken('l.txt', new TextEncoder().encode('a\nb\n'))], /has 2 labels, the model has 5 classes/, 1],
  ['unknown option', () => ['predict', '--wieghts', 'x'], /predict: Unknown option '--wieghts'/, 2],
  ['missing --input', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`], /--input is required/, 2],
  ['bad --size', () => ['predict', '--weights', 'w', '--input', 'i', '--size', '12y'], /--size must be N or HxW/, 2],
  ['unknown command', () => ['explode'], /unknown command "explode"/, 2],
  ['explain: unknown method', () => ['explain', '--method', 'lime', '--weights', 'w', '--input', 'i', '--out', 'o'], /unknown method "lime" \(methods: abscam-init, abscam-final, gradcam, gradcam\+\+, scorecam, rise, rise-gauss, rise-perlin\)/, 2],
  ['explain: unknown layer lists the valid ones', () => ['explain', '--method', 'gradcam', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--layer', 'layer3.7', '--out', join(tmp, 'x')], /unknown layer "layer3\.7"; CAM layers \(block outputs\): layer1, layer2, layer3, layer4, layer1\.0, layer1\.1, layer2\.0/, 1],
  ['rise: p1 outside (0, 1]', () => ['explain', '--method', 'rise', '--weights', 'w', '--input', 'i', '--out', 'o', '--p1', '0'], /--p1 must be in \(0, 1\], got "0"/, 2],
  ['rise: N ≤ 0', () => ['explain', '--method', 'rise', '--weights', 'w', '--input', 'i', '--out', 'o', '--masks', '0'], /--masks must be a whole number in 1\.\.100000, got "0"/, 2],
  ['rise: grid larger than the image', () => ['explain', '--method', 'rise', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${ROOT}test/fixtures/rise/input.npy`, '--grid', '60', '--out', join(tmp, 'x')], /grid 60 is larger than the image \(48x48\)/, 1],
  ['rise: masks file of the wrong size', () => ['explain', '--method', 'rise', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--masks-file', `${ROOT}test/fixtures/rise/masks-binary.npy`, '--out', join(tmp, 'x')], /masks file has shape \[20,1,48,48\]; for this 97x75 input/, 1],
  ['explain: class out of range says the range', () => ['explain', '--method', 'gradcam', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--class', '5', '--out', join(tmp, 'x')], /class 5 is out of range: the model has classes 0\.\.4/, 1],
  ['a checkpoint holding NaN (the ReLUs would hide it) names the key', () => {
    const sd = loadWeightsFile(`${MODEL}resnet18-w8-c5.pth`);
    sd.get('layer2.0.bn1.running_var')!.data[3] = NaN;
    return ['predict', '--weights', broken('nan.safetensors', encodeSafetensors(sd)), '--input', `${MODEL}resnet18-w8-c5.input-1.npy`];
  }, /nan\.safetensors: tensor layer2\.0\.bn1\.running_var holds NaN at \[3\] \(non-finite values are refused\)/, 1],
  ['a .npy input holding Infinity', () => {
    const x = loadNpyFile(`${MODEL}resnet18-w8-c5.input-1.npy`);
    x.data[7] = Infinity;
    return ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', broken('inf.npy', encodeNpy(x))];
  }, /inf\.npy holds Infinity at \[0,0,0,7\]/, 1],
  ['rise: a masks file holding NaN', () => {
    const m = loadNpyFile(`${ROOT}test/fixtures/rise/masks-binary.npy`);
    m.data[m.data.length - 1] = NaN;
    return ['explain', '--method', 'rise', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${ROOT}test/fixtures/rise/input.npy`, '--masks-file', broken('nan-masks.npy', encodeNpy(m)), '--out', join(tmp, 'x')];
  }, /nan-masks\.npy holds NaN at \[19,0,47,47\]/, 1],
  ['evaluate: a saliency map holding -Infinity', () => {
    const C = `${ROOT}test/fixtures/causal/`;
    const sal = loadNpyFile(`${C}saliency.npy`);
    sal.data[0] = -Infinity;
    return ['evaluate', '--metric', 'deletion', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${C}input.npy`, '--saliency', broken('inf-sal.npy', encodeNpy(sal)), '--out', join(tmp, 'x')];
  }, /inf-sal\.npy holds -Infinity at \[0,0\]/, 1],
  ['--out under /proc (Node\'s recursive mkdir spins there forever)', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--out', '/proc/webgpu-xai/out'], /--out \/proc\/webgpu-xai\/out: is under \/proc, a kernel pseudo-file system; refusing to write there/, 1],
  ['--out under /sys', () => ['masks', '--n', '2', '--size', '8', '--out', '/sys/webgpu-xai'], /--out \/sys\/webgpu-xai: is under \/sys/, 1],
  ['--out is an existing file (here: the weights)', () => ['explain', '--method', 'gradcam', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--out', `${MODEL}resnet18-w8-c5.pth`], /--out .*resnet18-w8-c5\.pth: is an existing file, not a folder/, 1],
  ['--out cannot be created (a file in its path)', () => ['evaluate', '--metric', 'deletion', '--weights', 'w', '--input', 'i', '--saliency', 's', '--out', `${MODEL}resnet18-w8-c5.pth/out`], /--out .*resnet18-w8-c5\.pth\/out: cannot be created: .*resnet18-w8-c5\.pth is not a folder/, 1],
  ['--out would overwrite the input (.npy) with logits.npy', () => {
    const dir = join(tmp, 'clash');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'logits.npy'), readFileSync(`${MODEL}resnet18-w8-c5.input-1.npy`));
    return ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', join(dir, 'logits.npy'), '--out', dir];
  }, /--out .*clash: would overwrite the input .*clash\/logits\.npy/, 1],
  ['--out would overwrite the masks file with saliency.npy', () => {
    const dir = join(tmp, 'clash2');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'saliency.npy'), readFileSync(`${ROOT}test/fixtures/rise/masks-binary.npy`));
    return ['explain', '--method', 'rise', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${ROOT}test/fixtures/rise/input.npy`, '--masks-file', join(dir, 'saliency.npy'), '--out', dir];
  }, /would overwrite the input .*clash2\/saliency\.npy/, 1],
  ['a failed write (logits.npy is a folder) is an error, and leaves no temporary file', () => {
    const dir = join(tmp, 'unwritable');
    mkdirSync(join(dir, 'logits.npy'), { recursive: true });
    return ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--out', dir];
  }, /cannot write .*unwritable\/logits\.npy: EISDIR/, 1],
  ['evaluate-dataset: a labels row with three fields', () => datasetWithLabels('file,class\na-ring.png,2,3\n'), /labels-bad\.csv line 2: expected "file,class" \(class a whole number ≥ 0\), got "a-ring\.png,2,3"/, 1],
  ['evaluate-dataset: a negative class', () => datasetWithLabels('a-ring.png -1\n'), /labels-bad\.csv line 1: expected "file,class"/, 1],
  ['evaluate-dataset: a file labelled twice', () => datasetWithLabels('a-ring.png,2\n# c\na-ring.png,1\n'), /labels-bad\.csv line 3: a-ring\.png is labelled twice \(also line 1\)/, 1],
  ['evaluate-dataset: a class the model does not have', () => datasetWithLabels('a-ring.png,4\n'), /labels-bad\.csv: class 4 of a-ring\.png is out of range: the model has classes 0\.\.3/, 1],
  ['explain: an empty --class (was class 0)', () => ['explain', '--method', 'gradcam', '--weights', 'w', '--input', 'i', '--class', '', '--out', 'o'], /explain: --class must be a class index or a comma-separated list of them, got ""/, 2],
  ['explain: a --class list with a hole', () => ['explain', '--method', 'gradcam', '--weights', 'w', '--input', 'i', '--class', '1,,2', '--out', 'o'], /--class must be a class index or a comma-separated list of them, got "1,,2"/, 2],
  ['evaluate: an empty --class (was class 0)', () => ['evaluate', '--metric', 'deletion', '--weights', 'w', '--input', 'i', '--saliency', 's', '--class', '', '--out', 'o'], /evaluate: --class must be a whole number ≥ 0, got ""/, 2],
  ['evaluate: --step in exponent notation', () => ['evaluate', '--metric', 'deletion', '--weights', 'w', '--input', 'i', '--saliency', 's', '--step', '1e3', '--out', 'o'], /--step must be a whole number ≥ 1, got "1e3"/, 2],
  ['explain: --seed past 2^32 - 1 (would wrap around)', () => ['explain', '--method', 'rise', '--weights', 'w', '--input', 'i', '--seed', '4294967296', '--out', 'o'], /--seed must be a whole number in 0\.\.4294967295, got "4294967296"/, 2],
  ['masks: --p1 outside (0, 1] is a usage error', () => ['masks', '--n', '4', '--size', '8', '--p1', '1.5', '--out', join(tmp, 'x')], /masks: --p1 must be in \(0, 1\], got "1\.5"/, 2],
  ['masks: an empty --p1', () => ['masks', '--n', '4', '--size', '8', '--p1', '', '--out', join(tmp, 'x')], /masks: --p1 must be in \(0, 1\], got ""/, 2],
  ['masks: --n over the cap', () => ['masks', '--n', '100001', '--size', '8', '--out', join(tmp, 'x')], /masks: --n must be a whole number in 1\.\.100000, got "100001"/, 2],
  ['explain: --masks over the cap', () => ['explain', '--method', 'rise', '--weights', 'w', '--input', 'i', '--masks', '1000000', '--out', 'o'], /explain: --masks must be a whole number in 1\.\.100000/, 2],
  ['masks: masks.npy larger than the free disk space', () => ['masks', '--n', '100000', '--size', '4096', '--out', join(tmp, 'x')], /masks\.npy \(100000 masks of 4096x4096 float32\) would take 6250\.00 GiB, the disk holding .* has [\d.]+ GiB free/, 1],
  ['evaluate-dataset: a box with a coordinate that is not a number', () => {
    const args = datasetWithLabels('a-ring.png,2\n');
    return [...args, '--boxes', broken('boxes-bad.json', new TextEncoder().encode(JSON.stringify({ 'a-ring.png': [[10, '20', 30, 40]] })))];
  }, /boxes-bad\.json: the boxes of a-ring\.png must be \[\[x0, y0, x1, y1\], \.\.\.\] with numbers ≥ 0, x0 ≤ x1 and y0 ≤ y1, got \[\[10,"20",30,40\]\]/, 1],
  ['--size over 4096 per side', () => ['explain', '--method', 'gradcam', '--weights', 'w', '--input', 'i', '--size', '224x4097', '--out', 'o'], /explain: --size 224x4097 is over the limit of 4096 per side/, 2],
  ['--weights /dev/zero is refused, not read forever', () => ['predict', '--weights', '/dev/zero', '--input', `${MODEL}resnet18-w8-c5.input-1.npy`], /\/dev\/zero: not a regular file/, 1],
  ['--input /dev/zero is refused, not read forever', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', '/dev/zero'], /\/dev\/zero: not a regular file/, 1],
  ['labels with an empty line inside (the names after it would shift)', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`, '--labels', broken('gap.txt', new TextEncoder().encode('a\nb\n\nc\nd\ne\n'))], /gap\.txt line 3 is empty: one class name per line/, 1],
  ['evaluate-dataset: a bad --layer ends the run (it would fail on every image), not a skip per image', () => [...datasetWithLabels('a-ring.png,2\n'), '--layer', 'layer9'], /unknown layer "layer9"/, 1],
  ['a .npy input over 4096 per side', () => ['predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', broken('tall.npy', encodeNpy({ shape: [1, 3, 4097, 1], data: new Float32Array(3 * 4097) }))], /tall\.npy is 4097x1, over the limit of 4096 per side/, 1],
];

for (const [name, args, pattern, code] of badCases) {
  test(`bad input: ${name} → one line, exit ${code}`, () => {
    const r = cli(args());
    assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.split('\n').length, 1, `one line, got: ${r.stderr}`);
    assert.not.ok(r.jsStack, 'no stack trace');
  });
}

test('the failed write above left nothing behind but the folder in the way', () => {
  assert.equal(readdirSync(join(tmp, 'unwritable')), ['logits.npy']);
});

test('results printed into a full disk (stdout on /dev/full) → exit 1, not 0', () => {
  const full = openSync('/dev/full', 'w');
  const r = spawnSync(
    process.execPath,
    [BIN, 'predict', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--input', `${MODEL}resnet18-w8-c5.input-1.npy`],
    { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', full, 'pipe'] },
  );
  closeSync(full);
  assert.is(r.status, 1);
  assert.match(r.stderr, /webgpu-xai: error: cannot write to standard output: ENOSPC/);
});

test('a masks run killed half-way leaves no truncated masks.npy', async () => {
  const out = join(tmp, 'killed');
  const child = spawn(process.execPath, [BIN, 'masks', '--n', '50000', '--size', '64', '--batch', '16', '--out', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Kill it once the first batch is written (the first progress line).
  await new Promise<void>((done) => {
    child.stderr.on('data', (d: Buffer) => {
      if (/masks: \d+\/50000/.test(String(d))) child.kill('SIGKILL');
    });
    child.on('close', () => done());
  });
  assert.is(child.signalCode, 'SIGKILL');
  assert.not.ok(existsSync(join(out, 'masks.npy')), 'no masks.npy');
});

test('exit codes: usage 2, bad input 1, a GPU validation error (our bug) 70 naming the kernel, one line each', () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    assert.is(reportError(new UsageError('explain: --p1 must be in (0, 1], got "2"'), 'explain'), 2);
    assert.is(reportError(new XaiError('no such file: w.pth'), 'predict'), 1);
    assert.is(
      reportError(
        new GpuValidationError('GPU validation error in kernels [conv2d-3x3]: Binding size is too small\nmore'),
        'predict',
      ),
      70,
    );
    assert.is(reportError(new TypeError('x is undefined'), 'predict'), 70);
  } finally {
    console.error = original;
  }
  assert.equal(lines, [
    'webgpu-xai: explain: --p1 must be in (0, 1], got "2" (see webgpu-xai explain --help)',
    'webgpu-xai: error: no such file: w.pth',
    'webgpu-xai: internal error (a bug in webgpu-xai, please report it): GPU validation error in kernels [conv2d-3x3]: Binding size is too small (run with WEBGPU_XAI_DEBUG=1 for details)',
    'webgpu-xai: internal error: x is undefined (run with WEBGPU_XAI_DEBUG=1 for details)',
  ]);
});

test('tune pre-tunes a model into the cache; a second run finds every choice there', () => {
  const env = { WEBGPU_XAI_CACHE_DIR: join(tmp, 'tune-cache') };
  const args = ['tune', '--weights', `${MODEL}resnet18-w8-c5.pth`, '--size', '40', '--batch', '2,5'];
  const first = cli(args, env);
  assert.is(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split('\n');
  assert.match(
    lines.at(-1)!,
    /^(\d+) conv and gradient shapes on .*: \1 timed now, 0 from the cache, in [\d.]+ s; cache: .*tune-cache\/webgpu-xai\/tuning\.json$/,
  );
  assert.ok(
    lines.slice(0, -1).every((l) => / \[tuned\] {2}\(direct-4x1-wg64 /.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('conv2d_grad ')),
    'input gradients tuned too',
  );
  assert.ok(lines.some((l) => / n8: /.test(l)) && lines.some((l) => / n2: /.test(l)), 'both batch buckets');
  const second = cli(args, env);
  assert.is(second.code, 0, second.stderr);
  assert.ok(
    second.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .every((l) => / \[cached\]$/.test(l)),
    second.stdout,
  );
  assert.match(second.stdout, /: 0 timed now, \d+ from the cache/);
  const off = cli(args, { ...env, WEBGPU_XAI_TUNE: '0' });
  assert.is(off.code, 2);
  assert.match(off.stderr, /WEBGPU_XAI_TUNE=0 turns tuning off/);
});

test('no WebGPU adapter → says how to get one', () => {
  // An ICD list naming no file leaves the Vulkan loader with no driver.
  const r = cli(argv`predict --weights ${MODEL}resnet18-w8-c5.pth --input ${MODEL}resnet18-w8-c5.input-1.npy`, {
    VK_ICD_FILENAMES: join(tmp, 'none.json'),
  });
  assert.is(r.code, 1);
  assert.match(r.stderr, /no WebGPU adapter found.*scripts\/setup\.sh/);
  assert.is(r.stderr.split('\n').length, 1);
  assert.not.ok(r.jsStack);
});

test.run();
