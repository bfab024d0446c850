// The Node-only side of the loaders: read and write files, turning file-system errors into
// XaiErrors. Everything else in src/io works on bytes and runs in a browser as well.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { XaiError } from '../errors.js';
import { encodeNpy, parseNpy } from './npy.js';
import { parseWeights } from './state-dict.js';
import type { HostTensor } from './tensor.js';

export function readFileBytes(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new XaiError(`no such file: ${path}`);
    if (code === 'EISDIR') throw new XaiError(`${path}: is a directory, not a file`);
    throw new XaiError(`cannot read ${path}: ${code ?? (e as Error).message}`);
  }
}

/** A .pth or .safetensors state_dict, keys normalised, every tensor float32. */
export function loadWeightsFile(path: string): Map<string, HostTensor> {
  return parseWeights(readFileBytes(path), path);
}

export function loadNpyFile(path: string): HostTensor {
  return parseNpy(readFileBytes(path), path);
}

/** Writes `t` as a float32 .npy file, creating the parent folders. */
export function saveNpyFile(path: string, t: HostTensor): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, encodeNpy(t));
  } catch (e) {
    throw new XaiError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
