/** `webgpu-xai evaluate-dataset`: explain and score every image of a folder (insertion, deletion, pointing game). */
import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { METHODS } from '../explain/methods.js';
import { csvRecord, parseCsvLine } from '../io/csv.js';
import { loadWeightsFile, readFileBytes, writeFileAtomic } from '../io/files.js';
import { decodeImage } from '../io/image.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import { ResNet } from '../model/resnet.js';
import { CAUSAL_METRICS, type CausalMetricName } from '../metrics/causal.js';
import { evaluateDataset, type DatasetItem } from '../metrics/dataset.js';
import { boxesToRegion, maskToRegion } from '../metrics/pointing.js';
import { curvesSvg } from '../viz/curve-plot.js';
import { intOption, MAX_MASKS, MAX_SEED, masksOption, p1Option, parse, required, seedOption, sizeOption, UsageError } from './args.js';
import { checkOutDir } from './output.js';
import { progressReporter } from './progress.js';

const DATASET_HELP = `Usage: webgpu-xai evaluate-dataset --weights W --images DIR --methods M1,M2 --out OUT [options]

Explains every image of a folder with each method, then scores the maps with insertion and
deletion (and the pointing game with ground truth). One image at a time; an image that fails
(unreadable, mis-shaped, non-finite, a broken link, a missing ground-truth mask) is reported,
listed in results.json's "skipped" and the run goes on.

  --images DIR    PNG/JPEG/.npy files (sorted by name)
  --methods M     comma-separated: ${METHODS.join(', ')}
  --metrics M     comma-separated: insertion, deletion (default both)
  --labels F      CSV or text lines "file,class" (or "file class"): the class per image
                  (default: the model's top-1); a malformed row is an error naming its line
  --gt-masks DIR  ground-truth masks, same file names (PNG, non-zero = object): pointing game
  --boxes F       JSON {"file": [[x0, y0, x1, y1], ...]} in pixels of the original image
  --out OUT       OUT/results.csv, OUT/results.json (rows, summary: mean ± std per method and
                  metric, skipped images), OUT/curves-<metric>.svg (mean curves per method)
  --step N, --size S, --batch B, --layer L   as for evaluate / explain
  --masks N, --grid S, --p1 P, --seed K      RISE settings (default 4000, 7, 0.5, 0; N ≤ ${MAX_MASKS},
                                             seed ≤ ${MAX_SEED})
  -h, --help      this text
`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.npy']);

export async function evaluateDatasetCommand(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('evaluate-dataset', argv, {
    weights: { type: 'string' }, images: { type: 'string' }, methods: { type: 'string' }, metrics: { type: 'string' },
    labels: { type: 'string' }, 'gt-masks': { type: 'string' }, boxes: { type: 'string' }, out: { type: 'string' },
    step: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, layer: { type: 'string' },
    masks: { type: 'string' }, grid: { type: 'string' }, p1: { type: 'string' }, seed: { type: 'string' },
  });
  if (v.help) {
    log(DATASET_HELP);
    return 0;
  }
  const cmd = 'evaluate-dataset';
  const weightsPath = required(cmd, v, 'weights');
  const dir = required(cmd, v, 'images');
  const out = required(cmd, v, 'out');
  const methods = required(cmd, v, 'methods').split(',').map((s) => s.trim());
  for (const m of methods) if (!METHODS.includes(m)) throw new UsageError(`${cmd}: unknown method "${m}" (methods: ${METHODS.join(', ')})`);
  const metrics = (typeof v.metrics === 'string' ? v.metrics.split(',') : [...CAUSAL_METRICS]) as CausalMetricName[];
  for (const m of metrics) if (!CAUSAL_METRICS.includes(m)) throw new UsageError(`${cmd}: unknown metric "${m}" (metrics: insertion, deletion)`);
  const size = sizeOption(cmd, v.size, DEFAULT_SIZE);
  const step = intOption(cmd, v.step, 'step', 224);
  const batch = intOption(cmd, v.batch, 'batch', 32);
  const rise = { masks: masksOption(cmd, v.masks, 'masks', 4000), grid: intOption(cmd, v.grid, 'grid', 7), p1: p1Option(cmd, v.p1), seed: seedOption(cmd, v.seed) };
  checkOutDir(cmd, out, [weightsPath, v.labels as string | undefined, v.boxes as string | undefined]);

  // Every name with an image extension is an item: one that is not a readable file (a broken
  // link, a folder) is reported and skipped with the others, not dropped unseen.
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  } catch {
    throw new XaiError(`cannot read the folder ${dir}`);
  }
  if (files.length === 0) throw new XaiError(`${dir} holds no .png, .jpg or .npy files`);
  const labels = typeof v.labels === 'string' ? readLabels(v.labels) : undefined;
  const boxes = typeof v.boxes === 'string' ? readBoxes(v.boxes) : undefined;
  const gtDir = typeof v['gt-masks'] === 'string' ? v['gt-masks'] : undefined;
  const items: DatasetItem[] = files.map((f) => ({
    name: f,
    load: () => loadInput(join(dir, f), size, true),
    label: labels?.get(f) ?? labels?.get(basename(f, extname(f))),
    region: boxes?.has(f) ? () => {
      const img = decodeImage(readFileBytes(join(dir, f)), f);
      return boxesToRegion(boxes.get(f)!, img.width, img.height, size.height, size.width);
    } : gtDir ? () => {
      const mask = join(gtDir, f.replace(/\.(jpe?g|npy)$/i, '.png'));
      return maskToRegion(decodeImage(readFileBytes(mask), mask), size.height, size.width);
    } : undefined,
  }));
  const stateDict = loadWeightsFile(weightsPath);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    for (const [file, cls] of labels ?? []) {
      if (cls >= model.numClasses) throw new XaiError(`${v.labels}: class ${cls} of ${file} is out of range: the model has classes 0..${model.numClasses - 1}`);
    }
    const progress = progressReporter(`${cmd} (images)`);
    const report = await evaluateDataset(model, items, {
      methods, metrics, step, batch, layer: typeof v.layer === 'string' ? v.layer : undefined, rise,
      onImage: (done, total) => progress(done, total),
    });
    const header = ['image', 'method', 'class', ...metrics.map((m) => `${m}_auc`), 'pointing_hit', 'pointing_energy', 'seconds'];
    const csv = [csvRecord(header), ...report.rows.map((r) => csvRecord([r.image, r.method, r.class, ...metrics.map((m) => r.auc[m] ?? ''), r.pointingHit === undefined ? '' : Number(r.pointingHit), r.pointingEnergy ?? '', r.seconds]))];
    writeFileAtomic(join(out, 'results.csv'), csv.join('\n') + '\n');
    writeFileAtomic(join(out, 'results.json'), JSON.stringify({ weights: weightsPath, images: dir, methods, metrics, step, size, ...report }, null, 2) + '\n');
    for (const metric of metrics) {
      const curves = methods.filter((m) => report.meanCurves[m]?.[metric]).map((m) => ({ label: `${m} (AUC ${report.summary[m][metric].mean.toFixed(3)})`, scores: report.meanCurves[m][metric]! }));
      if (curves.length) writeFileAtomic(join(out, `curves-${metric}.svg`), curvesSvg(`Mean ${metric} curves, ${report.rows.length / methods.length} images`, curves));
    }
    for (const s of report.skipped) console.error(`webgpu-xai: skipped ${s.image}: ${s.error}`);
    for (const [method, m] of Object.entries(report.summary)) {
      log(`${method.padEnd(13)} ${Object.entries(m).map(([k, st]) => `${k} ${st.mean.toFixed(4)} ± ${st.std.toFixed(4)} (n=${st.n})`).join('   ')}`);
    }
    log(`wrote ${join(out, 'results.csv')}, results.json, curves-*.svg (${files.length - report.skipped.length} images, ${report.skipped.length} skipped)`);
  } finally {
    await ctx.close();
  }
  return 0;
}

