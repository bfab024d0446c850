// JPEG decode: jpeg-js for entropy decoding and IDCT, then libjpeg-turbo's chroma upsampling and
// colour conversion (what PIL uses); see image.ts for what is and is not bit-exact.
import jpeg from 'jpeg-js';
import { XaiError } from '../errors.js';
import { checkPixelCount, MAX_PIXELS, oneLine, startsWith } from './codec-util.js';
import type { RgbImage } from './preprocess.js';

interface JpegFrame {
  width: number;
  height: number;
  /** Components in frame order: id and sampling factors. */
  comps: { id: number; h: number; v: number }[];
}

interface JpegLayout {
  frame: JpegFrame;
  jfif: boolean;
  /** Byte offset of the Adobe APP14 transform flag, or -1 without an Adobe marker. */
  adobeTransformAt: number;
}

/**
 * Walks the marker segments from SOI to EOI: finds the frame header and the colour-space hints,
 * refuses the JPEG flavours we cannot decode, and reports a file that stops before EOI as
 * truncated (jpeg-js would quietly decode the missing part as grey; PIL raises).
 */
function scanJpeg(b: Uint8Array, name: string): JpegLayout {
  const truncated = (): never => {
    throw new XaiError(`${name}: truncated JPEG (the file ends before the end-of-image marker)`);
  };
  const corrupt = (what: string): never => {
    throw new XaiError(`${name}: corrupt JPEG (${what})`);
  };
  let frame: JpegFrame | undefined;
  let jfif = false;
  let adobeTransformAt = -1;
  let p = 2;
  for (;;) {
    if (p >= b.length) truncated();
    if (b[p] !== 0xff) corrupt(`no marker at byte ${p}`);
    while (b[p] === 0xff) p++;
    if (p >= b.length) truncated();
    const marker = b[p++];
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no payload
    if (p + 2 > b.length) truncated();
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2) corrupt(`bad segment length at byte ${p}`);
    if (p + len > b.length) truncated();
    const seg = b.subarray(p + 2, p + len);
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (frame) corrupt('more than one frame');
      frame = parseFrame(seg, name);
    } else if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const kind =
        marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf
          ? 'lossless'
          : marker >= 0xc9
            ? 'arithmetic-coded'
            : 'hierarchical';
      throw new XaiError(`${name}: ${kind} JPEGs are not supported (baseline and progressive are)`);
    } else if (marker === 0xe0 && startsWith(seg, [0x4a, 0x46, 0x49, 0x46, 0])) {
      jfif = true;
    } else if (marker === 0xee && seg.length >= 12 && startsWith(seg, [0x41, 0x64, 0x6f, 0x62, 0x65])) {
      adobeTransformAt = p + 2 + 11;
    }
    p += len;
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or an RSTn.
      for (;;) {
        if (p + 1 >= b.length) truncated();
        if (b[p] === 0xff && b[p + 1] !== 0 && !(b[p + 1] >= 0xd0 && b[p + 1] <= 0xd7)) break;
        p++;
      }
    }
  }
  if (!frame) return corrupt('no frame header');
  return { frame, jfif, adobeTransformAt };
}

function parseFrame(seg: Uint8Array, name: string): JpegFrame {
  if (seg.length < 6) throw new XaiError(`${name}: corrupt JPEG (short frame header)`);
  const precision = seg[0];
  const height = (seg[1] << 8) | seg[2];
  const width = (seg[3] << 8) | seg[4];
  const nc = seg[5];
  if (precision !== 8) throw new XaiError(`${name}: ${precision}-bit JPEGs are not supported (8-bit only)`);
  if (height === 0) throw new XaiError(`${name}: JPEG with no height in its frame header (DNL) is not supported`);
  checkPixelCount(width, height, name);
  if (nc === 4) throw new XaiError(`${name}: CMYK JPEGs are not supported; convert the image to RGB`);
  if (nc !== 1 && nc !== 3) throw new XaiError(`${name}: JPEG with ${nc} colour components is not supported`);
  if (seg.length < 6 + 3 * nc) throw new XaiError(`${name}: corrupt JPEG (short frame header)`);
  const comps = [];
  for (let i = 0; i < nc; i++) {
    const h = seg[7 + 3 * i] >> 4;
    const v = seg[7 + 3 * i] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new XaiError(`${name}: corrupt JPEG (sampling factor ${h}x${v})`);
    comps.push({ id: seg[6 + 3 * i], h, v });
  }
  return { width, height, comps };
}

