/** `webgpu-xai predict`: the top classes of an image (or a .npy batch) under a ResNet checkpoint. */
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { loadWeightsFile, readFileBytes, saveNpyFile, writeFileAtomic } from '../io/files.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import { ResNet } from '../model/resnet.js';
import { intOption, parse, required, sizeOption } from './args.js';
import { checkOutDir } from './output.js';

const PREDICT_HELP = `Usage: webgpu-xai predict --weights W --input I [options]

Classifies an image with a torchvision ResNet checkpoint on the GPU (WebGPU).

  --weights W     state_dict saved by torch.save (.pth) or a .safetensors file;
                  ResNet-18/34/50/101/152, any class count (inferred from the keys)
  --input I       PNG or JPEG (resized like torchvision Resize((H, W)), ImageNet-normalised)
                  or .npy: an already normalised tensor [3,H,W] or [N,3,H,W], used as is
  --size S        model input size for images: N or HxW (default 224)
  --labels F      text file with one class name per line
  --top K         how many classes to print (default 5)
  --out DIR       also write DIR/logits.npy (float32 [N, classes]) and DIR/prediction.json
  -h, --help      this text
`;

export async function predict(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('predict', argv, {
    weights: { type: 'string' }, input: { type: 'string' }, size: { type: 'string' },
    labels: { type: 'string' }, top: { type: 'string' }, out: { type: 'string' },
  });
  if (v.help) {
    log(PREDICT_HELP);
    return 0;
  }
  const weightsPath = required('predict', v, 'weights');
  const inputPath = required('predict', v, 'input');
  const size = sizeOption('predict', v.size, DEFAULT_SIZE);
  const top = intOption('predict', v.top, 'top', 5);
  if (typeof v.out === 'string') checkOutDir('predict', v.out, [weightsPath, inputPath, v.labels as string | undefined]);

  // Everything that can be checked without a GPU is checked first.
  const stateDict = loadWeightsFile(weightsPath);
  const input = loadInput(inputPath, size, v.size !== undefined);
  const labels = typeof v.labels === 'string' ? readClassNames(v.labels) : undefined;

  const t0 = performance.now();
  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
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
        log(`${String(rank + 1).padStart(3)}. ${r.label.padEnd(24)} ${(100 * r.probability).toFixed(2).padStart(6)}%   logit ${r.logit.toFixed(4)}`);
      }
    }
    if (typeof v.out === 'string') {
      saveNpyFile(join(v.out, 'logits.npy'), logits);
      const report = {
        weights: weightsPath, input: inputPath, architecture: model.spec.arch, classes,
        inputShape: input.shape, adapter: ctx.adapterInfo,
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
  const lines = new TextDecoder().decode(readFileBytes(path)).split(/\r?\n/).map((s) => s.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw new XaiError(`${path} line ${blank + 1} is empty: one class name per line, in class order (an empty line would shift the names after it)`);
  return lines;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
