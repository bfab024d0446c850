/**
 * Winograd F(M×M, 3×3) dispatcher (shaders/winograd.wgsl): a 3×3, stride-1, pad-1 convolution as
 * input transform → (M+2)² GEMMs → output transform with the conv2d epilogue (BatchNorm,
 * residual, ReLU). The filter transform U = G g Gᵀ is done here once per conv and tile size, in
 * float64.
 */
import type { GpuContext } from '../gpu/context.js';
import { dtypeOf, ELEMENT_BYTES, type GpuTensor, type StorageType } from '../gpu/tensor.js';
import type { HostTensor } from '../io/tensor.js';
import { tiledGrid } from '../gpu/grid.js';
import { actTypes, uploadAs } from './precision.js';

export type WinogradM = 2 | 4;

/** G (alpha × 3) for each output tile size; Bᵀ and Aᵀ live in the shader. */
const G: Record<WinogradM, number[][]> = {
  2: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  4: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
};

export function winogradApplies(conv: { kh: number; kw: number; stride: number; pad: number }): boolean {
  return conv.kh === 3 && conv.kw === 3 && conv.stride === 1 && conv.pad === 1;
}

/** PyTorch [co, ci, 3, 3] → U = G g Gᵀ laid out [ξ][ci][co padded to 4]. */
export function packWinogradWeight(w: HostTensor, m: WinogradM): Float32Array {
  const [co, ci] = w.shape;
  const g = G[m];
  const a = m + 2;
  const co4 = Math.ceil(co / 4) * 4;
  const out = new Float32Array(a * a * ci * co4);
  const gg = new Float64Array(a * 3);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      const k = (o * ci + i) * 9;
      for (let r = 0; r < a; r++)
        for (let c = 0; c < 3; c++) {
          gg[r * 3 + c] = g[r][0] * w.data[k + c] + g[r][1] * w.data[k + 3 + c] + g[r][2] * w.data[k + 6 + c];
        }
      for (let r = 0; r < a; r++)
        for (let c = 0; c < a; c++) {
          const v = gg[r * 3] * g[c][0] + gg[r * 3 + 1] * g[c][1] + gg[r * 3 + 2] * g[c][2];
          out[((r * a + c) * ci + i) * co4 + o] = v;
        }
    }
  }
  return out;
}

export interface WinogradPlan {
  m: WinogradM;
  /** vec4 columns of output channels per GEMM invocation. */
  co4: number;
  wg: number;
  /** The GEMM pass as `gemm_tiled` (16×16 workgroups, workgroup-memory tiles; co4 and wg unused there). */
  tiled?: boolean;
}

export interface WinogradConv {
  cin: number;
  cout: number;
  scaleShift: GpuTensor;
  /** Transformed weights for this plan's m. */
  u: GpuTensor;
}

/** Uploads U for m as `dtype`, once per conv (cached in `cache`, which holds one dtype). */
export function winogradWeights(
  ctx: GpuContext,
  cache: Map<WinogradM, GpuTensor>,
  weight: HostTensor,
  m: WinogradM,
  label: string,
  dtype: StorageType = 'f32',
): GpuTensor {
  let u = cache.get(m);
  if (!u) {
    u = uploadAs(ctx, packWinogradWeight(weight, m), dtype, `${label}.winograd${m}`);
    cache.set(m, u);
  }
  return u;
}

/**
 * Bytes each of V and Mx may take: larger inputs run in chunks of tiles. Without the cap they are
 * (M+2)²/M² times the input and output (2.25× for F(4×4)), and the pool would keep one of every
 * conv's size; capped, every conv reuses buffers of about this size. 32 MiB keeps the GEMM of
 * a ResNet-18 layer1 at batch 16 in one piece on lavapipe. (Tests lower it to run many chunks.)
 */
export const winogradLimits = { tempBytes: 32 * 2 ** 20 };

