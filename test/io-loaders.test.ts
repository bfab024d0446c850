// The no-Python loaders (.pth, .safetensors, .npy) against files written by PyTorch and numpy
// (scripts/fixtures/io_fixtures.py), the .npy writer against numpy's own bytes, and broken or
// hostile files, each of which must give an XaiError with a message that says what is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XaiError } from '../src/errors.js';
import { halfToFloat } from '../src/io/dtype.js';
import {
  loadNpyFile,
  loadWeightsFile,
  makeDir,
  NpyStreamWriter,
  readFileBytes,
  saveNpyFile,
  writeFileAtomic,
} from '../src/io/files.js';
import { encodeNpy, parseNpy } from '../src/io/npy.js';
import { PyGlobal, unpickle } from '../src/io/pickle.js';
import { parsePth } from '../src/io/pth.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { parseWeights } from '../src/io/state-dict.js';
import type { HostTensor } from '../src/io/tensor.js';
import { ZipArchive } from '../src/io/zip.js';
import { crc32 } from '../src/io/crc32.js';
import { encodeSafetensors } from './helpers.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/io/', import.meta.url));
const fixture = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));

interface Expected {
  shape: number[];
  values: number[];
}
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  state_dict: Record<string, Expected>;
  safetensors: Record<string, Expected>;
  npy: Record<string, Expected>;
  pickles: { protocol: number; hex: string; value: unknown }[];
};

function assertTensor(got: HostTensor | undefined, want: Expected, what: string): void {
  assert.ok(got, `${what}: missing`);
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.data.length, want.values.length, `${what}: length`);
  for (let i = 0; i < want.values.length; i++) {
    if (got.data[i] !== want.values[i])
      assert.unreachable(`${what}[${i}] = ${got.data[i]}, expected ${want.values[i]}`);
  }
}

function assertStateDict(got: Map<string, HostTensor>, want: Record<string, Expected>, what: string): void {
  assert.equal([...got.keys()].sort(), Object.keys(want).sort(), `${what}: keys`);
  for (const [k, e] of Object.entries(want)) assertTensor(got.get(k), e, `${what} ${k}`);
}

