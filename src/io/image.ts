// Image input and output the way torchvision's PIL pipeline does it:
//   decodeImage          PNG / JPEG bytes -> 8-bit RGB, as PIL's Image.open(f).convert('RGB')
//   resizeBilinearPIL    bit-exact PIL Image.resize((W, H), Image.BILINEAR) (= torchvision Resize)
//   toNormalizedTensor   ToTensor() then Normalize(ImageNet mean, std), float32 op by op like torch
//   denormalizeToRgb     the inverse, for overlays
//   encodePng            RGB -> PNG bytes
// Everything works on bytes (no file system), so it runs in a browser too, given the bundler
// shims that pngjs needs anyway (a global `Buffer`, the 'zlib' module).
//
// Surprises, each checked against Pillow 9.4 / libjpeg-turbo 2.1 (the golden tests):
// - 16-bit PNGs: PIL keeps the HIGH BYTE of each RGB / RGBA / gray+alpha sample (v >> 8, not a
//   rounded v*255/65535), but opens 16-bit GRAYSCALE as a 32-bit integer image whose RGB
//   conversion CLAMPS to 0..255 (so any value above 255 turns white). We do the same, so a model
//   sees what it saw in training through torchvision; a 16-bit grayscale PNG is thus almost
//   always white — convert it to 8 bits before using it.
// - pngjs zeroes the colour of pixels that match a tRNS transparent colour; PIL keeps it, so we
//   put the colour back.
// - pngjs can decode a corrupt PNG to garbage (see checkPng), so we check the file first: chunk
//   structure, CRCs (PIL skips the IDAT CRC; we call a mismatch corrupt) and the deflate stream.
// - JPEG: jpeg-js does the entropy decoding and the IDCT, but its own colour step upsamples chroma
//   by pixel replication and truncates. We take its raw component planes instead and do what
//   libjpeg-turbo (PIL's decoder) does: "fancy" triangle upsampling of 2x-subsampled chroma and
//   the fixed-point YCbCr->RGB tables (bit-exact on DC-only test images). What remains is the
//   IDCT (jpeg-js's is not libjpeg's ISLOW): up to 3 levels per channel, mean ~0.15, measured in
//   test/image.test.ts. CMYK, 12-bit, arithmetic-coded and lossless JPEGs are refused.
// - EXIF orientation is ignored, as PIL's open() and torchvision ignore it.
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { inflateSync } from 'zlib'; // not node:zlib: pngjs needs 'zlib' too, and bundlers shim it
import { XaiError } from '../errors.js';
import type { HostTensor } from './tensor.js';

/** 8-bit RGB, 3 bytes per pixel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const OTHER_FORMATS: [string, number[]][] = [
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['BMP', [0x42, 0x4d]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
  ['WebP', [0x52, 0x49, 0x46, 0x46]],
];
const SUPPORTED = 'supported image formats: PNG, JPEG';

/** PIL refuses images over 2 * Image.MAX_IMAGE_PIXELS (its decompression-bomb check); so do we. */
const MAX_PIXELS = 2 * 89478485;

function checkPixelCount(width: number, height: number, name: string): void {
  if (width === 0 || height === 0) throw new XaiError(`${name}: the image is ${width}x${height} pixels`);
  if (width * height > MAX_PIXELS) {
    throw new XaiError(`${name}: the image is ${width}x${height} = ${width * height} pixels, over the limit of ${MAX_PIXELS} (a decompression bomb?)`);
  }
}

const startsWith = (b: Uint8Array, magic: number[]): boolean =>
  b.length >= magic.length && magic.every((m, i) => b[i] === m);

/** A library's error as one line of text. */
const oneLine = (e: unknown): string => String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim();

/** Decodes PNG or JPEG bytes (recognised by their magic bytes) to 8-bit RGB like PIL's convert('RGB'). */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  if (bytes.length === 0) throw new XaiError(`${name}: empty file; ${SUPPORTED}`);
  if (startsWith(bytes, PNG_MAGIC)) return decodePng(bytes, name);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpeg(bytes, name);
  const other = OTHER_FORMATS.find(([, magic]) => startsWith(bytes, magic));
  if (other) throw new XaiError(`${name}: ${other[0]} images are not supported; ${SUPPORTED}`);
  throw new XaiError(`${name}: not a PNG or JPEG image (unrecognised header); ${SUPPORTED}`);
}

