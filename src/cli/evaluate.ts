/** `webgpu-xai evaluate`: insertion and deletion curves of one saliency map. */
import { join } from 'node:path';
import { GpuContext } from '../gpu/context.js';
import { loadNpyFile, loadWeightsFile, writeFileAtomic } from '../io/files.js';
import { loadInput } from '../io/input.js';
import { assertFinite } from '../io/tensor.js';
import { ResNet } from '../model/resnet.js';
import { CAUSAL_METRICS, CausalMetrics } from '../metrics/causal.js';
import { curvesSvg } from '../viz/curve-plot.js';
import { oneOf, wholeNumber } from './args.js';
import { defineCommand, FORWARD_BATCH, parseOptions, SIZE, STEP, PRECISION, WEIGHTS } from './options.js';
import { checkOutDir } from './output.js';

export const EVALUATE = defineCommand({
  name: 'evaluate',
  summary: 'insertion / deletion curve of a saliency map',
  about: `Insertion or deletion curve of a saliency map (the RISE paper's causal metrics), on the GPU.
Class = top-1 of the unmodified image (or --class), score = its softmax probability; pixels
are taken by saliency, descending (ties: lower pixel index first), --step per step.
Deletion replaces them with zeros (normalised space), insertion starts from a blurred image.`,
  options: {
    metric: {
      arg: 'M',
      required: true,
      help: 'insertion | deletion | both',
      parse: oneOf(['insertion', 'deletion', 'both'] as const),
    },
    ...WEIGHTS,
    input: { arg: 'I', required: true, help: 'PNG/JPEG (resized like torchvision) or a normalised .npy' },
    saliency: {
      arg: 'S',
      required: true,
      help: ".npy map [H, W], or [classes, H, W] (RISE output: the evaluated class's map)",
    },
    out: {
      arg: 'DIR',
      required: true,
      help: 'writes DIR/curve.json (scores, auc, class, step) and DIR/curve.svg\n(curve-<metric>.* for --metric both)',
    },
    ...STEP,
    class: { arg: 'K', help: 'class to score', defaultText: 'top-1', parse: wholeNumber(0) },
    ...FORWARD_BATCH,
    ...PRECISION,
    ...SIZE,
  },
});

export async function evaluate(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v, given } = parseOptions(EVALUATE, argv);
  const {
    metric,
    weights: weightsPath,
    input: inputPath,
    saliency: saliencyPath,
    out,
    step,
    batch,
    class: cls,
    size,
  } = v;
  const metrics = metric === 'both' ? CAUSAL_METRICS : [metric];
  checkOutDir('evaluate', out, [weightsPath, inputPath, saliencyPath]);
  const stateDict = loadWeightsFile(weightsPath);
  const image = loadInput(inputPath, size, given.has('size'));
  const saliency = assertFinite(loadNpyFile(saliencyPath), saliencyPath);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    model.precision = v.precision;
    const results = await new CausalMetrics(model).evaluate(image, saliency, metrics, { step, classIndex: cls, batch });
    for (const r of results) {
      const stem = metrics.length > 1 ? `curve-${r.metric}` : 'curve';
      const json = {
        metric: r.metric,
        scores: r.scores,
        auc: r.auc,
        class: r.classIndex,
        step: r.step,
        input: inputPath,
        saliency: saliencyPath,
        weights: weightsPath,
      };
      writeFileAtomic(join(out, `${stem}.json`), JSON.stringify(json, null, 2) + '\n');
      const title = `${r.metric[0].toUpperCase()}${r.metric.slice(1)}: AUC ${r.auc.toFixed(4)} (class ${r.classIndex}, step ${r.step})`;
      writeFileAtomic(join(out, `${stem}.svg`), curvesSvg(title, [{ label: '', scores: r.scores }]));
      log(
        `${r.metric} AUC ${r.auc.toFixed(4)} for class ${r.classIndex} (${r.scores.length} points, step ${r.step}); wrote ${join(out, `${stem}.json`)} and .svg`,
      );
    }
  } finally {
    await ctx.close();
  }
  return 0;
}
