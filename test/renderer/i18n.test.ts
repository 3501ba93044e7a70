/**
 * UI language: the user's saved choice wins, then the browser's languages, then English; every
 * namespace has the same keys in English and German, so no view shows a raw key in either.
 */
import { describe, expect, it } from 'vitest';
import { i18next, initialLanguage, localeFiles, NAMESPACES, setLanguage, START_NAMESPACES } from '../../src/renderer/src/i18n';

/** Every namespace file, by language: { en: { traffic: {...} }, de: {...} }. */
const LOCALES: Record<string, Record<string, unknown>> = {};
for (const [path, module] of Object.entries(import.meta.glob<{ default: unknown }>('../../src/renderer/src/i18n/locales/*/*.json', { eager: true }))) {
  const [, lang, namespace] = /locales\/(\w+)\/([\w-]+)\.json$/.exec(path)!;
  (LOCALES[lang!] ??= {})[namespace!] = module.default;
}

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe('UI language', () => {
  it('takes the saved choice, then the browser language, then English', () => {
    const saved = (v: string | null) => ({ getItem: () => v });
    expect(initialLanguage(saved('de'), ['en-US'])).toBe('de');
    expect(initialLanguage(saved('fr'), ['de-AT', 'en'])).toBe('de');
    expect(initialLanguage(saved(null), ['fr-FR', 'en-GB'])).toBe('en');
    expect(initialLanguage(undefined, ['fr'])).toBe('en');
  });

  it('switches the loaded strings', async () => {
    setLanguage('de');
    expect(i18next.t('common:language')).toBe('Sprache');
    setLanguage('en');
    expect(i18next.t('common:language')).toBe('Language');
  });

  it('reads one file per language and namespace; a namespace without a file loads empty, so English shows', async () => {
    const read = (lang: string, ns: string) =>
      new Promise<unknown>((resolve, reject) => localeFiles.read(lang, ns, (e, data) => (e ? reject(e) : resolve(data))));
    expect(await read('de', 'common')).toEqual(LOCALES.de!.common);
    expect(await read('de', 'no-such-view')).toEqual({});
    expect(await read('fr', 'common')).toEqual({});
  });

  it("the first screen's namespaces exist (a renamed file would leave the start-up list behind)", () => {
    expect(START_NAMESPACES.length).toBeGreaterThan(0);
    for (const ns of START_NAMESPACES) expect(NAMESPACES, ns).toContain(ns);
    expect([...NAMESPACES].sort()).toEqual(Object.keys(LOCALES.en ?? {}).sort());
  });

  it('has the same keys in every language, for every namespace', () => {
    const namespaces = Object.keys(LOCALES.en ?? {}).sort();
    expect(namespaces.length).toBeGreaterThan(0);
    expect(Object.keys(LOCALES.de ?? {}).sort()).toEqual(namespaces);
    for (const ns of namespaces) expect(keys(LOCALES.de![ns]).sort(), `locales/de/${ns}.json`).toEqual(keys(LOCALES.en![ns]).sort());
  });

  it('the first screen\'s English text is in the start-up bundle: the namespaces bundled are START_NAMESPACES, and no other file is both bundled and loaded', async () => {
    const source = (await import('../../src/renderer/src/i18n/index.ts?raw')).default;
    const lists = [...source.matchAll(/locales\/en\/\{([\w,-]+)\}\.json/g)].map((m) => m[1]!.split(','));
    // The eager glob and the exclusion from the lazy one: the same names, START_NAMESPACES's.
    expect(lists).toHaveLength(2);
    for (const list of lists) expect([...list].sort()).toEqual([...START_NAMESPACES].sort());
    // Each is read without a fetch, and every namespace is still known.
    for (const ns of START_NAMESPACES) {
      const strings = await new Promise<unknown>((resolve) => localeFiles.read('en', ns, (_e, data) => resolve(data)));
      expect(strings, ns).toEqual(LOCALES.en![ns]);
    }
    expect([...NAMESPACES].sort()).toEqual(Object.keys(LOCALES.en!).sort());
  });
});
