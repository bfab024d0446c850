/**
 * Shared test helpers: a seeded random source (fresh seed per run, printed, reproducible with
 * TEST_SEED=...), the tolerance check |got − ref| ≤ abs + rel·|ref|, and one GPU context per file.
 */
import * as assert from 'uvu/assert';
import { GpuContext } from '../src/gpu/context.js';
import { relToMax as relToMaxOf } from '../src/io/tensor.js';

export const SEED = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed = SEED): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

/** Asserts every |got[i] − ref[i]| ≤ abs + rel·|ref[i]|, reporting the worst element. */
export function assertClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  abs: number,
  rel: number,
  what: string,
): void {
  assert.is(got.length, ref.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    const excess = err - (abs + rel * Math.abs(ref[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.unreachable(
      `${what}: element ${worst} got ${got[worst]}, want ${ref[worst]} (abs ${abs}, rel ${rel}; TEST_SEED=${SEED})`,
    );
  }
}

/** max |got − ref| / max |ref| (src/io/tensor.ts), after checking that the lengths agree. */
export function relToMax(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.is(got.length, ref.length, 'length');
  return relToMaxOf(got, ref);
}

let shared: Promise<GpuContext> | null = null;

/** One context per test file; call closeGpu() in the file's last test (uvu's test.after). */
export function gpu(): Promise<GpuContext> {
  shared ??= GpuContext.node();
  return shared;
}

export async function closeGpu(): Promise<void> {
  if (shared) await (await shared).close();
  shared = null;
}

/** A state_dict as .safetensors bytes (F32), for crafted checkpoints. */
export function encodeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, t] of tensors) {
    header[key] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let p = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
