/**
 * Serves the built renderer (out/renderer) read-only: GET/HEAD only, no directory listings, no
 * path outside the root, and the security headers a page holding an API token needs.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers for every response of the UI server. */
export function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // The page URL carries the token: never send it anywhere as a Referer.
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

/** Files up to this size are kept in memory once read (the renderer's bundle is about 1 MB). */
const CACHE_FILE_MAX = 4 * 1024 * 1024;
/**
 * The built files, keyed by path, valid while their size and mtime stay: one write per response
 * instead of a stream of 64 kB chunks, each waiting its turn on a busy event loop (the page's
 * start-up waits for the bundle).
 */
const cache = new Map<string, { mtimeMs: number; size: number; body: Buffer }>();

async function cachedBody(file: string, mtimeMs: number, size: number): Promise<Buffer | null> {
  if (size > CACHE_FILE_MAX) return null;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs && hit.size === size) return hit.body;
  const body = await readFile(file);
  if (body.length !== size) return null; // changed while read (a rebuild): stream it instead
  if (cache.size >= 64) cache.clear();
  cache.set(file, { mtimeMs, size, body });
  return body;
}

/**
 * The build names each script and style after a hash of its content (assets/<name>-<hash>.js): a
 * changed file is a new name, so the browser may keep these for good, and a reload or the page
 * opened again while the service runs takes them from its cache instead of fetching ~430 kB.
 * Everything else, index.html with it, is `no-store`: it names the current build's files and the
 * page's address carries the token. A file written in the last seconds may be a build still
 * writing it: kept for good, a half-written copy would outlive the next reload.
 */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const HASHED_ASSET = /^\/assets\/[\w.-]+-[\w-]{8}\.(?:js|css)$/;
export const SETTLED_FILE_MS = 10_000;

function isImmutableAsset(path: string, mtimeMs: number): boolean {
  return HASHED_ASSET.test(path) && Date.now() - mtimeMs >= SETTLED_FILE_MS;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

/** Answers one static request from `root`. */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, 'method not allowed', { ...headers, Allow: 'GET, HEAD' });
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    plain(res, 400, 'bad path', headers);
    return;
  }
  if (path.includes('\0')) {
    plain(res, 400, 'bad path', headers);
    return;
  }
  const base = resolve(root);
  let file = resolve(join(base, path));
  const rel = relative(base, file);
  if (rel.startsWith('..') || rel.split(sep).includes('..')) {
    plain(res, 404, 'not found', headers);
    return;
  }
  if (path.endsWith('/')) file = join(file, 'index.html');
  let size: number;
  let mtimeMs: number;
  let body: Buffer | null;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
    mtimeMs = info.mtimeMs;
    body = req.method === 'HEAD' ? null : await cachedBody(file, info.mtimeMs, size);
  } catch {
    plain(res, 404, 'not found', headers);
    return;
  }
  res.writeHead(200, {
    ...headers,
    ...(isImmutableAsset(path, mtimeMs) ? { 'Cache-Control': IMMUTABLE } : {}),
    'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(size),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (body) {
    res.end(body);
    return;
  }
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}
