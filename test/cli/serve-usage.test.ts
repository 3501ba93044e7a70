/**
 * `serve --help` and the README's serve synopsis name every option the help text explains, so a
 * reader of the one-line usage (or of the README) does not miss e.g. --secure-port or --tls-keylog.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

/** The options the help text explains: lines that start (indented) with --flag. */
function explained(help: string): string[] {
  const flags = [...help.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((m) => m[1]!);
  return [...new Set(flags)];
}

describe('serve usage', () => {
  it('the usage line of serve --help names every option the help explains', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout;
    const synopsis = help.slice(0, help.indexOf('\n\n'));
    expect(synopsis).toContain('localdls serve');
    const flags = explained(help);
    // Sanity: the list really was read (these are explained today).
    expect(flags).toEqual(expect.arrayContaining(['--secure-port', '--secure-tls', '--key-passphrase-file', '--tls-keylog', '--upstream']));
    expect(flags.filter((f) => !new RegExp(`${f}(?![a-z-])`).test(synopsis))).toEqual([]);
  });

  it("README's serve synopsis names every option of serve --help", async () => {
    const help = (await runCli(['serve', '--help'])).stdout;
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const start = readme.indexOf('bin/localdls serve [--data-dir D]');
    expect(start).toBeGreaterThan(-1);
    const block = readme.slice(start, readme.indexOf('```', start));
    expect(explained(help).filter((f) => !new RegExp(`${f}(?![a-z-])`).test(block))).toEqual([]);
  });
});