/** Asserts that `f` throws an XaiError whose message matches `re`. */
function throwsXai(f: () => unknown, re: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, XaiError, `expected an XaiError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/, 'message is one line');
    return;
  }
  assert.unreachable(`no error thrown (expected ${re})`);
}

/** A zip record: `fixed` bytes holding `fields` ([offset, value, bytes], little-endian), then `name`. */
function zipRecord(fixed: number, fields: [number, number, 2 | 4][], name = new Uint8Array()): Uint8Array {
  const record = new Uint8Array(fixed + name.length);
  const view = new DataView(record.buffer);
  for (const [at, value, bytes] of fields) {
    if (bytes === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value, true);
  }
  record.set(name, fixed);
  return record;
}

/** A zip of stored entries without zip64 records or alignment (unlike torch's), for crafted archives. */
function makeZip(files: [string, Uint8Array][], method = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nb = new TextEncoder().encode(name);
    const crc = crc32(data);
    // CRC, compressed and uncompressed size, name length: the same run of fields in both headers.
    const sizes = (at: number): [number, number, 2 | 4][] => [
      [at, crc, 4],
      [at + 4, data.length, 4],
      [at + 8, data.length, 4],
      [at + 12, nb.length, 2],
    ];
    const local = zipRecord(30, [[0, 0x04034b50, 4], [8, method, 2], ...sizes(14)], nb);
    central.push(zipRecord(46, [[0, 0x02014b50, 4], [10, method, 2], ...sizes(16), [42, offset, 4]], nb));
    parts.push(local, data);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const end = zipRecord(22, [
    [0, 0x06054b50, 4],
    [8, files.length, 2],
    [10, files.length, 2],
    [12, cdSize, 4],
    [16, offset, 4],
  ]);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const b of [...parts, ...central, end]) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** The entries of sd.pth, with data.pkl replaced by `edit(data.pkl)`. */
function sdEntries(edit: (pkl: Uint8Array) => Uint8Array = (b) => b): [string, Uint8Array][] {
  const zip = new ZipArchive(fixture('sd.pth'), 'sd.pth');
  return [...zip.entries.keys()].map((n) => [n, n.endsWith('data.pkl') ? edit(zip.read(n).slice()) : zip.read(n)]);
}

const ascii = (s: string) => [...s].map((ch) => ch.charCodeAt(0));
/** A version 1.0 .npy with the header dict `dict` (padded to 128 bytes in all) and 64 data bytes. */
function npyWithHeader(dict: string): Uint8Array {
  const h = dict.padEnd(117) + '\n';
  const out = new Uint8Array(10 + h.length + 64);
  out.set([0x93, ...ascii(`NUMPY\x01\x00`), h.length, 0, ...ascii(h)]);
  return out;
}

/** Pickle bytes: numbers as they are, strings as their ASCII bytes. */
const pickleBytes = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((x) => (typeof x === 'string' ? ascii(x) : [x])));

// ---- formats that load ----

test('.pth state_dict (fp32, fp16, bf16, fp64, int64, transposed, offset views, 0-d) matches torch', () => {
  assertStateDict(parsePth(fixture('sd.pth'), 'sd.pth'), EXPECTED.state_dict, 'sd.pth');
  const sd = loadWeightsFile(join(DIR, 'sd.pth'));
  assertStateDict(sd, EXPECTED.state_dict, 'loadWeightsFile');
  assert.equal(sd.get('fc.weight')!.shape, [6, 5]);
  assert.equal(sd.get('scalar')!.shape, []);
});

test('checkpoint dict {epoch, state_dict, optimizer, ...} is unwrapped', () => {
  assertStateDict(parseWeights(fixture('ckpt.pth'), 'ckpt.pth'), EXPECTED.state_dict, 'ckpt.pth');
});

test('"module." prefix (DataParallel) is stripped; an nn.Parameter value loads', () => {
  assertStateDict(parseWeights(fixture('module.pth'), 'module.pth'), EXPECTED.state_dict, 'module.pth');
});

test('a plain zip (no zip64 records, unaligned storages) loads the same', () => {
  assertStateDict(parseWeights(makeZip(sdEntries()), 'plain.zip'), EXPECTED.state_dict, 'plain zip');
});

test('.safetensors F32/F16/BF16/F64/I64 matches torch, "model." prefix stripped', () => {
  assertStateDict(loadWeightsFile(join(DIR, 'model.safetensors')), EXPECTED.safetensors, 'model.safetensors');
  const raw = parseSafetensors(fixture('model.safetensors'), 'model.safetensors');
  assert.ok(raw.has('model.conv.weight'), 'parseSafetensors keeps the keys as written');
});

test('.npy f8 (N,1,H,W) masks, f4, f2, u1 and 0-d arrays match numpy', () => {
  for (const [f, e] of Object.entries(EXPECTED.npy)) assertTensor(loadNpyFile(join(DIR, f)), e, f);
});

test('encodeNpy writes exactly what numpy.save writes, and round-trips', () => {
  for (const f of ['numpy_0d.npy', 'numpy_1d.npy', 'numpy_4d.npy']) {
    const bytes = fixture(f);
    const t = parseNpy(bytes, f);
    assert.equal(encodeNpy(t), bytes, `${f}: bytes`);
    assert.equal(parseNpy(encodeNpy(t), f), t, `${f}: round trip`);
  }
});

test('saveNpyFile creates parent folders; loadNpyFile reads it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xai-io-'));
  try {
    const t = { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 1e-30, -0, 7]) };
    const path = join(dir, 'a', 'b', 'sal.npy');
    saveNpyFile(path, t);
    assert.equal(loadNpyFile(path), t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unpickler reads plain data written by Python with protocols 2-5', () => {
  const canon = (v: unknown): unknown => {
    if (v instanceof Map) return { $dict: [...v].map(([k, x]) => [canon(k), canon(x)]) };
    if (Array.isArray(v)) return v.map(canon);
    if (v instanceof Uint8Array) return { $bytes: [...v] };
    if (typeof v === 'bigint') return { $int: v.toString() };
    return v;
  };
  for (const p of EXPECTED.pickles) {
    const bytes = Uint8Array.from(p.hex.match(/../g)!.map((h) => parseInt(h, 16)));
    assert.equal(
      canon(unpickle(bytes, `protocol ${p.protocol}`, { globals: new Map() })),
      p.value,
      `protocol ${p.protocol}`,
    );
  }
});

test('halfToFloat: subnormals, largest, infinities, NaN, signed zero', () => {
  assert.is(halfToFloat(0x0001), 2 ** -24);
  assert.is(halfToFloat(0x03ff), 1023 * 2 ** -24);
  assert.is(halfToFloat(0x3c00), 1);
  assert.is(halfToFloat(0xc000), -2);
  assert.is(halfToFloat(0x7bff), 65504);
  assert.is(halfToFloat(0x7c00), Infinity);
  assert.is(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
});

// ---- broken and hostile files ----

test('truncated .pth: every cut gives an XaiError, never a RangeError', () => {
  const bytes = fixture('sd.pth');
  throwsXai(
    () => parseWeights(bytes.subarray(0, 3000), 'best_model.pth'),
    /^best_model\.pth: truncated zip archive \(central directory not found\)$/,
  );
  for (let n = 4; n < bytes.length; n += 7) {
    throwsXai(() => parseWeights(bytes.subarray(0, n), 'cut.pth'), /^cut\.pth: truncated zip archive/);
  }
  // A chunk missing from the middle: the end records are intact but point past the data.
  for (let a = 4; a < bytes.length - 200; a += 50) {
    const holed = new Uint8Array([...bytes.subarray(0, a), ...bytes.subarray(a + 100)]);
    throwsXai(() => parseWeights(holed, 'holed.pth'), /^holed\.pth: .*(truncated|corrupt|CRC)/);
  }
});

test('random byte damage to a .pth loads or gives an XaiError, never another error', () => {
  const good = fixture('sd.pth');
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let refused = 0;
  for (let trial = 0; trial < 300; trial++) {
    const bytes = good.slice();
    for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    try {
      parseWeights(bytes, 'damaged.pth');
    } catch (e) {
      assert.instance(e, XaiError, `trial ${trial}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `only ${refused} of 300 damaged files refused`);
});

