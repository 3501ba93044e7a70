/** What every phrasebook test checks of each sentence: read back, said in German with its values, in English as written. */
import { expect } from 'vitest';
import type { Phrasebook } from '../../src/shared/phrasebook';
import type { AnyT } from '../../src/renderer/src/lib/phrase';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';

/**
 * `all`: a sample of every sentence (its key and values), checked against the book's keys so a
 * sentence added without a German text fails; `say`: the UI's function; `prefix`: the locale keys'
 * start (a German text still holding it, or a placeholder, was not found).
 */
export async function expectEverySentenceSaid<K extends string>(book: Phrasebook<K>, all: [K, Record<string, string>][], say: (text: string, t: AnyT) => string, prefix: string): Promise<void> {
  await loadAllNamespaces();
  const de = i18next.getFixedT('de') as unknown as AnyT;
  const en = i18next.getFixedT('en') as unknown as AnyT;
  expect(all.map(([k]) => k).sort()).toEqual([...book.keys].sort());
  for (const [key, params] of all) {
    const english = book.text(key, params);
    expect(book.parse(english)).toEqual({ key, params });
    const german = say(english, de);
    expect(german, english).not.toBe(english);
    expect(german).not.toContain(prefix);
    expect(german).not.toMatch(/\{\{/);
    for (const v of Object.values(params)) expect(german, key).toContain(v);
    expect(say(english, en)).toBe(english);
  }
}
