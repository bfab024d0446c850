/**
 * Reads a torchvision ResNet out of a state_dict: block type (BasicBlock when `layer1.0.conv3` is
 * absent, else Bottleneck), blocks per stage, widths and class count all come from the keys and
 * shapes. Checks that every tensor the architecture needs is there with a consistent shape and
 * that nothing is left over, and reports all problems at once in one line.
 */
import { XaiError } from '../errors.js';
import type { HostTensor } from '../io/tensor.js';
import { convOutSize } from '../kernels/conv2d.js';

export const BN_EPS = 1e-5;

/** A conv followed by its eval-mode BatchNorm, as host tensors. */
export interface ConvBnSpec {
  /** torchvision module names, e.g. `layer1.0.conv1` and `layer1.0.bn1`. */
  convName: string;
  bnName: string;
  weight: HostTensor; // [co, ci, kh, kw]
  /** Conv bias (torchvision ResNets have none). */
  bias?: Float32Array;
  /** BatchNorm as y = x·scale + shift, computed in float64. */
  scale: Float32Array;
  shift: Float32Array;
  stride: number;
  pad: number;
}

export interface BlockSpec {
  name: string; // layer2.0
  convs: ConvBnSpec[]; // 2 (basic) or 3 (bottleneck); the last one takes the residual
  downsample?: ConvBnSpec; // layerX.Y.downsample.0 / .1
}

export interface ResNetSpec {
  arch: string; // resnet18, resnet50, ... or "resnet (basic, 2-3-4-2)" for other depths
  block: 'basic' | 'bottleneck';
  stageDepths: number[];
  stem: ConvBnSpec;
  blocks: BlockSpec[];
  fc: { weight: HostTensor; bias: Float32Array };
  numClasses: number;
  featureChannels: number;
  inChannels: number;
}

const KNOWN: Record<string, string> = {
  'basic:2,2,2,2': 'resnet18',
  'basic:3,4,6,3': 'resnet34',
  'bottleneck:3,4,6,3': 'resnet50',
  'bottleneck:3,4,23,3': 'resnet101',
  'bottleneck:3,8,36,3': 'resnet152',
};

