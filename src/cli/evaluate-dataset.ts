/** `webgpu-xai evaluate-dataset`: explain and score every image of a folder (insertion, deletion, pointing game). */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { explainerFor, METHODS } from '../explain/registry.js';
import { parseCsvLine } from '../io/csv.js';
import { readFileBytes, readJsonFile } from '../io/files.js';
import { decodeImage } from '../io/image.js';
import { loadInput } from '../io/input.js';
import { parseWeights } from '../io/state-dict.js';
import { ResNet } from '../model/resnet.js';
import { CAUSAL_METRICS } from '../metrics/causal.js';
import { aggregate, evaluateDataset, type DatasetItem } from '../metrics/dataset.js';
import { boxesToRegion, maskToRegion } from '../metrics/pointing.js';
import { VERSION } from '../version.js';
import { listOf, oneOf } from './args.js';
import { defineCommand, FORWARD_BATCH, helpText, LAYER, parseOptions, RISE_OPTIONS, SIZE, STEP, WEIGHTS } from './options.js';
import { checkEmptyOut, checkOutDir } from './output.js';
import { progressReporter } from './progress.js';
import { writeReport } from './report-files.js';
import { MANIFEST, openRun, readRecords, sha256, writeManifest, writeRecord, type Manifest } from './run-folder.js';
import { parseShard, shardLabel, shardNames, WHOLE } from './shard.js';

export const EVALUATE_DATASET = defineCommand({
  name: 'evaluate-dataset',
  summary: 'explain and score a folder of images (table, summary, mean curves)',
  about: `Explains every image of a folder with each method, then scores the maps with insertion and
deletion (and the pointing game with ground truth). One image at a time; an image that fails
(unreadable, mis-shaped, non-finite, a broken link, a missing ground-truth mask) is reported,
listed in results.json's "skipped" and the run goes on.`,
  options: {
    ...WEIGHTS,
    images: { arg: 'DIR', required: true, help: 'PNG/JPEG/.npy files (sorted by name)' },
    methods: { arg: 'M', required: true, help: `comma-separated: ${METHODS.join(', ')}`, parse: listOf(oneOf(METHODS, 'method')) },
    metrics: { arg: 'M', help: 'comma-separated: insertion, deletion', default: [...CAUSAL_METRICS], parse: listOf(oneOf(CAUSAL_METRICS, 'metric')) },
    labels: {
      arg: 'F',
      help: `CSV or text lines "file,class" (or "file class"): the class per image
(default: the model's top-1); a malformed row is an error naming its line`,
    },
    'gt-masks': { arg: 'DIR', help: 'ground-truth masks, same file names (PNG, non-zero = object): pointing game' },
    boxes: { arg: 'F', help: 'JSON {"file": [[x0, y0, x1, y1], ...]} in pixels of the original image' },
    out: {
      arg: 'OUT', required: true,
      help: `OUT/results.csv, OUT/results.json (rows, summary: mean ± std per method and
metric, skipped images), OUT/curves-<metric>.svg (mean curves per method);
OUT/images/<name>.json, each image's record as it finishes, and
OUT/manifest.json (model, settings, shard). A non-empty OUT is refused
without --resume`,
    },
    shard: {
      arg: 'I/N',
      help: `evaluate only shard I of N (0 ≤ I < N): of the images sorted by name, those
at positions k with k mod N = I; auto/N takes I from JOB_COMPLETION_INDEX
(Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (Slurm)`,
    },
    resume: {
      help: `continue the run in OUT: skip the images it finished, refuse other
weights or settings; then write the tables from all records`,
    },
    ...STEP,
    ...SIZE,
    ...FORWARD_BATCH,
    ...LAYER,
    ...RISE_OPTIONS,
  },
});

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.npy']);

