/**
 * The command line's build: src/main/cli/run.ts and what it imports, bundled for Node into
 * out/cli/localdls.mjs (bin/localdls runs it). Dependencies (better-sqlite3, ws, …) stay in
 * node_modules. `npm run build` runs this after electron-vite's build.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  build: {
    ssr: resolve(ROOT, 'src/main/cli/run.ts'),
    outDir: process.env.LOCALDLS_CLI_OUT_DIR ?? resolve(ROOT, 'out/cli'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    rollupOptions: { output: { format: 'es', entryFileNames: 'localdls.mjs', chunkFileNames: '[name]-[hash].mjs' } },
  },
  logLevel: 'warn',
});
