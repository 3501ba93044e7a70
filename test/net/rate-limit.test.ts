import { describe, expect, it } from 'vitest';
import { RowLimiter } from '../../src/main/net/rate-limit';

describe('RowLimiter', () => {
  it('admits one row per key per window and reports what it held back with the next one', () => {
    const l = new RowLimiter(30_000, 100);
    expect(l.admit('a', 0)).toBe(0);
    expect(l.admit('a', 1000)).toBeNull();
    expect(l.admit('a', 2000)).toBeNull();
    expect(l.admit('b', 2000)).toBe(2);
    expect(l.admit('a', 30_000)).toBe(0);
  });
  it('caps rows per minute across keys, then opens again', () => {
    const l = new RowLimiter(0, 3);
    const admitted = Array.from({ length: 10 }, (_, i) => l.admit(`k${i}`, 100)).filter((x) => x !== null);
    expect(admitted).toHaveLength(3);
    expect(l.admit('later', 60_100)).toBe(7);
  });
});
