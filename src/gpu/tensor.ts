/** The element type of a tensor in GPU memory: f32, or f16 under `--precision f16` (see ResNet). */
export type StorageType = 'f32' | 'f16';

/** A tensor in a GPU storage buffer (row-major). The buffer may be larger than needed. */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: number[];
  /** Bytes the tensor occupies at the start of `buffer`. */
  bytes: number;
  /** Element type; absent means f32. */
  dtype?: StorageType;
}

/** Bytes of one element of each storage type. */
export const ELEMENT_BYTES: Readonly<Record<StorageType, number>> = { f32: 4, f16: 2 };

export function dtypeOf(t: GpuTensor): StorageType {
  return t.dtype ?? 'f32';
}
