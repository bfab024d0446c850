// .safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then the
// raw little-endian tensor data, offsets relative to the end of the header. Every tensor is
// converted to float32; every offset, size and shape is checked against the file.
import { XaiError } from '../errors.js';
import { DTYPE_SIZE, decodeToFloat32, type DType } from './dtype.js';
import { hostTensor, numel, type HostTensor } from './tensor.js';

const DTYPES = new Map<string, DType>(
  Object.entries({
    F64: 'f64',
    F32: 'f32',
    F16: 'f16',
    BF16: 'bf16',
    I64: 'i64',
    I32: 'i32',
    I16: 'i16',
    I8: 'i8',
    U8: 'u8',
    BOOL: 'bool',
  }),
);

/** True when the bytes start like a safetensors file: a header length, then a JSON object. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 10 && bytes[8] === 0x7b /* { */ && bytes[6] === 0 && bytes[7] === 0;
}

export function parseSafetensors(bytes: Uint8Array, name: string): Map<string, HostTensor> {
  const fail = (msg: string): never => {
    throw new XaiError(`${name}: ${msg}`);
  };
  if (bytes.length < 8) fail('truncated safetensors file (no header length)');
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) {
    fail(`truncated safetensors file (header of ${headerLen} bytes, file has ${bytes.length - 8} after the length)`);
  }
  const dataStart = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    return fail(`bad safetensors header (${e instanceof Error ? e.message.replace(/\s+/g, ' ') : 'invalid JSON'})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return fail('bad safetensors header (not a JSON object)');

  const dataLen = bytes.length - dataStart;
  const out = new Map<string, HostTensor>();
  for (const [key, info] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as Record<string, unknown>;
    const dt = typeof dtype === 'string' ? DTYPES.get(dtype) : undefined;
    if (!dt) return fail(`tensor ${key}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!isIntList(shape)) return fail(`tensor ${key}: bad shape ${JSON.stringify(shape)}`);
    if (!isIntList(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) {
      return fail(`tensor ${key}: bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets;
    if (end > dataLen)
      fail(`truncated safetensors file (tensor ${key} ends at byte ${dataStart + end}, file has ${bytes.length})`);
    const n = numel(shape);
    if (end - begin !== n * DTYPE_SIZE[dt]) {
      fail(`tensor ${key}: ${end - begin} data bytes, shape [${shape}] of ${dtype} needs ${n * DTYPE_SIZE[dt]}`);
    }
    out.set(key, hostTensor(shape, decodeToFloat32(bytes.subarray(dataStart + begin, dataStart + end), dt, n)));
  }
  return out;
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}
