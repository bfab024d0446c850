/**
 * The HTML page of a data-set report: one self-contained page (no script, no external resource;
 * images are files beside it, plots inline SVG) per PAGE_SIZE images, each with the header (model,
 * adapter, date, parameters, times), the summary (methods × metrics, mean curves), the RISE mask
 * sheets, one row per image and the skipped images. Every text from outside goes through
 * `escapeHtml`; every number taken from results.json carries its JSON path and exact value
 * (`data-key`, `data-value`) so a test can check the page against the file.
 * Environment-free: the caller reads the output folder and writes the pages.
 */
import type { CausalMetricName } from '../metrics/causal.js';
import type { DatasetReport, DatasetRow, ImageRecord } from '../metrics/dataset.js';
import { curvesSvg, smallCurvesSvg } from '../viz/curve-plot.js';
import { escapeHtml as esc } from '../viz/escape.js';

/** Images per page: a page holds their thumbnails and small curves, so 1,000 images make 20 light pages. */
export const PAGE_SIZE = 50;

/** results.json: the tables of evaluate-dataset (cli/report-files.ts). */
export interface Results extends DatasetReport {
  weights: string;
  images: string;
  methods: string[];
  metrics: CausalMetricName[];
  step: number;
  size: { height: number; width: number };
}

/** report.json: what a `report` run adds to the tables (absent for an evaluate-dataset output). */
export interface ReportMeta {
  command: 'report';
  version: string;
  date: string;
  adapter: string;
  model: { architecture: string; classes: number; classNames?: string[]; weights: string; sha256: string };
  /** Every parameter of the run, seeds included, as given or defaulted. */
  parameters: Record<string, unknown>;
  seconds: { total: number };
  /** Per image name: the folder of its pictures and maps (maps/<id>/), its top-3 and its given label. */
  images: Record<string, { id: string; top: { class: number; probability: number }[]; label?: number }>;
  /** RISE mask sheets: the first masks of a method and the first image times each. */
  riseSheets: { method: string; file: string; count: number }[];
  /** --note: shown under the title. */
  note?: string;
}

export interface PageInput {
  results: Results;
  /** The weights file and its SHA-256 (from the manifest), where known. */
  weights?: { path: string; sha256: string };
  /** Every parameter of the run as name and text, seeds included. */
  parameters: [string, string][];
  meta?: ReportMeta;
  /** An image's record (its curves), where the output folder has it. */
  record: (image: string) => ImageRecord | undefined;
}

/** Which way is better for each summary column. */
const BETTER: Record<string, 'high' | 'low'> = {
  insertion: 'high',
  deletion: 'low',
  'pointing hit': 'high',
  'pointing energy': 'high',
};

/** The pages, index.html first. */
export function renderPages(input: PageInput): { file: string; html: string }[] {
  const images = [...new Set(input.results.rows.map((r) => r.image))];
  const count = Math.max(1, Math.ceil(images.length / PAGE_SIZE));
  const files = Array.from({ length: count }, (_, p) => pageFile(p));
  const rowIndex = new Map<DatasetRow, number>(input.results.rows.map((r, i) => [r, i]));
  return files.map((file, p) => ({
    file,
    html: page(input, files, p, images.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), rowIndex),
  }));
}

export const pageFile = (p: number): string => (p === 0 ? 'index.html' : `page-${p + 1}.html`);

function page(
  input: PageInput,
  files: string[],
  p: number,
  images: string[],
  rowIndex: Map<DatasetRow, number>,
): string {
  const { results, meta } = input;
  const title = `webgpu-xai report: ${meta?.model.architecture ?? 'ResNet'}, ${results.methods.join(', ')}`;
  const nav =
    files.length > 1
      ? `<nav>Pages: ${files.map((f, i) => (i === p ? `<b>${i + 1}</b>` : `<a href="${esc(f)}">${i + 1}</a>`)).join(' ')}</nav>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${meta?.note ? `<p>${esc(meta.note)}</p>` : ''}
${header(input)}
${summary(results)}
${riseSheets(meta)}
<h2>Images${files.length > 1 ? ` (page ${p + 1} of ${files.length})` : ''}</h2>
${nav}
${imageRows(input, images, rowIndex)}
${nav}
${skipped(results)}
<footer>Made by webgpu-xai ${esc(meta?.version ?? '')}. AUCs: insertion higher is better, deletion lower is better
(docs/SEMANTICS.md §5); overlays: the map scaled to its own min–max, matplotlib's jet at α 0.5 over the input as the model sees it.</footer>
</body></html>
`;
}

