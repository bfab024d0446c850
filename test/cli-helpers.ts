/** Running the built `webgpu-xai` command as a user does, for the CLI tests. */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decodeImage, encodePng } from '../src/io/image.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const BIN = `${ROOT}bin/webgpu-xai.js`;

/** Runs the command to its end: exit code, stdout, our stderr lines (all of stderr: raw), whether a JS stack was printed. */
export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  assert.is(r.error, undefined, `the process did not exit by itself: ${r.error?.message}`);
  // Dawn and the Vulkan loader print warnings of their own on stderr; ours start "webgpu-xai:".
  const lines = r.stderr.split('\n');
  const stderr = lines.filter((l) => l.startsWith('webgpu-xai:')).join('\n');
  const jsStack = lines.some((l) => /^\s+at .*(file:|node:)/.test(l));
  return { code: r.status, stdout: r.stdout, stderr, raw: r.stderr, jsStack };
}

/**
 * A command line written as one template: the text splits into arguments at white space, and
 * each \${value} is inserted whole (a path with spaces stays one argument; \${''} is an empty one).
 */
export function argv(strings: TemplateStringsArray, ...values: unknown[]): string[] {
  const args: string[] = [];
  let current: string | undefined;
  const end = () => {
    if (current !== undefined) args.push(current);
    current = undefined;
  };
  strings.forEach((text, k) => {
    text.split(/\s+/).forEach((part, i) => {
      if (i > 0) end();
      if (part) current = (current ?? '') + part;
    });
    if (k < values.length) current = (current ?? '') + String(values[k]);
  });
  end();
  return args;
}

/** The demo image upside down, as PNG bytes: a second image with other results. */
export function flippedDemo(): Uint8Array {
  const img = decodeImage(readFileSync(`${ROOT}weights/demo.png`), 'demo.png');
  const flipped = new Uint8Array(img.data.length);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++)
    flipped.set(img.data.subarray(y * row, (y + 1) * row), (img.height - 1 - y) * row);
  return encodePng({ width: img.width, height: img.height, data: flipped });
}
