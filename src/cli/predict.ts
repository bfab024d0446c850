/** `webgpu-xai predict`: the top classes of an image (or a .npy batch) under a ResNet checkpoint. */
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { loadWeightsFile, readFileBytes, saveNpyFile, writeFileAtomic } from '../io/files.js';
import { loadInput } from '../io/input.js';
import { ResNet } from '../model/resnet.js';
import { wholeNumber } from './args.js';
import { defineCommand, parseOptions, SIZE, PRECISION, WEIGHTS } from './options.js';
import { checkOutDir } from './output.js';

export const PREDICT = defineCommand({
  name: 'predict',
  summary: 'classify an image with a ResNet checkpoint',
  about: 'Classifies an image with a torchvision ResNet checkpoint on the GPU (WebGPU).',
  options: {
    ...WEIGHTS,
    input: {
      arg: 'I',
      required: true,
      help: 'PNG or JPEG (resized like torchvision Resize((H, W)), ImageNet-normalised)\nor .npy: an already normalised tensor [3,H,W] or [N,3,H,W], used as is',
    },
    ...SIZE,
    ...PRECISION,
    labels: { arg: 'F', help: 'text file with one class name per line' },
    top: { arg: 'K', help: 'how many classes to print', default: 5, parse: wholeNumber() },
    out: { arg: 'DIR', help: 'also write DIR/logits.npy (float32 [N, classes]) and DIR/prediction.json' },
  },
});

export async function predict(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v, given } = parseOptions(PREDICT, argv);
  const { weights: weightsPath, input: inputPath, size, top } = v;
  if (v.out !== undefined) checkOutDir('predict', v.out, [weightsPath, inputPath, v.labels]);

  // Everything that can be checked without a GPU is checked first.
  const stateDict = loadWeightsFile(weightsPath);
  const input = loadInput(inputPath, size, given.has('size'));
  const labels = v.labels !== undefined ? readClassNames(v.labels) : undefined;

  const t0 = performance.now();
  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    model.precision = v.precision;
    model.checkInput(input.shape, inputPath);
    if (labels && labels.length !== model.numClasses) {
      throw new XaiError(`${v.labels} has ${labels.length} labels, the model has ${model.numClasses} classes`);
    }
    const tReady = performance.now();
    const { logits, probabilities: probs } = await model.classify(input);
    const tDone = performance.now();

    const [n, classes] = logits.shape;
    const images = [];
    for (let i = 0; i < n; i++) {
      const p = probs.data.subarray(i * classes, (i + 1) * classes);
      const l = logits.data.subarray(i * classes, (i + 1) * classes);
      const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b).slice(0, Math.min(top, classes));
      const rows = order.map((c) => ({ index: c, label: labels?.[c] ?? `class ${c}`, probability: p[c], logit: l[c] }));
      images.push(rows);
      if (n > 1) log(`image ${i}:`);
      for (const [rank, r] of rows.entries()) {
        log(
          `${String(rank + 1).padStart(3)}. ${r.label.padEnd(24)} ${(100 * r.probability).toFixed(2).padStart(6)}%   logit ${r.logit.toFixed(4)}`,
        );
      }
    }
    if (v.out !== undefined) {
      saveNpyFile(join(v.out, 'logits.npy'), logits);
      const report = {
        weights: weightsPath,
        input: inputPath,
        architecture: model.spec.arch,
        classes,
        inputShape: input.shape,
        adapter: ctx.adapterInfo,
        predictions: n === 1 ? images[0] : images,
        timingsMs: { setup: round(tReady - t0), inference: round(tDone - tReady) },
      };
      writeFileAtomic(join(v.out, 'prediction.json'), JSON.stringify(report, null, 2) + '\n');
      log(`wrote ${join(v.out, 'logits.npy')} and ${join(v.out, 'prediction.json')}`);
    }
  } finally {
    await ctx.close();
  }
  return 0;
}

/** One class name per line, in class order; an empty line inside would shift the names after it. */
export function readClassNames(path: string): string[] {
  const lines = new TextDecoder()
    .decode(readFileBytes(path))
    .split(/\r?\n/)
    .map((s) => s.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0)
    throw new XaiError(
      `${path} line ${blank + 1} is empty: one class name per line, in class order (an empty line would shift the names after it)`,
    );
  return lines;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
