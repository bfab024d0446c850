/**
 * The grids of dispatches, folded where one dimension would pass the adapter's limit (65535
 * workgroups). Most dispatches give GpuContext.dispatch a count of invocations and it folds with
 * grid1d; kernels that own a block per workgroup (the tiled GEMMs, per-plane reductions) give
 * tiledGrid a count of workgroups.
 *
 * Workgroup counts for a 1-D range of `count` invocations in workgroups of `wgSize`, folded into
 * (x, y) when x alone would pass the 65535-per-dimension limit. Shaders rebuild the index as
 * gid.x + gid.y · num_workgroups.x · wgSize (conv2d uses z for this, its y being channels).
 */
export function grid1d(count: number, wgSize: number, maxPerDim: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / wgSize));
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/**
 * The 3-D grid of `count` invocations in workgroups of `wgSize` (× `rows` in y): [x, rows, z] with
 * the range folded into z past the limit (shaders rebuild the index as gid.x + gid.z ·
 * num_workgroups.x · wgSize), or [x, y, 1] folded into y when there are no rows.
 */
export function grid3d(count: number, wgSize: number, maxPerDim: number, rows?: number): [number, number, number] {
  const [x, fold] = grid1d(count, wgSize, maxPerDim);
  return rows ? [x, rows, fold] : [x, fold, 1];
}

/** grid3d for `blocks` workgroup-sized blocks (a block per workgroup: wid.x + wid.z · num_workgroups.x). */
export function tiledGrid(
  ctx: { maxWorkgroupsPerDim: number },
  blocks: number,
  rows?: number,
): [number, number, number] {
  return grid3d(blocks, 1, ctx.maxWorkgroupsPerDim, rows);
}
