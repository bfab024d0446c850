/**
 * drawOverlay: the saliency overlay of viz/overlay.ts (jet at alpha over the image, the map
 * scaled to its own min..max) drawn by the GPU into a host's texture or canvas, from a map on the
 * GPU (CamExplainer.explainToGpu): no readback. The host puts its image in the target first (a
 * video frame copied with copyExternalImageToTexture, its own rendering); the heatmap is blended
 * over it (shaders/overlay.wgsl). The map is stretched to the target's size (nearest pixel).
 */
import { XaiError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { WGSL } from '../gpu/wgsl.generated.js';
import { packUniforms } from '../gpu/context.js';
import { minMaxNormalize } from './maps.js';
import { JET_LUT } from '../viz/colormap.js';

export interface OverlayOptions {
  /** Which [H, W] plane of a [planes, H, W] map (default 0). */
  plane?: number;
  /** The heatmap's weight (default 0.5, the seed's). */
  alpha?: number;
}

interface OverlayState {
  jet: GpuTensor;
  pipelines: Map<GPUTextureFormat, GPURenderPipeline>;
}

/** Per context: the jet table (a pool buffer: close() frees it) and a pipeline per target format. */
const states = new WeakMap<GpuContext, OverlayState>();

function state(ctx: GpuContext): OverlayState {
  let s = states.get(ctx);
  if (!s) {
    const jet = ctx.upload({ shape: [256, 3], data: Float32Array.from(JET_LUT, (v) => v / 255) }, 'overlay.jet');
    states.set(ctx, (s = { jet, pipelines: new Map() }));
  }
  return s;
}

function pipeline(ctx: GpuContext, format: GPUTextureFormat): GPURenderPipeline {
  const s = state(ctx);
  let p = s.pipelines.get(format);
  if (!p) {
    const module = ctx.device.createShaderModule({ label: 'overlay', code: WGSL.overlay });
    const blend: GPUBlendComponent = { srcFactor: 'constant', dstFactor: 'one-minus-constant', operation: 'add' };
    p = ctx.device.createRenderPipeline({
      label: `overlay[${format}]`,
      layout: 'auto',
      vertex: { module, entryPoint: 'vertex_main' },
      fragment: {
        module,
        entryPoint: 'fragment_main',
        targets: [
          { format, blend: { color: blend, alpha: { srcFactor: 'zero', dstFactor: 'one', operation: 'add' } } },
        ],
      },
      primitive: { topology: 'triangle-list' },
    });
    s.pipelines.set(format, p);
  }
  return p;
}

/** Blends the colour-mapped map over `target` (a texture with RENDER_ATTACHMENT usage, or a canvas's WebGPU context). */
export function drawOverlay(
  ctx: GpuContext,
  saliency: GpuTensor,
  target: GPUTexture | GPUCanvasContext,
  opts: OverlayOptions = {},
): void {
  const texture = 'getCurrentTexture' in target ? target.getCurrentTexture() : target;
  if (!(texture.usage & GPUTextureUsage.RENDER_ATTACHMENT))
    throw new XaiError('drawOverlay: the target texture needs RENDER_ATTACHMENT usage');
  const [h, w] = saliency.shape.slice(-2);
  const planes = saliency.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const plane = opts.plane ?? 0;
  if (!(Number.isInteger(plane) && plane >= 0 && plane < planes))
    throw new XaiError(`drawOverlay: no plane ${plane} in a map of shape [${saliency.shape}]`);
  const alpha = opts.alpha ?? 0.5;
  // The plane, scaled to [0, 1] by its own min and max (a copy: the map stays the caller's).
  const scaled = ctx.tensor([1, h, w], 'overlay.map');
  ctx.copy(saliency, 4 * plane * h * w, scaled, 0, 4 * h * w);
  minMaxNormalize(ctx, scaled, 'overlay.normalize');
  ctx.flush(); // the scaling is submitted before the pass that reads it

  const device = ctx.device;
  const render = pipeline(ctx, texture.format);
  const params = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    label: 'overlay.params',
  });
  device.queue.writeBuffer(
    params,
    0,
    packUniforms('overlay', { w, h, targetW: texture.width, targetH: texture.height }) as Uint8Array<ArrayBuffer>,
  );
  const bindGroup = device.createBindGroup({
    layout: render.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: scaled.buffer, size: scaled.bytes } },
      { binding: 1, resource: { buffer: state(ctx).jet.buffer } },
      { binding: 2, resource: { buffer: params } },
    ],
  });
  const encoder = device.createCommandEncoder({ label: 'overlay' });
  const pass = encoder.beginRenderPass({
    colorAttachments: [{ view: texture.createView(), loadOp: 'load', storeOp: 'store' }],
  });
  pass.setPipeline(render);
  pass.setBindGroup(0, bindGroup);
  pass.setBlendConstant([alpha, alpha, alpha, alpha]);
  pass.draw(3);
  pass.end();
  device.queue.submit([encoder.finish()]);
  params.destroy(); // submitted work keeps it
  ctx.release(scaled);
}
