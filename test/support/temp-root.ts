/**
 * Vitest's global setup: the run's temporary files in a folder of its own. TMPDIR points there for
 * every test process (and what they start: the CLI, Chromium), so a test that leaves a folder
 * behind is found: the run fails, naming what was left, instead of filling the user's /tmp a few
 * folders per run (one run left seven). The folder is removed when the run ends; one a killed run
 * left is removed by the next.
 */
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from './alive';

const PREFIX = 'localdls-tests-';
/** What others keep in a temp folder across a run (tsx's compile cache): not ours to clean. */
const NOT_OURS = /^tsx-\d+$/;

export default function setup(): (() => void) | undefined {
  // Every project inherits this setup; the first one sets the folder, the others use it.
  if (process.env.LOCALDLS_TEST_TMP) return undefined;
  const parent = tmpdir();
  for (const name of readdirSync(parent)) {
    const pid = Number(/^localdls-tests-(\d+)-/.exec(name)?.[1]);
    if (!name.startsWith(PREFIX) || !Number.isInteger(pid) || alive(pid)) continue;
    // Only a folder of this user's (in a shared /tmp another user's is neither ours nor removable),
    // and one that cannot be removed does not stop the run.
    try {
      const path = join(parent, name);
      if (process.getuid === undefined || lstatSync(path).uid === process.getuid()) rmSync(path, { recursive: true, force: true });
    } catch {
      // left for its owner
    }
  }
  const root = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  // Others may pass through it, not write in it: the read-only folder tests run processes as an
  // unprivileged user (test/cli/files-at-rest.test.ts) in folders made here.
  chmodSync(root, 0o755);
  const saved = { TMPDIR: process.env.TMPDIR };
  process.env.TMPDIR = root;
  process.env.LOCALDLS_TEST_TMP = root;
  return () => {
    const left = (existsSync(root) ? readdirSync(root).filter((n) => !NOT_OURS.test(n)) : []).map((n) => {
      const path = join(root, n);
      // What is in it names the test that left it.
      let inside: string[] = [];
      try {
        // lstat: a link to nothing (or a folder this user cannot read) is named, not a crash of the teardown.
        if (lstatSync(path).isDirectory()) inside = readdirSync(path).slice(0, 8);
      } catch {
        // named without its contents
      }
      return inside.length > 0 ? `${n} (${inside.join(', ')})` : n;
    });
    rmSync(root, { recursive: true, force: true });
    if (saved.TMPDIR === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved.TMPDIR;
    delete process.env.LOCALDLS_TEST_TMP;
    if (left.length === 0) return;
    // Said and the exit code set, not thrown: Vitest would skip the teardowns after this one (built-cli.ts's
    // build would stay in out/), and it still exits 0 for an error thrown here.
    process.exitCode = 1;
    process.stderr.write(`\nError: the tests left ${left.length} temporary file(s) or folder(s) behind: ${left.slice(0, 20).join(', ')}\n`);
  };
}
