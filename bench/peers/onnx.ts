/**
 * A minimal ONNX writer, enough to hand onnxruntime the same ResNet we run: protobuf wire format
 * (varints and length-delimited fields) for ModelProto / GraphProto / NodeProto / AttributeProto /
 * TensorProto / ValueInfoProto, float32 tensors only. Field numbers from onnx.proto.
 */
type Field = [number, 'varint', number] | [number, 'bytes', Uint8Array | string];

function varint(v: number, out: number[]): void {
  let n = BigInt(v);
  if (n < 0n) n += 1n << 64n; // negative int64s (pads never are; axes could be)
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
}

function message(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [num, kind, value] of fields) {
    const head: number[] = [];
    if (kind === 'varint') {
      varint((num << 3) | 0, head);
      varint(value, head);
      parts.push(Uint8Array.from(head));
      size += head.length;
    } else {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
      varint((num << 3) | 2, head);
      varint(bytes.length, head);
      parts.push(Uint8Array.from(head), bytes);
      size += head.length + bytes.length;
    }
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const FLOAT = 1;

export function tensor(name: string, dims: number[], data: Float32Array): Uint8Array {
  return message([
    ...dims.map((d): Field => [1, 'varint', d]),
    [2, 'varint', FLOAT],
    [8, 'bytes', name],
    [9, 'bytes', new Uint8Array(data.buffer, data.byteOffset, data.byteLength)],
  ]);
}

type Attr = number | number[];

export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Uint8Array {
  const attributes = Object.entries(attrs).map(
    ([name, v]): Field => [
      5,
      'bytes',
      message(
        typeof v === 'number'
          ? [
              [1, 'bytes', name],
              [20, 'varint', 2 /* INT */],
              [3, 'varint', v],
            ]
          : [[1, 'bytes', name], [20, 'varint', 7 /* INTS */], ...v.map((i): Field => [8, 'varint', i])],
      ),
    ],
  );
  return message([
    ...inputs.map((i): Field => [1, 'bytes', i]),
    ...outputs.map((o): Field => [2, 'bytes', o]),
    [3, 'bytes', outputs[0]],
    [4, 'bytes', op],
    ...attributes,
  ]);
}

/** A float tensor value; a string dimension is symbolic (the batch). */
function valueInfo(name: string, dims: (number | string)[]): Uint8Array {
  const shape = message(
    dims.map((d): Field => [1, 'bytes', message([typeof d === 'number' ? [1, 'varint', d] : [2, 'bytes', d]])]),
  );
  const tensorType = message([
    [1, 'varint', FLOAT],
    [2, 'bytes', shape],
  ]);
  return message([
    [1, 'bytes', name],
    [2, 'bytes', message([[1, 'bytes', tensorType]])],
  ]);
}

export function model(
  nodes: Uint8Array[],
  initializers: Uint8Array[],
  input: [string, (number | string)[]],
  output: [string, (number | string)[]],
): Uint8Array {
  const graph = message([
    ...nodes.map((n): Field => [1, 'bytes', n]),
    [2, 'bytes', 'resnet'],
    ...initializers.map((t): Field => [5, 'bytes', t]),
    [11, 'bytes', valueInfo(...input)],
    [12, 'bytes', valueInfo(...output)],
  ]);
  return message([
    [1, 'varint', 8], // IR version 8
    [2, 'bytes', 'webgpu-xai bench'],
    [7, 'bytes', graph],
    [
      8,
      'bytes',
      message([
        [1, 'bytes', ''],
        [2, 'varint', 17],
      ]),
    ], // opset 17
  ]);
}
