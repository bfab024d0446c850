// The Node-only side of the loaders: read and write files, turning file-system errors into
// XaiErrors. Everything else in src/io works on bytes and runs in a browser as well.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { XaiError } from '../errors.js';
import { float32ToBytesLE } from './dtype.js';
import { encodeNpy, npyHeader, parseNpy } from './npy.js';
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

/**
 * A float32 .npy written in pieces (for arrays too large to hold): the header first, then
 * `write` appends data in C order; `close` checks that exactly the promised count arrived.
 */
export class NpyStreamWriter {
  private fd: number;
  private written = 0;
  private readonly expected: number;

  constructor(readonly path: string, shape: number[]) {
    this.expected = shape.reduce((a, b) => a * b, 1);
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'w');
      writeSync(this.fd, npyHeader(shape));
    } catch (e) {
      throw new XaiError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  write(data: Float32Array): void {
    writeSync(this.fd, float32ToBytesLE(data));
    this.written += data.length;
  }

  close(): void {
    closeSync(this.fd);
    if (this.written !== this.expected) throw new Error(`${this.path}: wrote ${this.written} of ${this.expected} values`);
  }
}