/** libjpeg's guess of the colour space of a 3-component JPEG (jdapimin.c default_decompress_parms). */
function isYcc(layout: JpegLayout, b: Uint8Array): boolean {
  if (layout.jfif) return true;
  if (layout.adobeTransformAt >= 0) return b[layout.adobeTransformAt] !== 0;
  const [c0, c1, c2] = layout.frame.comps.map((c) => c.id);
  return !(c0 === 0x52 && c1 === 0x47 && c2 === 0x42); // 'R','G','B' ids mean RGB
}

export function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  const layout = scanJpeg(bytes, name);
  const { width: W, height: H, comps } = layout.frame;
  let input = bytes;
  if (layout.adobeTransformAt >= 0 && bytes[layout.adobeTransformAt] !== 0) {
    // jpeg-js always colour-converts when the Adobe marker asks for it; clear the flag in a copy
    // so that it hands over the raw planes (we already know the colour space).
    input = bytes.slice();
    input[layout.adobeTransformAt] = 0;
  }
  let raw: Uint8Array;
  try {
    // Our own pixel limit applies (checkPixelCount), not jpeg-js's 100 MP / 512 MB defaults.
    const limits = { maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 8192 };
    const out = jpeg.decode(input, { useTArray: true, formatAsRGBA: false, colorTransform: false, ...limits });
    if (out.width !== W || out.height !== H) throw new Error('size differs from the frame header');
    raw = out.data;
  } catch (e) {
    const msg = oneLine(e);
    if (/memory|allocate/i.test(msg)) throw new XaiError(`${name}: JPEG too large to decode here (${msg})`);
    throw new XaiError(`${name}: corrupt JPEG (${msg})`);
  }
  if (comps.length === 1) return { width: W, height: H, data: raw }; // jpeg-js repeats Y 3 times
  const maxH = Math.max(...comps.map((c) => c.h));
  const maxV = Math.max(...comps.map((c) => c.v));
  if (comps.some((c) => maxH % c.h !== 0 || maxV % c.v !== 0)) {
    throw new XaiError(`${name}: JPEG with fractional chroma sampling is not supported`);
  }
  const planes = comps.map((c, ci) => upsamplePlane(raw, W, H, ci, maxH / c.h, maxV / c.v));
  const data = new Uint8Array(3 * W * H);
  if (isYcc(layout, bytes)) yccToRgb(planes[0], planes[1], planes[2], data);
  else for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = planes[c][i];
  return { width: W, height: H, data };
}

/**
 * One component at full size, upsampled the way libjpeg-turbo does by default (jdsample.c):
 * 2x horizontal and/or vertical subsampling gets the "fancy" triangle filter (3/4 of the nearer
 * sample, 1/4 of the farther, edge samples repeated, with libjpeg's alternating rounding biases);
 * other integral ratios get plain replication — which is what jpeg-js's output already holds.
 * `raw` is jpeg-js's interleaved output, where a subsampled component is replicated: its sample
 * (i, j) sits at full-size pixel (i*rh, j*rv).
 */
