/**
 * GpuContext: the one object kernels talk to. It owns (or borrows) the device and holds the
 * pipeline cache, the buffer pool, command batching and readback.
 *
 * Dispatches are recorded into one command encoder and submitted every FLUSH_EVERY dispatches (or
 * at a readback). Each submitted batch runs inside a validation and an out-of-memory error scope;
 * a captured error is raised at the next readback, naming the kernels of the failing batch, so
 * errors surface as exceptions without a GPU round trip per dispatch.
 */
import { GpuValidationError, XaiError } from '../errors.js';
import { numel, type HostTensor } from '../io/tensor.js';
import { acquireBrowserDevice, acquireNodeDevice, type AcquiredDevice } from './acquire.js';
import { BufferPool } from './buffer-pool.js';
import { PipelineCache, pipelineLabel, type PipelineKey } from './pipelines.js';
import { ENTRY_POINTS, UNIFORMS, type EntryPoint } from './wgsl.generated.js';
import { grid3d } from './grid.js';
import { TimestampProfiler, type KernelTime } from './profiler.js';
import { FileTuneStore, MemoryTuneStore, type TuneStore } from './tune-cache.js';
import { dtypeOf, ELEMENT_BYTES, type GpuTensor, type StorageType } from './tensor.js';
import { halfToFloat } from '../io/dtype.js';

const FLUSH_EVERY = 16;
const UNIFORM_BYTES = 256;

export interface Dispatch {
  pipeline: PipelineKey;
  /**
   * The storage buffers by the names the entry point declares them with in its WGSL (the build
   * reads them off the shader: ENTRY_POINTS); every one it uses must be given, and no other.
   */
  buffers: Readonly<Record<string, GpuTensor | GPUBuffer>>;
  /** Texture views by name, likewise (a host's image: shaders/image_input.wgsl). */
  textures?: Readonly<Record<string, GPUTextureView>>;
  /**
   * Uniform block, bound where the shader declares it; at most 256 bytes. Either raw bytes, or values
   * by field name of the shader's `struct Params`, packed in its order and types (from the build's
   * UNIFORMS). Fields not given are 0 — entry points of one shader share its struct and each reads
   * its own fields — and a name the struct lacks is an error naming the fields it has.
   */
  params?: ArrayBufferView | Readonly<Record<string, number>>;
  /**
   * The grid: workgroups per dimension, or `invocations`, a 1-D range of that many invocations
   * (or [range, rows]: the range for each of `rows` y-indices) in workgroups of the entry point's
   * width, folded past the per-dimension limit into y (into z with rows; shaders rebuild the index as
   * gid.x + gid.y·num_workgroups.x·width, or with gid.z).
   */
  workgroups?: [number, number?, number?];
  invocations?: number | [number, number];
  /** Shown in errors and profiles; defaults to the pipeline's label. */
  label?: string;
}

/** The interface the build read off a pipeline's entry point. */
function entryPoint(key: PipelineKey): EntryPoint {
  const e = ENTRY_POINTS[key.shader]?.[key.entryPoint ?? 'main'];
  if (!e) throw new Error(`no entry point ${key.shader}.${key.entryPoint ?? 'main'} in shaders/`);
  return e;
}

