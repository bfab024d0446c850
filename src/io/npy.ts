// NumPy .npy arrays: magic "\x93NUMPY", a version byte pair, a 2-byte (v1) or 4-byte (v2, v3)
// little-endian header length, a Python dict literal {'descr', 'fortran_order', 'shape'}, then
// the raw data. The reader takes C-order little-endian numbers (f2, f4, f8, integers, bool) and
// converts them to float32. The writer emits float32 v1.0 files byte-identical to numpy's own
// (sorted keys, the spare spaces numpy leaves for growing the first axis, padding to 64 bytes).
import { XaiError } from '../errors.js';
import { DTYPE_SIZE, decodeToFloat32, float32ToBytesLE, type DType } from './dtype.js';
import { hostTensor, numel, type HostTensor } from './tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const KINDS = new Map<string, DType>(
  Object.entries({
    f2: 'f16',
    f4: 'f32',
    f8: 'f64',
    i1: 'i8',
    i2: 'i16',
    i4: 'i32',
    i8: 'i64',
    u1: 'u8',
    b1: 'bool',
  }),
);

export function parseNpy(bytes: Uint8Array, name: string): HostTensor {
  const fail = (msg: string): never => {
    throw new XaiError(`${name}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (bad magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) fail('truncated .npy file (header length missing)');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenSize + headerLen;
  if (dataStart > bytes.length) fail(`truncated .npy file (header of ${headerLen} bytes runs past the end)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenSize, dataStart));

  // numpy writes exactly these three keys; a repeated one would leave the value to the parser.
  const keys = [...header.matchAll(/'(\w+)'\s*:/g)].map((m) => m[1]);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated) fail(`bad .npy header: the key '${repeated}' appears twice`);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`bad .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') fail('Fortran-order arrays are not supported (save a C-order array: np.ascontiguousarray)');
  const shapeParts = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!shapeParts.every((s) => /^\d+$/.test(s))) fail(`bad .npy shape (${shapeText})`);
  const shape = shapeParts.map(Number);

  const order = descr[0];
  const dtype = KINDS.get(descr.slice(1));
  if (!dtype || !'<>|='.includes(order)) return fail(`unsupported .npy dtype ${descr}`);
  if (order === '>' && DTYPE_SIZE[dtype] !== 1) fail(`big-endian dtype ${descr} is not supported (use astype('<f4'))`);

  const n = numel(shape);
  const need = n * DTYPE_SIZE[dtype];
  if (bytes.length - dataStart < need) {
    fail(
      `truncated .npy file (shape (${shape}) of ${descr} needs ${need} data bytes, file has ${bytes.length - dataStart})`,
    );
  }
  return hostTensor(shape, decodeToFloat32(bytes.subarray(dataStart), dtype, n));
}

/** A float32 tensor as a .npy file, exactly as numpy.save writes it. */
export function encodeNpy(t: HostTensor): Uint8Array {
  const header = npyHeader(t.shape);
  const out = new Uint8Array(header.length + t.data.length * 4);
  out.set(header);
  out.set(float32ToBytesLE(t.data), header.length);
  return out;
}

/** The header of a float32 C-order .npy of this shape; the data (little-endian) follows it. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // numpy leaves room to rewrite the first dimension with up to 21 digits in place.
  if (shape.length > 0) header += ' '.repeat(21 - String(shape[0]).length);
  const padTo64 = (prefix: number) => header + ' '.repeat(64 - ((prefix + header.length + 1) % 64)) + '\n';
  let text = padTo64(10);
  const v1 = text.length <= 0xffff; // else version 2.0, with a 4-byte header length
  if (!v1) text = padTo64(12);
  const out = new Uint8Array((v1 ? 10 : 12) + text.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  out[6] = v1 ? 1 : 2;
  if (v1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[out.length - text.length + i] = text.charCodeAt(i);
  return out;
}
