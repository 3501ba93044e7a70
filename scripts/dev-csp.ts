/**
 * Development only (`npm run dev`): the dev server puts an inline React-refresh preamble into the
 * page, which the page's strict Content-Security-Policy (script-src 'self') refuses, so nothing
 * renders. This Vite plugin adds the SHA-256 hash of each inline script the dev server serves to
 * that page's script-src: exactly those scripts run, nothing else inline does. It applies only to
 * the dev server (`apply: 'serve'`); built and packaged pages keep the policy as written.
 */
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

export function devInlineScriptHashes(): Plugin {
  return {
    name: 'localdls:dev-inline-script-hashes',
    apply: 'serve',
    // After every other plugin has injected its tags (the React-refresh preamble among them).
    transformIndexHtml: { order: 'post', handler: (html) => withInlineScriptHashes(html) },
  };
}

/**
 * The page with the hashes of its inline scripts added to the meta policy's script-src, and that
 * meta moved to the top of <head>: a meta policy governs only what comes after it, and the dev
 * server puts its scripts first. In development the shell leaves the dev server's pages to this
 * meta policy (src/main/shell/csp.ts), since it cannot know these hashes.
 */
export function withInlineScriptHashes(html: string): string {
  const hashes = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    .filter((m) => !/\bsrc\s*=/i.test(m[1] ?? ''))
    .map((m) => `'sha256-${createHash('sha256').update(m[2] ?? '', 'utf8').digest('base64')}'`);
  const meta = /[ \t]*<meta http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>\s*\n?/i;
  const found = meta.exec(html);
  if (!found || !/script-src 'self'/.test(found[1] ?? '')) {
    throw new Error('dev-csp: src/renderer/index.html has no meta Content-Security-Policy with "script-src \'self\'" to add the dev hashes to');
  }
  const policy = (found[1] ?? '').replace("script-src 'self'", ["script-src 'self'", ...new Set(hashes)].join(' '));
  const head = /<head[^>]*>/i.exec(html.replace(meta, ''));
  if (!head) throw new Error('dev-csp: the page has no <head>');
  const rest = html.replace(meta, '');
  const at = head.index + head[0].length;
  return `${rest.slice(0, at)}\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />${rest.slice(at)}`;
}
