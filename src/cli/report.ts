/**
 * `webgpu-xai report`: evaluate-dataset's run (the same records, tables and curves) plus what a
 * person looks at: every map as .npy and as an overlay, the inputs, top-3 predictions, RISE mask
 * sheets, and the HTML pages that put them side by side (src/report/page.ts). `--from DIR`
 * rebuilds the pages from a finished output folder without a forward pass.
 *
 *   OUT/index.html, page-<k>.html   the pages (PAGE_SIZE images each)
 *   OUT/report.json                 model, adapter, date, parameters, times, top-3 per image
 *   OUT/maps/<id>/input.png         the image as the model sees it (resized, denormalised)
 *   OUT/maps/<id>/<method>.npy      the map of the explained class, float32 [H, W]
 *   OUT/maps/<id>/<method>.png      its overlay (jet, α 0.5)
 *   OUT/rise-masks-<method>.png     the first masks of each RISE method and the first image times each
 *   and evaluate-dataset's results.csv, results.json, curves-*.svg, manifest.json, images/
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { CAM_DEFAULTS } from '../explain/cam.js';
import { explainerFor } from '../explain/registry.js';
import { RISE_DEFAULTS } from '../explain/rise.js';
import { readJsonFile, saveNpyFile, writeFileAtomic } from '../io/files.js';
import { denormalizeToRgb, type RgbImage } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { planMasks } from '../kernels/rise-mask-plan.js';
import { MaskGenerator } from '../kernels/rise-masks.js';
import type { ImageRecord } from '../metrics/dataset.js';
import { PAGE_SIZE, renderPages, type ReportMeta, type Results } from '../report/page.js';
import { VERSION } from '../version.js';
import { overlayHeatmap } from '../viz/overlay.js';
import { maskSheet } from '../viz/sheet.js';
import { UsageError } from './args.js';
import {
  DATASET_OPTIONS,
  folderImages,
  methodsOption,
  runDataset,
  type DatasetHooks,
  type ImageFile,
} from './evaluate-dataset.js';
import { defineCommand, parseOptions, WEIGHTS } from './options.js';
import { readClassNames } from './predict.js';
import { progressReporter } from './progress.js';
import { MANIFEST, readManifest, readRecords, RECORDS, show, type Settings } from './run-folder.js';
import { WHOLE } from './shard.js';

const CMD = 'report';

/** The reference project's four methods. */
export const DEFAULT_METHODS = ['abscam-init', 'abscam-final', 'rise', 'rise-gauss'];
/** Masks shown in a RISE sheet. */
const SHEET_MASKS = 6;

export const REPORT = defineCommand({
  name: 'report',
  summary: 'evaluate-dataset plus an HTML page comparing the methods (or --from DIR: rebuild it)',
  about: `Explains every image with each method, scores the maps (insertion, deletion, and the pointing
game with ground truth) as evaluate-dataset does, and writes OUT/index.html: one page, readable
offline, with the model, the parameters and times, the methods compared (mean ± std of each
metric, mean curves), the RISE masks, and per image its input, top-3 and each method's overlay
with its AUCs and curves (${PAGE_SIZE} images per page; more pages beside it). Also OUT/results.csv,
results.json and curves-*.svg (evaluate-dataset's tables), OUT/maps/<id>/<method>.npy (every
map) and .png (overlays), OUT/report.json. An image that fails is listed on the page with why.
Needs --weights, --out and --images or --input; or only --from DIR.`,
  options: {
    weights: { ...WEIGHTS.weights, required: false },
    images: { arg: 'DIR', help: 'PNG/JPEG/.npy files (sorted by name); or' },
    input: { arg: 'I', repeat: true, help: 'one image (repeat for more)' },
    ...methodsOption({ default: DEFAULT_METHODS }),
    'class-names': { arg: 'F', help: 'one class name per line, in class order' },
    out: { arg: 'OUT', help: 'a new or empty folder' },
    note: { arg: 'TEXT', help: "a sentence shown under the page's title (why these settings, say)" },
    from: {
      arg: 'DIR',
      help: "rebuild DIR's pages from its files (a report or evaluate-dataset output);\nnothing is recomputed",
    },
    ...DATASET_OPTIONS,
  },
});

