// Opens a file in headless Chromium (Debian's, as test/browser.test.ts) and reports what a reader
// would meet: every console error, uncaught exception and failed load, and the value of an
// expression evaluated once the page's load event (images included) has fired. Driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3/4),
// so no server and no WebSocket client are needed.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function openFile(
  path: string,
  expression: string,
  timeoutMs: number,
): Promise<{ errors: string[]; value: unknown }> {
  const browser = spawn(
    CHROMIUM,
    [
      '--headless=new',
      '--no-sandbox',
      '--remote-debugging-pipe',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'webgpu-xai-chromium-'))}`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const input = browser.stdio[3] as Writable;
  const output = browser.stdio[4] as Readable;
  const errors: string[] = [];
  const waiting = new Map<number, (m: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
  let loaded: () => void = () => {};
  const load = new Promise<void>((done) => {
    loaded = done;
  });
  let buffered = '';
  output.on('data', (d: Buffer) => {
    buffered += d.toString('utf8');
    let end: number;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const m = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      if (m.id !== undefined) waiting.get(m.id)?.(m);
      else if (m.method === 'Page.loadEventFired') loaded();
      else if (m.method === 'Runtime.exceptionThrown')
        errors.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      else if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error')
        errors.push(`console.error: ${JSON.stringify(m.params.args)}`);
      else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
        errors.push(`${m.params.entry.source}: ${m.params.entry.text} ${m.params.entry.url ?? ''}`);
    }
  });
  let next = 0;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {})));
      input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not load within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([
      timeout,
      (async () => {
        const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
        const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
          sessionId: string;
        };
        for (const domain of ['Runtime', 'Log', 'Page']) await send(`${domain}.enable`, {}, sessionId);
        await send('Page.navigate', { url: pathToFileURL(path).href }, sessionId);
        await load;
        const r = (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as {
          result: { value: unknown };
        };
        return { errors, value: r.result.value };
      })(),
    ]);
  } finally {
    clearTimeout(timer);
    browser.kill('SIGKILL');
  }
}
