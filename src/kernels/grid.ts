/**
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
