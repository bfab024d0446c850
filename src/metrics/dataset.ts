/**
 * Evaluation over a data set, one image at a time (nothing but the running table is kept): for
 * every image and method, explain, then insertion and deletion (and the pointing game where a
 * ground-truth region is given). An item whose own data fails — its image is unreadable,
 * mis-shaped or non-finite, its ground truth missing or broken: an XaiError from `load`, the
 * shape checks or `region` — is reported in `skipped` and leaves no row. A failure after that
 * (explaining, scoring) is not the item's: the same settings would fail on every image, so it
 * ends the run rather than skip everything silently.
 * Environment-free: the caller supplies the images as loaders (files in Node, fetches in a page).
 */
import { XaiError } from '../errors.js';
import type { HostTensor } from '../io/tensor.js';
import { argmaxRows } from '../model/argmax.js';
import type { ResNet } from '../model/resnet.js';
import { explainPlane, type MethodOptions } from '../explain/methods.js';
import { CausalMetrics, type CausalMetricName } from './causal.js';
import { pointingGame } from './pointing.js';

export interface DatasetItem {
  name: string;
  /** The normalised image [1, 3, H, W] (throws for an unreadable file). */
  load: () => HostTensor | Promise<HostTensor>;
  /** Class to explain and score (default: the model's top-1). */
  label?: number;
  /** Ground-truth region at the model size, for the pointing game. */
  region?: () => Uint8Array | Promise<Uint8Array>;
}

export interface DatasetRow {
  image: string;
  method: string;
  class: number;
  auc: Partial<Record<CausalMetricName, number>>;
  pointingHit?: boolean;
  pointingEnergy?: number;
  /** Wall time of the method on this image: explaining and scoring (`seconds`), explaining alone. */
  seconds: number;
  explainSeconds: number;
}

export interface MetricSummary {
  mean: number;
  std: number;
  n: number;
}

export interface DatasetReport {
  rows: DatasetRow[];
  skipped: { image: string; error: string }[];
  /** summary[method][metric]: insertion, deletion AUC, pointing hit rate and energy. */
  summary: Record<string, Record<string, MetricSummary>>;
  /** meanCurves[method][metric]: the mean of the curves (all images share one size and step). */
  meanCurves: Record<string, Partial<Record<CausalMetricName, number[]>>>;
}

export interface DatasetOptions extends MethodOptions {
  methods: readonly string[];
  metrics: readonly CausalMetricName[];
  step?: number;
  onImage?: (done: number, total: number, name: string) => void;
  /** Called with each image's record as soon as it is finished (before onImage). */
  onRecord?: (record: ImageRecord) => void | Promise<void>;
  /** Called with each loaded image's logits (the unmodified image's forward) and its given label, before its methods. */
  onLogits?: (name: string, image: HostTensor, logits: Float32Array, label: number | undefined) => void | Promise<void>;
  /** Called with each method's map of an image once it is scored. */
  onMap?: (name: string, image: HostTensor, method: string, plane: HostTensor, row: DatasetRow) => void | Promise<void>;
}

/**
 * Everything one image contributes to a report: its rows and its curves (curves[method][metric]),
 * or why it was skipped. A report is a function of its records alone (`aggregate`), so records
 * made in separate processes or machines combine into the report one run would have made.
 */
export type ImageRecord =
  | { image: string; rows: DatasetRow[]; curves: Record<string, Partial<Record<CausalMetricName, number[]>>> }
  | { image: string; skipped: string };

export async function evaluateDataset(
  model: ResNet,
  items: readonly DatasetItem[],
  opts: DatasetOptions,
): Promise<DatasetReport> {
  const causal = new CausalMetrics(model);
  const report = new ReportBuilder(opts.methods, opts.metrics);
  for (const [i, item] of items.entries()) {
    const record = await evaluateItem(model, causal, item, opts);
    report.add(record);
    await opts.onRecord?.(record);
    opts.onImage?.(i + 1, items.length, item.name);
  }
  return report.finish();
}

