/**
 * Build only: index.html lists the start-up entry's own imports for preloading, but not the chunks
 * the entry loads with import() (app/mount.tsx: React, the app frame, the traffic view; the first
 * screen's UI text). The entry asks for the first rows before it loads those; this plugin adds
 * <link rel="modulepreload"> (and their styles) to the page, so the browser fetches them alongside
 * the entry instead of after it has run.
 */
import type { Plugin } from 'vite';

export function preloadDynamicChunks(moduleSuffixes: readonly string[]): Plugin {
  return {
    name: 'localdls:preload-dynamic-chunks',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return html;
        const chunks = Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [c] : []));
        const starts = moduleSuffixes.map((suffix) => {
          const chunk = chunks.find((c) => c.facadeModuleId?.endsWith(suffix));
          if (!chunk) throw new Error(`preloadDynamicChunks: no chunk for ${suffix} in the build (renamed? update electron.vite.config.ts)`);
          return chunk;
        });
        const scripts = new Set<string>();
        const styles = new Set<string>();
        const visit = (fileName: string) => {
          if (scripts.has(fileName)) return;
          scripts.add(fileName);
          const chunk = chunks.find((c) => c.fileName === fileName);
          for (const css of chunk?.viteMetadata?.importedCss ?? []) styles.add(css);
          for (const dep of chunk?.imports ?? []) visit(dep);
        };
        for (const chunk of starts) visit(chunk.fileName);
        const tags = [
          ...[...styles].filter((f) => !html.includes(f)).map((f) => ({ tag: 'link', attrs: { rel: 'stylesheet', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const })),
          ...[...scripts].filter((f) => !html.includes(f)).map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const })),
        ];
        return { html, tags };
      },
    },
  };
}
