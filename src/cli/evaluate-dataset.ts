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
import {
  aggregate,
  evaluateDataset,
  type DatasetItem,
  type DatasetOptions,
  type DatasetReport,
} from '../metrics/dataset.js';
import { boxesToRegion, maskToRegion } from '../metrics/pointing.js';
import { VERSION } from '../version.js';
import { listOf, oneOf } from './args.js';
import {
  defineCommand,
  defineOptions,
  FORWARD_BATCH,
  LAYER,
  parseOptions,
  PRECISION,
  RISE_OPTIONS,
  SIZE,
  STEP,
  WEIGHTS,
  type Values,
} from './options.js';
import { checkEmptyOut, checkOutDir } from './output.js';
import { progressReporter } from './progress.js';
import { writeReport } from './report-files.js';
import { MANIFEST, openRun, readRecords, sha256, writeManifest, writeRecord, type Manifest } from './run-folder.js';
import { parseShard, shardLabel, shardNames, WHOLE, type Shard } from './shard.js';

/** The options of a data-set run that evaluate-dataset and report share, declared once. */
export const DATASET_OPTIONS = defineOptions({
  metrics: {
    arg: 'M',
    help: 'comma-separated: insertion, deletion',
    default: [...CAUSAL_METRICS],
    parse: listOf(oneOf(CAUSAL_METRICS, 'metric')),
  },
  labels: {
    arg: 'F',
    help: `CSV or text lines "file,class" (or "file class"): the class per image
(default: the model's top-1); a malformed row is an error naming its line`,
  },
  'gt-masks': { arg: 'DIR', help: 'ground-truth masks, same file names (PNG, non-zero = object): pointing game' },
  boxes: { arg: 'F', help: 'JSON {"file": [[x0, y0, x1, y1], ...]} in pixels of the original image' },
  ...STEP,
  ...SIZE,
  ...FORWARD_BATCH,
  ...PRECISION,
  ...LAYER,
  ...RISE_OPTIONS,
});

/** --methods as evaluate-dataset takes it (report's has a default). */
export const methodsOption = (extra: { required: true } | { default: string[] }) => ({
  methods: {
    arg: 'M',
    help: `comma-separated: ${METHODS.join(', ')}`,
    parse: listOf(oneOf(METHODS, 'method')),
    ...extra,
  },
});

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
    ...methodsOption({ required: true }),
    out: {
      arg: 'OUT',
      required: true,
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
    ...DATASET_OPTIONS,
  },
});

/** What a data-set run reads of a command's values: the shared options and these. */
export type DatasetValues = Values<typeof DATASET_OPTIONS> & { weights: string; methods: string[]; out: string };

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.npy']);

export async function evaluateDatasetCommand(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v } = parseOptions(EVALUATE_DATASET, argv);
  const cmd = 'evaluate-dataset';
  const { shard, source } =
    v.shard !== undefined ? parseShard(cmd, v.shard, process.env) : { shard: WHOLE, source: undefined };
  if (source) console.error(`webgpu-xai: shard ${shardLabel(shard)} (index from ${source})`);
  await runDataset(cmd, v, () => folderImages(v.images), v.images, log, { shard, resume: v.resume });
  return 0;
}

/** An image of a run: its name (in the tables, the labels and the ground truth) and its file. */
export interface ImageFile {
  name: string;
  path: string;
}

/**
 * Every name in `dir` with an image extension, sorted: one that is not a readable file (a broken
 * link, a folder) is an item too, reported and skipped with the others, not dropped unseen.
 */
export function folderImages(dir: string): ImageFile[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort();
  } catch {
    throw new XaiError(`cannot read the folder ${dir}`);
  }
  if (files.length === 0) throw new XaiError(`${dir} holds no .png, .jpg or .npy files`);
  return files.map((name) => ({ name, path: join(dir, name) }));
}

/** What a command adds to a data-set run, while the model is loaded. */
export interface DatasetHooks {
  /** Before the first image: per-image callbacks that join (and may replace) the run's own. */
  start?: (
    model: ResNet,
    ctx: GpuContext,
    manifest: Manifest,
  ) => Partial<DatasetOptions> | Promise<Partial<DatasetOptions>>;
  /** After the tables are written. */
  finish?: (model: ResNet, ctx: GpuContext, report: DatasetReport, manifest: Manifest) => void | Promise<void>;
}

/**
 * The data-set run of evaluate-dataset and report, from their checked options (DatasetValues):
 * checks --out, explains and scores every image of `list()`
 * (source: the folder or inputs, as the manifest records it) into records in `out`, then writes
 * the tables.
 */
