/**
 * webgpu-xai, browser-safe entry point: nothing here touches the file system. Node programs that
 * read and write files import `webgpu-xai/node`, which adds the file helpers.
 */
export { XaiError } from './errors.js';
export { GpuContext, type Dispatch } from './gpu/context.js';
export type { GpuTensor } from './gpu/tensor.js';
export type { KernelTime } from './gpu/profiler.js';
export { ResNet, type ForwardResult } from './model/resnet.js';
export { parseResNet, type ResNetSpec } from './model/resnet-spec.js';
export { parseWeights } from './io/state-dict.js';
export { parseNpy, encodeNpy } from './io/npy.js';
export { decodeImage, encodePng, resizeBilinearPIL, toNormalizedTensor, denormalizeToRgb, type RgbImage } from './io/image.js';
export type { HostTensor } from './io/tensor.js';
