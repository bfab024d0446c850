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
export { resizeBilinearPIL, toNormalizedTensor, denormalizeToRgb, IMAGENET_MEAN, IMAGENET_STD, type RgbImage } from './io/preprocess.js';
export type { HostTensor } from './io/tensor.js';
export { gradientAt, gradientTapNames, type GradientResult } from './model/gradient.js';
export { CamExplainer, CAM_METHODS, type CamMethod, type CamOptions, type CamResult } from './explain/cam.js';
export { overlayHeatmap } from './viz/overlay.js';
export { JET_LUT } from './viz/colormap.js';
