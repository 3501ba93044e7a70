/**
 * Bootstrapping PINs (manual p.67–68 §3.6.10.3–4): the user types the PIN on the phone; the PIN
 * without its last 3 characters is the password of `secure-mode-data`, and the last 3 characters
 * are the TAN the phone returns as `bootstrapping-tan` over the secure channel.
 */
import { randomInt } from 'node:crypto';

export const PIN_MIN_DIGITS = 6;
export const PIN_MAX_DIGITS = 16;
export const TAN_LENGTH = 3;
export const DEFAULT_PIN_DIGITS = 8;

/** `digits` decimal digits, each drawn uniformly (crypto.randomInt rejects biased values). */
export function generatePin(digits: number = DEFAULT_PIN_DIGITS): string {
  checkLength(digits);
  let pin = '';
  for (let i = 0; i < digits; i++) pin += String(randomInt(10));
  return pin;
}

/** Returns `pin` unchanged when valid (digits only, 6–16 of them); throws a message fit for the user otherwise. */
export function validatePin(pin: string): string {
  if (typeof pin !== 'string' || pin.length === 0) throw new Error('the PIN is empty');
  if (!/^[0-9]+$/.test(pin)) throw new Error('the PIN may contain only the digits 0-9 (it is typed on the phone keypad)');
  checkLength(pin.length);
  return pin;
}

export function isValidPin(pin: string): boolean {
  try {
    validatePin(pin);
    return true;
  } catch {
    return false;
  }
}

/** The TAN: the PIN's last 3 characters, which the phone reports as `bootstrapping-tan` (p.68). */
export function tanOf(pin: string): string {
  return validatePin(pin).slice(-TAN_LENGTH);
}

/** The `secure-mode-data` password: the PIN "except last 3 characters" (p.67). */
export function pinPassword(pin: string): string {
  return validatePin(pin).slice(0, -TAN_LENGTH);
}

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n < PIN_MIN_DIGITS || n > PIN_MAX_DIGITS) {
    throw new Error(`a PIN has ${PIN_MIN_DIGITS} to ${PIN_MAX_DIGITS} digits, not ${n}`);
  }
}
