import { XaiError } from '../errors.js';

/** A dense float32 tensor on the host, row-major (C order). */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function hostTensor(shape: number[], data?: Float32Array): HostTensor {
  const n = numel(shape);
  if (data && data.length !== n) throw new Error(`tensor data has ${data.length} values, shape [${shape}] needs ${n}`);
  return { shape, data: data ?? new Float32Array(n) };
}

/**
 * max |got − ref| / max |ref|: a difference relative to the reference's largest magnitude (0 when
 * both are all zeros; NaN when `got` holds a NaN, so every `≤ bound` check fails on it). Lengths
 * are the caller's to match.
 */
export function relToMax(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0;
  let max = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    max = Math.max(max, Math.abs(ref[i]));
  }
  return err === 0 ? 0 : err / max;
}

/** The index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Returns `t` when every value is finite; otherwise an XaiError naming `what` and the first bad
 * element. A NaN must be refused at the door: the ReLUs (max(x, 0)) turn it into a plausible number.
 */
export function assertFinite(t: HostTensor, what: string): HostTensor {
  const i = firstNonFinite(t.data);
  if (i < 0) return t;
  const index: number[] = [];
  for (let d = t.shape.length - 1, r = i; d >= 0; d--) {
    index.unshift(r % t.shape[d]);
    r = Math.floor(r / t.shape[d]);
  }
  throw new XaiError(`${what} holds ${t.data[i]} at [${index}] (non-finite values are refused)`);
}
