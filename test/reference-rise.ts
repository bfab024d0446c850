/** CPU reference of the RISE mask generator (same scheme as shaders/rise_masks.wgsl, in JavaScript). */
import { gaussianTable, randomWord, type MaskPlan } from '../src/kernels/rise-mask-plan.js';

function fade(t: number): number {
  const t2 = (t * t) >> 12;
  const t3 = (t2 * t) >> 12;
  const poly = (((6 * t - 61440) * t) >> 12) + 40960;
  return (t3 * poly) >> 12;
}

function perlin(p: MaskPlan, mask: number, a: number, b: number): number {
  const L = Math.max(2, (p.grid + 1) >> 1);
  const pa = Math.floor(((2 * a + 1) * L * 65536) / (2 * p.grid));
  const pb = Math.floor(((2 * b + 1) * L * 65536) / (2 * p.grid));
  const ia = pa >>> 16;
  const ib = pb >>> 16;
  const fa = pa & 0xffff;
  const fb = pb & 0xffff;
  const d: number[] = [];
  for (let c = 0; c < 4; c++) {
    const h = randomWord(p.seed, mask, 2 + (ia + (c >> 1)) * (L + 1) + ib + (c & 1)) & 7;
    const ox = fa - (c >> 1) * 65536;
    const oy = fb - (c & 1) * 65536;
    const [gx, gy] = h < 4 ? [h & 1 ? -1 : 1, h & 2 ? -1 : 1] : h < 6 ? [h === 4 ? 1 : -1, 0] : [0, h === 6 ? 1 : -1];
    d.push(gx * ox + gy * oy);
  }
  const wa = fade(fa >> 4);
  const wb = fade(fb >> 4);
  const top = d[0] + (((d[1] - d[0]) * wb) >> 12);
  const bottom = d[2] + (((d[3] - d[2]) * wb) >> 12);
  return top + (((bottom - top) * wa) >> 12);
}

/** Fixed-point grids [count·s²] and shifts [count·2] of masks first.., as rise_grid makes them. */
export function gridsRef(p: MaskPlan, first: number, count: number): { grids: Uint32Array; shifts: Uint32Array } {
  const s = p.grid;
  const one = 2 ** p.bits;
  const table = p.mode === 'gaussian' ? gaussianTable(p.bits) : undefined;
  const grids = new Uint32Array(count * s * s);
  const shifts = new Uint32Array(count * 2);
  for (let m = 0; m < count; m++) {
    const mask = first + m;
    for (let cell = 0; cell < s * s; cell++) {
      let g: number;
      if (p.mode === 'binary') g = randomWord(p.seed, mask, 2 + cell) >>> 8 < p.threshold ? one : 0;
      else if (p.mode === 'gaussian') g = table![randomWord(p.seed, mask, 2 + cell) >>> 16];
      else {
        const n = perlin(p, mask, Math.floor(cell / s), cell % s);
        g = Math.min(one, Math.max(0, (one >> 1) + (n >> (16 - p.bits))));
      }
      grids[m * s * s + cell] = g;
    }
    shifts[2 * m] = randomWord(p.seed, mask, 0) % p.cellH;
    shifts[2 * m + 1] = randomWord(p.seed, mask, 1) % p.cellW;
  }
  return { grids, shifts };
}

/** Up-sampling + crop of fixed-point grids, exact integers then the same two float32 roundings. */
export function upsampleRef(p: MaskPlan, grids: Uint32Array, shifts: Uint32Array): Float32Array {
  const { height: H, width: W, grid: s } = p;
  const count = shifts.length / 2;
  const out = new Float32Array(count * H * W);
  const mirror = (i: number) => Math.min(s - 1, Math.max(0, i < 0 ? -i : i > s - 1 ? 2 * (s - 1) - i : i));
  const source = (u: number, upSize: number) => {
    const den = 2 * upSize;
    const num = (2 * u + 1) * s - upSize;
    const i0 = Math.floor(num / den);
    return [mirror(i0), mirror(i0 + 1), num - i0 * den];
  };
  for (let m = 0; m < count; m++) {
    const g = (a: number, b: number) => grids[m * s * s + a * s + b];
    for (let y = 0; y < H; y++) {
      const [a0, a1, r] = source(y + shifts[2 * m], p.upH);
      for (let x = 0; x < W; x++) {
        const [b0, b1, c] = source(x + shifts[2 * m + 1], p.upW);
        const denH = 2 * p.upH;
        const denW = 2 * p.upW;
        const top = (denW - c) * g(a0, b0) + c * g(a0, b1);
        const bottom = (denW - c) * g(a1, b0) + c * g(a1, b1);
        const num = (denH - r) * top + r * bottom; // exact in float64 (< 2^32)
        out[(m * H + y) * W + x] = Math.fround(Math.fround(num) * p.scale);
      }
    }
  }
  return out;
}
