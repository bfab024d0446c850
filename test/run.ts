// Test runner: runs every dist/test/*.test.js in its own Node process (a crash or a hang in one
// file cannot take the others down, and every process must exit on its own), reads uvu's summary
// from each, and ends with the plain line "N passed, N failed" that CI reads.
//   node dist/test/run.js [substring ...]   runs only the files whose name contains a substring
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE_TIMEOUT_MS = 8 * 60_000;
const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

// The conv tuner's choices go to a fresh directory: the suite tunes as a first run does, and
// leaves the user's cache alone.
const cacheDir = process.env.WEBGPU_XAI_CACHE_DIR ?? mkdtempSync(join(tmpdir(), 'webgpu-xai-test-cache-'));

interface FileResult {
  passed: number;
  failed: number;
  note?: string;
}

function runFile(file: string): Promise<FileResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(here, file)], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', WEBGPU_XAI_CACHE_DIR: cacheDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      text += d;
      process.stderr.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removes the terminal's colour codes (ESC [ ... m)
      const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        resolve({
          passed: 0,
          failed: 1,
          note: `${file}: no uvu summary (exit ${code ?? signal}${timedOut ? ', timed out' : ''})`,
        });
        return;
      }
      const failed = total - passed - skipped;
      if (timedOut || signal || (code !== 0 && failed === 0)) {
        // Every test passed but the process did not end cleanly: that is a failure of its own.
        resolve({
          passed,
          failed: failed + 1,
          note: `${file}: process ended with ${timedOut ? 'a timeout' : (signal ?? `exit ${code}`)} after ${secs}s`,
        });
        return;
      }
      resolve({ passed, failed, note: failed ? `${file}: ${failed} failed` : undefined });
      console.log(`-- ${file}: ${passed} passed, ${failed} failed (${secs}s)`);
    });
  });
}

let passed = 0;
let failed = 0;
const notes: string[] = [];
for (const f of files) {
  const r = await runFile(f);
  passed += r.passed;
  failed += r.failed;
  if (r.note) notes.push(r.note);
}
for (const n of notes) console.log(`!! ${n}`);
if (files.length === 0) console.log('no test files matched');
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
