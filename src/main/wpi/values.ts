/**
 * The rules for a WorkpointMessage's values, shared by both parses (parse.ts refuses what breaks
 * them, canonical.ts leaves it to parse.ts): one place, so the two paths cannot drift apart.
 */
import { REASONS_FOR_CONTACT, type Fragment, type ReasonForContact } from './types';

/** Printable ASCII without XML specials, so the nonce can be echoed byte for byte. */
const NONCE = /^[\x21-\x7e]{1,256}$/;
const NONCE_FORBIDDEN = /[<>&"']/;
const INTEGER = /^-?\d{1,9}$/;
const REASONS: ReadonlySet<string> = new Set(REASONS_FOR_CONTACT);

export function isValidNonce(nonce: string): boolean {
  return NONCE.test(nonce) && !NONCE_FORBIDDEN.test(nonce);
}

export function isReasonForContact(text: string): text is ReasonForContact {
  return REASONS.has(text);
}

/** An integer attribute (blanks around it allowed, at most 9 digits) of at least `min`; null otherwise. */
export function integerValue(raw: string, min: number): number | null {
  const v = raw.trim();
  const n = INTEGER.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= min ? n : null;
}

/** `fragment` as written (blanks around it allowed); null when it is neither "next" nor "final". */
export function fragmentValue(raw: string): Fragment | null {
  const v = raw.trim();
  return v === 'next' || v === 'final' ? v : null;
}
