// PyTorch checkpoints as torch.save (>= 1.6) writes them: a zip holding <top>/data.pkl (the pickled
// object) and <top>/data/<key> (one raw little-endian storage per tensor). <top> varies between
// torch versions, so data.pkl is looked up rather than assumed. The pickle is read by the
// restricted unpickler with an allow-list of exactly the torch globals a state_dict needs; tensors
// are rebuilt from (storage, offset, size, stride) into contiguous float32 whatever the storage
// type, so views and transposed tensors come out right. A checkpoint dict that wraps the state_dict
// (under state_dict / model_state_dict / model, next to epochs or optimizer state) is unwrapped.
// Bounded for any file: each storage is read (and its CRC checked) and decoded once, however many
// tensors view it; contiguous views share the decoded storage; the elements copied for strided
// views may not exceed a few times the storages' total, so a hostile file of many overlapping
// views of one big storage cannot allocate without bound.
import { XaiError } from '../errors.js';
import { DTYPE_SIZE, decodeToFloat32, type DType } from './dtype.js';
import { PyGlobal, unpickle } from './pickle.js';
import { hostTensor, numel, type HostTensor } from './tensor.js';
import { isZip, ZipArchive } from './zip.js';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'f32',
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  DoubleStorage: 'f64',
  LongStorage: 'i64',
  IntStorage: 'i32',
  ShortStorage: 'i16',
  CharStorage: 'i8',
  ByteStorage: 'u8',
  BoolStorage: 'bool',
};

/** Keys under which a training checkpoint commonly keeps the state_dict, in order of preference. */
const CHECKPOINT_KEYS = ['state_dict', 'model_state_dict', 'model'];

interface Storage {
  key: string;
  dtype: DType;
  numel: number;
  bytes: Uint8Array;
  values?: Float32Array;
}

/** Elements that strided views may copy: this many times the storages' total (plus a floor). */
const COPY_FACTOR = 4;
const COPY_FLOOR = 1 << 20;

/** The state_dict in a torch.save archive, every tensor as contiguous float32. */
export function parsePth(bytes: Uint8Array, name: string): Map<string, HostTensor> {
  return stateDictOf(readPth(bytes, name), name);
}

