/**
 * A bucketed pool of storage buffers. Sizes are rounded up to one of four steps per power of two
 * (1, 1.25, 1.5, 1.75 × 2^k), so a freed buffer is reused by any later request of the same bucket
 * while wasting at most 25%. Tracks live and peak bytes, the numbers benchmarks report as GPU memory.
 */
const USAGE_STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST (GPUBufferUsage values)

export function bucketSize(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const s = Math.ceil((p * f) / 16) * 16;
    if (s >= bytes) return s;
  }
  return 2 * p;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private freeSet = new Set<GPUBuffer>();
  /** Every buffer the pool created and has not destroyed, in use or free. */
  private all = new Set<GPUBuffer>();
  /** Bytes of all buffers the pool has created and not destroyed (in use or free). */
  allocatedBytes = 0;
  peakAllocatedBytes = 0;

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = bucketSize(bytes);
    const reuse = this.free.get(size)?.pop();
    if (reuse) {
      this.freeSet.delete(reuse);
      reuse.label = label;
      return reuse;
    }
    const buffer = this.device.createBuffer({ size, usage: USAGE_STORAGE, label });
    this.all.add(buffer);
    this.allocatedBytes += size;
    this.peakAllocatedBytes = Math.max(this.peakAllocatedBytes, this.allocatedBytes);
    return buffer;
  }

  /**
   * Starts measuring the peak from now on; the returned function ends the measurement and gives
   * the peak bytes held in between (the lifetime peak stays what it was, or grows).
   */
  trackPeak(): () => number {
    const before = this.peakAllocatedBytes;
    this.peakAllocatedBytes = this.allocatedBytes;
    return () => {
      const peak = this.peakAllocatedBytes;
      this.peakAllocatedBytes = Math.max(before, peak);
      return peak;
    };
  }

  /** Returns a buffer for reuse; releasing one that is already free does nothing. */
  release(buffer: GPUBuffer): void {
    if (this.freeSet.has(buffer)) return;
    this.freeSet.add(buffer);
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }

  /** Destroys every free buffer (the ones in use stay). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.forget(b);
    this.free.clear();
    this.freeSet.clear();
  }

  /** Destroys one buffer, in use or free (its memory is returned now, not kept for reuse). */
  destroy(buffer: GPUBuffer): void {
    if (!this.all.has(buffer)) return;
    if (this.freeSet.delete(buffer)) {
      const list = this.free.get(buffer.size)!;
      list.splice(list.indexOf(buffer), 1);
    }
    this.forget(buffer);
  }

  /** Destroys every buffer the pool made, in use or not (the context is closing). */
  destroyAll(): void {
    for (const b of [...this.all]) this.forget(b);
    this.free.clear();
    this.freeSet.clear();
  }

  private forget(buffer: GPUBuffer): void {
    this.all.delete(buffer);
    this.allocatedBytes -= buffer.size;
    buffer.destroy();
  }
}
