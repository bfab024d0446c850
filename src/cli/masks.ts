/** `webgpu-xai masks`: export RISE masks (made on the GPU) as .npy and a PNG sheet. */
import { join } from 'node:path';
import { GpuContext } from '../gpu/context.js';
import { maskParams, MASK_MODES, type MaskMode } from '../kernels/rise-mask-params.js';
import { MaskGenerator } from '../kernels/rise-masks.js';
import { NpyStreamWriter } from '../io/files.js';
import { denormalizeToRgb } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { loadInput } from '../io/input.js';
import { maskSheet } from '../viz/sheet.js';
import { intOption, MAX_MASKS, MAX_SEED, masksOption, p1Option, parse, required, seedOption, sizeOption, UsageError } from './args.js';
import { checkFreeSpace, checkOutDir } from './output.js';
import { progressReporter } from './progress.js';

const MASKS_HELP = `Usage: webgpu-xai masks --n N --size S --out DIR [options]

Generates RISE masks on the GPU and writes DIR/masks.npy ((N,1,H,W) float32, the seed's layout,
usable as explain --masks-file) and DIR/masks.png (the first masks, and with --input the image
masked by each: the seed's visualize_masks_and_masked_images).

  --n N           number of masks, 1..${MAX_MASKS}; refused if masks.npy (N·H·W·4 bytes) would
                  not fit on the disk
  --size S        mask size: N or HxW (the model input size)
  --grid S        grid size (default 7)
  --p1 P          keep probability of binary masks, in (0, 1] (default 0.5)
  --mode M        ${MASK_MODES.join(' | ')} (default binary)
  --seed K        seed, 0..${MAX_SEED} (default 0): the same seed gives the same masks on any device
  --input I       an image to show masked in the sheet
  --show K        masks in the sheet (default 8)
  --batch B       masks per GPU batch (default 256)
  -h, --help      this text
`;

export async function masks(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('masks', argv, {
    n: { type: 'string' }, size: { type: 'string' }, grid: { type: 'string' }, p1: { type: 'string' }, mode: { type: 'string' },
    seed: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, show: { type: 'string' }, batch: { type: 'string' },
  });
  if (v.help) {
    log(MASKS_HELP);
    return 0;
  }
  const n = masksOption('masks', required('masks', v, 'n'), 'n', 0);
  const size = sizeOption('masks', required('masks', v, 'size'), { height: 0, width: 0 });
  const out = required('masks', v, 'out');
  const mode = (v.mode ?? 'binary') as MaskMode;
  if (!MASK_MODES.includes(mode)) throw new UsageError(`masks: --mode must be one of ${MASK_MODES.join(', ')}, got "${mode}"`);
  const p1 = p1Option('masks', v.p1);
  const params = maskParams({
    height: size.height, width: size.width, grid: intOption('masks', v.grid, 'grid', 7), p1, mode,
    seed: seedOption('masks', v.seed),
  });
  const show = Math.min(n, intOption('masks', v.show, 'show', 8));
  const batch = intOption('masks', v.batch, 'batch', 256);
  checkOutDir('masks', out, [v.input as string | undefined]);
  checkFreeSpace(out, n * size.height * size.width * 4, `masks.npy (${n} masks of ${size.height}x${size.width} float32)`);
  const image = typeof v.input === 'string' ? denormalizeToRgb(loadInput(v.input, size, true)) : undefined;

  const ctx = await GpuContext.create();
  try {
    const gen = new MaskGenerator(ctx, params);
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
        if (first < show) shown.set(host.data.subarray(0, Math.min(count, show - first) * size.height * size.width), first * size.height * size.width);
        progress(first + count, n);
      }
    } catch (e) {
      file.abort();
      throw e;
    }
    file.close();
    saveRgbPng(join(out, 'masks.png'), maskSheet(shown, show, size.height, size.width, image));
    log(`wrote ${join(out, 'masks.npy')} (${n} ${mode} masks, ${size.height}x${size.width}, grid ${params.grid}${mode === 'binary' ? `, p1 ${p1}` : ''}, seed ${params.seed}) and ${join(out, 'masks.png')}`);
  } finally {
    await ctx.close();
  }
  return 0;
}
