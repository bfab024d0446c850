/** `webgpu-xai masks`: export RISE masks (made on the GPU) as .npy and a PNG sheet. */
import { join } from 'node:path';
import { GpuContext } from '../gpu/context.js';
import { planMasks, MASK_MODES, type MaskMode } from '../kernels/rise-mask-plan.js';
import { MaskGenerator } from '../kernels/rise-masks.js';
import { NpyStreamWriter } from '../io/files.js';
import { denormalizeToRgb } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { loadInput } from '../io/input.js';
import { maskSheet } from '../viz/sheet.js';
import { inputSize, MAX_MASKS, oneOf, wholeNumber } from './args.js';
import { defineCommand, parseOptions, RISE_GRID } from './options.js';
import { checkFreeSpace, checkOutDir } from './output.js';
import { progressReporter } from './progress.js';

export const MASKS = defineCommand({
  name: 'masks',
  summary: 'export RISE masks (.npy and a PNG sheet)',
  about: `Generates RISE masks on the GPU and writes DIR/masks.npy ((N,1,H,W) float32, the original project's
layout, usable as explain --masks-file) and DIR/masks.png (the first masks, and with --input the image
masked by each: the original project's visualize_masks_and_masked_images).`,
  options: {
    n: {
      arg: 'N',
      required: true,
      parse: wholeNumber(1, MAX_MASKS),
      help: `number of masks, 1..${MAX_MASKS}; refused if masks.npy (N·H·W·4 bytes) would\nnot fit on the disk`,
    },
    size: { arg: 'S', required: true, parse: inputSize, help: 'mask size: N or HxW (the model input size)' },
    out: { arg: 'DIR', required: true, help: 'writes DIR/masks.npy and DIR/masks.png' },
    mode: { arg: 'M', help: MASK_MODES.join(' | '), default: 'binary' as MaskMode, parse: oneOf(MASK_MODES) },
    ...RISE_GRID,
    input: { arg: 'I', help: 'an image to show masked in the sheet' },
    show: { arg: 'K', help: 'masks in the sheet', default: 8, parse: wholeNumber() },
    batch: { arg: 'B', help: 'masks per GPU batch', default: 256, parse: wholeNumber() },
  },
});

export async function masks(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v } = parseOptions(MASKS, argv);
  const { n, size, out, mode, p1, batch } = v;
  const plan = planMasks({ height: size.height, width: size.width, grid: v.grid, p1, mode, seed: v.seed });
  const show = Math.min(n, v.show);
  checkOutDir('masks', out, [v.input]);
  checkFreeSpace(
    out,
    n * size.height * size.width * 4,
    `masks.npy (${n} masks of ${size.height}x${size.width} float32)`,
  );
  const image = v.input !== undefined ? denormalizeToRgb(loadInput(v.input, size, true)) : undefined;

  const ctx = await GpuContext.create();
  try {
    const gen = new MaskGenerator(ctx, plan);
    const file = new NpyStreamWriter(join(out, 'masks.npy'), [n, 1, size.height, size.width]);
    const progress = progressReporter('masks');
    const shown = new Float32Array(show * size.height * size.width);
    try {
      for (let first = 0; first < n; first += batch) {
        const count = Math.min(batch, n - first);
        const t = gen.generate(first, count);
        const host = await ctx.read(t);
        ctx.release(t);
        file.write(host.data);
        if (first < show)
          shown.set(
            host.data.subarray(0, Math.min(count, show - first) * size.height * size.width),
            first * size.height * size.width,
          );
        progress(first + count, n);
      }
    } catch (e) {
      file.abort();
      throw e;
    }
    file.close();
    saveRgbPng(join(out, 'masks.png'), maskSheet(shown, show, size.height, size.width, image));
    log(
      `wrote ${join(out, 'masks.npy')} (${n} ${mode} masks, ${size.height}x${size.width}, grid ${plan.grid}${mode === 'binary' ? `, p1 ${p1}` : ''}, seed ${plan.seed}) and ${join(out, 'masks.png')}`,
    );
  } finally {
    await ctx.close();
  }
  return 0;
}