test('random damage to data.pkl (re-zipped, CRC valid) loads or gives a one-line XaiError', () => {
  const pkl = sdEntries().find(([n]) => n === 'sd/data.pkl')![1];
  let seed = 999;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let refused = 0;
  for (let trial = 0; trial < 300; trial++) {
    const edit = (p: Uint8Array) => {
      for (let k = 0; k < 2; k++) p[Math.floor(rand() * p.length)] = Math.floor(rand() * 256);
      return p;
    };
    try {
      parseWeights(makeZip(sdEntries(edit)), 'damaged.pth');
    } catch (e) {
      assert.instance(e, XaiError, `trial ${trial}: ${String(e)}`);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
      assert.not.match((e as Error).message, /[\x00-\x1f]/, `trial ${trial}: control characters in the message`);
      refused++;
    }
  }
  assert.ok(refused > 250, `only ${refused} of 300 damaged pickles refused`);
  assert.ok(pkl.length > 1000);
});

test('corrupted data.pkl bytes: CRC mismatch; re-zipped: a pickle error naming opcode and offset', () => {
  const bytes = fixture('sd.pth');
  const zip = new ZipArchive(bytes, 'sd.pth');
  const pkl = zip.read('sd/data.pkl');
  const damaged = bytes.slice();
  damaged[pkl.byteOffset + 40] ^= 0xff;
  throwsXai(() => parseWeights(damaged, 'sd.pth'), /^sd\.pth: corrupt zip archive \(sd\/data\.pkl: CRC-32 mismatch\)$/);

  const badOpcode = makeZip(
    sdEntries((p) => {
      p[2] = 0xff;
      return p;
    }),
  );
  throwsXai(
    () => parseWeights(badOpcode, 'x.pth'),
    /^x\.pth: sd\/data\.pkl: unsupported pickle opcode 0xff at offset 2$/,
  );
  const cut = makeZip(sdEntries((p) => p.subarray(0, 600)));
  throwsXai(() => parseWeights(cut, 'x.pth'), /^x\.pth: sd\/data\.pkl: truncated pickle/);
  const noStorage = makeZip(sdEntries().filter(([n]) => n !== 'sd/data/3'));
  throwsXai(() => parseWeights(noStorage, 'x.pth'), /^x\.pth: zip archive has no entry sd\/data\/3$/);
});