export async function report(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v, given } = parseOptions(REPORT, argv);
  if (v.from !== undefined) {
    const extra = [...given].filter((k) => k !== 'from');
    if (extra.length)
      throw new UsageError(
        `${CMD}: --from rebuilds the pages of a finished output; it takes no other option (got --${extra[0]})`,
      );
    writePages(v.from, log);
    return 0;
  }
  if ((v.images !== undefined) === v.input.length > 0)
    throw new UsageError(
      `${CMD}: give --images DIR or --input I (one or more), not ${v.input.length ? 'both' : 'neither'}`,
    );
  const { weights, out } = v;
  if (weights === undefined || out === undefined)
    throw new UsageError(`${CMD}: --${weights === undefined ? 'weights' : 'out'} is required`);
  const images = v.images;
  const list = images !== undefined ? () => folderImages(images) : () => inputFiles(v.input);
  const classNames = v['class-names'] !== undefined ? readClassNames(v['class-names']) : undefined;
  const hooks = reportHooks(out, { classNamesFile: v['class-names'], classNames, note: v.note });
  await runDataset(CMD, { ...v, weights, out }, list, images ?? v.input.join(', '), log, {
    shard: WHOLE,
    resume: false,
    hooks,
  });
  writePages(out, log);
  return 0;
}

/**
 * What report adds to the data-set run: per image its input picture, top-3, every map (.npy) and
 * overlay, and progress per image and method; at the end the RISE sheets and report.json.
 */
function reportHooks(
  out: string,
  opts: { classNamesFile?: string; classNames?: string[]; note?: string },
): DatasetHooks {
  const t0 = performance.now();
  let meta: ReportMeta;
  let firstImage: RgbImage | undefined;
  return {
    start: (model, ctx, manifest) => {
      const { classNames } = opts;
      if (classNames && classNames.length !== model.numClasses)
        throw new XaiError(
          `${opts.classNamesFile} has ${classNames.length} class names, the model has ${model.numClasses} classes`,
        );
      meta = {
        command: 'report',
        version: VERSION,
        date: new Date().toISOString(),
        adapter: ctx.adapterInfo,
        model: {
          architecture: model.spec.arch,
          classes: model.numClasses,
          classNames,
          weights: manifest.weights.path,
          sha256: manifest.weights.sha256,
        },
        parameters: {
          ...manifest.settings,
          layer: manifest.settings.layer ?? `${CAM_DEFAULTS.layer} (default)`,
          ...('masks' in manifest.settings ? { 'RISE scores': RISE_DEFAULTS.scores } : {}),
        },
        seconds: { total: 0 },
        images: {},
        riseSheets: [],
        ...(opts.note !== undefined ? { note: opts.note } : {}),
      };
      const images = meta.images;
      const methods = manifest.settings.methods as string[];
      const progress = progressReporter(`${CMD} (images × methods)`);
      const total = manifest.images.length * methods.length;
      let finished = 0;
      let methodsDone = 0;
      return {
        onLogits: (name, image, logits, label) => {
          const id = String(Object.keys(images).length).padStart(4, '0');
          images[name] = { id, top: top3(logits), ...(label !== undefined ? { label } : {}) };
          const rgb = denormalizeToRgb(image);
          firstImage ??= rgb;
          saveRgbPng(join(out, 'maps', id, 'input.png'), rgb);
        },
        onMap: (name, image, method, plane) => {
          const dir = join(out, 'maps', images[name].id);
          saveNpyFile(join(dir, `${method}.npy`), plane);
          saveRgbPng(join(dir, `${method}.png`), overlayHeatmap(denormalizeToRgb(image), plane.data, 0.5));
          progress(finished * methods.length + ++methodsDone, total, `${name}: ${method}`);
        },
        onImage: (n, _total, name) => {
          finished = n;
          methodsDone = 0;
          progress(n * methods.length, total, `${name} done`);
        },
      };
    },
    finish: async (_model, ctx, _report, manifest) => {
      if (firstImage) meta.riseSheets = await writeRiseSheets(ctx, out, manifest.settings, firstImage);
      meta.seconds.total = Math.round(performance.now() - t0) / 1000;
      writeFileAtomic(join(out, 'report.json'), JSON.stringify(meta, null, 2) + '\n');
    },
  };
}

