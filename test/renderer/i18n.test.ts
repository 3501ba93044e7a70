/**
 * UI language: the user's saved choice wins, then the browser's languages, then English; every
 * namespace has the same keys in English and German, so no view shows a raw key in either.
 */
/// <reference types="node" />
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { i18next, initialLanguage, setLanguage } from '../../src/renderer/src/i18n';

// vitest runs from the repository root (happy-dom gives import.meta.url an http: scheme).
const LOCALES = join(process.cwd(), 'src/renderer/src/i18n/locales');

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

  it('has the same keys in every language, for every namespace', () => {
    const namespaces = readdirSync(join(LOCALES, 'en'));
    expect(namespaces.length).toBeGreaterThan(0);
    expect(readdirSync(join(LOCALES, 'de')).sort()).toEqual([...namespaces].sort());
    for (const file of namespaces) {
      const en = keys(JSON.parse(readFileSync(join(LOCALES, 'en', file), 'utf8'))).sort();
      const de = keys(JSON.parse(readFileSync(join(LOCALES, 'de', file), 'utf8'))).sort();
      expect(de, `locales/de/${file}`).toEqual(en);
    }
  });
});