function upsamplePlane(raw: Uint8Array, W: number, H: number, c: number, rh: number, rv: number): Uint8Array {
  const out = new Uint8Array(W * H);
  const dw = Math.ceil(W / rh);
  const dh = Math.ceil(H / rv);
  const fancyH = rh === 2 && dw > 2 && (rv === 1 || rv === 2);
  const fancyV = rv === 2 && (rh === 1 || fancyH);
  if (!fancyH && !fancyV) {
    for (let i = 0; i < W * H; i++) out[i] = raw[3 * i + c];
    return out;
  }
  const s = (i: number, j: number): number => raw[3 * (j * rv * W + i * rh) + c]; // sample (i, j)
  const cs = new Int32Array(dw); // column sums (h2v2) or blended rows
  const row = new Uint8Array(2 * dw);
  for (let j = 0; j < dh; j++) {
    for (let v = 0; v < rv; v++) {
      const y = j * rv + v;
      if (y >= H) break;
      if (fancyV) {
        // 3/4 this row + 1/4 the row above (upper output row) or below (lower), edges repeated.
        const nb = v === 0 ? Math.max(j - 1, 0) : Math.min(j + 1, dh - 1);
        for (let i = 0; i < dw; i++) cs[i] = 3 * s(i, j) + s(i, nb);
      } else {
        for (let i = 0; i < dw; i++) cs[i] = s(i, j);
      }
      if (!fancyH) {
        const bias = v === 0 ? 1 : 2; // h1v2_fancy_upsample
        for (let x = 0; x < W; x++) out[y * W + x] = (cs[x] + bias) >> 2;
        continue;
      }
      if (fancyV) {
        // h2v2_fancy_upsample: cs holds 4x weights, so the horizontal blend divides by 16.
        row[0] = (cs[0] * 4 + 8) >> 4;
        row[1] = (cs[0] * 3 + cs[1] + 7) >> 4;
        for (let i = 1; i < dw - 1; i++) {
          row[2 * i] = (cs[i] * 3 + cs[i - 1] + 8) >> 4;
          row[2 * i + 1] = (cs[i] * 3 + cs[i + 1] + 7) >> 4;
        }
        row[2 * dw - 2] = (cs[dw - 1] * 3 + cs[dw - 2] + 8) >> 4;
        row[2 * dw - 1] = (cs[dw - 1] * 4 + 7) >> 4;
      } else {
        // h2v1_fancy_upsample
        row[0] = cs[0];
        row[1] = (cs[0] * 3 + cs[1] + 2) >> 2;
        for (let i = 1; i < dw - 1; i++) {
          row[2 * i] = (cs[i] * 3 + cs[i - 1] + 1) >> 2;
          row[2 * i + 1] = (cs[i] * 3 + cs[i + 1] + 2) >> 2;
        }
        row[2 * dw - 2] = (cs[dw - 1] * 3 + cs[dw - 2] + 1) >> 2;
        row[2 * dw - 1] = cs[dw - 1];
      }
      out.set(row.subarray(0, W), y * W);
    }
  }
  return out;
}

// libjpeg's YCbCr -> RGB (jdcolor.c): 16-bit fixed point, the rounding folded into the tables.
let yccTables: { crR: Int32Array; cbB: Int32Array; crG: Int32Array; cbG: Int32Array } | undefined;

function yccToRgb(Y: Uint8Array, Cb: Uint8Array, Cr: Uint8Array, out: Uint8Array): void {
  if (!yccTables) {
    const fix = (x: number): number => Math.floor(x * 65536 + 0.5);
    const half = 1 << 15;
    const t = {
      crR: new Int32Array(256),
      cbB: new Int32Array(256),
      crG: new Int32Array(256),
      cbG: new Int32Array(256),
    };
    for (let i = 0; i < 256; i++) {
      const x = i - 128;
      t.crR[i] = (fix(1.402) * x + half) >> 16;
      t.cbB[i] = (fix(1.772) * x + half) >> 16;
      t.crG[i] = -fix(0.71414) * x;
      t.cbG[i] = -fix(0.34414) * x + half;
    }
    yccTables = t;
  }
  const { crR, cbB, crG, cbG } = yccTables;
  const clamp = (v: number): number => Math.min(Math.max(v, 0), 255);
  for (let i = 0; i < Y.length; i++) {
    const y = Y[i],
      cb = Cb[i],
      cr = Cr[i];
    out[3 * i] = clamp(y + crR[cr]);
    out[3 * i + 1] = clamp(y + ((cbG[cb] + crG[cr]) >> 16));
    out[3 * i + 2] = clamp(y + cbB[cb]);
  }
}
