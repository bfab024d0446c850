/** `webgpu-xai explain`: a saliency map per image, written as .npy, overlay PNG and JSON. */
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { saliencyPlane, type ExplainOptions } from '../explain/explainer.js';
import { explainerFor, METHODS, methodsHelp } from '../explain/registry.js';
import { RISE_DEFAULTS } from '../explain/rise.js';
import { loadNpyFile, loadWeightsFile, saveNpyFile, writeFileAtomic } from '../io/files.js';
import { denormalizeToRgb } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { loadInput } from '../io/input.js';
import { assertFinite, type HostTensor } from '../io/tensor.js';
import { ResNet } from '../model/resnet.js';
import { overlayHeatmap } from '../viz/overlay.js';
import { oneOf, positiveNumber, UsageError } from './args.js';
import {
  defineCommand,
  FORWARD_BATCH,
  LAYER,
  parseOptions,
  RISE_OPTIONS,
  SIZE,
  PRECISION,
  WEIGHTS,
} from './options.js';
import { checkOutDir } from './output.js';
import { progressReporter } from './progress.js';
import { convChoices } from '../kernels/conv-tuner.js';

export const EXPLAIN = defineCommand({
  name: 'explain',
  summary: 'saliency map of a prediction (Abs-CAM, Grad-CAM family, RISE)',
  about: "Explains a ResNet's prediction with a saliency map computed on the GPU (WebGPU).",
  options: {
    method: {
      arg: 'M',
      required: true,
      parse: oneOf(METHODS, 'method'),
      help: `one of (formulas and papers in full: README.md, section "Explainers"):\n${methodsHelp('  ')}`,
    },
    ...WEIGHTS,
    input: {
      arg: 'I',
      required: true,
      repeat: true,
      help: 'PNG/JPEG (resized like torchvision, ImageNet-normalised) or a normalised .npy\n[3,H,W] / [N,3,H,W]; repeat --input for several images (one batch)',
    },
    out: {
      arg: 'DIR',
      required: true,
      help: `writes DIR/saliency.npy (float32 [H,W], or [N,H,W] for several images),
DIR/overlay.png (overlay-<i>.png for several: jet over the image, alpha 0.5)
and DIR/explanation.json (method, layer, classes, scores, parameters, timings)`,
    },
    class: {
      arg: 'K',
      help: 'class to explain, or K1,K2,... one per image',
      defaultText: "each image's top-1",
      parse: classList,
    },
    ...FORWARD_BATCH,
    ...PRECISION,
    ...SIZE,
    ...LAYER,
    ...RISE_OPTIONS,
    scores: {
      arg: 'X',
      help: "logits (the original project's code) or softmax (the RISE paper)",
      default: RISE_DEFAULTS.scores,
      parse: oneOf(['logits', 'softmax'] as const),
      group: 'RISE',
    },
    'masks-file': {
      arg: 'F',
      help: 'masks .npy, (N,1,H,W) or (N,H,W), float64 or float32, instead of generated ones',
      group: 'RISE',
    },
    tolerance: {
      arg: 'T',
      parse: positiveNumber,
      group: 'RISE',
      help: "stop once every pixel's standard error ≤ T × the map's range (checked every\n4 batches); explanation.json says how many masks were used",
    },
  },
  notes: `The RISE defaults are the RISE paper's settings for ResNet-50 (scores: the original project's).
RISE (rise: binary masks, rise-gauss: clip(N(0.5, 0.25), 0, 1) grids, rise-perlin: Perlin noise)
explains one image at a time; saliency.npy is [classes, H, W] (all classes, as the original project
returns it), the overlay shows --class (default top-1).`,
});