test('a pickle that calls os.system is refused, naming the global', () => {
  const evil = pickleBytes(0x80, 2, 0x63, 'os\nsystem\n', 0x58, 4, 0, 0, 0, 'ls /', 0x85, 0x52, 0x2e);
  throwsXai(
    () => parseWeights(makeZip([['evil/data.pkl', evil]]), 'evil.pth'),
    /^evil\.pth: evil\/data\.pkl: refusing to load the global os\.system /,
  );
  // Protocol 4 spells it with STACK_GLOBAL.
  const evil4 = pickleBytes(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x8c, 1, '1', 0x85, 0x52, 0x2e);
  throwsXai(
    () => parseWeights(makeZip([['a/data.pkl', evil4]]), 'evil4.pth'),
    /refusing to load the global builtins\.eval /,
  );
  // An allowed global that is only a marker cannot be called.
  const callStorage = pickleBytes(0x80, 2, 0x63, 'torch\nFloatStorage\n', 0x29, 0x52, 0x2e);
  throwsXai(
    () => parseWeights(makeZip([['a/data.pkl', callStorage]]), 'c.pth'),
    /refusing to call torch\.FloatStorage/,
  );
  // Object-building opcodes are unknown to the reader.
  throwsXai(
    () => unpickle(Uint8Array.from([0x80, 2, 0x29, 0x29, 0x81, 0x2e]), 'n.pkl', { globals: new Map() }),
    /^n\.pkl: unsupported pickle opcode NEWOBJ \(0x81\) at offset 4$/,
  );
  throwsXai(
    () =>
      unpickle(Uint8Array.from([0x80, 2, 0x52, 0x2e]), 's.pkl', { globals: new Map([['a.b', new PyGlobal('a.b')]]) }),
    /stack underflow at offset 2/,
  );
});

test('unsupported archives: legacy format, TorchScript, deflate, no data.pkl, not weights at all', () => {
  throwsXai(
    () => parseWeights(fixture('legacy.pth'), 'old.pth'),
    /^old\.pth: legacy \(pre-1\.6\) torch serialization.*torch>=1\.6/,
  );
  const ts = makeZip([...sdEntries(), ['sd/constants.pkl', new Uint8Array([0x80, 2, 0x29, 0x2e])]]);
  throwsXai(() => parseWeights(ts, 'ts.pt'), /TorchScript/);
  throwsXai(
    () => parseWeights(makeZip(sdEntries(), 8), 'z.pth'),
    /^z\.pth: sd\/data\.pkl is deflate-compressed, which is not supported/,
  );
  throwsXai(
    () => parseWeights(makeZip([['x/other.txt', new Uint8Array(3)]]), 'o.zip'),
    /^o\.zip: zip archive has no <folder>\/data\.pkl/,
  );
  throwsXai(
    () => parseWeights(new TextEncoder().encode('hello, this is text'), 'w.bin'),
    /^w\.bin: not a weights file/,
  );
  throwsXai(() => parseWeights(new Uint8Array(0), 'empty.pth'), /^empty\.pth: not a weights file/);
});