/** The whole pickled object of a torch.save archive (dicts as Maps, tensors as HostTensors). */
export function readPth(bytes: Uint8Array, name: string): unknown {
  if (!isZip(bytes)) {
    if (bytes[0] === 0x80) {
      throw new XaiError(
        `${name}: legacy (pre-1.6) torch serialization format, not supported; re-save it with torch>=1.6: torch.save(torch.load(f), f)`,
      );
    }
    throw new XaiError(`${name}: not a PyTorch checkpoint (not a zip archive)`);
  }
  const zip = new ZipArchive(bytes, name);
  const names = [...zip.entries.keys()];
  const pkl = names.find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new XaiError(`${name}: zip archive has no <folder>/data.pkl (not a torch.save file)`);
  const top = pkl.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${top}constants.pkl`)) {
    throw new XaiError(
      `${name}: is a TorchScript archive (torch.jit.save), not supported; save model.state_dict() with torch.save`,
    );
  }
  if (zip.entries.has(`${top}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${top}byteorder`)).trim();
    if (order !== 'little')
      throw new XaiError(
        `${name}: ${order === 'big' ? 'big-endian archives are' : `unknown byte order in ${top}byteorder is`} not supported`,
      );
  }

  const fail = (msg: string): never => {
    throw new XaiError(`${name}: ${pkl}: ${msg}`);
  };
  const storages = new Map<string, Storage>();
  const budget = { storageElements: 0, copied: 0 };
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5)
      return fail('unexpected persistent id (not a storage)');
    const [, type, key, , count] = pid;
    const typeName = type instanceof PyGlobal ? type.name.replace(/^torch\./, '') : '';
    const dtype = STORAGE_DTYPES[typeName];
    if (!dtype) return fail(`unsupported storage type ${typeName || '(not a torch storage class)'}`);
    if (typeof key !== 'string' || !/^\w+$/.test(key) || !isIndex(count)) return fail('malformed storage id');
    const known = storages.get(key);
    if (known)
      return known.dtype === dtype && known.numel === count
        ? known
        : fail(`storage ${key} is declared twice with different types or sizes`);
    const data = zip.read(`${top}data/${key}`);
    if (data.length < count * DTYPE_SIZE[dtype]) {
      return fail(
        `storage ${key} holds ${data.length} bytes, ${count} ${typeName} elements need ${count * DTYPE_SIZE[dtype]}`,
      );
    }
    const storage = { key, dtype, numel: count, bytes: data };
    storages.set(key, storage);
    budget.storageElements += count;
    return storage;
  };
  const rebuildTensor = (args: unknown[]): HostTensor => {
    const [storage, offset, size, stride] = args;
    if (
      !isStorage(storage) ||
      !isIndex(offset) ||
      !isIndexList(size) ||
      !isIndexList(stride) ||
      size.length !== stride.length
    ) {
      return fail('malformed _rebuild_tensor_v2 arguments');
    }
    return rebuild(storage, offset, size, stride, fail, budget);
  };
  const passData = (args: unknown[]) => args[0];

  const globals = new Map<string, PyGlobal>();
  const allow = (g: PyGlobal) => globals.set(g.name, g);
  allow(
    new PyGlobal('collections.OrderedDict', (args) =>
      args.length === 0 ? new Map() : fail('OrderedDict called with arguments'),
    ),
  );
  allow(new PyGlobal('torch._utils._rebuild_tensor_v2', rebuildTensor));
  allow(new PyGlobal('torch._utils._rebuild_parameter', passData));
  allow(new PyGlobal('torch._utils._rebuild_parameter_with_state', passData));
  for (const t of Object.keys(STORAGE_DTYPES)) allow(new PyGlobal(`torch.${t}`));

  return unpickle(zip.read(pkl), `${name}: ${pkl}`, { globals, persistentLoad });
}

/**
 * The tensor view (offset, size, stride) of a storage as contiguous float32: a view of the decoded
 * storage when the layout is contiguous, else a gathered copy (counted against the budget).
 */
function rebuild(
  s: Storage,
  offset: number,
  size: number[],
  stride: number[],
  fail: (m: string) => never,
  budget: { storageElements: number; copied: number },
): HostTensor {
  const n = numel(size);
  if (n === 0) return hostTensor(size);
  // Only broadcast (stride 0) views can hold more elements than their storage; refusing them
  // keeps a hostile size from allocating gigabytes out of a tiny storage.
  if (n > s.numel) return fail(`tensor view [${size}] has more elements than storage ${s.key} (${s.numel})`);
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (last >= s.numel)
    return fail(`tensor view [${size}] at offset ${offset} runs past storage ${s.key} (${s.numel} elements)`);
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d];
  }
  const values = (s.values ??= decodeToFloat32(s.bytes, s.dtype, s.numel));
  if (contiguous) return hostTensor(size, values.subarray(offset, offset + n));
  budget.copied += n;
  if (budget.copied > COPY_FACTOR * budget.storageElements + COPY_FLOOR) {
    return fail(
      `strided tensor views copy more than ${COPY_FACTOR} times the elements of all storages (refusing a file of overlapping views)`,
    );
  }
  const src = values.subarray(offset);
  const out = new Float32Array(n);
  const idx = new Array<number>(size.length).fill(0);
  let p = 0;
  for (let i = 0; i < n; i++) {
    out[i] = src[p];
    // Advance the multi-index like an odometer, moving p by the strides.
    for (let d = size.length - 1; d >= 0; d--) {
      p += stride[d];
      if (++idx[d] < size[d]) break;
      p -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
  return hostTensor(size, out);
}

/** The state_dict inside an unpickled object: the dict itself, or a checkpoint dict's entry. */
function stateDictOf(obj: unknown, name: string, unwrap = true): Map<string, HostTensor> {
  if (!(obj instanceof Map)) throw new XaiError(`${name}: the pickled object is not a dict (expected a state_dict)`);
  const tensors = new Map<string, HostTensor>();
  for (const [k, v] of obj) if (typeof k === 'string' && isTensor(v)) tensors.set(k, v);
  if (tensors.size > 0) return tensors;
  for (const k of unwrap ? CHECKPOINT_KEYS : []) {
    const inner = obj.get(k);
    if (inner instanceof Map) return stateDictOf(inner, name, false);
  }
  const keys = [...obj.keys()].slice(0, 8).map(String).join(', ');
  throw new XaiError(`${name}: no tensors found in the checkpoint (top-level keys: ${keys || 'none'})`);
}

function isTensor(v: unknown): v is HostTensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as HostTensor).data instanceof Float32Array &&
    Array.isArray((v as HostTensor).shape)
  );
}

function isStorage(v: unknown): v is Storage {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as Storage).bytes instanceof Uint8Array &&
    typeof (v as Storage).dtype === 'string'
  );
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isIndexList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isIndex);
}
