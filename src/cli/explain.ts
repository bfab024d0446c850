/** `webgpu-xai explain`: a saliency map per image, written as .npy, overlay PNG and JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { CAM_METHODS, CamExplainer, type CamMethod } from '../explain/cam.js';
import { loadWeightsFile, saveNpyFile } from '../io/files.js';
import { denormalizeToRgb } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import type { HostTensor } from '../io/tensor.js';
import { ResNet } from '../model/resnet.js';
import { overlayHeatmap } from '../viz/overlay.js';
import { intOption, parse, required, sizeOption, UsageError } from './args.js';
import { progressReporter } from './progress.js';

export const EXPLAIN_HELP = `Usage: webgpu-xai explain --method M --weights W --input I [--input I2 ...] --out DIR [options]

Explains a ResNet's prediction with a saliency map computed on the GPU (WebGPU).

  --method M      ${CAM_METHODS.join(' | ')}
  --weights W     ResNet state_dict (.pth from torch.save, or .safetensors)
  --input I       PNG/JPEG (resized like torchvision, ImageNet-normalised) or a normalised .npy
                  [3,H,W] / [N,3,H,W]; repeat --input for several images (one batch)
  --out DIR       writes DIR/saliency.npy (float32 [H,W], or [N,H,W] for several images),
                  DIR/overlay.png (overlay-<i>.png for several: jet over the image, alpha 0.5)
                  and DIR/explanation.json (method, layer, classes, scores, parameters, timings)
  --layer L       block output to explain at: layer1..layer4 or layerX.Y (default layer4)
  --class K       class to explain, or K1,K2,... one per image (default: each image's top-1)
  --batch B       masked images per forward for abscam-final / scorecam (default 32)
  --size S        model input size for images: N or HxW (default 224)
  -h, --help      this text

Formulas and papers: README.md, section "Explainers".
`;

export async function explain(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('explain', argv, {
    method: { type: 'string' }, weights: { type: 'string' }, input: { type: 'string', multiple: true },
    out: { type: 'string' }, layer: { type: 'string' }, class: { type: 'string' }, batch: { type: 'string' },
    size: { type: 'string' },
  });
  if (v.help) {
    log(EXPLAIN_HELP);
    return 0;
  }
  const method = required('explain', v, 'method') as CamMethod;
  if (!CAM_METHODS.includes(method)) throw new UsageError(`explain: unknown method "${method}" (methods: ${CAM_METHODS.join(', ')})`);
  const weightsPath = required('explain', v, 'weights');
  const inputs = (v.input as unknown as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError('explain: --input is required');
  const out = required('explain', v, 'out');
  const size = sizeOption('explain', v.size, DEFAULT_SIZE);
  const batch = intOption('explain', v.batch, 'batch', 32);
  const layer = typeof v.layer === 'string' ? v.layer : 'layer4';
  const classArg = typeof v.class === 'string' ? parseClasses(v.class) : undefined;

  const stateDict = loadWeightsFile(weightsPath);
  const image = concatBatch(inputs.map((p) => loadInput(p, size, v.size !== undefined)), inputs);
  const n = image.shape[0];
  if (classArg && classArg.length !== 1 && classArg.length !== n) {
    throw new UsageError(`explain: --class gives ${classArg.length} classes for ${n} images (give one, or one per image)`);
  }

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    const explainer = new CamExplainer(model);
    const slow = method === 'abscam-final' || method === 'scorecam';
    const r = await explainer.explain(method, image, {
      layer, batch,
      classIndex: classArg?.length === 1 ? classArg[0] : classArg,
      onProgress: slow ? progressReporter(`${method} (masked forwards, all images)`) : undefined,
    });
    const [, H, W] = r.saliency.shape;
    mkdirSync(out, { recursive: true });
    saveNpyFile(join(out, 'saliency.npy'), n === 1 ? { shape: [H, W], data: r.saliency.data } : r.saliency);
    for (let i = 0; i < n; i++) {
      const plane = H * W;
      const rgb = denormalizeToRgb({ shape: [3, H, W], data: image.data.subarray(i * 3 * plane, (i + 1) * 3 * plane) });
      saveRgbPng(join(out, n === 1 ? 'overlay.png' : `overlay-${i}.png`), overlayHeatmap(rgb, r.saliency.data.subarray(i * plane, (i + 1) * plane)));
    }
    const report = {
      method, layer: r.layer, weights: weightsPath, architecture: model.spec.arch, inputs, inputShape: image.shape,
      classes: r.classes, scores: r.scores, parameters: { batch: slow ? batch : undefined },
      forwardPasses: r.forwardPasses, peakGpuMiB: +(r.peakGpuBytes / 2 ** 20).toFixed(1),
      timingsMs: r.timingsMs, adapter: ctx.adapterInfo,
    };
    writeFileSync(join(out, 'explanation.json'), JSON.stringify(report, null, 2) + '\n');
    for (let i = 0; i < n; i++) log(`${n > 1 ? `image ${i}: ` : ''}${method} at ${r.layer} for class ${r.classes[i]} (logit ${r.scores[i].toFixed(4)})`);
    log(`wrote ${join(out, 'saliency.npy')}, ${n === 1 ? 'overlay.png' : `overlay-0..${n - 1}.png`}, explanation.json (${r.timingsMs.total} ms)`);
  } finally {
    await ctx.close();
  }
  return 0;
}

function parseClasses(text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((c) => !Number.isInteger(c) || c < 0)) throw new UsageError(`explain: --class must be a class index or a comma-separated list, got "${text}"`);
  return list;
}

/** Stacks [n_i, 3, H, W] inputs into one batch; all must have the same size. */
function concatBatch(tensors: HostTensor[], names: string[]): HostTensor {
  const [, c, h, w] = tensors[0].shape;
  tensors.forEach((t, i) => {
    if (t.shape[1] !== c || t.shape[2] !== h || t.shape[3] !== w) {
      throw new XaiError(`${names[i]} is [${t.shape.slice(1)}] but ${names[0]} is [${c},${h},${w}]: all inputs of one run need the same size`);
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
