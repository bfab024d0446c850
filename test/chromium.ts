// Runs a page in headless Chromium (WebGPU on SwiftShader) and returns what it posts to /result.
// A small static server serves `root` read-only, `/` as the given HTML; the page reports with
// fetch('/result', { method: 'POST', body: JSON.stringify({ ok, result | error }) }).
// Needs Debian's chromium (scripts/setup.sh --browser).
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.png': 'image/png' };

export interface PageReport<T> {
  ok: boolean;
  error?: string;
  result?: T;
}

export function runPage<T>(opts: { root: string; html: string; timeoutMs: number }): Promise<PageReport<T>> {
  const root = normalize(opts.root.endsWith('/') ? opts.root : `${opts.root}/`);
  return new Promise((resolve, reject) => {
    let browser: ReturnType<typeof spawn> | undefined;
    let stderr = '';
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/result') {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          res.end();
          finish(() => resolve(JSON.parse(body)));
        });
        return;
      }
      if (url.pathname === '/') {
        res.setHeader('content-type', 'text/html');
        res.end(opts.html);
        return;
      }
      const file = normalize(join(root, decodeURIComponent(url.pathname)));
      if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      res.end(readFileSync(file));
    });
    const timer = setTimeout(() => finish(() => reject(new Error(`no result from the page within ${opts.timeoutMs / 1000}s; chromium said: ${stderr.slice(-500)}`))), opts.timeoutMs);
    const finish = (then: () => void) => {
      clearTimeout(timer);
      browser?.kill('SIGKILL');
      server.close();
      then();
    };
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      browser = spawn(CHROMIUM, [
        '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'webgpu-xai-chromium-'))}`,
        `http://127.0.0.1:${port}/`,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      browser.stderr?.on('data', (d) => (stderr += d));
      browser.on('error', (e) => finish(() => reject(new Error(`cannot start ${CHROMIUM}: ${e.message} (run scripts/setup.sh --browser)`))));
    });
  });
}
