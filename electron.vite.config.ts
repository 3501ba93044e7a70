import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { devInlineScriptHashes } from './scripts/dev-csp';
import { preloadDynamicChunks } from './scripts/preload-chunks';

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      externalizeDeps: true,
      // Sandboxed preloads must be CommonJS.
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Minified (electron-vite leaves the renderer as is): `serve --ui` sends the bundle to a browser,
    // and the page's start-up waits for it to load and parse (1.25 MB → about a third).
    build: { minify: true, rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
    // devInlineScriptHashes: dev server only, lets its React-refresh preamble past the page's CSP.
    // preloadDynamicChunks: the page fetches React and the first view with the entry
    // (src/renderer/src/main.tsx), which loads them with import(); their English text is in the entry.
    plugins: [
      react(),
      devInlineScriptHashes(),
      preloadDynamicChunks(['src/renderer/src/app/mount.tsx']),
    ],
  },
});