/** Named uniform values → the bytes of the shader's `struct Params` (16-byte aligned). */
export function packUniforms(shader: string, values: Readonly<Record<string, number>>, label = shader): Uint8Array {
  const fields = UNIFORMS[shader];
  if (!fields || fields.length === 0) throw new Error(`${label}: shader ${shader} declares no struct Params`);
  const names = fields.map(([n]) => n);
  const unknown = Object.keys(values).filter((k) => !names.includes(k));
  if (unknown.length)
    throw new Error(
      `${label}: no uniform ${unknown.join(', ')} in ${shader} (it has: ${names.filter((n) => !n.startsWith('_')).join(', ')})`,
    );
  const bytes = new Uint8Array(Math.ceil(fields.length / 4) * 16);
  const view = new DataView(bytes.buffer);
  fields.forEach(([name, type], i) => {
    const v = values[name];
    if (type === 'f32') view.setFloat32(4 * i, v ?? 0, true);
    else if (type === 'i32') view.setInt32(4 * i, v ?? 0, true);
    else view.setUint32(4 * i, v ?? 0, true);
  });
  return bytes;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterInfo: string;
  readonly limits: GPUSupportedLimits;
  readonly pool: BufferPool;
  /** The autotuner's choices for this adapter (on disk in Node, in memory elsewhere). */
  tuneStore: TuneStore = new MemoryTuneStore();
  private pipelines: PipelineCache;
  private keepAlive: unknown;
  private owned: boolean;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batchLabels: string[] = [];
  private uniforms: GPUBuffer[] = [];
  private uniformsUsed = 0;
  private errorChecks: Promise<void>[] = [];
  private lost: string | null = null;
  private closed = false;
  private profiler: TimestampProfiler | null = null;
  private dummy: GPUBuffer | null = null;
  /**
   * Workgroups per grid dimension before kernels fold a 1-D range into a second dimension: the
   * adapter's limit; tests lower it to exercise the folding on small tensors.
   */
  maxWorkgroupsPerDim: number;

  private constructor(acquired: AcquiredDevice) {
    this.device = acquired.device;
    this.adapterInfo = acquired.adapterInfo;
    this.keepAlive = acquired.keepAlive;
    this.owned = acquired.owned;
    this.limits = this.device.limits;
    this.maxWorkgroupsPerDim = this.limits.maxComputeWorkgroupsPerDimension;
    this.pool = new BufferPool(this.device);
    this.pipelines = new PipelineCache(this.device);
    this.device.lost.then((info) => {
      if (!this.closed) this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /** Dawn in Node (see acquireNodeDevice for WEBGPU_XAI_DAWN_FLAGS). */
  static async node(dawnFlags?: string[]): Promise<GpuContext> {
    const ctx = new GpuContext(await acquireNodeDevice(dawnFlags));
    ctx.tuneStore = await FileTuneStore.open(ctx.adapterInfo);
    return ctx;
  }

  static async browser(options?: GPURequestAdapterOptions): Promise<GpuContext> {
    return new GpuContext(await acquireBrowserDevice(options));
  }

  /** Node when running in Node, else navigator.gpu. */
  static async create(): Promise<GpuContext> {
    const isNode = typeof process !== 'undefined' && !!process.versions?.node;
    return isNode ? GpuContext.node() : GpuContext.browser();
  }

  /**
   * A device the host application owns. It must have been created with limits large enough for
   * the model (maxStorageBufferBindingSize); close() does not destroy it.
   */
  static fromDevice(device: GPUDevice): GpuContext {
    return new GpuContext({ device, adapterInfo: 'host device', owned: false });
  }

  // ---- tensors ------------------------------------------------------------------------------

  /** A new tensor (contents undefined); f16 ones need the device feature `shader-f16`. */
  tensor(shape: number[], label = 'tensor', dtype: StorageType = 'f32'): GpuTensor {
    this.assertAlive();
    // f16 tensors round their size up to whole 4-byte words (what a binding's size must be).
    const bytes = 4 * Math.ceil((ELEMENT_BYTES[dtype] * numel(shape)) / 4);
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new XaiError(
        `${label}: a tensor of shape [${shape}] needs ${(bytes / 2 ** 20).toFixed(1)} MiB, more than this adapter binds at once (${(max / 2 ** 20).toFixed(0)} MiB); use a smaller batch or input`,
      );
    }
    return { buffer: this.pool.acquire(bytes, label), shape, bytes, ...(dtype === 'f16' ? { dtype } : {}) };
  }

  /** Whether the device can store tensors in half precision (the feature `shader-f16`). */
  get hasF16(): boolean {
    return this.device.features.has('shader-f16');
  }

  /** Copies a host tensor to a new GPU tensor (u32 data for index buffers). */
  upload(t: HostTensor | { shape: number[]; data: Uint32Array }, label = 'upload'): GpuTensor {
    const g = this.tensor(t.shape, label);
    this.write(g, 0, t.data);
    return g;
  }

  /** Writes host data into a tensor at a byte offset, in order with the work recorded so far. */
  write(t: GpuTensor, byteOffset: number, data: Float32Array | Uint32Array): void {
    // queue.writeBuffer runs before any command buffer submitted after it. The pool may hand out a
    // buffer that dispatches still waiting in the current encoder use (it was released after they
    // were recorded); writing it now would land before them. Submitting them first keeps order.
    this.flush();
    this.device.queue.writeBuffer(t.buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Returns tensors to the pool for reuse (their memory stays allocated, for the next tensor). */
  release(...tensors: (GpuTensor | undefined)[]): void {
    for (const t of tensors) if (t) this.pool.release(t.buffer);
  }

  /**
   * Destroys tensors now (dispose() of long-lived objects: weights, tables). The work recorded so
   * far is submitted first, since a command buffer that uses a destroyed buffer fails to submit.
   * After close() it does nothing: close() destroyed every buffer already.
   */
  destroy(...tensors: (GpuTensor | undefined)[]): void {
    if (this.closed) return;
    this.flush();
    for (const t of tensors) if (t) this.pool.destroy(t.buffer);
  }

  /** A small buffer for a binding that a pipeline variant never reads. */
  get dummyBuffer(): GPUBuffer {
    this.dummy ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'unused' });
    return this.dummy;
  }

  // ---- dispatch -----------------------------------------------------------------------------

  dispatch(d: Dispatch): void {
    this.assertAlive();
    const label = d.label ?? pipelineLabel(d.pipeline);
    const entry = entryPoint(d.pipeline);
    for (const [kind, given, wanted] of [
      ['buffers', d.buffers, entry.storage],
      ['textures', d.textures ?? {}, entry.textures],
    ] as const) {
      const names = Object.keys(given);
      if (names.length !== Object.keys(wanted).length || names.some((k) => !(k in wanted))) {
        throw new Error(
          `${label}: ${kind} {${names.join(', ')}} given, ${d.pipeline.shader}.${d.pipeline.entryPoint ?? 'main'} binds {${Object.keys(wanted).join(', ')}}`,
        );
      }
    }
    const encoder = this.openEncoder();
    const pipeline = this.pipelines.get(d.pipeline);
    const entries: GPUBindGroupEntry[] = Object.entries(d.buffers).map(([name, b]) => ({
      binding: entry.storage[name],
      resource: 'buffer' in b ? { buffer: b.buffer, size: b.bytes } : { buffer: b },
    }));
    for (const [name, view] of Object.entries(d.textures ?? {}))
      entries.push({ binding: entry.textures[name], resource: view });
    if ((entry.uniform === null) !== !d.params)
      throw new Error(`${label}: params ${d.params ? 'given to a shader without' : 'missing for'} a uniform block`);
    if (d.params && entry.uniform !== null) {
      const bytes = ArrayBuffer.isView(d.params) ? d.params : packUniforms(d.pipeline.shader, d.params, label);
      if (bytes.byteLength > UNIFORM_BYTES) throw new Error(`${label}: uniform block too large`);
      const u = this.uniformBuffer();
      this.device.queue.writeBuffer(u, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
      entries.push({ binding: entry.uniform, resource: { buffer: u } });
    }
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    let pass = this.pass;
    if (this.profiler) {
      pass = encoder.beginComputePass({ label, timestampWrites: this.profiler.next(label) });
    } else if (!pass) {
      pass = this.pass = encoder.beginComputePass({ label: 'batch' });
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = d.workgroups ?? this.grid(d.pipeline, entry, d.invocations, label);
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg)
      throw new Error(`${label}: dispatch ${x}x${y}x${z} exceeds ${maxWg} workgroups per dimension`);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) pass.end();
    this.batchLabels.push(label);
    if (this.batchLabels.length >= FLUSH_EVERY) this.flush();
  }

  /** Workgroups for a dispatch given as `invocations` (see Dispatch). */
  private grid(
    key: PipelineKey,
    entry: EntryPoint,
    invocations: Dispatch['invocations'],
    label: string,
  ): [number, number, number] {
    if (invocations === undefined) throw new Error(`${label}: neither workgroups nor invocations given`);
    const width =
      typeof entry.width === 'number' ? entry.width : (key.constants?.[entry.width.override] ?? entry.width.default);
    const [count, rows] = typeof invocations === 'number' ? [invocations, 0] : invocations;
    return grid3d(count, width, this.maxWorkgroupsPerDim, rows);
  }

  /** Records a buffer copy in order with the dispatches around it (bytes, multiples of 4). */
  copy(src: GpuTensor, srcByte: number, dst: GpuTensor, dstByte: number, bytes: number): void {
    this.assertAlive();
    const encoder = this.openEncoder();
    this.pass?.end();
    this.pass = null;
    encoder.copyBufferToBuffer(src.buffer, srcByte, dst.buffer, dstByte, bytes);
    this.batchLabels.push('copy');
  }

  /** The batch's command encoder; opening one also opens its error scopes (closed in flush). */
  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder({ label: 'batch' });
    }
    return this.encoder;
  }

  /** Submits the recorded dispatches. */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    this.profiler?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    const labels = this.batchLabels;
    this.batchLabels = [];
    this.uniformsUsed = 0; // writes for the next batch are queued after this submit
    const validation = this.device.popErrorScope();
    const oom = this.device.popErrorScope();
    const check = Promise.all([validation, oom]).then(([v, o]) => {
      const err = v ?? o;
      if (err) {
        const kernels = [...new Set(labels)].join(', ');
        const message = `${v ? 'GPU validation error' : 'out of GPU memory'} in kernels [${kernels}]: ${err.message.split('\n')[0]}`;
        throw v ? new GpuValidationError(message) : new XaiError(message);
      }
    });
    // The rejection is raised by the next checkErrors(); until then it is not "unhandled" (which
    // would end the Node process when the scope resolves before anyone awaits it).
    check.catch(() => {});
    this.errorChecks.push(check);
  }

  /** Waits for all submitted work and raises any error it produced. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
  }

  private async checkErrors(): Promise<void> {
    const checks = this.errorChecks;
    this.errorChecks = [];
    await Promise.all(checks);
    this.assertAlive();
  }

  private uniformBuffer(): GPUBuffer {
    if (this.uniformsUsed === this.uniforms.length) {
      this.uniforms.push(
        this.device.createBuffer({
          size: UNIFORM_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
          label: 'params',
        }),
      );
    }
    return this.uniforms[this.uniformsUsed++];
  }

  // ---- readback -----------------------------------------------------------------------------

  /** Copies a tensor back to the host (flushing pending work first). */
  async read(t: GpuTensor): Promise<HostTensor> {
    this.assertAlive();
    this.flush();
    const staging = this.device.createBuffer({
      size: t.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'readback',
    });
    const enc = this.device.createCommandEncoder({ label: 'readback' });
    enc.copyBufferToBuffer(t.buffer, 0, staging, 0, t.bytes);
    this.device.queue.submit([enc.finish()]);
    let data: Float32Array;
    try {
      await staging.mapAsync(GPUMapMode.READ);
      const bytes = staging.getMappedRange().slice(0);
      data =
        dtypeOf(t) === 'f16'
          ? Float32Array.from(new Uint16Array(bytes, 0, numel(t.shape)), halfToFloat)
          : new Float32Array(bytes);
    } catch (e) {
      await this.checkErrors();
      throw new XaiError(`GPU readback failed: ${(e as Error).message}`);
    } finally {
      staging.destroy();
    }
    await this.checkErrors();
    return { shape: [...t.shape], data };
  }

  // ---- profiling ----------------------------------------------------------------------------

  /** Whether a profiler is timing dispatches now. */
  get profiling(): boolean {
    return this.profiler !== null;
  }

  /** Starts timing each dispatch (false where the adapter has no timestamp queries). */
  startProfiling(): boolean {
    if (!TimestampProfiler.supported(this.device)) return false;
    this.flush();
    this.profiler ??= new TimestampProfiler(this.device);
    return true;
  }

  async stopProfiling(): Promise<KernelTime[]> {
    if (!this.profiler) return [];
    this.flush();
    const times = await this.profiler.collect();
    this.profiler.destroy();
    this.profiler = null;
    return times;
  }

  // ---- lifetime -----------------------------------------------------------------------------

  private assertAlive(): void {
    if (this.lost) throw new XaiError(`GPU device lost (${this.lost})`);
    if (this.closed) throw new Error('GpuContext used after close()');
  }

  /**
   * Ends the context. Every buffer it created is destroyed — weights of models not disposed,
   * tensors not released, uniforms, caches — whether the device is ours or a host's. An owned
   * device is then destroyed and the Dawn instance released, after which a Node process exits by
   * itself; a host's device is left as it was.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.lost) await this.sync();
    } finally {
      this.closed = true;
      this.pool.destroyAll();
      for (const u of this.uniforms) u.destroy();
      this.dummy?.destroy();
      this.profiler?.destroy();
      if (this.owned) this.device.destroy();
      if (this.keepAlive) this.keepAlive = null; // now, and only now, Dawn may go
    }
  }
}