async function evaluateItem(
  model: ResNet,
  causal: CausalMetrics,
  item: DatasetItem,
  opts: DatasetOptions,
): Promise<ImageRecord> {
  // The item's own data first: a failure here (an XaiError) is the item's, so it is skipped.
  let image: HostTensor;
  let region: Uint8Array | undefined;
  try {
    image = await item.load();
    model.checkInput(image.shape, item.name);
    if (image.shape[0] !== 1)
      throw new XaiError(`${item.name} holds ${image.shape[0]} images; a data set item is one image`);
    region = item.region ? await item.region() : undefined;
  } catch (e) {
    if (!(e instanceof XaiError)) throw e;
    return { image: item.name, skipped: e.message };
  }
  let cls = item.label;
  if (cls === undefined || opts.onLogits) {
    const logits = await model.predict(image);
    cls ??= argmaxRows(logits)[0];
    await opts.onLogits?.(item.name, image, logits.data, item.label);
  }
  const record = {
    image: item.name,
    rows: [] as DatasetRow[],
    curves: {} as Record<string, Partial<Record<CausalMetricName, number[]>>>,
  };
  for (const method of opts.methods) {
    const t0 = performance.now();
    const plane = await explainPlane(model, method, image, cls, opts);
    const t1 = performance.now();
    const results = await causal.evaluate(image, plane, opts.metrics, {
      step: opts.step,
      classIndex: cls,
      batch: opts.batch,
    });
    const row: DatasetRow = {
      image: item.name,
      method,
      class: cls,
      auc: {},
      seconds: 0,
      explainSeconds: Math.round(t1 - t0) / 1000,
    };
    const curves: Partial<Record<CausalMetricName, number[]>> = (record.curves[method] = {});
    for (const r of results) {
      row.auc[r.metric] = r.auc;
      curves[r.metric] = r.scores;
    }
    if (region) {
      const [, , H, W] = image.shape;
      const pg = pointingGame(plane.data, region, H, W);
      row.pointingHit = pg.hit;
      row.pointingEnergy = pg.energy;
    }
    row.seconds = Math.round(performance.now() - t0) / 1000;
    record.rows.push(row);
    await opts.onMap?.(item.name, image, method, plane, row);
  }
  return record;
}

/**
 * The report of records in the order given (rows and skipped images in that order; summary
 * and mean curves summed in it): the same records in the same order give the same numbers.
 * Records are read one at a time (an iterable can read them lazily from files).
 */
export function aggregate(
  records: Iterable<ImageRecord>,
  methods: readonly string[],
  metrics: readonly CausalMetricName[],
): DatasetReport {
  const report = new ReportBuilder(methods, metrics);
  for (const record of records) report.add(record);
  return report.finish();
}

/** Rows and skipped images as they come, curves as running sums: memory does not grow with the curves. */
class ReportBuilder {
  private readonly rows: DatasetRow[] = [];
  private readonly skipped: DatasetReport['skipped'] = [];
  private readonly curveSums: Record<string, Partial<Record<CausalMetricName, { sum: number[]; n: number }>>> = {};

  constructor(
    private readonly methods: readonly string[],
    private readonly metrics: readonly CausalMetricName[],
  ) {}

  /** A mean curve averages the curves of the length of the first one seen (all images share one size and step). */
  add(record: ImageRecord): void {
    if ('skipped' in record) {
      this.skipped.push({ image: record.image, error: record.skipped });
      return;
    }
    this.rows.push(...record.rows);
    for (const [method, byMetric] of Object.entries(record.curves)) {
      for (const [metric, scores] of Object.entries(byMetric) as [CausalMetricName, number[]][]) {
        const acc = ((this.curveSums[method] ??= {})[metric] ??= { sum: new Array(scores.length).fill(0), n: 0 });
        if (acc.sum.length === scores.length) {
          scores.forEach((v, k) => (acc.sum[k] += v));
          acc.n++;
        }
      }
    }
  }

  finish(): DatasetReport {
    return {
      rows: this.rows,
      skipped: this.skipped,
      summary: summarize(this.rows, this.methods, this.metrics),
      meanCurves: meanCurves(this.curveSums),
    };
  }
}

function stats(values: number[]): MetricSummary {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

function summarize(
  rows: DatasetRow[],
  methods: readonly string[],
  metrics: readonly CausalMetricName[],
): DatasetReport['summary'] {
  const out: DatasetReport['summary'] = {};
  for (const method of methods) {
    const mine = rows.filter((r) => r.method === method);
    const m: Record<string, MetricSummary> = {};
    for (const metric of metrics) m[metric] = stats(mine.map((r) => r.auc[metric]!).filter((v) => v !== undefined));
    const pointed = mine.filter((r) => r.pointingHit !== undefined);
    if (pointed.length) {
      m['pointing hit'] = stats(pointed.map((r) => (r.pointingHit ? 1 : 0)));
      m['pointing energy'] = stats(pointed.map((r) => r.pointingEnergy!));
    }
    out[method] = m;
  }
  return out;
}

function meanCurves(
  sums: Record<string, Partial<Record<CausalMetricName, { sum: number[]; n: number }>>>,
): DatasetReport['meanCurves'] {
  const out: DatasetReport['meanCurves'] = {};
  for (const [method, byMetric] of Object.entries(sums)) {
    out[method] = {};
    for (const [metric, { sum, n }] of Object.entries(byMetric))
      out[method][metric as CausalMetricName] = sum.map((v) => v / n);
  }
  return out;
}
