/**
 * `npm run example`: serves the browser example (examples/browser/) and what it imports — the
 * library's ES modules (dist/src/) and the bundled demo (weights/) — on localhost, read-only, with
 * Node's built-ins only. `--port N` (default 8080; 0 picks a free one).
 * staticServer is also the tests' server for the pages they drive in Chromium.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.map': 'application/json',
};

export interface StaticOptions {
  /** URL path prefixes that may be served (default: everything under root). */
  allow?: readonly string[];
  /** Where `/` leads: a path to redirect to, or { html } to answer with. */
  home?: string | { html: string };
  /** Handles a request first; returns true when it answered. */
  before?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A read-only static file server for `root` (nothing outside it; 404 for anything else). */
export function staticServer(root: string, opts: StaticOptions = {}): Server {
  const base = normalize(root.endsWith('/') ? root : `${root}/`);
  return createServer((req, res) => {
    if (opts.before?.(req, res)) return;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/' && opts.home) {
      if (typeof opts.home === 'string') res.writeHead(302, { location: opts.home }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end(opts.home.html);
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    const allowed = !opts.allow || opts.allow.some((p) => path.startsWith(p));
    let size = -1;
    try {
      if (allowed && file.startsWith(base)) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      // missing: 404 below
    }
    if (size < 0) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size });
    createReadStream(file).pipe(res);
  });
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The example's server: the page, the library's modules and the demo files, nothing else. */
export function exampleServer(): Server {
  return staticServer(ROOT, { allow: ['/examples/browser/', '/dist/src/', '/weights/'], home: '/examples/browser/' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port takes a port number, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  const server = exampleServer();
  server.on('error', (e) => {
    console.error(`serve: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address() as { port: number };
    console.log(`webgpu-xai example: http://localhost:${actual}/ (a browser with WebGPU; Ctrl-C stops)`);
  });
}
