/**
 * The app: protocol: the UI is served from app://localdls/ (not file://), from out/renderer only,
 * with the CSP header on every file (electron-practices.md §4 #18).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { net, protocol } from 'electron';
import { APP_CSP } from './csp';

/** The UI's origin; IPC accepts calls only from frames on it (or the dev server in development). */
export const APP_URL = 'app://localdls/';

/** Before app ready: app: is a standard, secure scheme (no other privileges, no CSP bypass). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves `root` (out/renderer) under app://localdls/, and nothing outside that folder. */
export function serveAppProtocol(root: string): void {
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    const file = resolve(root, `.${decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)}`);
    const rel = relative(root, file);
    if (url.host !== 'localdls' || rel.startsWith('..') || isAbsolute(rel) || !existsSync(file)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', APP_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}
