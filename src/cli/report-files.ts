/**
 * The tables of a data-set report, written by evaluate-dataset and by merge alike:
 * OUT/results.csv, OUT/results.json, OUT/curves-<metric>.svg; the skipped images on stderr and
 * the summary on stdout.
 */
import { join } from 'node:path';
import { csvRecord } from '../io/csv.js';
import { writeFileAtomic } from '../io/files.js';
import type { InputSize } from '../io/input.js';
import type { CausalMetricName } from '../metrics/causal.js';
import type { DatasetReport } from '../metrics/dataset.js';
import { curvesSvg } from '../viz/curve-plot.js';

/** What results.json says the report is of. */
export interface ReportHeader {
  weights: string;
  images: string;
  methods: readonly string[];
  metrics: readonly CausalMetricName[];
  step: number;
  size: InputSize;
}

export function writeReport(out: string, head: ReportHeader, report: DatasetReport, log: (s: string) => void): void {
  const { methods, metrics } = head;
  const header = [
    'image',
    'method',
    'class',
    ...metrics.map((m) => `${m}_auc`),
    'pointing_hit',
    'pointing_energy',
    'seconds',
    'explain_seconds',
  ];
  const csv = [
    csvRecord(header),
    ...report.rows.map((r) =>
      csvRecord([
        r.image,
        r.method,
        r.class,
        ...metrics.map((m) => r.auc[m] ?? ''),
        r.pointingHit === undefined ? '' : Number(r.pointingHit),
        r.pointingEnergy ?? '',
        r.seconds,
        r.explainSeconds,
      ]),
    ),
  ];
  writeFileAtomic(join(out, 'results.csv'), csv.join('\n') + '\n');
  writeFileAtomic(join(out, 'results.json'), JSON.stringify({ ...head, ...report }, null, 2) + '\n');
  const images = new Set(report.rows.map((r) => r.image)).size;
  for (const metric of metrics) {
    const curves = methods
      .filter((m) => report.meanCurves[m]?.[metric])
      .map((m) => ({
        label: `${m} (AUC ${report.summary[m][metric].mean.toFixed(3)})`,
        scores: report.meanCurves[m][metric]!,
      }));
    if (curves.length)
      writeFileAtomic(join(out, `curves-${metric}.svg`), curvesSvg(`Mean ${metric} curves, ${images} images`, curves));
  }
  for (const s of report.skipped) console.error(`webgpu-xai: skipped ${s.image}: ${s.error}`);
  for (const [method, m] of Object.entries(report.summary)) {
    log(
      `${method.padEnd(13)} ${Object.entries(m)
        .map(([k, st]) => `${k} ${st.mean.toFixed(4)} ± ${st.std.toFixed(4)} (n=${st.n})`)
        .join('   ')}`,
    );
  }
  log(
    `wrote ${join(out, 'results.csv')}, results.json, curves-*.svg (${images} image${images === 1 ? '' : 's'}, ${report.skipped.length} skipped)`,
  );
}
