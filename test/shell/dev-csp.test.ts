/**
 * `npm run dev` renders (issue 17 #4): the dev server's page keeps the strict policy plus the
 * hashes of exactly the inline scripts the dev server put there (the React-refresh preamble),
 * with the meta first in <head> so it governs them. Run through Vite's own HTML transform with
 * the project's renderer plugins; no port is opened.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { createServer } from 'vite';
import { describe, expect, it } from 'vitest';
import { devInlineScriptHashes, withInlineScriptHashes } from '../../scripts/dev-csp';
import { cspDirectives, ROOT } from '../security/build';

const root = join(ROOT, 'src/renderer');
const source = readFileSync(join(root, 'index.html'), 'utf8');
const metaPolicy = (html: string) => /<meta http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
const inlineScripts = (html: string) => [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].filter((m) => !/\bsrc=/.test(m[1]!)).map((m) => m[2]!);
const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

describe('the dev server page', () => {
  it('allows the React-refresh preamble by its hash, nothing else inline, and the meta comes first', async () => {
    const server = await createServer({ root, configFile: false, logLevel: 'silent', plugins: [react(), devInlineScriptHashes()], server: { middlewareMode: true, ws: false } });
    let html: string;
    try {
      html = await server.transformIndexHtml('/index.html', source);
    } finally {
      await server.close();
    }
    const scripts = inlineScripts(html);
    expect(scripts.some((s) => s.includes('injectIntoGlobalHook'))).toBe(true);
    const d = cspDirectives(metaPolicy(html));
    expect(d.get('script-src')).toEqual(["'self'", ...scripts.map(hash)]);
    // Everything else as written in index.html.
    const written = cspDirectives(metaPolicy(source));
    for (const [name, sources] of written) if (name !== 'script-src') expect(d.get(name), name).toEqual(sources);
    // The policy precedes every script (a meta policy does not govern what came before it).
    expect(html.indexOf('http-equiv="Content-Security-Policy"')).toBeLessThan(html.indexOf('<script'));
  });

  it('a page without inline scripts keeps script-src \'self\' alone; a page without the policy is an error, not an open page', () => {
    expect(cspDirectives(metaPolicy(withInlineScriptHashes(source))).get('script-src')).toEqual(["'self'"]);
    expect(() => withInlineScriptHashes('<html><head><script>alert(1)</script></head></html>')).toThrow(/no meta Content-Security-Policy/);
  });

  it('applies to the dev server only: the built page keeps the policy as written', () => {
    expect(devInlineScriptHashes().apply).toBe('serve');
  });
});
