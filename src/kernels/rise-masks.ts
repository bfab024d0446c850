/** RISE mask generator dispatcher (shaders/rise_masks.wgsl): masks [count, H, W] for mask indices. */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { gaussianTable, type MaskPlan } from './rise-mask-plan.js';

const MODE = { binary: 0, gaussian: 1, perlin: 2 } as const;

export class MaskGenerator {
  private table: GpuTensor | undefined;

  constructor(
    private ctx: GpuContext,
    readonly plan: MaskPlan,
  ) {
    if (plan.mode === 'gaussian') {
      this.table = ctx.upload({ shape: [65536], data: gaussianTable(plan.bits) }, 'rise.gaussTable');
    }
  }

  /** Frees the Gaussian table (the only memory a generator holds between calls). */
  dispose(): void {
    this.ctx.destroy(this.table);
    this.table = undefined;
  }

  /** Masks first .. first + count − 1 as [count, H, W] float32. */
  generate(first: number, count: number): GpuTensor {
    const { grids, shifts } = this.grids(first, count);
    const masks = this.upsample(grids, shifts);
    this.ctx.release(grids, shifts);
    return masks;
  }

  /** The fixed-point grids [count, s, s] (u32) and shifts [count, 2] (dy, dx) of those masks. */
  grids(first: number, count: number): { grids: GpuTensor; shifts: GpuTensor } {
    const ctx = this.ctx;
    const s = this.plan.grid;
    const grids = ctx.tensor([count, s, s], 'rise.grids');
    const shifts = ctx.tensor([count, 2], 'rise.shifts');
    ctx.dispatch({
      pipeline: { shader: 'rise_masks', entryPoint: 'rise_grid', constants: { MODE: MODE[this.plan.mode] } },
      buffers: { gaussTable: this.table ?? ctx.dummyBuffer, grids, shifts },
      params: this.uniform(first, count),
      invocations: count * s * s,
      label: 'rise.grid',
    });
    return { grids, shifts };
  }

  /** Bilinear up-sampling and crop of given grids and shifts (also how tests feed their own). */
  upsample(grids: GpuTensor, shifts: GpuTensor): GpuTensor {
    const ctx = this.ctx;
    const count = grids.shape[0];
    const { height: H, width: W } = this.plan;
    const masks = ctx.tensor([count, H, W], 'rise.masks');
    ctx.dispatch({
      pipeline: { shader: 'rise_masks', entryPoint: 'rise_upsample' },
      buffers: { ugrids: grids, ushifts: shifts, masks },
      params: this.uniform(0, count),
      invocations: count * H * W,
      label: 'rise.upsample',
    });
    return masks;
  }

  private uniform(first: number, count: number): Record<string, number> {
    const p = this.plan;
    return {
      first,
      count,
      grid: p.grid,
      seed: p.seed,
      height: p.height,
      width: p.width,
      cellH: p.cellH,
      cellW: p.cellW,
      upH: p.upH,
      upW: p.upW,
      bits: p.bits,
      threshold: p.threshold,
      scale: p.scale,
    };
  }
}