export function parseResNet(sd: Map<string, HostTensor>, source = 'state_dict'): ResNetSpec {
  const used = new Set<string>();
  const missing: string[] = [];
  const bad: string[] = [];
  const get = (key: string, rank?: number): HostTensor | undefined => {
    const t = sd.get(key);
    if (!t) {
      missing.push(key);
      return undefined;
    }
    used.add(key);
    if (rank !== undefined && t.shape.length !== rank)
      bad.push(`${key} has shape [${t.shape}], expected ${rank} dimensions`);
    return t;
  };

  if (!sd.has('conv1.weight') || !sd.has('fc.weight') || !sd.has('layer1.0.conv1.weight')) {
    const sample = [...sd.keys()].slice(0, 4).join(', ');
    throw new XaiError(
      `${source} is not a torchvision ResNet state_dict: it lacks ${['conv1.weight', 'layer1.0.conv1.weight', 'fc.weight'].filter((k) => !sd.has(k)).join(', ')} (its keys begin: ${sample || 'none'})`,
    );
  }
  const block: 'basic' | 'bottleneck' = sd.has('layer1.0.conv3.weight') ? 'bottleneck' : 'basic';
  const stageDepths = countBlocks(sd.keys());

  const convBn = (conv: string, bn: string, cin: number, stride: number): ConvBnSpec | undefined => {
    const w = get(`${conv}.weight`, 4);
    const gamma = get(`${bn}.weight`, 1);
    const beta = get(`${bn}.bias`, 1);
    const mean = get(`${bn}.running_mean`, 1);
    const variance = get(`${bn}.running_var`, 1);
    if (sd.has(`${bn}.num_batches_tracked`)) used.add(`${bn}.num_batches_tracked`);
    const bias = sd.get(`${conv}.bias`);
    if (bias) used.add(`${conv}.bias`);
    if (w?.shape.length !== 4 || !gamma || !beta || !mean || !variance) return undefined;
    const [co, ci, kh, kw] = w.shape;
    if (ci !== cin) bad.push(`${conv}.weight has shape [${w.shape}]: ${cin} input channels expected`);
    if (kh !== kw || kh % 2 !== 1) bad.push(`${conv}.weight has shape [${w.shape}]: an odd square kernel expected`);
    for (const [name, t] of [
      [`${bn}.weight`, gamma],
      [`${bn}.bias`, beta],
      [`${bn}.running_mean`, mean],
      [`${bn}.running_var`, variance],
      [`${conv}.bias`, bias],
    ] as const) {
      if (t && (t.shape.length !== 1 || t.shape[0] !== co))
        bad.push(`${name} has shape [${t.shape}], expected [${co}]`);
    }
    const scale = new Float32Array(co);
    const shift = new Float32Array(co);
    for (let c = 0; c < co; c++) {
      const s = gamma.data[c] / Math.sqrt(variance.data[c] + BN_EPS);
      scale[c] = s;
      shift[c] = beta.data[c] - mean.data[c] * s;
    }
    return { convName: conv, bnName: bn, weight: w, bias: bias?.data, scale, shift, stride, pad: (kh - 1) / 2 };
  };
  const outCh = (c: ConvBnSpec | undefined, fallback: number) => c?.weight.shape[0] ?? fallback;

  const stemW = sd.get('conv1.weight')!;
  const inChannels = stemW.shape[1] ?? 3;
  const stem = convBn('conv1', 'bn1', inChannels, 2);
  // torchvision's stem is a 7×7 stride-2 conv, then a 3×3 stride-2 max-pool, which the keys cannot
  // show. A CIFAR-style ResNet uses the same key names with a 3×3 stride-1 stem and no max-pool:
  // run as torchvision's, it would give wrong numbers without a word, so it is refused.
  if (stem && (stem.weight.shape[2] !== 7 || stem.weight.shape[3] !== 7)) {
    bad.push(
      `conv1.weight has shape [${stem.weight.shape}]: torchvision's 7x7 stem expected (a ${stem.weight.shape[2]}x${stem.weight.shape[3]} stem is a CIFAR-style ResNet, which has no max-pool after it; not supported)`,
    );
  }
  let channels = outCh(stem, 64);
  const blocks: BlockSpec[] = [];
  for (let l = 1; l <= 4; l++) {
    if (stageDepths[l - 1] === 0) missing.push(`layer${l}.0.*`);
    for (let b = 0; b < stageDepths[l - 1]; b++) {
      const name = `layer${l}.${b}`;
      const stride = l > 1 && b === 0 ? 2 : 1;
      const names = block === 'basic' ? [1, 2] : [1, 2, 3];
      const convs: ConvBnSpec[] = [];
      let c = channels;
      for (const k of names) {
        // torchvision puts the stride on conv1 of a BasicBlock and on conv2 (the 3×3) of a Bottleneck.
        const s = (block === 'basic' ? k === 1 : k === 2) ? stride : 1;
        const spec = convBn(`${name}.conv${k}`, `${name}.bn${k}`, c, s);
        if (spec) convs.push(spec);
        c = outCh(spec, c);
      }
      let downsample: ConvBnSpec | undefined;
      const needsDownsample = stride !== 1 || c !== channels;
      if (needsDownsample || sd.has(`${name}.downsample.0.weight`)) {
        downsample = convBn(`${name}.downsample.0`, `${name}.downsample.1`, channels, stride);
        if (downsample && downsample.weight.shape[2] !== 1)
          bad.push(`${name}.downsample.0.weight has shape [${downsample.weight.shape}]: a 1x1 conv expected`);
        if (downsample) downsample.pad = 0;
        if (downsample && outCh(downsample, c) !== c)
          bad.push(`${name}.downsample.0.weight has ${outCh(downsample, c)} output channels, the block has ${c}`);
      }
      blocks.push({ name, convs, downsample });
      channels = c;
    }
  }
  const fcW = get('fc.weight', 2);
  const fcB = get('fc.bias', 1);
  if (fcW && fcW.shape[1] !== channels)
    bad.push(`fc.weight has shape [${fcW.shape}]: ${channels} input features expected`);
  if (fcW && fcB && fcB.shape[0] !== fcW.shape[0])
    bad.push(`fc.bias has shape [${fcB.shape}], expected [${fcW.shape[0]}]`);

  const unexpected = [...sd.keys()].filter((k) => !used.has(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing keys: ${list(missing)}`);
  if (unexpected.length) problems.push(`unexpected keys: ${list(unexpected)}`);
  if (bad.length) problems.push(`shape mismatch: ${list(bad)}`);
  if (problems.length)
    throw new XaiError(
      `${source} does not fit a torchvision ResNet (${block} blocks, stages ${stageDepths.join('-')}): ${problems.join('; ')}`,
    );

  const arch = KNOWN[`${block}:${stageDepths.join(',')}`] ?? `resnet (${block}, ${stageDepths.join('-')})`;
  return {
    arch,
    block,
    stageDepths,
    stem: stem!,
    blocks,
    fc: { weight: fcW!, bias: fcB!.data },
    numClasses: fcW!.shape[0],
    featureChannels: channels,
    inChannels,
  };
}

/**
 * Blocks per stage: for layer l, the n such that layerl.0 … layerl.(n-1) all have keys. One pass
 * over the keys (a scan per block would be quadratic in a hostile file's key count).
 */
function countBlocks(keys: Iterable<string>): number[] {
  const seen = [1, 2, 3, 4].map(() => new Set<number>());
  for (const k of keys) {
    const m = /^layer([1-4])\.(\d+)\./.exec(k);
    if (m) seen[Number(m[1]) - 1].add(Number(m[2]));
  }
  return seen.map((s) => {
    let n = 0;
    while (s.has(n)) n++;
    return n;
  });
}

function list(items: string[], max = 6): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/**
 * Every conv of a forward at input size h×w, in order (stem; then per block its downsample and
 * its convs), with the size of the input it sees: the one walk of the network's geometry that
 * tuning, batch sizing and the benchmarks share. The stem is followed by the 3×3 stride-2 max-pool.
 */
export function convInputs(spec: ResNetSpec, h: number, w: number): { conv: ConvBnSpec; h: number; w: number }[] {
  const out = [{ conv: spec.stem, h, w }];
  const after = (c: ConvBnSpec, H: number, W: number) => [
    convOutSize(H, c.weight.shape[2], c.stride, c.pad),
    convOutSize(W, c.weight.shape[3], c.stride, c.pad),
  ];
  let [H, W] = after(spec.stem, h, w).map((s) => convOutSize(s, 3, 2, 1));
  for (const b of spec.blocks) {
    if (b.downsample) out.push({ conv: b.downsample, h: H, w: W });
    for (const c of b.convs) {
      out.push({ conv: c, h: H, w: W });
      [H, W] = after(c, H, W);
    }
  }
  return out;
}
