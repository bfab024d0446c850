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
import { argmaxRows } from '../model/gradient.js';
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
  seconds: number;
}

export interface MetricSummary { mean: number; std: number; n: number }

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
}

export async function evaluateDataset(model: ResNet, items: readonly DatasetItem[], opts: DatasetOptions): Promise<DatasetReport> {
  const causal = new CausalMetrics(model);
  const rows: DatasetRow[] = [];
  const skipped: DatasetReport['skipped'] = [];
  const curveSums: Record<string, Partial<Record<CausalMetricName, { sum: number[]; n: number }>>> = {};
  for (const [i, item] of items.entries()) {
    // The item's own data first: a failure here (an XaiError) is the item's, so it is skipped.
    let image: HostTensor;
    let region: Uint8Array | undefined;
    try {
      image = await item.load();
      model.checkInput(image.shape, item.name);
      if (image.shape[0] !== 1) throw new XaiError(`${item.name} holds ${image.shape[0]} images; a data set item is one image`);
      region = item.region ? await item.region() : undefined;
    } catch (e) {
      if (!(e instanceof XaiError)) throw e;
      skipped.push({ image: item.name, error: e.message });
      opts.onImage?.(i + 1, items.length, item.name);
      continue;
    }
    const cls = item.label ?? argmaxRows(await model.predict(image))[0];
    for (const method of opts.methods) {
      const t0 = performance.now();
      const plane = await explainPlane(model, method, image, cls, opts);
      const results = await causal.evaluate(image, plane, opts.metrics, { step: opts.step, classIndex: cls, batch: opts.batch });
      const row: DatasetRow = { image: item.name, method, class: cls, auc: {}, seconds: 0 };
      for (const r of results) {
        row.auc[r.metric] = r.auc;
        const acc = ((curveSums[method] ??= {})[r.metric] ??= { sum: new Array(r.scores.length).fill(0), n: 0 });
        if (acc.sum.length === r.scores.length) {
          r.scores.forEach((v, k) => (acc.sum[k] += v));
          acc.n++;
        }
      }
      if (region) {
        const [, , H, W] = image.shape;
        const pg = pointingGame(plane.data, region, H, W);
        row.pointingHit = pg.hit;
        row.pointingEnergy = pg.energy;
      }
      row.seconds = Math.round(performance.now() - t0) / 1000;
      rows.push(row);
    }
    opts.onImage?.(i + 1, items.length, item.name);
  }
  return { rows, skipped, summary: summarize(rows, opts), meanCurves: meanCurves(curveSums) };
}

function stats(values: number[]): MetricSummary {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

function summarize(rows: DatasetRow[], opts: DatasetOptions): DatasetReport['summary'] {
  const out: DatasetReport['summary'] = {};
  for (const method of opts.methods) {
    const mine = rows.filter((r) => r.method === method);
    const m: Record<string, MetricSummary> = {};
    for (const metric of opts.metrics) m[metric] = stats(mine.map((r) => r.auc[metric]!).filter((v) => v !== undefined));
    const pointed = mine.filter((r) => r.pointingHit !== undefined);
    if (pointed.length) {
      m['pointing hit'] = stats(pointed.map((r) => (r.pointingHit ? 1 : 0)));
      m['pointing energy'] = stats(pointed.map((r) => r.pointingEnergy!));
    }
    out[method] = m;
  }
  return out;
}

function meanCurves(sums: Record<string, Partial<Record<CausalMetricName, { sum: number[]; n: number }>>>): DatasetReport['meanCurves'] {
  const out: DatasetReport['meanCurves'] = {};
  for (const [method, byMetric] of Object.entries(sums)) {
    out[method] = {};
    for (const [metric, { sum, n }] of Object.entries(byMetric)) out[method][metric as CausalMetricName] = sum.map((v) => v / n);
  }
  return out;
}
