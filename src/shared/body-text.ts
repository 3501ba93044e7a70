/**
 * A message body as text for people (views, exports, search), and the NUL-free bytes the
 * never-stored rule reads.
 *
 * Phones send UTF-8, and XML has no NUL character: a body with NUL bytes (UTF-16, or NULs slipped
 * between the letters of a name) is refused by the service, and no mask can be trusted on it. Read
 * as UTF-8, its names are hidden from the masks (`a\0d\0m\0i\0n\0-\0p\0w\0d\0`); read without its
 * NULs, UTF-16 code units can spell markup (`</Item>`) that ends an Item before its value
 * (helper-63); decoded as UTF-16, a misaligned body hides the names again. So its text is
 * withheld from views, exports and search: only its size shows.
 */
export interface BodyText {
  text: string;
  /** Bytes that are not UTF-8 were shown as U+FFFD. */
  invalidUtf8: boolean;
  /** The body holds NUL bytes: its text is not shown (`text` is empty). */
  withheld: boolean;
}

const FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LOSSY = new TextDecoder('utf-8', { ignoreBOM: true });

/** Whether the body holds a NUL byte (on a Buffer, indexOf is memchr: a phone's body costs one fast pass). */
export function holdsNul(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) >= 0;
}

/** The bytes without their NULs, as UTF-8 text (lossy): what the never-stored rule looks for names in. */
export function textWithoutNuls(bytes: Uint8Array): string {
  // A plain loop: filter() on a typed array costs ~30 ms per 256 KiB (helper-64).
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) out[n++] = bytes[i]!;
  return LOSSY.decode(out.subarray(0, n));
}

export function bodyText(bytes: Uint8Array): BodyText {
  if (holdsNul(bytes)) return { text: '', invalidUtf8: false, withheld: true };
  try {
    return { text: FATAL.decode(bytes), invalidUtf8: false, withheld: false };
  } catch {
    return { text: LOSSY.decode(bytes), invalidUtf8: true, withheld: false };
  }
}
