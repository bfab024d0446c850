/** Insertion/deletion curves as an SVG line chart: probability against the fraction of pixels. */
import { escapeHtml } from './escape.js';

export interface PlotCurve {
  label: string;
  scores: readonly number[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function curvesSvg(
  title: string,
  curves: readonly PlotCurve[],
  xLabel = 'fraction of pixels',
  yLabel = 'probability',
): string {
  const [W, H, left, right, top, bottom] = [520, 340, 56, 20, 40, 48];
  const pw = W - left - right;
  const ph = H - top - bottom;
  const x = (t: number) => left + t * pw;
  const y = (v: number) => top + (1 - Math.min(1, Math.max(0, v))) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escapeHtml(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const t = i / 4;
    parts.push(`<line x1="${x(t)}" y1="${top + ph}" x2="${x(t)}" y2="${top + ph + 4}" stroke="#444"/>`);
    parts.push(`<text x="${x(t)}" y="${top + ph + 17}" text-anchor="middle">${t.toFixed(2)}</text>`);
    parts.push(`<line x1="${left - 4}" y1="${y(t)}" x2="${left}" y2="${y(t)}" stroke="#444"/>`);
    parts.push(`<text x="${left - 7}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`);
  }
  parts.push(`<text x="${left + pw / 2}" y="${H - 10}" text-anchor="middle">${escapeHtml(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`,
  );
  curves.forEach((c, k) => {
    const n = c.scores.length - 1;
    const pts = c.scores.map((v, i) => `${x(n > 0 ? i / n : 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const color = COLORS[k % COLORS.length];
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (curves.length > 1 || c.label) {
      parts.push(
        `<line x1="${left + pw - 170}" y1="${top + 14 + 16 * k}" x2="${left + pw - 150}" y2="${top + 14 + 16 * k}" stroke="${color}" stroke-width="2"/>`,
      );
      parts.push(`<text x="${left + pw - 145}" y="${top + 18 + 16 * k}">${escapeHtml(c.label)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/**
 * A curve thumbnail for a table cell: the curves in a w × h box (0..1 both ways), no axes or
 * text, each drawn through at most `points` evenly spaced samples so that a page of many stays light.
 */
export function smallCurvesSvg(curves: readonly PlotCurve[], w = 120, h = 48, points = 40): string {
  const pad = 2; // lines at 0 and 1 stay inside the frame
  const lines = curves.map((c, k) => {
    const n = c.scores.length - 1;
    const m = Math.min(n, points);
    const pts = Array.from({ length: m + 1 }, (_, j) => {
      const i = m > 0 ? Math.round((j * n) / m) : 0;
      const v = Math.min(1, Math.max(0, c.scores[i]));
      return `${(pad + (m > 0 ? (j / m) * (w - 2 * pad) : 0)).toFixed(1)},${(pad + (1 - v) * (h - 2 * pad)).toFixed(1)}`;
    }).join(' ');
    return `<polyline points="${pts}" fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="1.5"><title>${escapeHtml(c.label)}</title></polyline>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="white" stroke="#bbb"/>${lines.join('')}</svg>`;
}
