/**
 * GPU time per dispatch from timestamp queries (where the adapter has 'timestamp-query'). While a
 * profiler is attached, every dispatch runs in a compute pass of its own whose begin/end timestamps
 * land in a query set; at each submit the used queries are resolved and copied to a staging buffer,
 * and `collect()` maps them all and returns (label, nanoseconds) pairs in dispatch order.
 */
const CAPACITY = 2048; // query pairs per submit; GpuContext flushes well before that

export interface KernelTime {
  label: string;
  ns: number;
}

export class TimestampProfiler {
  private querySet: GPUQuerySet;
  private labels: string[] = [];
  private pending: Promise<KernelTime[]>[] = [];

  constructor(private device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY, label: 'profiler' });
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  /** The timestampWrites for the next dispatch's pass. */
  next(label: string): GPUComputePassTimestampWrites {
    const i = this.labels.length;
    if (i >= CAPACITY) throw new Error('profiler: too many dispatches in one submit');
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  get count(): number {
    return this.labels.length;
  }

  /** Called by GpuContext just before it submits `encoder`. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (n === 0) return;
    const bytes = 16 * n;
    const resolved = this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    const labels = this.labels;
    this.labels = [];
    // Mapping waits for the submit that follows this call.
    const times = Promise.resolve().then(async () => {
      await staging.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.destroy();
      resolved.destroy();
      return labels.map((label, k) => ({ label, ns: Number(t[2 * k + 1] - t[2 * k]) }));
    });
    times.catch(() => {}); // raised by collect(), not as an unhandled rejection before it
    this.pending.push(times);
  }

  async collect(): Promise<KernelTime[]> {
    const all = (await Promise.all(this.pending)).flat();
    this.pending = [];
    return all;
  }

  destroy(): void {
    this.querySet.destroy();
  }
}
