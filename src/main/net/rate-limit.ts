/**
 * Bounds how many rows noise can write: at most one per key per window, and at most `perMinute`
 * overall. What is held back is counted and reported with the next row that gets through.
 */
export class RowLimiter {
  private readonly lastByKey = new Map<string, number>();
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(private readonly perKeyMs = 30_000, private readonly perMinute = 30, private readonly maxKeys = 10_000) {}

  /** Returns null when the row should be dropped, else how many were dropped before it. */
  admit(key: string, now: number): number | null {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    const last = this.lastByKey.get(key);
    if ((last !== undefined && now - last < this.perKeyMs) || this.inWindow >= this.perMinute) {
      this.suppressed++;
      return null;
    }
    if (this.lastByKey.size >= this.maxKeys) this.lastByKey.clear();
    this.lastByKey.set(key, now);
    this.inWindow++;
    const held = this.suppressed;
    this.suppressed = 0;
    return held;
  }
}
