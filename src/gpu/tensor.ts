/** A float32 tensor in a GPU storage buffer (row-major). The buffer may be larger than needed. */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: number[];
  /** Bytes the tensor occupies at the start of `buffer`. */
  bytes: number;
}
