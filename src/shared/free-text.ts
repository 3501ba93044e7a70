/**
 * What free text the traffic filter searches: the store finds it through an index of every three
 * characters in a row (SQLite FTS5, trigram tokenizer; store/search-text.ts), so shorter text
 * cannot use the index and would have to read every exchange's bodies. It is refused everywhere
 * (CLI, UI, exports) with the same words, rather than searched in part.
 */
export const MIN_TEXT_CHARS = 3;

/** The rule, as the end of a sentence whose subject is the field (shared/schemas.ts). */
export const TEXT_TOO_SHORT = `must have at least ${MIN_TEXT_CHARS} characters in a row: free text is found through an index of every ${MIN_TEXT_CHARS} (for a device, use the device filter)`;

/** Whether free text can be searched: MIN_TEXT_CHARS characters in a row without a NUL (the index's query cannot hold one). */
export function searchableText(text: string): boolean {
  let run = 0;
  for (const c of text) {
    run = c === '\0' ? 0 : run + 1;
    if (run >= MIN_TEXT_CHARS) return true;
  }
  return false;
}