const STYLE = `body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}th{background:#f3f3f3;text-align:left}
.meta th{width:11em}.best{background:#e3f5e1;font-weight:bold}.num{font-variant-numeric:tabular-nums}
.thumb{width:112px;height:auto;image-rendering:pixelated;display:block}.small{font-size:12px;color:#555}
.curves{display:flex;flex-wrap:wrap;gap:8px}.sheet{max-width:100%}nav{margin:6px 0}
.name{word-break:break-all;max-width:14em}footer{margin-top:2em;color:#666;font-size:12px}ol{margin:2px 0;padding-left:1.4em}`;

/** A number from results.json: shown rounded, with its JSON path and exact value. */
function num(value: number, key: string, digits = 3): string {
  return `<span class="num" data-key="${esc(key)}" data-value="${value}">${value.toFixed(digits)}</span>`;
}

const className = (meta: ReportMeta | undefined, k: number) =>
  meta?.model.classNames?.[k] ? `${meta.model.classNames[k]} (${k})` : `class ${k}`;

function header({ results, weights, parameters, meta }: PageInput): string {
  const perMethod = results.methods.map(
    (m) => `${m} ${sum(results.rows.filter((r) => r.method === m).map((r) => r.seconds)).toFixed(1)} s`,
  );
  const imagesDone = new Set(results.rows.map((r) => r.image)).size;
  const rows: [string, string][] = [
    [
      'Model',
      meta
        ? `${esc(meta.model.architecture)}, ${meta.model.classes} classes${meta.model.classNames ? `: ${esc(meta.model.classNames.join(', '))}` : ''}`
        : 'not recorded (an evaluate-dataset output)',
    ],
    [
      'Weights',
      `${esc(weights?.path ?? results.weights)}<br><span class="small">SHA-256 ${esc(weights?.sha256 ?? 'not recorded')}</span>`,
    ],
    ['Adapter', esc(meta?.adapter ?? 'not recorded')],
    ['Date', esc(meta?.date ?? 'not recorded')],
    [
      'Images',
      `${esc(results.images)}: ${imagesDone} evaluated, ${results.skipped.length} skipped; ${results.size.height}×${results.size.width} px, step ${results.step} pixels per insertion/deletion step`,
    ],
    ['Parameters', parameters.map(([k, v]) => `${esc(k)}: ${esc(v)}`).join('<br>')],
    [
      'Time',
      `${meta ? `${meta.seconds.total.toFixed(1)} s in all; ` : ''}per method (explaining and scoring, all images): ${esc(perMethod.join(', '))}`,
    ],
  ];
  return `<table class="meta">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('\n')}</table>`;
}

function summary(results: Results): string {
  const columns = [...new Set(results.methods.flatMap((m) => Object.keys(results.summary[m] ?? {})))];
  const best = new Map(
    columns.map((c) => {
      const means = results.methods.filter((m) => results.summary[m]?.[c]?.n).map((m) => results.summary[m][c].mean);
      return [c, BETTER[c] === 'low' ? Math.min(...means) : Math.max(...means)];
    }),
  );
  const head = `<tr><th>method</th>${columns.map((c) => `<th>${esc(c)}${c in BETTER ? (BETTER[c] === 'high' ? ' ↑' : ' ↓') : ''}</th>`).join('')}<th>seconds per image</th></tr>`;
  const body = results.methods.map((m) => {
    const cells = columns.map((c) => {
      const s = results.summary[m]?.[c];
      if (!s) return '<td></td>';
      const key = `summary.${m}.${c}`;
      const mark = s.n > 0 && s.mean === best.get(c) ? ' class="best" title="best"' : '';
      return `<td${mark}>${num(s.mean, `${key}.mean`)} ± ${num(s.std, `${key}.std`)} <span class="small">n = ${num(s.n, `${key}.n`, 0)}</span></td>`;
    });
    const secs = results.rows.filter((r) => r.method === m).map((r) => r.seconds);
    return `<tr><th>${esc(m)}</th>${cells.join('')}<td class="num">${(sum(secs) / Math.max(1, secs.length)).toFixed(2)}</td></tr>`;
  });
  const curves = results.metrics.map((metric) => {
    const plotted = results.methods
      .filter((m) => results.meanCurves[m]?.[metric])
      .map((m) => ({
        label: `${m} (AUC ${results.summary[m][metric].mean.toFixed(3)})`,
        scores: results.meanCurves[m][metric]!,
      }));
    return plotted.length ? curvesSvg(`Mean ${metric} curves`, plotted) : '';
  });
  return `<h2>Summary</h2>
<table>${head}\n${body.join('\n')}</table>
<p class="small">mean ± standard deviation over the images (n); the best mean of each column is marked. Pointing game: a hit when the map's maximum lies within 15 px of the object.</p>
<div class="curves">${curves.join('\n')}</div>`;
}

