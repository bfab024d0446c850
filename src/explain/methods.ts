/** One entry point for every explainer: a saliency plane [H, W] of one image for one class. */
import { XaiError } from '../errors.js';
import type { HostTensor } from '../io/tensor.js';
import type { ResNet } from '../model/resnet.js';
import { CAM_METHODS, CamExplainer, type CamMethod } from './cam.js';
import { RiseExplainer, type RiseOptions } from './rise.js';
import type { MaskMode } from './rise-masks.js';

export const RISE_METHODS: Readonly<Record<string, MaskMode>> = { rise: 'binary', 'rise-gauss': 'gaussian', 'rise-perlin': 'perlin' };
export const METHODS: readonly string[] = [...CAM_METHODS, ...Object.keys(RISE_METHODS)];

export interface MethodOptions {
  /** CAM layer (default layer4). */
  layer?: string;
  batch?: number;
  /** RISE settings (mode comes from the method name). */
  rise?: Omit<RiseOptions, 'mode' | 'classIndex' | 'batch'>;
}

/** image [1, 3, H, W]; returns [H, W] for class `cls`. */
export async function explainPlane(model: ResNet, method: string, image: HostTensor, cls: number, opts: MethodOptions = {}): Promise<HostTensor> {
  const [, , H, W] = image.shape;
  if (RISE_METHODS[method]) {
    const r = await new RiseExplainer(model).explain(image, { ...opts.rise, mode: RISE_METHODS[method], classIndex: cls, batch: opts.batch });
    return { shape: [H, W], data: r.saliency.data.slice(cls * H * W, (cls + 1) * H * W) };
  }
  if (!(CAM_METHODS as readonly string[]).includes(method)) throw new XaiError(`unknown method "${method}" (methods: ${METHODS.join(', ')})`);
  const r = await new CamExplainer(model).explain(method as CamMethod, image, { layer: opts.layer, batch: opts.batch, classIndex: cls });
  return { shape: [H, W], data: r.saliency.data };
}
