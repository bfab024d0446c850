// Element types found in weight and array files, and their conversion to float32. Shared by the
// .pth, .safetensors and .npy readers. All file data is little-endian; on a little-endian host
// (every platform JavaScript runs on in practice) float32 data is copied with one typed-array
// copy, everything else goes through a DataView.

export type DType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  f64: 8,
  f32: 4,
  f16: 2,
  bf16: 2,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  bool: 1,
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half-precision bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decode `count` little-endian values of `dtype` from the start of `bytes` into a new Float32Array.
 * The caller has checked that `bytes` holds at least count * DTYPE_SIZE[dtype] bytes.
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: DType, count: number): Float32Array {
  const nbytes = count * DTYPE_SIZE[dtype];
  if (dtype === 'f32' && LITTLE_ENDIAN_HOST) {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count).slice();
    return new Float32Array(bytes.slice(0, nbytes).buffer);
  }
  const out = new Float32Array(count);
  const v = new DataView(bytes.buffer, bytes.byteOffset, nbytes);
  // biome-ignore format: a table of dtypes, one a line
  switch (dtype) {
    case 'f64': for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true); break;
    case 'f32': for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true); break;
    case 'f16': for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true)); break;
    case 'bf16': { // bfloat16 is the top half of a float32
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      break;
    }
    case 'i64': for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(8 * i, true)); break;
    case 'i32': for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, true); break;
    case 'i16': for (let i = 0; i < count; i++) out[i] = v.getInt16(2 * i, true); break;
    case 'i8': for (let i = 0; i < count; i++) out[i] = v.getInt8(i); break;
    case 'u8': for (let i = 0; i < count; i++) out[i] = v.getUint8(i); break;
    case 'bool': for (let i = 0; i < count; i++) out[i] = v.getUint8(i) ? 1 : 0; break;
  }
  return out;
}

/** float32 values as little-endian bytes: a view of `data` on a little-endian host, else a copy. */
export function float32ToBytesLE(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  return out;
}