function riseSheets(meta: ReportMeta | undefined): string {
  if (!meta?.riseSheets.length) return '';
  return `<h2>RISE masks</h2>\n${meta.riseSheets
    .map(
      (s) => `<p>${esc(s.method)}: the first ${s.count} masks of the run (its seed), and the first image times each</p>
<img class="sheet" src="${esc(s.file)}" alt="${esc(s.method)} masks">`,
    )
    .join('\n')}`;
}

function imageRows({ results, meta, record }: PageInput, images: string[], rowIndex: Map<DatasetRow, number>): string {
  if (images.length === 0) return '<p>No image was evaluated.</p>';
  const byImage = new Map<string, DatasetRow[]>();
  for (const r of results.rows) (byImage.get(r.image) ?? byImage.set(r.image, []).get(r.image)!).push(r);
  const head = `<tr><th>image</th>${results.methods.map((m) => `<th>${esc(m)}</th>`).join('')}</tr>`;
  const rows = images.map((image) => {
    const info = meta?.images[image];
    const rec = record(image);
    const curves = rec && 'curves' in rec ? rec.curves : undefined;
    const rows = byImage.get(image)!;
    const first = rows[0];
    const input = `<td class="name">${info ? `<img class="thumb" src="maps/${esc(info.id)}/input.png" alt="input">` : ''}
<div>${esc(image)}</div>
<div class="small">${info?.label !== undefined ? 'label' : 'explained (top-1)'}: ${esc(className(meta, first.class))}</div>
${info ? `<ol class="small">${info.top.map((t) => `<li>${esc(className(meta, t.class))} ${t.probability.toFixed(3)}</li>`).join('')}</ol>` : ''}</td>`;
    const cells = results.methods.map((m) => {
      const row = rows.find((r) => r.method === m);
      if (!row) return '<td></td>';
      const i = rowIndex.get(row)!;
      const aucs = results.metrics
        .filter((k) => row.auc[k] !== undefined)
        .map((k) => `${k} ${num(row.auc[k]!, `rows.${i}.auc.${k}`)}`);
      const pointing =
        row.pointingHit === undefined
          ? ''
          : `<br>pointing ${row.pointingHit ? 'hit' : 'miss'}, energy ${num(row.pointingEnergy!, `rows.${i}.pointingEnergy`)}`;
      const small = curves?.[m]
        ? smallCurvesSvg(
            results.metrics.filter((k) => curves[m][k]).map((k) => ({ label: `${k} curve`, scores: curves[m][k]! })),
          )
        : '';
      return `<td>${info ? `<img class="thumb" src="maps/${esc(info.id)}/${esc(m)}.png" alt="${esc(m)} overlay">` : ''}
<div class="small">${aucs.join('<br>')}${pointing}</div>${small}</td>`;
    });
    return `<tr>${input}${cells.join('')}</tr>`;
  });
  const colours = results.metrics.map((k, j) => `${k} (${['blue', 'red'][j]})`).join(', ');
  const legend = `<p class="small">Small curves: ${colours}; the probability of the explained class against the fraction of pixels.</p>`;
  return `${legend}<table>${head}\n${rows.join('\n')}</table>`;
}

function skipped(results: Results): string {
  if (results.skipped.length === 0) return '';
  return `<h2>Skipped images (${results.skipped.length})</h2>
<ul>${results.skipped.map((s) => `<li><b>${esc(s.image)}</b>: ${esc(s.error)}</li>`).join('\n')}</ul>`;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
