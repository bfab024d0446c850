/** `webgpu-xai evaluate-dataset`: explain and score every image of a folder (insertion, deletion, pointing game). */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { explainerFor, METHODS } from '../explain/registry.js';
import { RISE_DEFAULTS as R } from '../explain/rise.js';
import { parseCsvLine } from '../io/csv.js';
import { readFileBytes, readJsonFile } from '../io/files.js';
import { decodeImage } from '../io/image.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import { parseWeights } from '../io/state-dict.js';
import { ResNet } from '../model/resnet.js';
import { CAUSAL_METRICS, type CausalMetricName } from '../metrics/causal.js';
import { aggregate, evaluateDataset, type DatasetItem, type DatasetOptions, type DatasetReport } from '../metrics/dataset.js';
import { boxesToRegion, maskToRegion } from '../metrics/pointing.js';
import { VERSION } from '../version.js';
import { intOption, MAX_MASKS, MAX_SEED, masksOption, p1Option, parse, required, seedOption, sizeOption, UsageError, type Options } from './args.js';
import { checkEmptyOut, checkOutDir } from './output.js';
import { progressReporter } from './progress.js';
import { writeReport } from './report-files.js';
import { MANIFEST, openRun, readRecords, sha256, writeManifest, writeRecord, type Manifest } from './run-folder.js';
import { parseShard, shardLabel, shardNames, WHOLE, type Shard } from './shard.js';

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
                  metric, skipped images), OUT/curves-<metric>.svg (mean curves per method);
                  OUT/images/<name>.json, each image's record as it finishes, and
                  OUT/manifest.json (model, settings, shard). A non-empty OUT is refused
                  without --resume
  --shard I/N     evaluate only shard I of N (0 ≤ I < N): of the images sorted by name, those
                  at positions k with k mod N = I; auto/N takes I from JOB_COMPLETION_INDEX
                  (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (Slurm)
  --resume        continue the run in OUT: skip the images it finished, refuse other
                  weights or settings; then write the tables from all records
  --step N, --size S, --batch B, --layer L   as for evaluate / explain
  --masks N, --grid S, --p1 P, --seed K      RISE settings (default ${[R.masks, R.grid, R.p1, R.seed].join(', ')}; N ≤ ${MAX_MASKS},
                                             seed ≤ ${MAX_SEED})
  -h, --help      this text
`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.npy']);

/** The options evaluate-dataset shares with report, declared once (report adds its own). */
export const DATASET_OPTIONS = {
  weights: { type: 'string' }, methods: { type: 'string' }, metrics: { type: 'string' },
  labels: { type: 'string' }, 'gt-masks': { type: 'string' }, boxes: { type: 'string' }, out: { type: 'string' },
  step: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, layer: { type: 'string' },
  masks: { type: 'string' }, grid: { type: 'string' }, p1: { type: 'string' }, seed: { type: 'string' },
} satisfies Options;

export type OptionValues = Record<string, string | boolean | undefined>;

export async function evaluateDatasetCommand(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('evaluate-dataset', argv, { ...DATASET_OPTIONS, images: { type: 'string' }, shard: { type: 'string' }, resume: { type: 'boolean' } });
  if (v.help) {
    log(DATASET_HELP);
    return 0;
  }
  const cmd = 'evaluate-dataset';
  const dir = required(cmd, v, 'images');
  const { shard, source } = typeof v.shard === 'string' ? parseShard(cmd, v.shard, process.env) : { shard: WHOLE, source: undefined };
  if (source) console.error(`webgpu-xai: shard ${shardLabel(shard)} (index from ${source})`);
  await runDataset(cmd, v, () => folderImages(dir), dir, log, { shard, resume: v.resume === true });
  return 0;
}

/** An image of a run: its name (in the tables, the labels and the ground truth) and its file. */
export interface ImageFile { name: string; path: string }

/**
 * Every name in `dir` with an image extension, sorted: one that is not a readable file (a broken
 * link, a folder) is an item too, reported and skipped with the others, not dropped unseen.
 */
export function folderImages(dir: string): ImageFile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  } catch {
    throw new XaiError(`cannot read the folder ${dir}`);
  }
  if (files.length === 0) throw new XaiError(`${dir} holds no .png, .jpg or .npy files`);
  return files.map((name) => ({ name, path: join(dir, name) }));
}

/** What a command adds to a data-set run, while the model is loaded. */
export interface DatasetHooks {
  /** Before the first image: per-image callbacks that join (and may replace) the run's own. */
  start?: (model: ResNet, ctx: GpuContext, manifest: Manifest) => Partial<DatasetOptions> | Promise<Partial<DatasetOptions>>;
  /** After the tables are written. */
  finish?: (model: ResNet, ctx: GpuContext, report: DatasetReport, manifest: Manifest) => void | Promise<void>;
}

/**
 * The data-set run of evaluate-dataset and report, from the shared options `v` (DATASET_OPTIONS,
 * `--methods` required): checks them and --out, explains and scores every image of `list()`
 * (source: the folder or inputs, as the manifest records it) into records in `out`, then writes
 * the tables.
 */
export async function runDataset(cmd: string, v: OptionValues, list: () => ImageFile[], source: string, log: (s: string) => void,
  run: { shard: Shard; resume: boolean; hooks?: DatasetHooks }): Promise<void> {
  const weightsPath = required(cmd, v, 'weights');
  const out = required(cmd, v, 'out');
  const methods = required(cmd, v, 'methods').split(',').map((s) => s.trim());
  for (const m of methods) if (!METHODS.includes(m)) throw new UsageError(`${cmd}: unknown method "${m}" (methods: ${METHODS.join(', ')})`);
  const metrics = (typeof v.metrics === 'string' ? v.metrics.split(',') : [...CAUSAL_METRICS]) as CausalMetricName[];
  for (const m of metrics) if (!CAUSAL_METRICS.includes(m)) throw new UsageError(`${cmd}: unknown metric "${m}" (metrics: insertion, deletion)`);
  const size = sizeOption(cmd, v.size, DEFAULT_SIZE);
  const step = intOption(cmd, v.step, 'step', 224);
  const batch = v.batch === undefined ? undefined : intOption(cmd, v.batch, 'batch', 1);
  const layer = typeof v.layer === 'string' ? v.layer : undefined;
  const rise = { masks: masksOption(cmd, v.masks, 'masks', R.masks), grid: intOption(cmd, v.grid, 'grid', R.grid), p1: p1Option(cmd, v.p1), seed: seedOption(cmd, v.seed) };
  const { shard } = run;
  checkOutDir(cmd, out, [weightsPath, v.labels as string | undefined, v.boxes as string | undefined]);
  if (!run.resume) checkEmptyOut(out, cmd === 'evaluate-dataset' ? 'pass --resume to continue the run there, or choose a new folder' : 'choose a new folder');

  const files = list();
  const labels = typeof v.labels === 'string' ? readLabels(v.labels) : undefined;
  const boxes = typeof v.boxes === 'string' ? readBoxes(v.boxes) : undefined;
  const gtDir = typeof v['gt-masks'] === 'string' ? v['gt-masks'] : undefined;
  const mine = shardNames(files.map((f) => f.name), shard);
  if (mine.length === 0) console.error(`webgpu-xai: shard ${shardLabel(shard)} holds no images (the folder has ${files.length}); its tables are empty`);
  const pathOf = new Map(files.map((f) => [f.name, f.path]));
  const items: DatasetItem[] = mine.map((f) => ({
    name: f,
    load: () => loadInput(pathOf.get(f)!, size, true),
    label: labels?.get(f) ?? labels?.get(basename(f, extname(f))),
    region: boxes?.has(f) ? () => {
      const img = decodeImage(readFileBytes(pathOf.get(f)!), f);
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
    command: 'evaluate-dataset', version: VERSION, weights: { path: weightsPath, sha256: sha256(weightBytes) }, imageFolder: source,
    settings: {
      methods, metrics, size, step, batch: batch ?? 'auto', layer: layer ?? null,
      ...(methods.some((m) => explainerFor(m).defaults.rise) ? rise : {}),
      labels: digest(labels && [...labels].sort()), boxes: digest(boxes && [...boxes].sort()), 'gt-masks': gtDir ?? null,
      dataset: { count: files.length, sha256: sha256(JSON.stringify(files.map((f) => f.name))) },
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
      onImage: (n, total) => progress(n, total),
      ...await run.hooks?.start?.(model, ctx, manifest),
      onRecord: (record) => { saveManifest(); writeRecord(out, record); },
    });
    saveManifest();
    const report = aggregate(readRecords(mine.map((image) => ({ dir: out, image }))), methods, metrics);
    writeReport(out, { weights: weightsPath, images: source, methods, metrics, step, size }, report, log);
    await run.hooks?.finish?.(model, ctx, report, manifest);
  } finally {
    await ctx.close();
  }
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
