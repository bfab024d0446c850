/** `webgpu-xai explain`: a saliency map per image, written as .npy, overlay PNG and JSON. */
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { CAM_DEFAULTS } from '../explain/cam.js';
import { saliencyPlane, type ExplainOptions } from '../explain/explainer.js';
import { explainerFor, METHODS, methodsHelp } from '../explain/registry.js';
import { RISE_DEFAULTS } from '../explain/rise.js';
import { loadNpyFile, loadWeightsFile, saveNpyFile, writeFileAtomic } from '../io/files.js';
import { denormalizeToRgb } from '../io/image.js';
import { saveRgbPng } from '../io/image-files.js';
import { DEFAULT_SIZE, loadInput } from '../io/input.js';
import { assertFinite, type HostTensor } from '../io/tensor.js';
import { ResNet } from '../model/resnet.js';
import { overlayHeatmap } from '../viz/overlay.js';
import { intOption, MAX_MASKS, MAX_SEED, masksOption, p1Option, parse, required, seedOption, sizeOption, UsageError } from './args.js';
import { checkOutDir } from './output.js';
import { progressReporter } from './progress.js';
import { convChoices } from '../kernels/conv-tuner.js';

const EXPLAIN_HELP = `Usage: webgpu-xai explain --method M --weights W --input I [--input I2 ...] --out DIR [options]

Explains a ResNet's prediction with a saliency map computed on the GPU (WebGPU).

  --method M      a method of the list below
  --weights W     ResNet state_dict (.pth from torch.save, or .safetensors)
  --input I       PNG/JPEG (resized like torchvision, ImageNet-normalised) or a normalised .npy
                  [3,H,W] / [N,3,H,W]; repeat --input for several images (one batch)
  --out DIR       writes DIR/saliency.npy (float32 [H,W], or [N,H,W] for several images),
                  DIR/overlay.png (overlay-<i>.png for several: jet over the image, alpha 0.5)
                  and DIR/explanation.json (method, layer, classes, scores, parameters, timings)
  --class K       class to explain, or K1,K2,... one per image (default: each image's top-1)
  --batch B       masked images per forward for abscam-final, scorecam and RISE (default: from the
                  adapter's limits, ResNet.defaultBatch: 32 for a ResNet-18 at 224, 64 at 112)
  --size S        model input size for images: N or HxW (default 224)
  -h, --help      this text

Methods (formulas and papers in full: README.md, section "Explainers"):
${methodsHelp('  ')}

CAM methods:
  --layer L       block output to explain at: layer1..layer4 or layerX.Y (default ${CAM_DEFAULTS.layer})

RISE (rise: binary masks, rise-gauss: clip(N(0.5, 0.25), 0, 1) grids, rise-perlin: Perlin noise);
one image at a time; saliency.npy is [classes, H, W] (all classes, as the seed returns it), the
overlay shows --class (default top-1):
  --masks N       number of masks, 1..${MAX_MASKS} (default ${RISE_DEFAULTS.masks}: the RISE paper's N for ResNet-50)
  --grid S        grid size s (default ${RISE_DEFAULTS.grid}) and --p1 P keep probability (default ${RISE_DEFAULTS.p1}): the paper's
  --seed K        mask seed, 0..${MAX_SEED} (default ${RISE_DEFAULTS.seed}); the same seed gives the same masks on any device/batch
  --scores X      logits (default: the seed's code) or softmax (the RISE paper)
  --masks-file F  masks .npy, (N,1,H,W) or (N,H,W), float64 or float32, instead of generated ones
  --tolerance T   stop once every pixel's standard error ≤ T × the map's range (checked every
                  4 batches); explanation.json says how many masks were used
`;