/**
 * "file,class" records (CSV, RFC 4180 quoting for names with commas or quotes) or "file class"
 * lines; blank lines and # comments are skipped, a first line whose class is not a number is a
 * header. Anything else that does not parse, a negative or fractional class and a file labelled
 * twice are errors that name the line: a misread label would silently score the wrong class.
 */
function readLabels(path: string): Map<string, number> {
  const map = new Map<string, number>();
  const lineOf = new Map<string, number>();
  let records = 0;
  new TextDecoder().decode(readFileBytes(path)).split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const fields = /[",]/.test(t) ? parseCsvLine(t)?.map((f) => f.trim()) : t.split(/\s+/);
    const ok = fields?.length === 2 && fields[0] !== '' && /^\d+$/.test(fields[1]);
    if (records++ === 0 && !ok && fields?.length === 2 && !/^[-+.\d\s]+$/.test(fields[1])) return; // a header
    if (!ok) throw new XaiError(`${path} line ${i + 1}: expected "file,class" (class a whole number ≥ 0), got "${t}"`);
    const [file, cls] = fields;
    if (lineOf.has(file)) throw new XaiError(`${path} line ${i + 1}: ${file} is labelled twice (also line ${lineOf.get(file)})`);
    lineOf.set(file, i + 1);
    map.set(file, Number(cls));
  });
  return map;
}

/** {"file": [[x0, y0, x1, y1], ...]}: every coordinate a number ≥ 0, x0 ≤ x1, y0 ≤ y1. */
function readBoxes(path: string): Map<string, number[][]> {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(readFileBytes(path)));
  } catch (e) {
    if (e instanceof XaiError) throw e;
    throw new XaiError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new XaiError(`${path}: expected a JSON object {"file": [[x0, y0, x1, y1], ...]}`);
  const isBox = (b: unknown) => Array.isArray(b) && b.length === 4 && b.every((x) => typeof x === 'number' && x >= 0) && b[0] <= b[2] && b[1] <= b[3];
  for (const [file, boxes] of Object.entries(data)) {
    if (!Array.isArray(boxes) || !boxes.every(isBox)) {
      throw new XaiError(`${path}: the boxes of ${file} must be [[x0, y0, x1, y1], ...] with numbers ≥ 0, x0 ≤ x1 and y0 ≤ y1, got ${JSON.stringify(boxes).slice(0, 60)}`);
    }
  }
  return new Map(Object.entries(data as Record<string, number[][]>));
}
