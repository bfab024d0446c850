/**
 * Getting a GPUDevice: from Dawn in Node (npm package `webgpu`), from `navigator.gpu` in a
 * browser, or from the host application. Asks for the adapter's real limits (the defaults cap a
 * storage binding at 128 MiB even where the adapter offers more).
 *
 * Dawn trap (docs/SEMANTICS.md §6): the object returned by `create()` must stay strongly referenced for
 * as long as any adapter or device made from it is used, else Dawn crashes or hangs at random.
 * `AcquiredDevice.keepAlive` holds it; GpuContext drops it only after `device.destroy()`, which is
 * also what lets Node exit on its own.
 */
import { XaiError } from '../errors.js';

export interface AcquiredDevice {
  device: GPUDevice;
  adapterInfo: string;
  /** The Dawn instance (Node only); must outlive the device. */
  keepAlive?: unknown;
  /** Whether we created the device (and so destroy it on close) or a host app lent it to us. */
  owned: boolean;
}

export const NO_ADAPTER_HELP =
  'no WebGPU adapter found. On Linux without a GPU install Mesa >= 25 lavapipe (Debian bookworm: ' +
  'run `sudo bash scripts/setup.sh` from the webgpu-xai folder, or add bookworm-backports and ' +
  '`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`); in a browser, use one ' +
  'with WebGPU enabled (Chromium: --enable-unsafe-webgpu)';

/** Limits we raise to the adapter's maximum when it offers more than the default. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16'];

export async function deviceFromAdapter(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = adapter.limits[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'webgpu-xai' });
}

function describe(adapter: GPUAdapter): string {
  const i = adapter.info;
  return [i?.vendor, i?.architecture, i?.device, i?.description].filter(Boolean).join(' ') || 'unknown adapter';
}

/**
 * Dawn in Node. Extra Dawn toggles come from `dawnFlags` or the environment variable
 * WEBGPU_XAI_DAWN_FLAGS (comma-separated, e.g. `enable-dawn-features=allow_unsafe_apis`);
 * WEBGPU_XAI_ADAPTER=low-power|high-performance picks the power preference.
 */
export async function acquireNodeDevice(dawnFlags?: string[]): Promise<AcquiredDevice> {
  if (typeof process !== 'undefined' && process.platform === 'linux') {
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp'; // Mesa warns on every start without it
    if (!process.env.LP_NUM_THREADS) process.env.LP_NUM_THREADS = String(await lavapipeThreads());
  }
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    const name = 'webgpu'; // a variable, so browser bundlers leave the Node-only module alone
    mod = (await import(name)) as typeof mod;
  } catch (e) {
    throw new XaiError(`cannot load the Dawn bindings (npm package "webgpu"): ${(e as Error).message.split('\n')[0]}`);
  }
  // Dawn's constants (GPUBufferUsage, GPUMapMode, ...) live on `globals`, as a browser has them.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const flags =
    dawnFlags ??
    (process.env.WEBGPU_XAI_DAWN_FLAGS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const instance = mod.create(flags);
  const pref = process.env.WEBGPU_XAI_ADAPTER as GPUPowerPreference | undefined;
  const adapter = await instance.requestAdapter(pref ? { powerPreference: pref } : undefined);
  if (!adapter) throw new XaiError(NO_ADAPTER_HELP);
  const device = await deviceFromAdapter(adapter);
  return { device, adapterInfo: describe(adapter), keepAlive: instance, owned: true };
}

/**
 * Threads for Mesa's lavapipe (the software Vulkan driver; read when the driver loads, so set before
 * Dawn's instance exists; other drivers ignore it). Mesa's default, one per core, leaves the cores
 * partly idle during a compute dispatch: on a 2-core machine 8 threads ran our tuned ResNet-18
 * forward (224, batch 16) 2.1× faster than 2, and 16 or 32 no faster than 8 (bench/RESULTS.md).
 * Hence 4 per core, at least 8, at most Mesa's 32. A user's LP_NUM_THREADS is left as it is.
 */
async function lavapipeThreads(): Promise<number> {
  const name = 'node:os';
  const os = (await import(name)) as typeof import('node:os');
  return Math.min(32, Math.max(8, 4 * os.availableParallelism()));
}

/** `navigator.gpu` in a browser (or any environment that has it). */
export async function acquireBrowserDevice(options?: GPURequestAdapterOptions): Promise<AcquiredDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new XaiError(NO_ADAPTER_HELP);
  const adapter = await gpu.requestAdapter(options);
  if (!adapter) throw new XaiError(NO_ADAPTER_HELP);
  return { device: await deviceFromAdapter(adapter), adapterInfo: describe(adapter), owned: true };
}
