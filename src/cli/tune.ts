/**
 * `webgpu-xai tune`: times the conv variants of a model on this adapter ahead of use, for the input
 * size and batch sizes given, so that later runs find every choice in the cache (kernels/conv-tuner.ts).
 */
import { GpuContext } from '../gpu/context.js';
import { loadWeightsFile } from '../io/files.js';
import { ConvTuner } from '../kernels/conv-tuner.js';
import { ResNet } from '../model/resnet.js';
import { convInputs } from '../model/resnet-spec.js';
import { listOf, UsageError, wholeNumber } from './args.js';
import { defineCommand, parseOptions, SIZE, PRECISION, WEIGHTS } from './options.js';

export const TUNE = defineCommand({
  name: 'tune',
  summary: 'time the conv variants of a model on this adapter ahead of use',
  about: `Times every candidate conv variant (direct register tiles, Winograd F(2x2) and F(4x4) for 3x3
stride-1 convs) of the model's conv shapes on this adapter, and of their input gradients (the
gather, Winograd), after checking each against the direct kernel, and keeps the fastest per shape
and batch size in the tuning cache
(\${WEBGPU_XAI_CACHE_DIR:-\${XDG_CACHE_HOME:-~/.cache}}/webgpu-xai/tuning.json). Other commands tune
on first use anyway; this does it ahead, for the sizes given.`,
  options: {
    weights: { ...WEIGHTS.weights, help: 'the checkpoint (its conv shapes are what is tuned)' },
    ...SIZE,
    ...PRECISION,
    batch: {
      arg: 'B,...',
      default: [1, 32],
      parse: listOf(wholeNumber(1, 4096)),
      help: 'batch sizes to tune for (single images and the default batch of RISE,\nAbs-CAM Final and insertion/deletion); each covers its power-of-two bucket',
    },
  },
  notes: `Environment: WEBGPU_XAI_TUNE=0 turns tuning off everywhere (static defaults), WEBGPU_XAI_CONV=<variant>
forces one variant.`,
});

export async function tune(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v } = parseOptions(TUNE, argv);
  const { weights: weightsPath, size, batch: batches } = v;
  const stateDict = loadWeightsFile(weightsPath);
  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    model.precision = v.precision;
    const tuner = ConvTuner.of(ctx);
    if (!tuner.enabled) throw new UsageError('tune: WEBGPU_XAI_TUNE=0 turns tuning off; unset it to tune');
    const t0 = performance.now();
    const convs = convInputs(model.spec, size.height, size.width).map((c) => c.conv.convName);
    for (const b of batches) {
      const shape = [b, model.spec.inChannels, size.height, size.width];
      await model.prepare(shape);
      await model.prepareGradients(shape, convs);
    }
    for (const c of tuner.choices.values()) {
      const times = c.timesMs
        ? `  (${Object.entries(c.timesMs)
            .map(([k, ms]) => `${k} ${ms.toFixed(2)} ms`)
            .join(', ')})`
        : '';
      log(`${c.key}: ${c.variant} [${c.source}]${times}`);
    }
    const timed = [...tuner.choices.values()].filter((c) => c.source === 'tuned').length;
    log(
      `${tuner.choices.size} conv and gradient shapes on ${ctx.adapterInfo}: ${timed} timed now, ${tuner.choices.size - timed} from the cache, in ${((performance.now() - t0) / 1000).toFixed(1)} s; cache: ${ctx.tuneStore.location}`,
    );
    return 0;
  } finally {
    await ctx.close();
  }
}