/** x [n, cin, h, w] → y [n, cout, h, w]. */
export function winogradConv2d(
  ctx: GpuContext,
  x: GpuTensor,
  conv: WinogradConv,
  plan: WinogradPlan,
  post: { relu?: boolean; residual?: GpuTensor; mask?: GpuTensor; label?: string },
): GpuTensor {
  const [n, cin, h, w] = x.shape;
  const { m, co4, wg } = plan;
  const a2 = (m + 2) ** 2;
  const tilesH = Math.ceil(h / m);
  const tilesW = Math.ceil(w / m);
  const tiles = n * tilesH * tilesW;
  const cout4 = Math.ceil(conv.cout / 4);
  const groups = Math.ceil(cout4 / (plan.tiled ? 16 : co4));
  const label = post.label ?? 'winograd';
  const defines = { M: m, CO4: co4 };
  // x, V, U, Mx, the residual and y share one storage type; the sums are f32 (see the shader).
  const dtype = dtypeOf(x);
  const types = actTypes(dtype);
  for (const t of [conv.u, post.residual]) {
    if (t && dtypeOf(t) !== dtype) throw new Error(`${label}: input is ${dtype}, weights or residual ${dtypeOf(t)}`);
  }
  const perTileElements = a2 * Math.max(cin, conv.cout);
  const perElement = ELEMENT_BYTES[dtype];
  const perTile = perElement * perTileElements;
  const chunk = Math.min(4 * Math.ceil(tiles / 4), Math.max(4, 4 * Math.floor(winogradLimits.tempBytes / perTile / 4)));
  // Chunked convs all take buffers of exactly the budget, so they share the pool's buffers
  // whatever their channels; a conv that fits in one chunk takes what it needs.
  const elements = chunk < tiles ? winogradLimits.tempBytes / perElement : perTileElements * chunk;
  const v = ctx.tensor([elements], `${label}.V`, dtype);
  const mx = ctx.tensor([elements], `${label}.M`, dtype);
  const y = ctx.tensor([n, conv.cout, h, w], label, dtype);
  for (let first = 0; first < tiles; first += chunk) {
    const count = Math.min(chunk, tiles - first);
    const t4 = Math.ceil(count / 4);
    const shape = { batch: n, h, w, tilesH, tilesW, tiles: count, t4, cin, cout4, groups, cout: conv.cout, first };
    const params = { ...shape, c: cin };
    ctx.dispatch({
      pipeline: { shader: 'winograd', entryPoint: 'input', types, defines, constants: { WG: wg } },
      buffers: { src: x, dst: v },
      params,
      invocations: [count, cin],
      label: `${label}.input`,
    });
    ctx.dispatch({
      pipeline: {
        shader: 'winograd',
        entryPoint: plan.tiled ? 'gemm_tiled' : 'gemm',
        types,
        defines,
        constants: plan.tiled ? {} : { WG: wg },
      },
      buffers: { v, u: conv.u, mx },
      params,
      ...(plan.tiled
        ? { workgroups: tiledGrid(ctx, Math.ceil(t4 / 16), a2 * groups) }
        : { invocations: [t4, a2 * groups] as [number, number] }),
      label: `${label}.gemm`,
    });
    ctx.dispatch({
      pipeline: {
        shader: 'winograd',
        entryPoint: 'output',
        types,
        defines,
        constants: { WG: wg, RELU: post.relu ? 1 : 0, RESIDUAL: post.residual ? 1 : 0, MASK: post.mask ? 1 : 0 },
      },
      buffers: {
        m: mx,
        scaleShift: conv.scaleShift,
        res: post.residual ?? ctx.dummyBuffer,
        mask: post.mask ?? ctx.dummyBuffer,
        y,
      },
      params: { ...shape, c: conv.cout },
      invocations: [count, conv.cout],
      label: `${label}.output`,
    });
  }
  ctx.release(v, mx);
  return y;
}
