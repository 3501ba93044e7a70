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

describe('RowLimiter bounds a flood that lasts', () => {
  it('writes at most perHour rows in an hour however the minutes go, then opens again', () => {
    const l = new RowLimiter(0, 30, 10_000, 120);
    let admitted = 0;
    // One attempt a second for an hour, each from a new key (as from ever new addresses).
    for (let s = 0; s < 3600; s++) if (l.admit(`k${s}`, s * 1000) !== null) admitted++;
    expect(admitted).toBe(120);
    // 30 a minute: the 120th row went through at 3:29; the next hour's first row reports the rest.
    expect(l.admit('next hour', 3_600_000)).toBe(3600 - 210);
  });
  it('remembers a bounded number of keys, forgetting the one admitted longest ago', () => {
    const l = new RowLimiter(30_000, 1000, 3, 1000);
    for (const k of ['a', 'b', 'c', 'd']) expect(l.admit(k, 0)).not.toBeNull();
    expect(l.keys).toBe(3);
    // 'a' was forgotten, so it is admitted again; 'd' is still remembered.
    expect(l.admit('a', 1)).toBe(0);
    expect(l.admit('d', 1)).toBeNull();
  });
});