// ---------------------------------------------------------------------------------------- PNG

function decodePng(bytes: Uint8Array, name: string): RgbImage {
  const file = checkPng(bytes, name);
  let png: pngjs.PNGWithMetadata & { transColor?: number[] };
  try {
    // skipRescale: keep 16-bit and 1/2/4-bit samples raw, so we can scale them the way PIL does.
    const buf = Buffer.from(file.buffer, file.byteOffset, file.length);
    png = pngjs.PNG.sync.read(buf, { skipRescale: true, checkCRC: false });
  } catch (e) {
    throw new XaiError(`${name}: corrupt PNG (${oneLine(e)})`);
  }
  const { width, height, depth, transColor } = png;
  const colorType: number = png.colorType; // 3 (palette) is missing from @types/pngjs
  const src = png.data as unknown as ArrayLike<number> & { [i: number]: number }; // RGBA, raw depth
  const n = width * height;
  if (transColor && (colorType === 0 || colorType === 2)) {
    // pngjs sets all four channels of a tRNS-matching pixel to 0 (and only those, as such an image
    // has no alpha of its own): give them back their colour.
    const [r, g = r, b = r] = transColor;
    for (let i = 0; i < n; i++) {
      if (src[4 * i + 3] === 0) { src[4 * i] = r; src[4 * i + 1] = g; src[4 * i + 2] = b; }
    }
  }
  let toByte: (v: number) => number;
  if (colorType === 3 || depth === 8) toByte = (v) => v; // palettes arrive expanded to 8 bits
  else if (depth === 16) toByte = colorType === 0 ? (v) => Math.min(v, 255) : (v) => v >> 8;
  else {
    const scale = 255 / ((1 << depth) - 1); // 1, 2, 4-bit gray: 255, 85, 17 — exact integers
    toByte = (v) => v * scale;
  }
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[3 * i] = toByte(src[4 * i]);
    data[3 * i + 1] = toByte(src[4 * i + 1]);
    data[3 * i + 2] = toByte(src[4 * i + 2]);
  }
  return { width, height, data };
}

/**
 * Checks a PNG before pngjs sees it, so that bad files get a precise message and never decode to
 * garbage: walks the chunks and checks their CRCs (pngjs reports truncation as "read requests
 * waiting on finished stream" and masks its own CRC error), then inflates the image data with
 * zlib, because pngjs's synchronous inflater does not report corrupt deflate data on Node 20 —
 * it returns whatever is in its output buffer, uninitialised memory included — and checks that
 * there is enough of it. Returns the bytes through IEND: like PIL we ignore anything after it,
 * which pngjs would refuse.
 */
function checkPng(b: Uint8Array, name: string): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fail = (what: string): never => { throw new XaiError(`${name}: ${what}`); };
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | undefined;
  let p = PNG_MAGIC.length;
  for (;;) {
    if (p + 8 > b.length) fail(`truncated PNG (the file ends ${p === b.length ? 'before the IEND chunk' : 'inside a chunk header'})`);
    const len = view.getUint32(p);
    const type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`corrupt PNG (bad chunk type at byte ${p + 4})`);
    if (len > b.length - p - 12) fail(`truncated PNG (the file ends inside the ${type} chunk)`);
    const body = b.subarray(p + 8, p + 8 + len);
    if (crc32(b.subarray(p + 4, p + 8 + len)) !== view.getUint32(p + 8 + len)) fail(`corrupt PNG (CRC mismatch in the ${type} chunk)`);
    if (type === 'IHDR') ihdr = body;
    if (type === 'IDAT') idat.push(body);
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (!ihdr || ihdr.length !== 13) return fail('corrupt PNG (no valid IHDR chunk)');
  if (idat.length === 0) return fail('corrupt PNG (no image data)');
  const ihdrView = new DataView(ihdr.buffer, ihdr.byteOffset, 13);
  checkPixelCount(ihdrView.getUint32(0), ihdrView.getUint32(4), name);
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(concatBytes(idat));
  } catch (e) {
    return fail(`corrupt PNG (bad compressed image data: ${oneLine(e)})`);
  }
  const need = pngDataSize(ihdr);
  if (need < 0) fail(`corrupt PNG (unsupported bit depth ${ihdr[8]} for colour type ${ihdr[9]})`);
  if (inflated.length < need) fail(`truncated PNG (the image data stops after ${inflated.length} of ${need} bytes)`);
  return b.subarray(0, p);
}

