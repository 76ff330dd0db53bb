// Serves the dashboard (the built visualizer, web/dist) from the control server: static files
// under one directory, never outside it, and a plain answer that says how to build it when it is
// missing.
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** Where the dashboard is built (`npm run web:build`): web/dist of this package. */
export function defaultWebDir(): string {
  return join(packageRoot(), 'web', 'dist');
}

/** The directory of this package (where package.json says "synod"), from src/supervisor or dist/supervisor alike. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'synod') return dir;
    } catch {
      // no (readable) package.json here: keep looking
    }
    const up = dirname(dir);
    if (up === dir) return resolve(here, '..', '..');
    dir = up;
  }
}

export function dashboardBuilt(webDir: string): boolean {
  return existsSync(join(webDir, 'index.html'));
}

/** Serves the built dashboard from `webDir` (GET and HEAD), or says how to build it. */
export async function serveDashboard(dir: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const webDir = resolve(dir);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (!dashboardBuilt(webDir)) {
    const text = `The Synod dashboard is not built (${join(webDir, 'index.html')} is missing).\nRun \`npm run web:build\` in the synod directory (\`npm ci\` also builds it), then reload this page.\nThe control API works without it: /api/nodes, /api/events, /api/kv/:key.\n`;
    res.writeHead(path === '/' || path === '/index.html' ? 503 : 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(path);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad path\n');
    return;
  }
  const file = normalize(join(webDir, relative.endsWith('/') ? `${relative}index.html` : relative));
  if (!file.startsWith(webDir + sep)) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
    return;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const data = await readFile(file);
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': data.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : data);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
  }
}

