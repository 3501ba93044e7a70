/**
 * Text from a namespace that may still be loading shows English or its raw key (nothing suspends
 * for it): outside a component's useTranslation only the start-up namespaces are read. A scan of
 * every i18next.t / getFixedT / exists call (however it names the namespace: a prefix, `ns:`, a
 * list, a template), and of `$t(ns:…)` nesting in a start-up namespace's texts.
 */
import { describe, expect, it } from 'vitest';
import { NAMESPACES, START_NAMESPACES } from '../../src/renderer/src/i18n';

const LATER = NAMESPACES.filter((ns) => !START_NAMESPACES.includes(ns));

/** The namespaces a call's first ~300 characters name, or '?' when it builds one at run time. */
function namedIn(args: string): string[] {
  const found = new Set<string>();
  for (const m of args.matchAll(/[`'"]([\w-]+)(?::|[`'"])/g)) if (NAMESPACES.includes(m[1]!)) found.add(m[1]!);
  if (/^\s*`\$\{/.test(args)) found.add('?');
  return [...found];
}

describe('reads of namespaces that may still be loading', () => {
  it('no i18next call outside a component names a namespace that is not loaded at start', () => {
    const sources = import.meta.glob<string>('../../src/renderer/src/**/*.{ts,tsx}', { query: '?raw', import: 'default', eager: true });
    const call = /\bi18n(?:ext)?\s*\.\s*(?:t|getFixedT|exists)\s*\(/g;
    const reads: string[] = [];
    for (const [path, source] of Object.entries(sources)) {
      if (path.includes('/i18n/')) continue;
      for (const m of source.matchAll(call)) {
        const args = source.slice(m.index! + m[0].length, m.index! + m[0].length + 300).split(/\)\s*[;,\n]/)[0]!;
        for (const ns of namedIn(args)) if (!START_NAMESPACES.includes(ns)) reads.push(`${path.replace(/^.*src\/renderer\/src\//, '')}: ${ns}`);
      }
    }
    expect(reads).toEqual([]);
  });

  it("a start-up namespace's texts nest ($t) only start-up namespaces", () => {
    const files = import.meta.glob<string>('../../src/renderer/src/i18n/locales/*/*.json', { query: '?raw', import: 'default', eager: true });
    const nested: string[] = [];
    for (const [path, text] of Object.entries(files)) {
      const [, lang, ns] = /locales\/(\w+)\/([\w-]+)\.json$/.exec(path)!;
      if (!START_NAMESPACES.includes(ns!)) continue;
      for (const m of text.matchAll(/\$t\(\s*([\w-]+):/g)) if (LATER.includes(m[1]!)) nested.push(`${lang}/${ns}.json: $t(${m[1]}:…)`);
    }
    expect(nested).toEqual([]);
  });
});