export async function explain(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v, given } = parseOptions(EXPLAIN, argv);
  const { method, weights: weightsPath, input: inputs, out, size, batch, layer, class: classArg } = v;
  const explainer = explainerFor(method);
  // RISE settings not given are left to the explainer's defaults (RISE_DEFAULTS; a masks file sets N).
  const givenOnly = <T>(name: string, value: T) => (given.has(name) ? value : undefined);
  const rise: NonNullable<ExplainOptions['rise']> = {
    masks: givenOnly('masks', v.masks),
    grid: givenOnly('grid', v.grid),
    p1: givenOnly('p1', v.p1),
    seed: givenOnly('seed', v.seed),
    scores: givenOnly('scores', v.scores),
    tolerance: v.tolerance,
  };
  const options: ExplainOptions = { layer, batch, rise };
  const masksFile = v['masks-file'];
  checkOutDir('explain', out, [weightsPath, ...inputs, masksFile]);
  const stateDict = loadWeightsFile(weightsPath);
  const image = concatBatch(
    inputs.map((p) => loadInput(p, size, given.has('size'))),
    inputs,
  );
  const n = image.shape[0];
  if (classArg && classArg.length !== 1 && classArg.length !== n) {
    throw new UsageError(
      `explain: --class gives ${classArg.length} classes for ${n} images (give one, or one per image)`,
    );
  }

  if (masksFile !== undefined) rise.masksFile = assertFinite(loadNpyFile(masksFile), masksFile);
  if (!explainer.batched && n !== 1) throw new UsageError(`explain: ${method} explains one image at a time, got ${n}`);
  if (!explainer.batched && classArg && classArg.length !== 1)
    throw new UsageError(`explain: ${method} takes one --class`);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    model.precision = v.precision;
    const [, , H, W] = image.shape;
    const plane = H * W;
    const rgb = (i: number) =>
      denormalizeToRgb({ shape: [3, H, W], data: image.data.subarray(i * 3 * plane, (i + 1) * 3 * plane) });
    const r = await explainer.explain(model, image, {
      ...options,
      classIndex: classArg?.length === 1 ? classArg[0] : classArg,
      onProgress: explainer.progress ? progressReporter(`${method} (${explainer.progress})`) : undefined,
    });
    // One map per image: [H, W] for one image; per class: all of them, as the original project returns RISE's.
    const saliency = r.saliencyPer === 'image' && n === 1 ? { shape: [H, W], data: r.saliency.data } : r.saliency;
    saveNpyFile(join(out, 'saliency.npy'), saliency);
    for (let i = 0; i < n; i++) {
      saveRgbPng(
        join(out, n === 1 ? 'overlay.png' : `overlay-${i}.png`),
        overlayHeatmap(rgb(i), saliencyPlane(r, i).data),
      );
    }
    // The masks file by its path, rather than the explainer's "one was given".
    const parameters = { ...r.parameters, ...('masksFile' in r.parameters ? { masksFile } : {}) };
    const report = {
      method,
      ...r.extras,
      classes: r.classes,
      scores: r.scores,
      saliencyShape: saliency.shape,
      parameters,
      forwardPasses: r.forwardPasses,
      peakGpuMiB: mib(r.peakGpuBytes),
      timingsMs: r.timingsMs,
    };
    const note = explainer.note(r);
    for (let i = 0; i < n; i++)
      log(`${n > 1 ? `image ${i}: ` : ''}${method} for class ${r.classes[i]} (logit ${r.scores[i].toFixed(4)})${note}`);
    const full = {
      ...report,
      weights: weightsPath,
      architecture: model.spec.arch,
      inputs,
      inputShape: image.shape,
      adapter: ctx.adapterInfo,
      convVariants: convChoices(ctx),
    };
    writeFileAtomic(join(out, 'explanation.json'), JSON.stringify(full, null, 2) + '\n');
    log(`wrote ${join(out, 'saliency.npy')}, ${n === 1 ? 'overlay.png' : `overlay-0..${n - 1}.png`}, explanation.json`);
  } finally {
    await ctx.close();
  }
  return 0;
}

const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);

/** --class: a class index, or a comma-separated list of them (one per image). */
function classList(text: string, flag: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((c) => !/^\d+$/.test(c)))
    throw new UsageError(`${flag} must be a class index or a comma-separated list of them, got "${text}"`);
  return parts.map(Number);
}

/** Stacks [n_i, 3, H, W] inputs into one batch; all must have the same size. */
function concatBatch(tensors: HostTensor[], names: string[]): HostTensor {
  const [, c, h, w] = tensors[0].shape;
  tensors.forEach((t, i) => {
    if (t.shape[1] !== c || t.shape[2] !== h || t.shape[3] !== w) {
      throw new XaiError(
        `${names[i]} is [${t.shape.slice(1)}] but ${names[0]} is [${c},${h},${w}]: all inputs of one run need the same size`,
      );
    }
  });
  if (tensors.length === 1) return tensors[0];
  const n = tensors.reduce((s, t) => s + t.shape[0], 0);
  const data = new Float32Array(n * c * h * w);
  let off = 0;
  for (const t of tensors) {
    data.set(t.data, off);
    off += t.data.length;
  }
  return { shape: [n, c, h, w], data };
}
