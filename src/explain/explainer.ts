/**
 * The one contract every explainer meets: a method is declared once (name, family, summary,
 * defaults) with a function that explains a batch of images and answers in one result shape.
 * The registry (registry.ts) lists them; callers never branch on the family.
 */
import type { HostTensor } from '../io/tensor.js';
import type { InputOptions, ModelInput } from '../model/input.js';
import type { ResNet } from '../model/resnet.js';
import type { RiseOptions } from './rise.js';

export type ExplainerFamily = 'cam' | 'rise';

export interface ExplainOptions extends InputOptions {
  /** One class for all images or one per image (default: each image's top-1). */
  classIndex?: number | number[];
  /** Masked images per forward, for the methods that run them. */
  batch?: number;
  /** Called as masked forwards complete; `Explainer.progress` says what is counted. */
  onProgress?: (done: number, total: number) => void;
  /** CAM: the block output to explain at (`layer1`…`layer4` or `layerX.Y`). */
  layer?: string;
  /** RISE: mask settings (mode defaults to the method's own). */
  rise?: Omit<RiseOptions, 'classIndex' | 'batch' | 'onProgress' | 'inputSize'>;
}

/** Abs-CAM / Grad-CAM family: where the maps were taken. */
export interface CamExtras {
  layer: string;
}

/** RISE family: how far the Monte Carlo sum went, and how noisy it is for the explained class. */
export interface RiseExtras {
  masksUsed: number;
  stoppedEarly: boolean;
  standardError: { max: number; mean: number };
}

export interface ExplainResult {
  method: string;
  family: ExplainerFamily;
  /**
   * float32 at input resolution: [n, H, W], one map per image for its class, where `saliencyPer`
   * is 'image'; [classes, H, W], every class's map of the one image, where it is 'class'.
   */
  saliency: HostTensor;
  saliencyPer: 'image' | 'class';
  /** Class explained per image, and its logit. */
  classes: number[];
  scores: number[];
  forwardPasses: number;
  /** Peak bytes the buffer pool held during the call. */
  peakGpuBytes: number;
  timingsMs: { total: number };
  /** The settings the method ran with, for reports. */
  parameters: Record<string, unknown>;
  extras?: CamExtras | RiseExtras;
}

export interface Explainer {
  name: string;
  family: ExplainerFamily;
  /** One line, formula and paper, for help texts (README.md's table gives them in full). */
  summary: string;
  defaults: Readonly<ExplainOptions>;
  /** Whether one call explains a batch of images (else one image at a time, one class). */
  batched: boolean;
  /** What onProgress counts, for a progress line; absent where the method reports none. */
  progress?: string;
  /** image: ImageNet-normalised [n, 3, H, W] (or [3, H, W]) on the host or the GPU, or image sources (model/input.ts). */
  explain(model: ResNet, image: ModelInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** A short note on a result for logs (appended to "<method> for class c"), e.g. the layer. */
  note(result: ExplainResult): string;
}

/** Image i's map [H, W] for its class. */
export function saliencyPlane(r: ExplainResult, i: number): HostTensor {
  const [, H, W] = r.saliency.shape;
  const k = r.saliencyPer === 'class' ? r.classes[i] : i;
  return { shape: [H, W], data: r.saliency.data.slice(k * H * W, (k + 1) * H * W) };
}
