// Weights from a file's bytes, whatever the format: a torch.save archive (recognised by its zip
// magic, or a legacy pickle, which pth.ts refuses with advice) or a .safetensors file (recognised
// by its header). The key names are then normalised: a prefix shared by every key that
// nn.DataParallel ("module.") or a wrapper model ("model.") adds is stripped, so the model layer
// sees plain torchvision names (conv1.weight, layer1.0.bn1.running_mean, fc.bias, ...). A tensor
// holding NaN or ±Infinity is refused, naming its key.
import { XaiError } from '../errors.js';
import { parsePth } from './pth.js';
import { looksLikeSafetensors, parseSafetensors } from './safetensors.js';
import { assertFinite, type HostTensor } from './tensor.js';
import { isZip } from './zip.js';

const WRAPPER_PREFIXES = ['module.', 'model.'];

/** The state_dict in a .pth or .safetensors file's bytes; `name` prefixes every error message. */
export function parseWeights(bytes: Uint8Array, name: string): Map<string, HostTensor> {
  let tensors: Map<string, HostTensor>;
  if (isZip(bytes) || bytes[0] === 0x80) tensors = parsePth(bytes, name);
  else if (looksLikeSafetensors(bytes)) tensors = parseSafetensors(bytes, name);
  else throw new XaiError(`${name}: not a weights file (neither a torch.save .pth archive nor .safetensors)`);
  if (tensors.size === 0) throw new XaiError(`${name}: the file holds no tensors`);
  for (const [key, t] of tensors) assertFinite(t, `${name}: tensor ${key}`);
  return stripWrapperPrefix(tensors);
}

/** Drops "module." or "model." (repeatedly, e.g. "module.model.") when every key starts with it. */
export function stripWrapperPrefix(tensors: Map<string, HostTensor>): Map<string, HostTensor> {
  const keys = [...tensors.keys()];
  const prefix = WRAPPER_PREFIXES.find((p) => keys.length > 0 && keys.every((k) => k.startsWith(p)));
  if (!prefix) return tensors;
  return stripWrapperPrefix(new Map([...tensors].map(([k, v]) => [k.slice(prefix.length), v])));
}
