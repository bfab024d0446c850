// PNG decode and encode (pngjs), decoding exactly as PIL's Image.open(f).convert('RGB') does;
// see image.ts for the surprises checked against Pillow.
import pngjs from 'pngjs';
// biome-ignore lint/style/useNodejsImportProtocol: not node:zlib: pngjs needs 'zlib' too, and bundlers shim it
import { inflateSync } from 'zlib';
import { XaiError } from '../errors.js';
import { checkPixelCount, oneLine, PNG_MAGIC } from './codec-util.js';
import { crc32 } from './crc32.js';
import { checkRgb, type RgbImage } from './preprocess.js';

export function decodePng(bytes: Uint8Array, name: string): RgbImage {
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
      if (src[4 * i + 3] === 0) {
        src[4 * i] = r;
        src[4 * i + 1] = g;
        src[4 * i + 2] = b;
      }
    }
  }
  let toByte: (v: number) => number;
  if (colorType === 3 || depth === 8)
    toByte = (v) => v; // palettes arrive expanded to 8 bits
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
  const fail = (what: string): never => {
    throw new XaiError(`${name}: ${what}`);
  };
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | undefined;
  let p = PNG_MAGIC.length;
  for (;;) {
    if (p + 8 > b.length)
      fail(`truncated PNG (the file ends ${p === b.length ? 'before the IEND chunk' : 'inside a chunk header'})`);
    const len = view.getUint32(p);
    const type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`corrupt PNG (bad chunk type at byte ${p + 4})`);
    if (len > b.length - p - 12) fail(`truncated PNG (the file ends inside the ${type} chunk)`);
    const body = b.subarray(p + 8, p + 8 + len);
    if (crc32(b.subarray(p + 4, p + 8 + len)) !== view.getUint32(p + 8 + len))
      fail(`corrupt PNG (CRC mismatch in the ${type} chunk)`);
    if (type === 'IHDR') ihdr = body;
    if (type === 'IDAT') idat.push(body);
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (ihdr?.length !== 13) return fail('corrupt PNG (no valid IHDR chunk)');
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
  const width = view.getUint32(0),
    height = view.getUint32(4),
    depth = ihdr[8],
    colorType = ihdr[9];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth) || (channels > 1 && depth < 8) || (colorType === 3 && depth > 8))
    return -1;
  const rows = (w: number, h: number): number => (w && h ? h * (1 + Math.ceil((w * channels * depth) / 8)) : 0);
  if (ihdr[12] === 0) return rows(width, height);
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  return passes.reduce(
    (n, [x0, y0, dx, dy]) => n + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
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