/** OUT/rise-masks-<method>.png per RISE method: its first SHEET_MASKS masks (the run's seed) and `image` times each. */
async function writeRiseSheets(
  ctx: GpuContext,
  out: string,
  settings: Settings,
  image: RgbImage,
): Promise<ReportMeta['riseSheets']> {
  const { size, grid, p1, seed } = settings as {
    size: { height: number; width: number };
    grid: number;
    p1: number;
    seed: number;
  };
  const sheets: ReportMeta['riseSheets'] = [];
  for (const method of settings.methods as string[]) {
    const mode = explainerFor(method).defaults.rise?.mode;
    if (!mode) continue;
    const t = new MaskGenerator(
      ctx,
      planMasks({ height: size.height, width: size.width, grid, p1, mode, seed }),
    ).generate(0, SHEET_MASKS);
    const masks = await ctx.read(t);
    ctx.release(t);
    const file = `rise-masks-${method}.png`;
    saveRgbPng(join(out, file), maskSheet(masks.data, SHEET_MASKS, size.height, size.width, image));
    sheets.push({ method, file, count: SHEET_MASKS });
  }
  return sheets;
}

/** --input files: named by their base names, which must differ (they key the labels and the tables). */
function inputFiles(paths: string[]): ImageFile[] {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const name = basename(path);
    if (seen.has(name))
      throw new UsageError(
        `${CMD}: two inputs are named ${name} (${seen.get(name)} and ${path}); the tables key images by name`,
      );
    seen.set(name, path);
  }
  return [...seen].map(([name, path]) => ({ name, path }));
}

/** The three most probable classes (softmax of the logits), most probable first. */
function top3(logits: Float32Array): { class: number; probability: number }[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (l) => Math.exp(l - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e
    .map((x, k) => ({ class: k, probability: x / z }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, 3);
}

/** Writes the pages of the output folder `dir` from its files alone. */
function writePages(dir: string, log: (s: string) => void): void {
  const resultsPath = join(dir, 'results.json');
  if (!existsSync(resultsPath))
    throw new XaiError(`${dir} holds no results.json: not a report or evaluate-dataset output folder`);
  const results = readJsonFile(resultsPath) as Results;
  if (
    !Array.isArray(results?.rows) ||
    !Array.isArray(results.skipped) ||
    !Array.isArray(results.methods) ||
    typeof results.summary !== 'object'
  ) {
    throw new XaiError(`${resultsPath} is not the results.json of evaluate-dataset or report`);
  }
  const manifest = existsSync(join(dir, MANIFEST)) ? readManifest(dir) : undefined;
  const metaPath = join(dir, 'report.json');
  const meta = existsSync(metaPath) ? (readJsonFile(metaPath) as ReportMeta) : undefined;
  // Each image's curves from its record (merge outputs have none: no small curves then).
  const records = new Map<string, ImageRecord>();
  if (manifest && existsSync(join(dir, RECORDS))) {
    const done = new Set(results.rows.map((r) => r.image));
    for (const r of readRecords(manifest.images.filter((image) => done.has(image)).map((image) => ({ dir, image }))))
      records.set(r.image, r);
  }
  const settings = meta?.parameters ?? manifest?.settings ?? {};
  const parameters = Object.entries(settings).map(([k, v]): [string, string] => [k, show(v)]);
  const pages = renderPages({
    results,
    weights: manifest?.weights,
    parameters,
    meta,
    record: (image) => records.get(image),
  });
  for (const p of pages) writeFileAtomic(join(dir, p.file), p.html);
  log(`wrote ${join(dir, 'index.html')}${pages.length > 1 ? ` and ${pages.length - 1} more pages` : ''}`);
}
