// A minimal read-only zip reader, enough for torch.save archives: it finds the end-of-central-
// directory record and, when present, the zip64 end records (torch's writer adds them to every
// archive, even tiny ones, and they are the only place for sizes and offsets past 4 GiB), reads
// the central directory, and returns stored (uncompressed) entries as views into the archive
// bytes after checking their CRC-32 (about 0.25 s per 100 MB here).
// Compressed entries are refused: torch.save never compresses, so a deflated entry means the
// file was repacked by another tool. Every offset and size read from the file is checked against
// the buffer before use, so a truncated or corrupt archive gives an XaiError, never a RangeError.
import { XaiError } from '../errors.js';
import { crc32 } from './crc32.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** True when the bytes start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  /** Reads the central directory of `bytes`; `name` (the file name) prefixes every error message. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (eocd >= 20 && this.u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
      const rec = this.u64(eocd - 20 + 8, 'zip64 end record offset');
      this.need(rec, 56, 'zip64 end of central directory');
      if (this.u32(rec) !== SIG_ZIP64_EOCD) this.fail('corrupt zip archive (bad zip64 end of central directory)');
      count = this.u64(rec + 32, 'entry count');
      cdSize = this.u64(rec + 40, 'central directory size');
      cdOffset = this.u64(rec + 48, 'central directory offset');
    }
    this.need(cdOffset, cdSize, 'central directory');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      this.need(p, 46, 'central directory');
      if (this.u32(p) !== SIG_CENTRAL) this.fail('corrupt zip archive (bad central directory entry)');
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      this.need(p + 46, nameLen + extraLen + commentLen, 'central directory');
      const entry: ZipEntry = {
        name: new TextDecoder().decode(this.bytes.subarray(p + 46, p + 46 + nameLen)),
        flags: this.u16(p + 8),
        method: this.u16(p + 10),
        crc32: this.u32(p + 16),
        compressedSize: this.u32(p + 20),
        size: this.u32(p + 24),
        localHeaderOffset: this.u32(p + 42),
      };
      this.applyZip64Extra(entry, p + 46 + nameLen, extraLen);
      // Two entries of one name: which one a reader takes is up to the reader, so refuse.
      if (this.entries.has(entry.name)) this.fail(`corrupt zip archive (two entries named ${entry.name})`);
      this.entries.set(entry.name, entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The contents of a stored entry, a view into the archive bytes (not a copy). */
  read(entryName: string): Uint8Array {
    const e = this.entries.get(entryName);
    if (!e) this.fail(`zip archive has no entry ${entryName}`);
    if (e.flags & 1) this.fail(`${entryName} is encrypted`);
    if (e.method !== 0) {
      const how = e.method === 8 ? 'deflate-compressed' : `compressed (method ${e.method})`;
      this.fail(
        `${entryName} is ${how}, which is not supported (torch.save writes uncompressed archives; re-save the file with torch.save)`,
      );
    }
    if (e.compressedSize !== e.size) this.fail(`corrupt zip archive (${entryName}: stored entry sizes differ)`);
    const h = e.localHeaderOffset;
    this.need(h, 30, `local header of ${entryName}`);
    if (this.u32(h) !== SIG_LOCAL) this.fail(`corrupt zip archive (bad local header for ${entryName})`);
    const start = h + 30 + this.u16(h + 26) + this.u16(h + 28);
    this.need(start, e.size, entryName);
    const data = this.bytes.subarray(start, start + e.size);
    if (crc32(data) !== e.crc32) this.fail(`corrupt zip archive (${entryName}: CRC-32 mismatch)`);
    return data;
  }

  /** The end-of-central-directory record sits in the last 22 + 65535 bytes; search backwards. */
  private findEocd(): number {
    const last = this.bytes.length - EOCD_SIZE;
    for (let p = last; p >= 0 && p >= last - MAX_COMMENT; p--) {
      if (this.u32(p) === SIG_EOCD && p + EOCD_SIZE + this.u16(p + 20) === this.bytes.length) return p;
    }
    return this.fail('truncated zip archive (central directory not found)');
  }

  /** Sizes and offsets saturated at 0xFFFFFFFF live in the zip64 extra field (id 1), in this order. */
  private applyZip64Extra(e: ZipEntry, start: number, len: number): void {
    const end = start + len;
    for (let p = start; p + 4 <= end; ) {
      const id = this.u16(p);
      const size = this.u16(p + 2);
      if (p + 4 + size > end) this.fail('corrupt zip archive (bad extra field in the central directory)');
      if (id === 1) {
        let q = p + 4;
        const next = (what: string): number => {
          if (q + 8 > p + 4 + size) this.fail('corrupt zip archive (short zip64 extra field in the central directory)');
          const v = this.u64(q, what);
          q += 8;
          return v;
        };
        if (e.size === 0xffffffff) e.size = next('entry size');
        if (e.compressedSize === 0xffffffff) e.compressedSize = next('entry size');
        if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next('entry offset');
      }
      p += 4 + size;
    }
  }

  private need(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      this.fail(`truncated zip archive (${what} runs past the end of the file)`);
    }
  }

  private u16(p: number): number {
    return this.view.getUint16(p, true);
  }
  private u32(p: number): number {
    return this.view.getUint32(p, true);
  }
  private u64(p: number, what: string): number {
    this.need(p, 8, what);
    const v = this.view.getBigUint64(p, true);
    if (v > BigInt(this.bytes.length)) this.fail(`corrupt zip archive (${what} ${v} is larger than the file)`);
    return Number(v);
  }

  private fail(msg: string): never {
    throw new XaiError(`${this.name}: ${msg}`);
  }
}
