// Image files the way torchvision's PIL pipeline reads them:
//   decodeImage          PNG / JPEG bytes -> 8-bit RGB, as PIL's Image.open(f).convert('RGB')
//   encodePng            RGB -> PNG bytes (png.ts)
// and, re-exported from preprocess.ts, resizeBilinearPIL / toNormalizedTensor / denormalizeToRgb.
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
import { XaiError } from '../errors.js';
import { PNG_MAGIC, startsWith } from './codec-util.js';
import { decodeJpeg } from './jpeg.js';
import { decodePng } from './png.js';
import type { RgbImage } from './preprocess.js';

export { encodePng } from './png.js';
export * from './preprocess.js';

const OTHER_FORMATS: [string, number[]][] = [
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['BMP', [0x42, 0x4d]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
  ['WebP', [0x52, 0x49, 0x46, 0x46]],
];
const SUPPORTED = 'supported image formats: PNG, JPEG';

/** Decodes PNG or JPEG bytes (recognised by their magic bytes) to 8-bit RGB like PIL's convert('RGB'). */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  if (bytes.length === 0) throw new XaiError(`${name}: empty file; ${SUPPORTED}`);
  if (startsWith(bytes, PNG_MAGIC)) return decodePng(bytes, name);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpeg(bytes, name);
  const other = OTHER_FORMATS.find(([, magic]) => startsWith(bytes, magic));
  if (other) throw new XaiError(`${name}: ${other[0]} images are not supported; ${SUPPORTED}`);
  throw new XaiError(`${name}: not a PNG or JPEG image (unrecognised header); ${SUPPORTED}`);
}
