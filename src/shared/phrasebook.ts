/**
 * The service's sentences that outlive the moment they are said (job notes, recorded exchange
 * errors): written from one table in English (the CLI prints them, the store keeps them), and read
 * back from their words so the UI can say them in its language. Each entry: the sentence from its
 * values, the pattern that reads it back (anchored, linear), and the values' names in the
 * pattern's groups.
 */
export type Phrase = readonly [text: (p: Record<string, string>) => string, pattern: RegExp, names: readonly string[]];

export interface Phrasebook<K extends string> {
  /** Every sentence's key (the UI's translations and the tests cover each). */
  readonly keys: readonly K[];
  text(key: K, params: Record<string, string>): string;
  /** Which sentence it is, and its values; null for any other text. */
  parse(text: string): { key: K; params: Record<string, string> } | null;
}

export function phrasebook<K extends string>(phrases: Record<K, Phrase>): Phrasebook<K> {
  const entries = Object.entries(phrases) as [K, Phrase][];
  return {
    keys: entries.map(([key]) => key),
    text: (key, params) => phrases[key][0](params),
    parse(text) {
      for (const [key, [, pattern, names]] of entries) {
        const m = pattern.exec(text);
        if (m) return { key, params: Object.fromEntries(names.map((n, i) => [n, m[i + 1] ?? ''])) };
      }
      return null;
    },
  };
}