test('broken .safetensors: truncated, bad JSON header, bad offsets, unknown dtype', () => {
  const good = fixture('model.safetensors');
  throwsXai(
    () => parseWeights(good.subarray(0, good.length - 1), 'm.safetensors'),
    /^m\.safetensors: truncated safetensors file \(tensor model\.\S+ ends at byte/,
  );
  throwsXai(
    () => parseWeights(good.subarray(0, 100), 'm.safetensors'),
    /^m\.safetensors: truncated safetensors file \(header of \d+ bytes/,
  );
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const withHeader = (edit: (h: string) => string) => {
    const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const h = new TextEncoder().encode(edit(text(good.subarray(8, 8 + n))));
    const out = new Uint8Array(8 + h.length + good.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(good.subarray(8 + n), 8 + h.length);
    return out;
  };
  throwsXai(
    () =>
      parseWeights(
        withHeader((h) => h.replace('"dtype"', '"dtype" "')),
        'm.safetensors',
      ),
    /^m\.safetensors: bad safetensors header \(/,
  );
  throwsXai(
    () =>
      parseSafetensors(
        withHeader(() => '[1, 2]'),
        'm.safetensors',
      ),
    /not a JSON object/,
  );
  throwsXai(
    () =>
      parseWeights(
        withHeader((h) => h.replace('"F32"', '"F8_E4M3"')),
        'm.safetensors',
      ),
    /tensor model\.conv\.weight: unsupported dtype "F8_E4M3"/,
  );
  throwsXai(
    () =>
      parseWeights(
        withHeader((h) => h.replace('[2, 3, 3, 3]', '[2, 3, 3, 4]')),
        'm.safetensors',
      ),
    /tensor model\.conv\.weight: 216 data bytes, shape \[2,3,3,4\] of F32 needs 288/,
  );
  throwsXai(
    () =>
      parseWeights(
        withHeader((h) => h.replace('"data_offsets": [0, 216]', '"data_offsets": [216, 0]')),
        'm.safetensors',
      ),
    /tensor model\.conv\.weight: bad data_offsets \[216,0\]/,
  );
});

test('broken .npy: bad magic, truncated, Fortran order, big-endian, bad header', () => {
  const good = fixture('arr_f32.npy');
  const bad = good.slice();
  bad[1] = 0x41;
  throwsXai(() => parseNpy(bad, 'm.npy'), /^m\.npy: not a \.npy file \(bad magic\)$/);
  throwsXai(
    () => parseNpy(good.subarray(0, good.length - 4), 'm.npy'),
    /^m\.npy: truncated \.npy file \(shape \(2,3,4\) of <f4 needs 96 data bytes, file has 92\)$/,
  );
  throwsXai(() => parseNpy(good.subarray(0, 50), 'm.npy'), /^m\.npy: truncated \.npy file \(header of/);
  throwsXai(() => loadNpyFile(join(DIR, 'fortran.npy')), /fortran\.npy: Fortran-order arrays are not supported/);
  throwsXai(() => loadNpyFile(join(DIR, 'big_endian.npy')), /big_endian\.npy: big-endian dtype >f4 is not supported/);
  const header = good.slice();
  header.set(ascii("'shape': (2, x, 4)"), new TextDecoder('latin1').decode(good).indexOf("'shape'"));
  throwsXai(() => parseNpy(header, 'm.npy'), /^m\.npy: bad \.npy shape \(2, x, 4\)$/);
  const dtype = good.slice();
  dtype.set(ascii("'<c8'"), new TextDecoder('latin1').decode(good).indexOf("'<f4'"));
  throwsXai(() => parseNpy(dtype, 'm.npy'), /^m\.npy: unsupported \.npy dtype <c8$/);
  // Keys of Object.prototype are not dtypes.
  const npy = (descr: string) => npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`);
  assert.is(parseNpy(npy('<f4'), 'ok.npy').data.length, 2);
  for (const d of ['<constructor', '<__proto__', '<toString'])
    throwsXai(() => parseNpy(npy(d), 'm.npy'), new RegExp(`^m\\.npy: unsupported \\.npy dtype ${d}$`));
});

test('a .npy header with a repeated key is refused (which value wins would be up to the parser)', () => {
  assert.equal(
    parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), 'ok.npy').shape,
    [4],
  );
  throwsXai(
    () => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'shape': (2,), }"), 'm.npy'),
    /^m\.npy: bad \.npy header: the key 'shape' appears twice$/,
  );
  throwsXai(
    () => parseNpy(npyWithHeader("{'descr': '<f4', 'descr': '<f2', 'fortran_order': False, 'shape': (4,), }"), 'm.npy'),
    /the key 'descr' appears twice/,
  );
});

test('a zip with two entries of one name is refused', () => {
  const entries = sdEntries();
  throwsXai(
    () => parseWeights(makeZip([...entries, entries[0]]), 'dup.pth'),
    new RegExp(`^dup\\.pth: corrupt zip archive \\(two entries named ${entries[0][0].replace(/\./g, '\\.')}\\)$`),
  );
});

test('weights holding NaN or ±Infinity (.pth float16, .safetensors) are refused, naming the key', () => {
  const sd = parseWeights(fixture('sd.pth'), 'sd.pth');
  sd.get('fc.bias')!.data[2] = -Infinity;
  throwsXai(
    () => parseWeights(encodeSafetensors(sd), 'w.safetensors'),
    /^w\.safetensors: tensor fc\.bias holds -Infinity at \[2\] \(non-finite values are refused\)$/,
  );
  // A float16 infinity in a .pth storage: patch the bytes, then fix the entry's CRC.
  const pth = fixture('sd.pth');
  const zip = new ZipArchive(pth, 'sd.pth');
  const entry = [...zip.entries.values()].find((e) => e.size === 2 * 15)!; // half.weight: [3, 5] float16
  const data = zip.read(entry.name);
  data[2] = 0x00;
  data[3] = 0x7c; // element 1 = +inf
  const crcAt = findCentralCrc(pth, entry.name);
  new DataView(pth.buffer, pth.byteOffset).setUint32(crcAt, crc32(data), true);
  throwsXai(() => parseWeights(pth, 'sd.pth'), /^sd\.pth: tensor half\.weight holds Infinity at \[0,1\]/);
});

/** The offset of an entry's CRC-32 field in the central directory. */
function findCentralCrc(zip: Uint8Array, name: string): number {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const nb = new TextEncoder().encode(name);
  for (let p = zip.length - 46; p >= 0; p--) {
    if (
      v.getUint32(p, true) === 0x02014b50 &&
      v.getUint16(p + 28, true) === nb.length &&
      nb.every((b, i) => zip[p + 46 + i] === b)
    )
      return p + 16;
  }
  throw new Error(`no central directory entry ${name}`);
}

test("makeDir makes missing parents, and under /proc fails at once (Node's recursive mkdir spins there)", () => {
  const base = mkdtempSync(join(tmpdir(), 'webgpu-xai-dir-'));
  makeDir(join(base, 'a', 'b', 'c'));
  assert.ok(statSync(join(base, 'a', 'b', 'c')).isDirectory());
  makeDir(join(base, 'a', 'b')); // exists: fine
  throwsXai(() => makeDir('/proc/webgpu-xai-test/x'), /^cannot create the folder \/proc\/webgpu-xai-test\/x: ENOENT$/);
  rmSync(base, { recursive: true });
});

test('writeFileAtomic replaces a file whole; a failed write is an XaiError and leaves no temporary file', () => {
  const base = mkdtempSync(join(tmpdir(), 'webgpu-xai-atomic-'));
  writeFileAtomic(join(base, 'x', 'a.json'), 'one');
  writeFileAtomic(join(base, 'x', 'a.json'), 'two');
  assert.is(readFileSync(join(base, 'x', 'a.json'), 'utf8'), 'two');
  mkdirSync(join(base, 'x', 'dir.npy'));
  throwsXai(
    () => saveNpyFile(join(base, 'x', 'dir.npy'), { shape: [1], data: new Float32Array(1) }),
    /^cannot write .*dir\.npy: EISDIR$/,
  );
  const w = new NpyStreamWriter(join(base, 'x', 'm.npy'), [2, 3]);
  w.write(new Float32Array(3));
  assert.throws(() => w.close(), /wrote 3 of 6 values/);
  assert.equal(readdirSync(join(base, 'x')).sort(), ['a.json', 'dir.npy']);
  rmSync(base, { recursive: true });
});

/** A protocol-2 pickle of {key: tensor view of storage "0" (numel float32)} as torch writes it. */
function viewsPickle(
  views: { key: string; offset: number; size: number[]; stride: number[] }[],
  numel: number,
): Uint8Array {
  const out: number[] = [0x80, 2, 0x7d, 0x28];
  const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    return [0x58, ...u32(b.length), ...b];
  };
  const int = (n: number) => [0x4a, ...u32(n)];
  const tuple = (items: number[]) => [0x28, ...items, 0x74];
  views.forEach((v, i) => {
    out.push(...str(v.key));
    if (i === 0)
      out.push(...ascii('ctorch._utils\n_rebuild_tensor_v2\n'), 0x71, 1); // GLOBAL, BINPUT 1
    else out.push(0x68, 1); // BINGET 1
    out.push(0x28); // MARK: the arguments
    if (i === 0)
      out.push(
        ...tuple([...str('storage'), ...ascii('ctorch\nFloatStorage\n'), ...str('0'), ...str('cpu'), ...int(numel)]),
        0x71,
        2,
      );
    else out.push(0x68, 2);
    out.push(0x51, ...int(v.offset), ...tuple(v.size.flatMap(int)), ...tuple(v.stride.flatMap(int)), 0x74, 0x52); // BINPERSID ... TUPLE REDUCE
  });
  out.push(0x75, 0x2e); // SETITEMS STOP
  return new Uint8Array(out);
}

const viewsPth = (views: Parameters<typeof viewsPickle>[0], numel: number) =>
  makeZip([
    ['sd/data.pkl', viewsPickle(views, numel)],
    ['sd/data/0', new Uint8Array(new Float32Array(numel).map((_, i) => i).buffer)],
  ]);

// No timing assertions here (a shared machine makes them flaky): a quadratic or exponential walk
// would not finish within the runner's per-file timeout, and the results below show the linear path.
test('100k tensors viewing one storage: parsed, sharing the storage (read and CRC-checked once)', () => {
  const views = Array.from({ length: 100_000 }, (_, i) => ({ key: `t${i}`, offset: i % 1000, size: [4], stride: [1] }));
  const sd = parsePth(viewsPth(views, 1004), 'many.pth');
  assert.is(sd.size, 100_000);
  assert.equal([...sd.get('t999')!.data], [999, 1000, 1001, 1002]);
  assert.is(sd.get('t0')!.data.buffer, sd.get('t99999')!.data.buffer, 'one decoded storage shared by the views');
});

test('strided views that copy far more than the storages hold are refused', () => {
  const n = 1024;
  const t = (k: number) => ({ key: `t${k}`, offset: 0, size: [n, n], stride: [1, n] }); // transposed: a copy each
  assert.is(parsePth(viewsPth([t(0), t(1)], n * n), 'ok.pth').size, 2);
  throwsXai(
    () => parsePth(viewsPth([0, 1, 2, 3, 4, 5].map(t), n * n), 'views.pth'),
    /^views\.pth: sd\/data\.pkl: strided tensor views copy more than 4 times the elements of all storages/,
  );
});

test('a pickle whose shared tuples double at every level is refused (not walked 2^40 times)', () => {
  // t0 = None; t(i) = (t(i-1), t(i-1)) through the memo; {t40: 1}. Printing the key would never end.
  const ops = [0x80, 2, 0x7d, 0x4e, 0x71, 0];
  for (let i = 0; i < 40; i++) ops.push(0x68, 0, 0x68, 0, 0x86, 0x71, 0);
  ops.push(0x4b, 1, 0x73, 0x2e);
  throwsXai(
    () => unpickle(new Uint8Array(ops), 'p', { globals: new Map() }),
    /^p: pickle structure too large: shared objects expand to over \d+ elements/,
  );
  // APPENDS of 200k items (a spread into push() would overflow the call stack).
  const big = [0x80, 2, 0x5d, 0x28, ...new Array(200_000).fill(0x4e), 0x65, 0x2e];
  assert.is((unpickle(new Uint8Array(big), 'p', { globals: new Map() }) as unknown[]).length, 200_000);
});

test('a device or FIFO is refused, not read forever', () => {
  throwsXai(
    () => readFileBytes('/dev/zero'),
    /^\/dev\/zero: not a regular file \(a device, FIFO or socket cannot be read as data\)$/,
  );
  throwsXai(() => loadWeightsFile('/dev/zero'), /not a regular file/);
});

test('missing file or a directory: XaiError', () => {
  throwsXai(() => loadWeightsFile('/nonexistent/best_model.pth'), /^no such file: \/nonexistent\/best_model\.pth$/);
  throwsXai(() => loadNpyFile(join(DIR, 'nope.npy')), /^no such file: .*nope\.npy$/);
  throwsXai(() => readFileBytes(DIR), /is a directory/);
});

test.run();
