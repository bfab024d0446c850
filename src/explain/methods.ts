/** One plane per call, for callers that want one image's map for one class (the data-set runner). */
import type { HostTensor } from '../io/tensor.js';
import type { ResNet } from '../model/resnet.js';
import { saliencyPlane, type ExplainOptions } from './explainer.js';
import { EXPLAINERS, explainerFor, METHODS } from './registry.js';
import type { MaskMode } from '../kernels/rise-mask-plan.js';

export { METHODS };

/** RISE method → mask mode, from the registry (kept for the library's callers). */
export const RISE_METHODS: Readonly<Record<string, MaskMode>> = Object.fromEntries(
  EXPLAINERS.flatMap((e) => (e.defaults.rise?.mode ? [[e.name, e.defaults.rise.mode]] : [])),
);

export type MethodOptions = Omit<ExplainOptions, 'classIndex' | 'onProgress'>;

/** image [1, 3, H, W]; returns [H, W] for class `cls`. */
export async function explainPlane(
  model: ResNet,
  method: string,
  image: HostTensor,
  cls: number,
  opts: MethodOptions = {},
): Promise<HostTensor> {
  return saliencyPlane(await explainerFor(method).explain(model, image, { ...opts, classIndex: cls }), 0);
}