/** Bytes of filtered scanlines a PNG's IHDR calls for (all seven Adam7 passes if interlaced), or -1. */
function pngDataSize(ihdr: Uint8Array): number {
  const view = new DataView(ihdr.buffer, ihdr.byteOffset, 13);
  const width = view.getUint32(0), height = view.getUint32(4), depth = ihdr[8], colorType = ihdr[9];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth) || (channels > 1 && depth < 8) || (colorType === 3 && depth > 8)) return -1;
  const rows = (w: number, h: number): number => (w && h ? h * (1 + Math.ceil((w * channels * depth) / 8)) : 0);
  if (ihdr[12] === 0) return rows(width, height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  return passes.reduce((n, [x0, y0, dx, dy]) => n + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of parts) { out.set(a, o); o += a.length; }
  return out;
}

let crcTable: Uint32Array | undefined;

/** The CRC-32 of PNG and zlib (reflected polynomial 0xEDB88320), table-driven. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PNG bytes (8-bit RGB, no alpha) of an image. */
export function encodePng(img: RgbImage): Uint8Array {
  checkRgb(img, 'encodePng');
  const opts = { colorType: 2, inputColorType: 2, inputHasAlpha: false } as const;
  const png = new pngjs.PNG({ width: img.width, height: img.height, ...opts });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
  const out = pngjs.PNG.sync.write(png, opts);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

// --------------------------------------------------------------------------------------- JPEG

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
  const corrupt = (what: string): never => { throw new XaiError(`${name}: corrupt JPEG (${what})`); };
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
      const kind = marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf ? 'lossless' : marker >= 0xc9 ? 'arithmetic-coded' : 'hierarchical';
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

function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
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
    const t = { crR: new Int32Array(256), cbB: new Int32Array(256), crG: new Int32Array(256), cbG: new Int32Array(256) };
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
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let i = 0; i < Y.length; i++) {
    const y = Y[i], cb = Cb[i], cr = Cr[i];
    out[3 * i] = clamp(y + crR[cr]);
    out[3 * i + 1] = clamp(y + ((cbG[cb] + crG[cr]) >> 16));
    out[3 * i + 2] = clamp(y + cbB[cb]);
  }
}

// ------------------------------------------------------------------------------------- resize

/*
 * PIL's bilinear resize (Resample.c), which is what torchvision's Resize does to a PIL image.
 * It is a separable convolution, not 2x2 interpolation: each output pixel along an axis gets a
 * window of input pixels weighted by the triangle filter tri(t) = max(0, 1 - |t|), whose support
 * (1 input pixel) is stretched by the downscale factor when shrinking (that is the antialiasing):
 *   scale = in / out, fs = max(scale, 1), support = fs
 *   centre = (o + 0.5) * scale
 *   window = [trunc(centre - support + 0.5), trunc(centre + support + 0.5)) clipped to [0, in)
 *   w_i = tri((i - centre + 0.5) / fs), then divided by their sum
 * The weights become integers with 22 fractional bits (round half away from zero), a pixel is
 * 2^21 + sum(w_i * p_i) shifted right by 22 and clamped to 0..255. The horizontal pass runs
 * first into an 8-bit intermediate, then the vertical one; a pass whose size does not change is
 * skipped (no resampling at all when neither does). Integer sums stay below 2^31, so plain
 * doubles and `>>` give the same bits as Pillow's int32 C code.
 */
const PRECISION_BITS = 22;

interface Coeffs {
  ksize: number;
  /** Per output pixel: first input index and window length. */
  bounds: Int32Array;
  /** Per output pixel: ksize fixed-point weights. */
  kk: Int32Array;
}

