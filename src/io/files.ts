// The Node-only side of the loaders: read and write files, turning file-system errors into
// XaiErrors. Everything else in src/io works on bytes and runs in a browser as well.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { XaiError } from '../errors.js';
import { float32ToBytesLE } from './dtype.js';
import { encodeNpy, npyHeader, parseNpy } from './npy.js';
import { parseWeights } from './state-dict.js';
import type { HostTensor } from './tensor.js';

/** The largest file read (Node's own limit for one buffer read is 2 GiB). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * A regular file's bytes, read up to the size it had when opened: a device (/dev/zero), a FIFO or
 * a socket is refused, since it could be read forever.
 */
export function readFileBytes(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new XaiError(`${path}: is a directory, not a file`);
    if (!st.isFile())
      throw new XaiError(`${path}: not a regular file (a device, FIFO or socket cannot be read as data)`);
    if (st.size > MAX_FILE_BYTES)
      throw new XaiError(`${path}: ${st.size} bytes, over the limit of ${MAX_FILE_BYTES} bytes for one file`);
    const bytes = new Uint8Array(st.size);
    let n = 0;
    while (n < bytes.length) {
      const got = readSync(fd, bytes, n, bytes.length - n, null);
      if (got === 0) break; // the file shrank
      n += got;
    }
    return bytes.subarray(0, n);
  } catch (e) {
    if (e instanceof XaiError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && isSymlink(path))
      throw new XaiError(`${path}: broken symbolic link (its target does not exist)`);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new XaiError(`no such file: ${path}`);
    if (code === 'EISDIR') throw new XaiError(`${path}: is a directory, not a file`);
    throw new XaiError(`cannot read ${path}: ${code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A .pth or .safetensors state_dict, keys normalised, every tensor float32. */
export function loadWeightsFile(path: string): Map<string, HostTensor> {
  return parseWeights(readFileBytes(path), path);
}

/** A JSON file, parsed; invalid JSON is an XaiError naming the file. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(readFileBytes(path)));
  } catch (e) {
    if (e instanceof XaiError) throw e;
    throw new XaiError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function loadNpyFile(path: string): HostTensor {
  return parseNpy(readFileBytes(path), path);
}

/** Writes `t` as a float32 .npy file (atomically, see writeFileAtomic). */
export function saveNpyFile(path: string, t: HostTensor): void {
  writeFileAtomic(path, encodeNpy(t));
}

/**
 * Creates the folder `path` and its missing parents, one level at a time. (Node's own
 * `mkdirSync(p, { recursive: true })` spins forever at 100% CPU under /proc, where mkdir of a
 * missing parent keeps failing with ENOENT.)
 */
export function makeDir(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      missing.push(p);
      if (dirname(p) === p) break;
      continue;
    }
    if (!st.isDirectory()) throw new XaiError(`cannot create the folder ${path}: ${p} is not a folder`);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new XaiError(`cannot create the folder ${path}: ${errorCode(e)}`);
    }
  }
}

/**
 * Writes a file so that it is either complete or absent: the bytes go to a hidden temporary file
 * in the same folder, are flushed to disk, and the temporary file is renamed over `path`. A run
 * that is killed, or a write that fails (a full disk), leaves no truncated file behind.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const file = new AtomicFile(path);
  file.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  file.commit();
}

/** A file being written under a temporary name in its final folder; commit() renames it into place. */
class AtomicFile {
  private fd: number | undefined;
  private readonly temp: string;

  constructor(readonly path: string) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    makeDir(dirname(path));
    this.fd = this.attempt(() => openSync(this.temp, 'wx'));
  }

  write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += this.attempt(() => writeSync(this.fd!, bytes, done));
  }

  commit(): void {
    this.attempt(() => {
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = undefined;
      renameSync(this.temp, this.path);
    });
  }

  /** Removes the temporary file (after a failure). */
  abort(): void {
    try {
      if (this.fd !== undefined) closeSync(this.fd);
    } catch {
      /* already failing */
    }
    this.fd = undefined;
    rmSync(this.temp, { force: true });
  }

  /** Runs a file-system step; a failure removes the temporary file and becomes an XaiError. */
  private attempt<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      this.abort();
      throw new XaiError(`cannot write ${this.path}: ${errorCode(e)}`);
    }
  }
}

const errorCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * A float32 .npy written in pieces (for arrays too large to hold): the header first, then
 * `write` appends data in C order; `close` checks that exactly the promised count arrived and
 * only then puts the file in place (atomically, as writeFileAtomic). `abort` drops it.
 */
export class NpyStreamWriter {
  private readonly file: AtomicFile;
  private written = 0;
  private readonly expected: number;

  constructor(
    readonly path: string,
    shape: number[],
  ) {
    this.expected = shape.reduce((a, b) => a * b, 1);
    this.file = new AtomicFile(path);
    this.file.write(npyHeader(shape));
  }

  write(data: Float32Array): void {
    this.file.write(float32ToBytesLE(data));
    this.written += data.length;
  }

  close(): void {
    if (this.written !== this.expected) {
      this.file.abort();
      throw new Error(`${this.path}: wrote ${this.written} of ${this.expected} values`);
    }
    this.file.commit();
  }

  abort(): void {
    this.file.abort();
  }
}
