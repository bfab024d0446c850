/**
 * Host images on the GPU (shaders/image_input.wgsl): an RGBA8 texture view → image `index` of a
 * normalised [n, 3, H, W] tensor, resized as PIL's bilinear (antialiased) resize, bit for bit the
 * CPU path's (io/preprocess.ts), whose weight and normalisation tables it uploads.
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { normalizationTable, precomputeCoeffs } from '../io/preprocess.js';

export function textureToTensor(
  ctx: GpuContext,
  view: GPUTextureView,
  inW: number,
  inH: number,
  out: GpuTensor,
  index: number,
): void {
  const [, , outH, outW] = out.shape;
  const axis = (inSize: number, outSize: number, name: string) => {
    const c = precomputeCoeffs(inSize, outSize);
    const i32 = (a: Int32Array) => ({ shape: [a.length], data: new Uint32Array(a.buffer, a.byteOffset, a.length) });
    return {
      ksize: c.ksize,
      bounds: ctx.upload(i32(c.bounds), `image.${name}.bounds`),
      weights: ctx.upload(i32(c.kk), `image.${name}.weights`),
    };
  };
  const x = axis(inW, outW, 'x');
  const y = axis(inH, outH, 'y');
  const lut = ctx.upload({ shape: [3, 256], data: normalizationTable() }, 'image.normalize');
  const rows = ctx.tensor([3, inH, outW], 'image.rows');
  const shape = { inW, inH, outW, outH };
  ctx.dispatch({
    pipeline: { shader: 'image_input', entryPoint: 'resize_rows' },
    buffers: { xBounds: x.bounds, xWeights: x.weights, rowsOut: rows },
    textures: { image: view },
    params: { ...shape, ksize: x.ksize },
    invocations: inH * outW,
    label: 'image.resize.rows',
  });
  ctx.dispatch({
    pipeline: { shader: 'image_input', entryPoint: 'resize_cols' },
    buffers: { yBounds: y.bounds, yWeights: y.weights, rowsIn: rows, lut, dst: out },
    params: { ...shape, ksize: y.ksize, offset: index * 3 * outH * outW },
    invocations: outH * outW,
    label: 'image.resize.cols',
  });
  ctx.release(x.bounds, x.weights, y.bounds, y.weights, lut, rows);
}
