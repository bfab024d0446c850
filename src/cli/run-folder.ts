/**
 * The output folder of an evaluate-dataset run, which outlives the process that wrote it:
 *
 *   OUT/manifest.json        what was run: the model (SHA-256 of the weights file), every setting
 *                            that changes a number, the shard I/N and its image names
 *   OUT/images/<name>.json   one record per finished image (rows and curves, or why it was
 *                            skipped), written atomically as soon as the image is done
 *
 * `--resume` and `merge` read them back: a killed worker loses at most the image in flight, and
 * the tables of a run are a function of its records (metrics/dataset.ts `aggregate`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { XaiError } from '../errors.js';
import { readJsonFile, writeFileAtomic } from '../io/files.js';
import type { ImageRecord } from '../metrics/dataset.js';
import { outEntries } from './output.js';
import { shardLabel, type Shard } from './shard.js';

export const MANIFEST = 'manifest.json';
export const RECORDS = 'images';

/** Settings that change a result; two runs mix only when these are equal, key by key. */
export type Settings = Record<string, unknown>;

export interface Manifest {
  command: 'evaluate-dataset';
  version: string;
  weights: { path: string; sha256: string };
  /** The image folder as given (not compared: shards may mount it at different paths). */
  imageFolder: string;
  settings: Settings;
  shard: Shard;
  /** This shard's images, sorted. */
  images: string[];
}

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The run `m` is about to make in `out`: a new run where `out` is missing or empty; else the
 * run there must be the same (model, settings, shard), or this is refused naming what differs.
 * Returns the images of `m` already finished there (their records are read, and checked, when
 * the tables are made); removes the temporary files a killed run left.
 */
export function openRun(out: string, m: Manifest): { fresh: boolean; done: Set<string> } {
  if (outEntries(out).length === 0) return { fresh: true, done: new Set() };
  const before = readManifest(out);
  const diff = runDifferences(m, before, ['here', `in ${out}`]);
  if (shardLabel(before.shard) !== shardLabel(m.shard))
    diff.push(`--shard: ${shardLabel(m.shard)} here, ${shardLabel(before.shard)} in ${out}`);
  if (diff.length) throw new XaiError(`--resume: ${out} holds a run with other settings: ${diff.join('; ')}`);
  for (const dir of [out, join(out, RECORDS)]) {
    for (const f of existsSync(dir) ? readdirSync(dir) : [])
      if (TEMPORARY.test(f)) rmSync(join(dir, f), { force: true });
  }
  return { fresh: false, done: new Set(m.images.filter((image) => existsSync(recordPath(out, image)))) };
}

/** The hidden temporary file of an atomic write (io/files.ts), left behind by a killed process. */
const TEMPORARY = /^\..+\.\d+\.[0-9a-z]+\.tmp$/;

export function writeManifest(out: string, m: Manifest): void {
  writeFileAtomic(join(out, MANIFEST), JSON.stringify(m, null, 2) + '\n');
}

export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new XaiError(`${dir} holds no ${MANIFEST}: not an evaluate-dataset output folder`);
  const m = readJsonFile(path) as Manifest;
  const ok =
    m?.command === 'evaluate-dataset' &&
    typeof m.weights?.sha256 === 'string' &&
    typeof m.settings === 'object' &&
    m.settings !== null &&
    Number.isInteger(m.shard?.index) &&
    Number.isInteger(m.shard?.count) &&
    Array.isArray(m.images) &&
    m.images.every((s) => typeof s === 'string');
  if (!ok) throw new XaiError(`${path} is not an evaluate-dataset manifest`);
  return m;
}

/**
 * What differs between two runs' model and settings, one phrase each, `where` naming the runs:
 * "--masks: 64 here, 32 in OUT".
 */
export function runDifferences(a: Manifest, b: Manifest, where: readonly [string, string]): string[] {
  const out: string[] = [];
  const phrase = (what: string, x: string, y: string) => out.push(`${what}: ${x} ${where[0]}, ${y} ${where[1]}`);
  if (a.weights.sha256 !== b.weights.sha256)
    phrase('the model (weights SHA-256)', `${a.weights.sha256.slice(0, 12)}…`, `${b.weights.sha256.slice(0, 12)}…`);
  for (const key of new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])) {
    const [x, y] = [a.settings[key], b.settings[key]];
    if (JSON.stringify(x) !== JSON.stringify(y))
      phrase(key === 'dataset' ? 'the image folder' : `--${key}`, show(x), show(y));
  }
  return out;
}

/** A setting as text: lists joined, sizes HxW, digests shortened, null "not given". */
export function show(v: unknown): string {
  if (v === undefined || v === null) return 'not given';
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('height' in o) return `${o.height}x${o.width}`;
    if ('count' in o) return `${o.count} images (names SHA-256 ${String(o.sha256).slice(0, 12)}…)`;
    return JSON.stringify(v);
  }
  if (typeof v === 'string' && /^sha256:/.test(v)) return `content SHA-256 ${v.slice(7, 19)}…`;
  return String(v);
}

/**
 * The record file of an image: its name percent-encoded (so any name, "a/b" or "..", makes one
 * plain file name; a leading dot too, so records never look like the hidden temporary files of
 * atomic writes), or its SHA-256 when that would be too long for a file system.
 */
export function recordPath(out: string, image: string): string {
  const encoded = encodeURIComponent(image).replace(/^\./, '%2E');
  return join(out, RECORDS, `${encoded.length <= 200 ? encoded : sha256(image)}.json`);
}

export function writeRecord(out: string, record: ImageRecord): void {
  writeFileAtomic(recordPath(out, record.image), JSON.stringify(record) + '\n');
}

/** The record of `image` in `out`, or undefined when the image is not finished there. */
function readRecord(out: string, image: string): ImageRecord | undefined {
  const path = recordPath(out, image);
  if (!existsSync(path)) return undefined;
  const r = readJsonFile(path) as ImageRecord;
  const ok =
    r?.image === image &&
    ('skipped' in r ? typeof r.skipped === 'string' : Array.isArray(r.rows) && typeof r.curves === 'object');
  if (!ok) throw new XaiError(`${path} is not the record of ${image}`);
  return r;
}

/** The records of images in their folders, read one at a time, in the order given. */
export function* readRecords(entries: Iterable<{ dir: string; image: string }>): Generator<ImageRecord> {
  for (const { dir, image } of entries) {
    const r = readRecord(dir, image);
    if (!r) throw new XaiError(`${dir}: ${image} has no record in ${RECORDS}/`);
    yield r;
  }
}
