/**
 * The --out folder, checked before any work starts: it must be a folder (or creatable as one),
 * writable, outside the kernel's pseudo-file systems (/proc, /sys), and none of the files the
 * command writes there may be one of its input files.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { XaiError } from '../errors.js';

/** The names of the files each command writes into --out. */
export const OUTPUT_FILES: Readonly<Record<string, RegExp>> = {
  predict: /^(logits\.npy|prediction\.json)$/,
  explain: /^(saliency\.npy|explanation\.json|overlay(-\d+)?\.png)$/,
  masks: /^masks\.(npy|png)$/,
  evaluate: /^curve(-insertion|-deletion)?\.(json|svg)$/,
  'evaluate-dataset': /^(results\.(csv|json)|curves-(insertion|deletion)\.svg)$/,
};

const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys'];

export function checkOutDir(command: string, out: string, inputs: readonly (string | undefined)[]): void {
  const fail = (why: string): never => { throw new XaiError(`--out ${out}: ${why}`); };
  // The deepest part of the path that exists decides where the folder would be created.
  let existing = resolve(out);
  while (!exists(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const real = realpathSync(existing);
  const pseudo = PSEUDO_FILE_SYSTEMS.find((p) => real === p || real.startsWith(`${p}/`));
  if (pseudo) fail(`is under ${pseudo}, a kernel pseudo-file system; refusing to write there`);
  if (!statSync(real).isDirectory()) {
    fail(existing === resolve(out) ? 'is an existing file, not a folder' : `cannot be created: ${existing} is not a folder`);
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
    if (dirname(target) === real && written.test(basename(target))) fail(`would overwrite the input ${input} (${join(out, basename(target))})`);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
