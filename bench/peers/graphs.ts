/**
 * The same ResNet (a parsed spec, BatchNorm folded into the convs) for the peers: as an ONNX graph
 * for onnxruntime, and as a tfjs forward (NHWC, fused conv + bias + ReLU) for tfjs-backend-webgpu.
 */
import type { ConvBnSpec, ResNetSpec } from '../../src/model/resnet-spec.js';
import { model as onnxModel, node, tensor } from './onnx.js';

/** Conv weights times the BatchNorm scale, and the shift (plus any conv bias) as a bias. */
export function folded(c: ConvBnSpec): { weight: Float32Array; bias: Float32Array } {
  const [co, ci, kh, kw] = c.weight.shape;
  const per = ci * kh * kw;
  const weight = new Float32Array(c.weight.data.length);
  for (let o = 0; o < co; o++)
    for (let i = 0; i < per; i++) weight[o * per + i] = c.weight.data[o * per + i] * c.scale[o];
  const bias = Float32Array.from(c.shift, (s, o) => s + (c.bias ? c.bias[o] * c.scale[o] : 0));
  return { weight, bias };
}

export function resnetOnnx(spec: ResNetSpec, size: number): Uint8Array {
  const nodes: Uint8Array[] = [];
  const inits: Uint8Array[] = [];
  const conv = (c: ConvBnSpec, x: string, relu: boolean, residual?: string): string => {
    const { weight, bias } = folded(c);
    inits.push(tensor(`${c.convName}.w`, c.weight.shape, weight), tensor(`${c.convName}.b`, [bias.length], bias));
    const k = c.weight.shape[2];
    nodes.push(
      node('Conv', [x, `${c.convName}.w`, `${c.convName}.b`], [c.convName], {
        kernel_shape: [k, k],
        strides: [c.stride, c.stride],
        pads: [c.pad, c.pad, c.pad, c.pad],
      }),
    );
    let y = c.convName;
    if (residual) {
      nodes.push(node('Add', [y, residual], [`${y}+res`]));
      y = `${y}+res`;
    }
    if (relu) {
      nodes.push(node('Relu', [y], [`${y}.relu`]));
      y = `${y}.relu`;
    }
    return y;
  };
  let h = conv(spec.stem, 'x', true);
  nodes.push(node('MaxPool', [h], ['maxpool'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }));
  h = 'maxpool';
  for (const b of spec.blocks) {
    const residual = b.downsample ? conv(b.downsample, h, false) : h;
    let t = h;
    b.convs.forEach((c, i) => (t = conv(c, t, true, i === b.convs.length - 1 ? residual : undefined)));
    h = t;
  }
  nodes.push(node('GlobalAveragePool', [h], ['avgpool']), node('Flatten', ['avgpool'], ['flat']));
  inits.push(
    tensor('fc.w', spec.fc.weight.shape, spec.fc.weight.data as Float32Array),
    tensor('fc.b', [spec.numClasses], spec.fc.bias),
  );
  nodes.push(node('Gemm', ['flat', 'fc.w', 'fc.b'], ['logits'], { transB: 1 }));
  return onnxModel(nodes, inits, ['x', ['N', spec.inChannels, size, size]], ['logits', ['N', spec.numClasses]]);
}

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;

/** A tfjs forward of the spec: NCHW input in, logits out (weights uploaded once). */
export function resnetTfjs(tf: Tf, spec: ResNetSpec): (x: Tensor4D) => import('@tensorflow/tfjs-core').Tensor2D {
  const convs = new Map<
    string,
    { filter: import('@tensorflow/tfjs-core').Tensor4D; bias: import('@tensorflow/tfjs-core').Tensor1D; c: ConvBnSpec }
  >();
  const add = (c: ConvBnSpec) => {
    const { weight, bias } = folded(c);
    const [co, ci, kh, kw] = c.weight.shape;
    const hwio = new Float32Array(weight.length); // tfjs filters are [kh, kw, ci, co]
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) {
            hwio[((y * kw + x) * ci + i) * co + o] = weight[((o * ci + i) * kh + y) * kw + x];
          }
    convs.set(c.convName, { filter: tf.tensor4d(hwio, [kh, kw, ci, co]), bias: tf.tensor1d(bias), c });
  };
  add(spec.stem);
  for (const b of spec.blocks) [...b.convs, ...(b.downsample ? [b.downsample] : [])].forEach(add);
  const [classes, features] = spec.fc.weight.shape;
  const fcW = tf.transpose(tf.tensor2d(spec.fc.weight.data as Float32Array, [classes, features]));
  const fcB = tf.tensor1d(spec.fc.bias);
  const conv = (name: string, x: Tensor4D, relu: boolean, residual?: Tensor4D): Tensor4D => {
    const { filter, bias, c } = convs.get(name)!;
    const p = c.pad;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    if (!residual)
      return tf.fused.conv2d({ x, filter, strides: c.stride, pad, bias, activation: relu ? 'relu' : 'linear' });
    const y = tf.fused.conv2d({ x, filter, strides: c.stride, pad, bias });
    return (relu ? tf.relu(tf.add(y, residual)) : tf.add(y, residual)) as Tensor4D;
  };
  return (nchw) =>
    tf.tidy(() => {
      let h = conv('conv1', tf.transpose(nchw, [0, 2, 3, 1]) as Tensor4D, true);
      h = tf.maxPool(
        tf.pad(
          h,
          [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ],
          -1e30,
        ) as Tensor4D,
        3,
        2,
        'valid',
      );
      for (const b of spec.blocks) {
        const residual = b.downsample ? conv(b.downsample.convName, h, false) : h;
        let t = h;
        b.convs.forEach((c, i) => (t = conv(c.convName, t, true, i === b.convs.length - 1 ? residual : undefined)));
        h = t;
      }
      return tf.add(tf.matMul(tf.mean(h, [1, 2]), fcW), fcB) as import('@tensorflow/tfjs-core').Tensor2D;
    });
}