function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // the triangle filter's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(2 * outSize);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const inv = 1 / filterscale;
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(centre - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(centre + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - centre + 0.5) * inv);
      w[x] = t < 1 ? 1 - t : 0;
      sum += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = (sum !== 0 ? w[x] / sum : w[x]) * (1 << PRECISION_BITS);
      kk[o * ksize + x] = k < 0 ? Math.trunc(k - 0.5) : Math.trunc(k + 0.5);
    }
    bounds[2 * o] = xmin;
    bounds[2 * o + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/**
 * One resampling pass over RGB bytes along one axis, for `lines` lines (rows or columns);
 * `*Line` is the byte distance between lines, `*Step` between neighbours along the axis.
 */
function resamplePass(
  src: Uint8Array, dst: Uint8Array, lines: number, outSize: number, c: Coeffs,
  srcLine: number, dstLine: number, srcStep: number, dstStep: number,
): void {
  const half = 1 << (PRECISION_BITS - 1);
  for (let l = 0; l < lines; l++) {
    for (let o = 0; o < outSize; o++) {
      const xmin = c.bounds[2 * o], n = c.bounds[2 * o + 1], k0 = o * c.ksize;
      let s0 = half, s1 = half, s2 = half;
      for (let x = 0; x < n; x++) {
        const k = c.kk[k0 + x];
        const p = l * srcLine + (xmin + x) * srcStep;
        s0 += src[p] * k;
        s1 += src[p + 1] * k;
        s2 += src[p + 2] * k;
      }
      const q = l * dstLine + o * dstStep;
      dst[q] = clip8(s0);
      dst[q + 1] = clip8(s1);
      dst[q + 2] = clip8(s2);
    }
  }
}

const clip8 = (s: number): number => {
  const v = s >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** Exactly PIL's `img.resize((outW, outH), Image.BILINEAR)` on an 8-bit RGB image. */
export function resizeBilinearPIL(img: RgbImage, outW: number, outH: number): RgbImage {
  checkRgb(img, 'resizeBilinearPIL');
  if (!(Number.isInteger(outW) && Number.isInteger(outH) && outW > 0 && outH > 0)) {
    throw new XaiError(`cannot resize to ${outW}x${outH}: the size must be positive integers`);
  }
  const { width: W, height: H } = img;
  let cur = img.data;
  if (outW !== W) {
    const next = new Uint8Array(outW * H * 3);
    resamplePass(cur, next, H, outW, precomputeCoeffs(W, outW), 3 * W, 3 * outW, 3, 3);
    cur = next;
  }
  if (outH !== H) {
    const next = new Uint8Array(outW * outH * 3);
    resamplePass(cur, next, outW, outH, precomputeCoeffs(H, outH), 3, 3, 3 * outW, 3 * outW);
    cur = next;
  }
  return { width: outW, height: outH, data: cur === img.data ? img.data.slice() : cur };
}

// ----------------------------------------------------------------------------- normalisation

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * [1, 3, H, W] float32: ToTensor (x / 255) then Normalize ((x - mean) / std), each step rounded
 * to float32 as torch computes it, so the values equal torchvision's bit for bit.
 */
export function toNormalizedTensor(img: RgbImage): HostTensor {
  checkRgb(img, 'toNormalizedTensor');
  const { width: W, height: H, data } = img;
  const f = Math.fround;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = f(IMAGENET_MEAN[c]), std = f(IMAGENET_STD[c]);
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / 255) - mean) / std);
    for (let i = 0; i < plane; i++) out[c * plane + i] = lut[data[3 * i + c]];
  }
  return { shape: [1, 3, H, W], data: out };
}

/** The inverse of toNormalizedTensor for a [1, 3, H, W] or [3, H, W] tensor: rounded, clamped to 0..255. */
export function denormalizeToRgb(t: HostTensor): RgbImage {
  const s = t.shape;
  const ok = (s.length === 4 && s[0] === 1 && s[1] === 3) || (s.length === 3 && s[0] === 3);
  if (!ok) throw new XaiError(`denormalizeToRgb: expected a [1,3,H,W] or [3,H,W] tensor, got [${s}]`);
  const H = s[s.length - 2], W = s[s.length - 1];
  const plane = W * H;
  const data = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = IMAGENET_MEAN[c], std = IMAGENET_STD[c];
    for (let i = 0; i < plane; i++) {
      const v = Math.round((t.data[c * plane + i] * std + mean) * 255);
      data[3 * i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: W, height: H, data };
}

function checkRgb(img: RgbImage, what: string): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new XaiError(`${what}: image data has ${img.data.length} bytes, ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}`);
  }
}
