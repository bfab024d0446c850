// Headless Chromium for the tests. runPage runs a page (WebGPU on SwiftShader) and returns what it
// posts to /result: a small static server serves `root` read-only, `/` as the given HTML; the page
// reports with fetch('/result', { method: 'POST', body: JSON.stringify({ ok, result | error }) }).
// DrivenPage drives a page over the DevTools protocol as a user would; openFile opens a file and
// reports the errors a reader would meet.
// Needs Debian's chromium (scripts/setup.sh --browser).
import { mkdtempSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { staticServer } from '../examples/serve.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium with WebGPU (SwiftShader here) on a fresh profile; fds 3 and 4 are pipes for
 * --remote-debugging-pipe. No GPU watchdog: on a busy machine a long SwiftShader dispatch can
 * outlast it, and the GPU process is then killed ("Instance dropped") mid-test.
 */
function launch(url: string, extraArgs: string[] = []): ReturnType<typeof spawn> {
  return spawn(
    CHROMIUM,
    [
      '--headless=new',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-gpu-watchdog',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'webgpu-xai-chromium-'))}`,
      ...extraArgs,
      url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
}

export interface PageReport<T> {
  ok: boolean;
  error?: string;
  result?: T;
}

export function runPage<T>(opts: { root: string; html: string; timeoutMs: number }): Promise<PageReport<T>> {
  return new Promise((resolve, reject) => {
    let browser: ReturnType<typeof spawn> | undefined;
    let stderr = '';
    const server = staticServer(opts.root, {
      home: { html: opts.html },
      before: (req, res) => {
        if (req.method !== 'POST' || req.url !== '/result') return false;
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          res.end();
          finish(() => resolve(JSON.parse(body)));
        });
        return true;
      },
    });
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(`no result from the page within ${opts.timeoutMs / 1000}s; chromium said: ${stderr.slice(-500)}`),
          ),
        ),
      opts.timeoutMs,
    );
    const finish = (then: () => void) => {
      clearTimeout(timer);
      browser?.kill('SIGKILL');
      server.close();
      then();
    };
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      browser = launch(`http://127.0.0.1:${port}/`);
      browser.stderr?.on('data', (d) => (stderr += d));
      browser.on('error', (e) =>
        finish(() => reject(new Error(`cannot start ${CHROMIUM}: ${e.message} (run scripts/setup.sh --browser)`))),
      );
    });
  });
}

/**
 * A page in headless Chromium driven over the DevTools protocol (--remote-debugging-pipe: JSON
 * messages ending in a NUL byte, written to the browser's fd 3, read from its fd 4), as a user
 * would: files set on file inputs, values chosen, buttons clicked.
 */
export class DrivenPage {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private session = '';
  /** Called with every event the browser sends (a message with a method and no id). */
  onEvent: (method: string, params: Record<string, unknown>) => void = () => {};

  private constructor(
    private browser: ReturnType<typeof spawn>,
    private stderr: () => string,
  ) {
    let buffered = '';
    (browser.stdio[4] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      buffered += d.toString();
      let end: number;
      while ((end = buffered.indexOf('\0')) >= 0) {
        const msg = JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (msg.id === undefined && msg.method) this.onEvent(msg.method, msg.params ?? {});
        const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${msg.error.message}`));
        else p.resolve(msg.result);
      }
    });
  }

  static async open(url: string, extraArgs: string[] = []): Promise<DrivenPage> {
    let stderr = '';
    const browser = launch(url, ['--remote-debugging-pipe', ...extraArgs]);
    browser.stderr?.on('data', (d) => (stderr += d));
    const page = new DrivenPage(browser, () => stderr);
    let target: { targetId: string } | undefined;
    for (let i = 0; i < 100 && !target; i++) {
      const { targetInfos } = (await page.send('Target.getTargets')) as {
        targetInfos: { type: string; targetId: string }[];
      };
      target = targetInfos.find((t) => t.type === 'page');
      if (!target) await new Promise((r) => setTimeout(r, 100));
    }
    if (!target) throw new Error(`chromium opened no page; it said: ${stderr.slice(-500)}`);
    page.session = (
      (await page.send('Target.attachToTarget', { targetId: target.targetId, flatten: true })) as { sessionId: string }
    ).sessionId;
    return page;
  }

  send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params, ...(this.session ? { sessionId: this.session } : {}) });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.browser.stdio[3] as NodeJS.WritableStream).write(`${msg}\0`);
    });
  }

  /** The value of a JavaScript expression in the page (promises awaited). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { exception?: { description?: string }; text: string };
    };
    if (r.exceptionDetails)
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Waits until the expression is truthy (polling), up to timeoutMs. */
  async waitFor(expression: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await this.evaluate<boolean>(`!!(${expression})`))) {
      if (Date.now() > until)
        throw new Error(`waited ${timeoutMs / 1000}s for ${expression}; chromium said: ${this.stderr().slice(-300)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Sets files on an <input type=file> as a user picking them would (input and change fire). */
  async setFiles(selector: string, files: string[]): Promise<void> {
    const { root } = (await this.send('DOM.getDocument')) as { root: { nodeId: number } };
    const { nodeId } = (await this.send('DOM.querySelector', { nodeId: root.nodeId, selector })) as { nodeId: number };
    if (!nodeId) throw new Error(`no ${selector} in the page`);
    await this.send('DOM.setFileInputFiles', { nodeId, files });
  }

  close(): void {
    this.browser.kill('SIGKILL');
  }
}

/**
 * Opens a file as a reader would and reports what they would meet: every console error, uncaught
 * exception and failed load, and the value of `expression` once the load event (images included)
 * has fired.
 */
export async function openFile(
  path: string,
  expression: string,
  timeoutMs: number,
): Promise<{ errors: string[]; value: unknown }> {
  const page = await DrivenPage.open('about:blank');
  const errors: string[] = [];
  let loaded: () => void = () => {};
  const load = new Promise<void>((done) => {
    loaded = done;
  });
  page.onEvent = (method, params) => {
    const p = params as {
      exceptionDetails?: { exception?: { description?: string }; text: string };
      type?: string;
      args?: unknown;
      entry?: { level: string; source: string; text: string; url?: string };
    };
    if (method === 'Page.loadEventFired') loaded();
    else if (method === 'Runtime.exceptionThrown')
      errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
    else if (method === 'Runtime.consoleAPICalled' && p.type === 'error')
      errors.push(`console.error: ${JSON.stringify(p.args)}`);
    else if (method === 'Log.entryAdded' && p.entry?.level === 'error')
      errors.push(`${p.entry.source}: ${p.entry.text} ${p.entry.url ?? ''}`);
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not load within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([
      timeout,
      (async () => {
        for (const domain of ['Runtime', 'Log', 'Page']) await page.send(`${domain}.enable`);
        await page.send('Page.navigate', { url: pathToFileURL(path).href });
        await load;
        return { errors, value: await page.evaluate(expression) };
      })(),
    ]);
  } finally {
    clearTimeout(timer);
    page.close();
  }
}
