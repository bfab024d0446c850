/**
 * The model input from a file: a PNG/JPEG is resized to the model size (torchvision
 * Resize((H, W)) on a PIL image) and ImageNet-normalised; a .npy is an already normalised tensor,
 * [3, H, W] or [N, 3, H, W], used as is (refused if it holds NaN or ±Infinity).
 */
import { XaiError } from '../errors.js';
import { loadNpyFile } from './files.js';
import { loadImageTensor } from './image-files.js';
import { assertFinite, type HostTensor } from './tensor.js';

export interface InputSize {
  height: number;
  width: number;
}

export const DEFAULT_SIZE: InputSize = { height: 224, width: 224 };

/**
 * The largest model input side (--size, or a .npy input's H and W): 4096 = 18 × 224. Activation
 * memory grows with H·W (a ResNet's first feature map alone is 64·H/2·W/2 floats per image).
 */
export const MAX_SIDE = 4096;

/**
 * `size` applies to images; for a .npy it is only checked when `explicitSize` says the user gave
 * it, so that a tensor is never silently resized.
 */
export function loadInput(path: string, size: InputSize = DEFAULT_SIZE, explicitSize = false): HostTensor {
  if (!path.toLowerCase().endsWith('.npy')) return loadImageTensor(path, size);
  const t = assertFinite(loadNpyFile(path), path);
  const shape = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
  if (shape.length !== 4) throw new XaiError(`${path} has shape [${t.shape}]: expected [3, H, W] or [N, 3, H, W]`);
  if (shape[2] > MAX_SIDE || shape[3] > MAX_SIDE)
    throw new XaiError(`${path} is ${shape[2]}x${shape[3]}, over the limit of ${MAX_SIDE} per side`);
  if (explicitSize && (shape[2] !== size.height || shape[3] !== size.width)) {
    throw new XaiError(
      `${path} is ${shape[2]}x${shape[3]} but --size ${size.height}x${size.width} was given (a .npy input is used as is)`,
    );
  }
  return { shape, data: t.data };
}
