/**
 * The simulator stands apart from the service: nothing under src/phone imports src/main (so a
 * codec bug cannot be shared), and the lint rule that keeps it so fails a planted import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const PHONE = path.join(ROOT, 'src/phone');
const MAIN = path.join(ROOT, 'src/main');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : /\.tsx?$/.test(e.name) ? [full] : [];
  });
}

/** Every module specifier of static imports, re-exports, import() and require(). */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

describe('src/phone does not depend on src/main', () => {
  it('no module under src/phone imports anything under src/main', () => {
    const files = sources(PHONE);
    expect(files.length).toBeGreaterThan(10);
    const offending: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (target === MAIN || target.startsWith(`${MAIN}${path.sep}`)) offending.push(`${path.relative(ROOT, file)} -> ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('the scanner sees the import forms it looks for', () => {
    expect(specifiers("import { a } from '../main/wpi';\nimport type { B } from \"../main/x\";\nexport * from '../main/y';\nimport '../main/z';\nconst c = await import('../main/q');")).toEqual([
      '../main/wpi',
      '../main/x',
      '../main/y',
      '../main/z',
      '../main/q',
    ]);
  });

  it('eslint refuses a planted import of src/main in src/phone, and allows src/shared', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (code: string) => (await eslint.lintText(code, { filePath: path.join(PHONE, 'planted.ts') }))[0]!.messages.map((m) => m.ruleId);
    expect(await lint("import { parseDLSMessage } from '../main/wpi';\nexport const p = parseDLSMessage;\n")).toEqual(['no-restricted-imports']);
    expect(await lint("import type { Item } from '../main/wpi/types';\nexport type I = Item;\n")).toEqual(['no-restricted-imports']);
    expect(await lint("export { buildDLSMessage } from '../main/wpi';\n")).toEqual(['no-restricted-imports']);
    expect(await lint("export const load = () => import('../main/service');\n")).toEqual(['no-restricted-syntax']);
    expect(await lint("import { CATALOGUE } from '../shared/catalogue';\nexport const c = CATALOGUE;\n")).toEqual([]);
  }, 60_000);
});
