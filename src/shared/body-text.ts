/**
 * A message body as text for people (views, exports, search) and for the never-stored rule.
 *
 * Phones send UTF-8, and XML has no NUL character. A body with NUL bytes (UTF-16, or NULs slipped
 * between the letters) hides its ASCII item names from every masking rule when read as UTF-8
 * (`a\0d\0m\0i\0n\0-\0p\0w\0d\0`): a hostile or confused client's way round them. Such a body is
 * read without its NULs, so every ASCII byte shows in order, whatever the encoding meant, and the
 * masks apply; `nulsDropped` says the text is then not the bytes. Decoding UTF-16 instead would
 * let a misaligned or mixed body hide the names again.
 */
export interface BodyText {
  text: string;
  /** Bytes that are not UTF-8 were shown as U+FFFD. */
  invalidUtf8: boolean;
  /** NUL bytes were left out of the text. */
  nulsDropped: boolean;
}

const FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LOSSY = new TextDecoder('utf-8', { ignoreBOM: true });

/** Whether the body holds a NUL byte (on a Buffer, indexOf is memchr: a phone's body costs one fast pass). */
export function holdsNul(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) >= 0;
}

export function bodyText(bytes: Uint8Array): BodyText {
  const nulsDropped = holdsNul(bytes);
  const kept = nulsDropped ? bytes.filter((b) => b !== 0) : bytes;
  try {
    return { text: FATAL.decode(kept), invalidUtf8: false, nulsDropped };
  } catch {
    return { text: LOSSY.decode(kept), invalidUtf8: true, nulsDropped };
  }
}
