/**
 * The --out folder, checked before any work starts: it must be a folder (or creatable as one),
 * writable, outside the kernel's pseudo-file systems (/proc, /sys), and none of the files the
 * command writes there may be one of its input files.
 */
import { accessSync, constants, readdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { XaiError } from '../errors.js';

/** The names of the files each command writes into --out. */
export const OUTPUT_FILES: Readonly<Record<string, RegExp>> = {
  predict: /^(logits\.npy|prediction\.json)$/,
  explain: /^(saliency\.npy|explanation\.json|overlay(-\d+)?\.png)$/,
  masks: /^masks\.(npy|png)$/,
  evaluate: /^curve(-insertion|-deletion)?\.(json|svg)$/,
  'evaluate-dataset': /^(results\.(csv|json)|curves-(insertion|deletion)\.svg|manifest\.json)$/,
  report:
    /^(index\.html|page-\d+\.html|report\.json|rise-masks-.+\.png|results\.(csv|json)|curves-(insertion|deletion)\.svg|manifest\.json)$/,
  merge: /^(results\.(csv|json)|curves-(insertion|deletion)\.svg)$/,
};

const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys'];

export function checkOutDir(command: string, out: string, inputs: readonly (string | undefined)[]): void {
  const fail = (why: string): never => {
    throw new XaiError(`--out ${out}: ${why}`);
  };
  const existing = existingAncestor(out);
  const real = realpathSync(existing);
  const pseudo = PSEUDO_FILE_SYSTEMS.find((p) => real === p || real.startsWith(`${p}/`));
  if (pseudo) fail(`is under ${pseudo}, a kernel pseudo-file system; refusing to write there`);
  if (!statSync(real).isDirectory()) {
    fail(
      existing === resolve(out)
        ? 'is an existing file, not a folder'
        : `cannot be created: ${existing} is not a folder`,
    );
  }
  try {
    accessSync(real, constants.W_OK | constants.X_OK);
  } catch {
    fail(existing === resolve(out) ? 'is not writable' : `cannot be created: ${existing} is not writable`);
  }
  if (existing !== resolve(out)) return; // a new folder holds no inputs
  const written = OUTPUT_FILES[command];
  for (const input of inputs) {
    if (input === undefined || !exists(input)) continue;
    const target = realpathSync(input);
    if (dirname(target) === real && written.test(basename(target)))
      fail(`would overwrite the input ${input} (${join(out, basename(target))})`);
  }
}

/** What the folder `out` holds (nothing when it does not exist yet). */
export function outEntries(out: string): string[] {
  return exists(out) ? readdirSync(out) : [];
}

/**
 * A folder that already holds anything is refused (never silently overwritten): evaluate-dataset
 * continues a folder only with --resume, where its manifest says what it holds.
 */
export function checkEmptyOut(out: string, hint: string): void {
  const entries = outEntries(out);
  if (entries.length)
    throw new XaiError(
      `--out ${out} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); ${hint}`,
    );
}

/**
 * Refuses to start a run whose output would not fit on the disk that holds `out` (checked before
 * the work, so a long run does not end in a full disk).
 */
export function checkFreeSpace(out: string, bytes: number, what: string): void {
  const fs = statfsSync(existingAncestor(out));
  const free = fs.bavail * fs.bsize;
  if (bytes > free)
    throw new XaiError(`${what} would take ${gib(bytes)} GiB, the disk holding ${out} has ${gib(free)} GiB free`);
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

/** The deepest part of `path` that exists: where a folder to be made would be created. */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!exists(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