export async function explain(argv: string[], log: (s: string) => void): Promise<number> {
  const v = parse('explain', argv, {
    method: { type: 'string' }, weights: { type: 'string' }, input: { type: 'string', multiple: true },
    out: { type: 'string' }, layer: { type: 'string' }, class: { type: 'string' }, batch: { type: 'string' },
    size: { type: 'string' }, masks: { type: 'string' }, grid: { type: 'string' }, p1: { type: 'string' },
    seed: { type: 'string' }, scores: { type: 'string' }, 'masks-file': { type: 'string' }, tolerance: { type: 'string' },
  });
  if (v.help) {
    log(EXPLAIN_HELP);
    return 0;
  }
  const method = required('explain', v, 'method');
  if (!METHODS.includes(method)) throw new UsageError(`explain: unknown method "${method}" (methods: ${METHODS.join(', ')})`);
  const weightsPath = required('explain', v, 'weights');
  const inputs = (v.input as unknown as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError('explain: --input is required');
  const out = required('explain', v, 'out');
  const size = sizeOption('explain', v.size, DEFAULT_SIZE);
  const batch = v.batch === undefined ? undefined : intOption('explain', v.batch, 'batch', 0);
  const layer = typeof v.layer === 'string' ? v.layer : undefined;
  const classArg = typeof v.class === 'string' ? parseClasses(v.class) : undefined;

  const explainer = explainerFor(method);
  const options: ExplainOptions = { layer, batch, rise: parseRiseOptions(v) };
  checkOutDir('explain', out, [weightsPath, ...inputs, v['masks-file'] as string | undefined]);
  const stateDict = loadWeightsFile(weightsPath);
  const image = concatBatch(inputs.map((p) => loadInput(p, size, v.size !== undefined)), inputs);
  const n = image.shape[0];
  if (classArg && classArg.length !== 1 && classArg.length !== n) {
    throw new UsageError(`explain: --class gives ${classArg.length} classes for ${n} images (give one, or one per image)`);
  }

  const masksFile = typeof v['masks-file'] === 'string' ? v['masks-file'] : undefined;
  if (masksFile) options.rise!.masksFile = assertFinite(loadNpyFile(masksFile), masksFile);
  if (!explainer.batched && n !== 1) throw new UsageError(`explain: ${method} explains one image at a time, got ${n}`);
  if (!explainer.batched && classArg && classArg.length !== 1) throw new UsageError(`explain: ${method} takes one --class`);

  const ctx = await GpuContext.create();
  try {
    const model = ResNet.fromStateDict(ctx, stateDict, weightsPath);
    const [, , H, W] = image.shape;
    const plane = H * W;
    const rgb = (i: number) => denormalizeToRgb({ shape: [3, H, W], data: image.data.subarray(i * 3 * plane, (i + 1) * 3 * plane) });
    const r = await explainer.explain(model, image, {
      ...options, classIndex: classArg?.length === 1 ? classArg[0] : classArg,
      onProgress: explainer.progress ? progressReporter(`${method} (${explainer.progress})`) : undefined,
    });
    // One map per image: [H, W] for one image; per class: all of them, as the seed returns RISE's.
    const saliency = r.saliencyPer === 'image' && n === 1 ? { shape: [H, W], data: r.saliency.data } : r.saliency;
    saveNpyFile(join(out, 'saliency.npy'), saliency);
    for (let i = 0; i < n; i++) {
      saveRgbPng(join(out, n === 1 ? 'overlay.png' : `overlay-${i}.png`), overlayHeatmap(rgb(i), saliencyPlane(r, i).data));
    }
    // The masks file by its path, rather than the explainer's "one was given".
    const parameters = { ...r.parameters, ...('masksFile' in r.parameters ? { masksFile } : {}) };
    const report = {
      method, ...r.extras, classes: r.classes, scores: r.scores, saliencyShape: saliency.shape, parameters,
      forwardPasses: r.forwardPasses, peakGpuMiB: mib(r.peakGpuBytes), timingsMs: r.timingsMs,
    };
    const note = explainer.note(r);
    for (let i = 0; i < n; i++) log(`${n > 1 ? `image ${i}: ` : ''}${method} for class ${r.classes[i]} (logit ${r.scores[i].toFixed(4)})${note}`);
    const full = {
      ...report, weights: weightsPath, architecture: model.spec.arch, inputs, inputShape: image.shape, adapter: ctx.adapterInfo,
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

/**
 * The RISE options, checked whatever the method (the CLI does not ask which family takes them);
 * those not given are left out, for the explainer's defaults (RISE_DEFAULTS) to fill.
 */
function parseRiseOptions(v: Record<string, string | boolean | undefined>): NonNullable<ExplainOptions['rise']> {
  const given = <T>(name: string, parse: (x: string | boolean) => T): T | undefined => (v[name] === undefined ? undefined : parse(v[name]));
  return {
    scores: given('scores', (x) => {
      if (x !== 'logits' && x !== 'softmax') throw new UsageError(`explain: --scores must be logits or softmax, got "${x}"`);
      return x;
    }),
    masks: given('masks', (x) => masksOption('explain', x, 'masks', RISE_DEFAULTS.masks)),
    grid: given('grid', (x) => intOption('explain', x, 'grid', RISE_DEFAULTS.grid)),
    p1: given('p1', (x) => p1Option('explain', x)),
    seed: given('seed', (x) => seedOption('explain', x)),
    tolerance: given('tolerance', (x) => {
      if (!(Number(x) > 0)) throw new UsageError(`explain: --tolerance must be > 0, got "${x}"`);
      return Number(x);
    }),
  };
}

function parseClasses(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((c) => !/^\d+$/.test(c))) throw new UsageError(`explain: --class must be a class index or a comma-separated list of them, got "${text}"`);
  return parts.map(Number);
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
