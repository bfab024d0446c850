/** `webgpu-xai evaluate`: insertion and deletion curves of one saliency map. */
import { join } from 'node:path';
import { GpuContext } from '../gpu/context.js';
import { loadNpyFile, loadWeightsFile, writeFileAtomic } from '../io/files.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import { assertFinite } from '../io/tensor.js';
import { ResNet } from '../model/resnet.js';
import { CAUSAL_METRICS, CausalMetrics, type CausalMetricName } from '../metrics/causal.js';
import { curvesSvg } from '../viz/curve-plot.js';
import { intOption, parse, required, sizeOption, UsageError } from './args.js';
import { checkOutDir } from './output.js';

const EVALUATE_HELP = `Usage: webgpu-xai evaluate --metric insertion|deletion --weights W --input I --saliency S.npy --out DIR [options]

Insertion or deletion curve of a saliency map (the RISE paper's causal metrics), on the GPU.
Class = top-1 of the unmodified image (or --class), score = its softmax probability; pixels
are taken by saliency, descending (ties: lower pixel index first), --step per step.
Deletion replaces them with zeros (normalised space), insertion starts from a blurred image.

  --metric M      insertion | deletion | both
  --weights W     ResNet state_dict (.pth or .safetensors)
  --input I       PNG/JPEG (resized like torchvision) or a normalised .npy
  --saliency S    .npy map [H, W], or [classes, H, W] (RISE output: the evaluated class's map)
  --out DIR       writes DIR/curve.json (scores, auc, class, step) and DIR/curve.svg
                  (curve-<metric>.* for --metric both)
  --step N        pixels per step (default 224)
  --class K       class to score (default: top-1)
  --batch B       step images per forward (default: from the adapter's limits, as explain's)
  --size S        model input size for images: N or HxW (default 224)
  -h, --help      this text
`;

export async function evaluate(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('evaluate', argv, {
    metric: { type: 'string' }, weights: { type: 'string' }, input: { type: 'string' }, saliency: { type: 'string' },
    out: { type: 'string' }, step: { type: 'string' }, class: { type: 'string' }, batch: { type: 'string' }, size: { type: 'string' },
  });
  if (v.help) {
    log(EVALUATE_HELP);
    return 0;
  }
  const metric = required('evaluate', v, 'metric');
  const metrics = metric === 'both' ? CAUSAL_METRICS : [metric as CausalMetricName];
  if (!metrics.every((m) => CAUSAL_METRICS.includes(m))) throw new UsageError(`evaluate: --metric must be insertion, deletion or both, got "${metric}"`);
  const weightsPath = required('evaluate', v, 'weights');
  const inputPath = required('evaluate', v, 'input');
  const saliencyPath = required('evaluate', v, 'saliency');
  const out = required('evaluate', v, 'out');
  const step = intOption('evaluate', v.step, 'step', 224);
  const batch = v.batch === undefined ? undefined : intOption('evaluate', v.batch, 'batch', 1);
  const cls = v.class === undefined ? undefined : intOption('evaluate', v.class, 'class', 0, 0);
  const size = sizeOption('evaluate', v.size, DEFAULT_SIZE);
  checkOutDir('evaluate', out, [weightsPath, inputPath, saliencyPath]);
  const stateDict = loadWeightsFile(weightsPath);
  const image = loadInput(inputPath, size, v.size !== undefined);
  const saliency = assertFinite(loadNpyFile(saliencyPath), saliencyPath);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    const results = await new CausalMetrics(model).evaluate(image, saliency, metrics, { step, classIndex: cls, batch });
    for (const r of results) {
      const stem = metrics.length > 1 ? `curve-${r.metric}` : 'curve';
      const json = { metric: r.metric, scores: r.scores, auc: r.auc, class: r.classIndex, step: r.step, input: inputPath, saliency: saliencyPath, weights: weightsPath };
      writeFileAtomic(join(out, `${stem}.json`), JSON.stringify(json, null, 2) + '\n');
      const title = `${r.metric[0].toUpperCase()}${r.metric.slice(1)}: AUC ${r.auc.toFixed(4)} (class ${r.classIndex}, step ${r.step})`;
      writeFileAtomic(join(out, `${stem}.svg`), curvesSvg(title, [{ label: '', scores: r.scores }]));
      log(`${r.metric} AUC ${r.auc.toFixed(4)} for class ${r.classIndex} (${r.scores.length} points, step ${r.step}); wrote ${join(out, `${stem}.json`)} and .svg`);
    }
  } finally {
    await ctx.close();
  }
  return 0;
}
