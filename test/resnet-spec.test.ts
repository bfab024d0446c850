// Reading a ResNet out of a state_dict: architecture inference and the one-line reports of keys
// that are missing, unexpected or of the wrong shape.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWeightsFile } from '../src/io/files.js';
import { parseResNet } from '../src/model/resnet-spec.js';
import { XaiError } from '../src/errors.js';

const DIR = new URL('../../test/fixtures/model/', import.meta.url).pathname;
const load = (name: string) => loadWeightsFile(`${DIR}${name}.pth`);

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, XaiError);
    const m = (e as Error).message;
    assert.not.match(m, /\n/, 'one line');
    return m;
  }
  assert.unreachable('expected an XaiError');
  return '';
}

test('100k block keys are read in one pass, not a scan per block', () => {
  const sd = load('resnet18-w8-c5');
  for (let b = 2; b < 100_000; b++) sd.set(`layer1.${b}.conv1.weight`, { shape: [1], data: new Float32Array(1) });
  // No timing assertion (flaky on a shared machine): a scan per block would be 10^10 steps, far
  // past the runner's per-file timeout.
  const m = message(() => parseResNet(sd, 'big'));
  assert.match(m, /big does not fit a torchvision ResNet \(basic blocks, stages 100000-2-2-2\)/);
});

test('a CIFAR-style stem (conv1 3x3, same key names) is refused, not run with a max-pool it never had', () => {
  const sd = load('resnet18-w8-c5');
  const [co, ci] = sd.get('conv1.weight')!.shape;
  sd.set('conv1.weight', { shape: [co, ci, 3, 3], data: new Float32Array(co * ci * 9) });
  assert.match(
    message(() => parseResNet(sd, 'cifar.pth')),
    /^cifar\.pth does not fit a torchvision ResNet \(basic blocks, stages 2-2-2-2\): shape mismatch: conv1\.weight has shape \[8,3,3,3\]: torchvision's 7x7 stem expected \(a 3x3 stem is a CIFAR-style ResNet, which has no max-pool after it; not supported\)$/,
  );
});

test('architectures and class counts are inferred from the keys', () => {
  const r18 = parseResNet(load('resnet18-w8-c5'));
  assert.is(r18.arch, 'resnet18');
  assert.is(r18.block, 'basic');
  assert.equal(r18.stageDepths, [2, 2, 2, 2]);
  assert.is(r18.numClasses, 5);
  assert.is(parseResNet(load('resnet34-w8-c7')).arch, 'resnet34');
  const r50 = parseResNet(load('resnet50-w8-c3'));
  assert.is(r50.arch, 'resnet50');
  assert.is(r50.block, 'bottleneck');
  assert.is(r50.featureChannels, 256);
  // torchvision's stride placement: BasicBlock on conv1, Bottleneck on conv2 (the 3x3).
  assert.equal(
    r18.blocks[2].convs.map((c) => c.stride),
    [2, 1],
  );
  assert.equal(
    r50.blocks[3].convs.map((c) => c.stride),
    [1, 2, 1],
  );
});

test('missing, unexpected and mis-shaped keys are all named in one line', () => {
  const sd = load('resnet18-w8-c5');
  sd.delete('layer3.1.bn2.running_var');
  sd.set('layer5.0.conv1.weight', { shape: [1], data: new Float32Array(1) });
  const w = sd.get('layer2.1.conv1.weight')!;
  sd.set('layer2.1.conv1.weight', {
    shape: [w.shape[0], w.shape[1] + 1, 3, 3],
    data: new Float32Array(w.shape[0] * (w.shape[1] + 1) * 9),
  });
  const m = message(() => parseResNet(sd, 'bad.pth'));
  assert.match(m, /^bad\.pth does not fit a torchvision ResNet \(basic blocks, stages 2-2-2-2\)/);
  assert.match(m, /missing keys: layer3\.1\.bn2\.running_var/);
  assert.match(m, /unexpected keys: layer5\.0\.conv1\.weight/);
  assert.match(m, /shape mismatch: layer2\.1\.conv1\.weight has shape \[16,17,3,3\]: 16 input channels expected/);
});

test('fc that does not match the features is reported', () => {
  const sd = load('resnet18-w8-c5');
  sd.set('fc.weight', { shape: [5, 63], data: new Float32Array(5 * 63) });
  assert.match(
    message(() => parseResNet(sd)),
    /fc\.weight has shape \[5,63\]: 64 input features expected/,
  );
});

test('a state_dict of something else is refused with its first keys', () => {
  const sd = new Map([['encoder.weight', { shape: [2, 2], data: new Float32Array(4) }]]);
  assert.match(
    message(() => parseResNet(sd, 'other.pth')),
    /^other\.pth is not a torchvision ResNet state_dict: it lacks conv1\.weight, layer1\.0\.conv1\.weight, fc\.weight \(its keys begin: encoder\.weight\)/,
  );
});

test.run();
