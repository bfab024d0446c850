/**
 * webgpu-xai, browser-safe entry point: nothing here touches the file system. Node programs that
 * read and write files import `webgpu-xai/node`, which adds the file helpers.
 */
export { GpuValidationError, XaiError } from './errors.js';
export { GpuContext, type Dispatch } from './gpu/context.js';
export type { GpuTensor } from './gpu/tensor.js';
export type { KernelTime } from './gpu/profiler.js';
export { ResNet, type ForwardResult } from './model/resnet.js';
export { parseResNet, type ResNetSpec } from './model/resnet-spec.js';
export { parseWeights } from './io/state-dict.js';
export { parseNpy, encodeNpy } from './io/npy.js';
export { decodeImageBitmap, rgbFromImage } from './io/browser-image.js';
export { imagesToTensor, DEFAULT_INPUT_SIZE, type ImageSource, type ImageSize } from './kernels/image-source.js';
export type { ModelInput, InputOptions } from './model/input.js';
export {
  resizeBilinearPIL,
  toNormalizedTensor,
  denormalizeToRgb,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type RgbImage,
} from './io/preprocess.js';
export type { HostTensor } from './io/tensor.js';
export { gradientAt, gradientTapNames, type GradientResult } from './model/gradient.js';
export {
  CamExplainer,
  CAM_METHODS,
  type CamMethod,
  type CamOptions,
  type CamResult,
  type CamGpuResult,
  type CamResultOf,
} from './explain/cam.js';
export { overlayHeatmap } from './viz/overlay.js';
export { drawOverlay, type OverlayOptions } from './kernels/overlay.js';
export { JET_LUT } from './viz/colormap.js';
export { RiseExplainer, type RiseOptions, type RiseResult } from './explain/rise.js';
export { planMasks, MASK_MODES, type MaskMode, type MaskSpec } from './kernels/rise-mask-plan.js';
export { MaskGenerator } from './kernels/rise-masks.js';
export { ConvTuner, CONV_CANDIDATES, type ConvChoice } from './kernels/conv-tuner.js';
export { variantName, parseVariant, type ConvVariant } from './kernels/conv2d.js';
export { explainPlane, METHODS, RISE_METHODS, type MethodOptions } from './explain/methods.js';
export { EXPLAINERS, explainerFor } from './explain/registry.js';
export {
  saliencyPlane,
  type Explainer,
  type ExplainerFamily,
  type ExplainOptions,
  type ExplainResult,
  type CamExtras,
  type RiseExtras,
} from './explain/explainer.js';
export { camExplainer, CAM_DEFAULTS } from './explain/cam.js';
export { riseExplainer, RISE_DEFAULTS } from './explain/rise.js';
export {
  CausalMetrics,
  CAUSAL_METRICS,
  auc,
  type CausalMetricName,
  type CausalResult,
  type CausalOptions,
} from './metrics/causal.js';
export { pointingGame, boxesToRegion, maskToRegion, type PointingResult } from './metrics/pointing.js';
export {
  aggregate,
  evaluateDataset,
  type DatasetItem,
  type DatasetReport,
  type DatasetOptions,
  type ImageRecord,
} from './metrics/dataset.js';
export { curvesSvg } from './viz/curve-plot.js';
export { maskSheet } from './viz/sheet.js';
