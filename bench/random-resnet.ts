/**
 * A torchvision-shaped ResNet state_dict with random weights (He-normal convs, BatchNorm with
 * plausible statistics), so benchmarks run full-size models without shipping checkpoints.
 */
import type { HostTensor } from '../src/io/tensor.js';

export const ARCHS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
} as const;

export function randomResNet(arch: keyof typeof ARCHS, classes: number, width = 64, seed = 1): Map<string, HostTensor> {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const sd = new Map<string, HostTensor>();
  const conv = (name: string, co: number, ci: number, k: number) => {
    const data = new Float32Array(co * ci * k * k);
    const std = Math.sqrt(2 / (ci * k * k));
    for (let i = 0; i < data.length; i++) data[i] = normal() * std;
    sd.set(`${name}.weight`, { shape: [co, ci, k, k], data });
  };
  const bn = (name: string, c: number) => {
    const fill = (f: () => number) => ({ shape: [c], data: Float32Array.from({ length: c }, f) });
    sd.set(
      `${name}.weight`,
      fill(() => 0.5 + uniform()),
    );
    sd.set(
      `${name}.bias`,
      fill(() => 0.2 * (uniform() - 0.5)),
    );
    sd.set(
      `${name}.running_mean`,
      fill(() => 0.2 * (uniform() - 0.5)),
    );
    sd.set(
      `${name}.running_var`,
      fill(() => 0.5 + uniform()),
    );
  };
  const { block, layers } = ARCHS[arch];
  const expansion = block === 'basic' ? 1 : 4;
  conv('conv1', width, 3, 7);
  bn('bn1', width);
  let inplanes = width;
  layers.forEach((depth, l) => {
    const planes = width * 2 ** l;
    for (let b = 0; b < depth; b++) {
      const p = `layer${l + 1}.${b}`;
      const stride = l > 0 && b === 0 ? 2 : 1;
      if (block === 'basic') {
        conv(`${p}.conv1`, planes, inplanes, 3);
        bn(`${p}.bn1`, planes);
        conv(`${p}.conv2`, planes, planes, 3);
        bn(`${p}.bn2`, planes);
      } else {
        conv(`${p}.conv1`, planes, inplanes, 1);
        bn(`${p}.bn1`, planes);
        conv(`${p}.conv2`, planes, planes, 3);
        bn(`${p}.bn2`, planes);
        conv(`${p}.conv3`, planes * 4, planes, 1);
        bn(`${p}.bn3`, planes * 4);
      }
      if (stride !== 1 || inplanes !== planes * expansion) {
        conv(`${p}.downsample.0`, planes * expansion, inplanes, 1);
        bn(`${p}.downsample.1`, planes * expansion);
      }
      inplanes = planes * expansion;
    }
  });
  const fcw = new Float32Array(classes * inplanes);
  for (let i = 0; i < fcw.length; i++) fcw[i] = normal() / Math.sqrt(inplanes);
  sd.set('fc.weight', { shape: [classes, inplanes], data: fcw });
  sd.set('fc.bias', { shape: [classes], data: new Float32Array(classes) });
  return sd;
}
