import { describe, expect, it } from 'vitest';
import { generatePin, isValidPin, pinPassword, tanOf, validatePin } from '../../src/main/pki';

describe('PINs (manual p.67–68)', () => {
  it('are generated with the requested number of digits, 8 by default', () => {
    expect(generatePin()).toMatch(/^[0-9]{8}$/);
    expect(generatePin(6)).toMatch(/^[0-9]{6}$/);
    expect(generatePin(16)).toMatch(/^[0-9]{16}$/);
    expect(() => generatePin(5)).toThrow('a PIN has 6 to 16 digits, not 5');
    expect(() => generatePin(17)).toThrow(/not 17/);
    expect(() => generatePin(7.5)).toThrow(/6 to 16 digits/);
  });

  it('use every digit in every position (no fixed or missing digits)', () => {
    const seen = Array.from({ length: 8 }, () => new Set<string>());
    for (let i = 0; i < 400; i++) [...generatePin()].forEach((d, pos) => seen[pos]?.add(d));
    // 400 draws per position: missing one of 10 digits has probability < 10 * 0.9^400 ≈ 5e-18
    for (const s of seen) expect(s.size).toBe(10);
  });

  it('split into the secure-mode-data password and the 3-digit TAN', () => {
    expect(pinPassword('12345678')).toBe('12345');
    expect(tanOf('12345678')).toBe('678');
    expect(pinPassword('000123')).toBe('000');
    expect(tanOf('000123')).toBe('123');
  });

  it('are validated with messages fit for the user', () => {
    expect(validatePin('0123456789')).toBe('0123456789');
    expect(() => validatePin('')).toThrow('the PIN is empty');
    expect(() => validatePin('12345')).toThrow('a PIN has 6 to 16 digits, not 5');
    expect(() => validatePin('12345678901234567')).toThrow(/not 17/);
    expect(() => validatePin('1234 5678')).toThrow('the PIN may contain only the digits 0-9 (it is typed on the phone keypad)');
    expect(() => validatePin('１２３４５６')).toThrow(/only the digits/); // full-width digits
    expect(() => tanOf('12a456')).toThrow(/only the digits/);
    expect(isValidPin('123456')).toBe(true);
    expect(isValidPin('12345')).toBe(false);
  });
});