export async function evaluateDatasetCommand(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v } = parseOptions(EVALUATE_DATASET, argv);
  if (v.help) {
    log(helpText(EVALUATE_DATASET));
    return 0;
  }
  const cmd = 'evaluate-dataset';
  const { weights: weightsPath, images: dir, out, methods, metrics, size, step, batch, layer } = v;
  const rise = { masks: v.masks, grid: v.grid, p1: v.p1, seed: v.seed };
  const { shard, source } = v.shard !== undefined ? parseShard(cmd, v.shard, process.env) : { shard: WHOLE, source: undefined };
  if (source) console.error(`webgpu-xai: shard ${shardLabel(shard)} (index from ${source})`);
  checkOutDir(cmd, out, [weightsPath, v.labels, v.boxes]);
  if (!v.resume) checkEmptyOut(out, 'pass --resume to continue the run there, or choose a new folder');

  // Every name with an image extension is an item: one that is not a readable file (a broken
  // link, a folder) is reported and skipped with the others, not dropped unseen.
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  } catch {
    throw new XaiError(`cannot read the folder ${dir}`);
  }
  if (files.length === 0) throw new XaiError(`${dir} holds no .png, .jpg or .npy files`);
  const labels = v.labels !== undefined ? readImageLabels(v.labels) : undefined;
  const boxes = v.boxes !== undefined ? readBoxes(v.boxes) : undefined;
  const gtDir = v['gt-masks'];
  const mine = shardNames(files, shard);
  if (mine.length === 0) console.error(`webgpu-xai: shard ${shardLabel(shard)} holds no images (the folder has ${files.length}); its tables are empty`);
  const items: DatasetItem[] = mine.map((f) => ({
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
  const weightBytes = readFileBytes(weightsPath);
  const stateDict = parseWeights(weightBytes, weightsPath);
  const digest = (x: unknown) => (x === undefined ? null : `sha256:${sha256(JSON.stringify(x))}`);
  const manifest: Manifest = {
    command: cmd, version: VERSION, weights: { path: weightsPath, sha256: sha256(weightBytes) }, imageFolder: dir,
    settings: {
      methods, metrics, size, step, batch: batch ?? 'auto', layer: layer ?? null,
      ...(methods.some((m) => explainerFor(m).defaults.rise) ? rise : {}),
      labels: digest(labels && [...labels].sort()), boxes: digest(boxes && [...boxes].sort()), 'gt-masks': gtDir ?? null,
      dataset: { count: files.length, sha256: sha256(JSON.stringify(files)) },
    },
    shard, images: mine,
  };
  const { fresh, done } = openRun(out, manifest);
  if (!fresh) console.error(`webgpu-xai: resuming ${out}: ${done.size} of ${mine.length} images already done`);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    for (const [file, cls] of labels ?? []) {
      if (cls >= model.numClasses) throw new XaiError(`${v.labels}: class ${cls} of ${file} is out of range: the model has classes 0..${model.numClasses - 1}`);
    }
    const progress = progressReporter(`${cmd} (images)`);
    // The manifest goes in with the first record: a run that fails before any image leaves no trace.
    const saveManifest = () => { if (fresh && !existsSync(join(out, MANIFEST))) writeManifest(out, manifest); };
    await evaluateDataset(model, items.filter((item) => !done.has(item.name)), {
      methods, metrics, step, batch, layer, rise,
      onRecord: (record) => { saveManifest(); writeRecord(out, record); },
      onImage: (n, total) => progress(n, total),
    });
    saveManifest();
    const report = aggregate(readRecords(mine.map((image) => ({ dir: out, image }))), methods, metrics);
    writeReport(out, { weights: weightsPath, images: dir, methods, metrics, step, size }, report, log);
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
function readImageLabels(path: string): Map<string, number> {
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
  const data = readJsonFile(path);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new XaiError(`${path}: expected a JSON object {"file": [[x0, y0, x1, y1], ...]}`);
  const isBox = (b: unknown) => Array.isArray(b) && b.length === 4 && b.every((x) => typeof x === 'number' && x >= 0) && b[0] <= b[2] && b[1] <= b[3];
  for (const [file, boxes] of Object.entries(data)) {
    if (!Array.isArray(boxes) || !boxes.every(isBox)) {
      throw new XaiError(`${path}: the boxes of ${file} must be [[x0, y0, x1, y1], ...] with numbers ≥ 0, x0 ≤ x1 and y0 ≤ y1, got ${JSON.stringify(boxes).slice(0, 60)}`);
    }
  }
  return new Map(Object.entries(data as Record<string, number[][]>));
}