export async function runDataset(
  cmd: string,
  v: DatasetValues,
  list: () => ImageFile[],
  source: string,
  log: (s: string) => void,
  run: { shard: Shard; resume: boolean; hooks?: DatasetHooks },
): Promise<void> {
  const { weights: weightsPath, out, methods, metrics, size, step, batch, layer } = v;
  const rise = { masks: v.masks, grid: v.grid, p1: v.p1, seed: v.seed };
  const { shard } = run;
  checkOutDir(cmd, out, [weightsPath, v.labels, v.boxes]);
  if (!run.resume)
    checkEmptyOut(
      out,
      cmd === 'evaluate-dataset'
        ? 'pass --resume to continue the run there, or choose a new folder'
        : 'choose a new folder',
    );

  const files = list();
  const labels = v.labels !== undefined ? readImageLabels(v.labels) : undefined;
  const boxes = v.boxes !== undefined ? readBoxes(v.boxes) : undefined;
  const gtDir = v['gt-masks'];
  const mine = shardNames(
    files.map((f) => f.name),
    shard,
  );
  if (mine.length === 0)
    console.error(
      `webgpu-xai: shard ${shardLabel(shard)} holds no images (the folder has ${files.length}); its tables are empty`,
    );
  const pathOf = new Map(files.map((f) => [f.name, f.path]));
  const items: DatasetItem[] = mine.map((f) => ({
    name: f,
    load: () => loadInput(pathOf.get(f)!, size, true),
    label: labels?.get(f) ?? labels?.get(basename(f, extname(f))),
    region: boxes?.has(f)
      ? () => {
          const img = decodeImage(readFileBytes(pathOf.get(f)!), f);
          return boxesToRegion(boxes.get(f)!, img.width, img.height, size.height, size.width);
        }
      : gtDir
        ? () => {
            const mask = join(gtDir, f.replace(/\.(jpe?g|npy)$/i, '.png'));
            return maskToRegion(decodeImage(readFileBytes(mask), mask), size.height, size.width);
          }
        : undefined,
  }));
  const weightBytes = readFileBytes(weightsPath);
  const stateDict = parseWeights(weightBytes, weightsPath);
  const digest = (x: unknown) => (x === undefined ? null : `sha256:${sha256(JSON.stringify(x))}`);
  const manifest: Manifest = {
    command: 'evaluate-dataset',
    version: VERSION,
    weights: { path: weightsPath, sha256: sha256(weightBytes) },
    imageFolder: source,
    settings: {
      methods,
      metrics,
      size,
      step,
      batch: batch ?? 'auto',
      layer: layer ?? null,
      precision: v.precision,
      ...(methods.some((m) => explainerFor(m).defaults.rise) ? rise : {}),
      labels: digest(labels && [...labels].sort()),
      boxes: digest(boxes && [...boxes].sort()),
      'gt-masks': gtDir ?? null,
      dataset: { count: files.length, sha256: sha256(JSON.stringify(files.map((f) => f.name))) },
    },
    shard,
    images: mine,
  };
  const { fresh, done } = openRun(out, manifest);
  if (!fresh) console.error(`webgpu-xai: resuming ${out}: ${done.size} of ${mine.length} images already done`);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    model.precision = v.precision;
    for (const [file, cls] of labels ?? []) {
      if (cls >= model.numClasses)
        throw new XaiError(
          `${v.labels}: class ${cls} of ${file} is out of range: the model has classes 0..${model.numClasses - 1}`,
        );
    }
    const progress = progressReporter(`${cmd} (images)`);
    // The manifest goes in with the first record: a run that fails before any image leaves no trace.
    const saveManifest = () => {
      if (fresh && !existsSync(join(out, MANIFEST))) writeManifest(out, manifest);
    };
    await evaluateDataset(
      model,
      items.filter((item) => !done.has(item.name)),
      {
        methods,
        metrics,
        step,
        batch,
        layer,
        rise,
        onImage: (n, total) => progress(n, total),
        ...(await run.hooks?.start?.(model, ctx, manifest)),
        onRecord: (record) => {
          saveManifest();
          writeRecord(out, record);
        },
      },
    );
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
function readImageLabels(path: string): Map<string, number> {
  const map = new Map<string, number>();
  const lineOf = new Map<string, number>();
  let records = 0;
  new TextDecoder()
    .decode(readFileBytes(path))
    .split(/\r?\n/)
    .forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const fields = /[",]/.test(t) ? parseCsvLine(t)?.map((f) => f.trim()) : t.split(/\s+/);
      const ok = fields?.length === 2 && fields[0] !== '' && /^\d+$/.test(fields[1]);
      if (records++ === 0 && !ok && fields?.length === 2 && !/^[-+.\d\s]+$/.test(fields[1])) return; // a header
      if (!ok)
        throw new XaiError(`${path} line ${i + 1}: expected "file,class" (class a whole number ≥ 0), got "${t}"`);
      const [file, cls] = fields;
      if (lineOf.has(file))
        throw new XaiError(`${path} line ${i + 1}: ${file} is labelled twice (also line ${lineOf.get(file)})`);
      lineOf.set(file, i + 1);
      map.set(file, Number(cls));
    });
  return map;
}

/** {"file": [[x0, y0, x1, y1], ...]}: every coordinate a number ≥ 0, x0 ≤ x1, y0 ≤ y1. */
function readBoxes(path: string): Map<string, number[][]> {
  const data = readJsonFile(path);
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new XaiError(`${path}: expected a JSON object {"file": [[x0, y0, x1, y1], ...]}`);
  const isBox = (b: unknown) =>
    Array.isArray(b) &&
    b.length === 4 &&
    b.every((x) => typeof x === 'number' && x >= 0) &&
    b[0] <= b[2] &&
    b[1] <= b[3];
  for (const [file, boxes] of Object.entries(data)) {
    if (!Array.isArray(boxes) || !boxes.every(isBox)) {
      throw new XaiError(
        `${path}: the boxes of ${file} must be [[x0, y0, x1, y1], ...] with numbers ≥ 0, x0 ≤ x1 and y0 ≤ y1, got ${JSON.stringify(boxes).slice(0, 60)}`,
      );
    }
  }
  return new Map(Object.entries(data as Record<string, number[][]>));
}
