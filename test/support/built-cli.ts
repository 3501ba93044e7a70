/**
 * Vitest's global setup: the command line built once per run, as `npm run build` builds it, for
 * the tests that start it as a process. Started from its sources under tsx, each process spent
 * about half a second more (a second of CPU) compiling and resolving them; the suite starts a few
 * hundred. The build goes to a folder of its own (out/cli-test-<pid>), beside out/renderer as
 * out/cli is, so `serve --ui` finds the UI there too; it is removed when the run ends, and
 * electron-builder.yml leaves such folders out of a package.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { alive } from './alive';

const ROOT = resolve(__dirname, '../..');
const PREFIX = 'cli-test-';

const buildInto = (outDir: string) => build({ configFile: join(ROOT, 'vite.cli.config.ts'), build: { outDir, sourcemap: false }, logLevel: 'error' });

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  // Every project inherits this setup; the first one builds, the others use that build.
  if (process.env.LOCALDLS_TEST_CLI) return undefined;
  const out = join(ROOT, 'out');
  // Runs that were killed leave their build behind.
  for (const name of existsSync(out) ? readdirSync(out) : []) {
    const pid = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && Number.isInteger(pid) && !alive(pid)) rmSync(join(out, name), { recursive: true, force: true });
  }
  const outDir = join(out, `${PREFIX}${process.pid}`);
  await buildInto(outDir);
  // The test processes inherit it (test/support/cli.ts reads it).
  process.env.LOCALDLS_TEST_CLI = join(outDir, 'localdls.mjs');
  // Watch mode runs this setup once: build again before each rerun, so an edit is what runs.
  project.vitest.onTestsRerun(async () => {
    await buildInto(outDir);
  });
  return () => {
    rmSync(outDir, { recursive: true, force: true });
    delete process.env.LOCALDLS_TEST_CLI;
  };
}
