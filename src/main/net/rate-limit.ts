/**
 * Bounds how many rows noise can write: at most one per key (address and reason) per window, at
 * most `perMinute` overall in any clock minute and `perHour` in any hour, so a flood that lasts
 * for days still writes a bounded, small number of rows (with the defaults at most 120 an hour,
 * under 3,000 a day per limiter). What is held back is counted and reported with the next row
 * that gets through. The keys remembered are bounded too (the least recently admitted go first).
 */
export class RowLimiter {
  private readonly lastByKey = new Map<string, number>();
  private minuteStart = -Infinity;
  private inMinute = 0;
  private hourStart = -Infinity;
  private inHour = 0;
  private suppressed = 0;

  constructor(
    private readonly perKeyMs = 30_000,
    private readonly perMinute = 30,
    private readonly maxKeys = 10_000,
    private readonly perHour = 120,
  ) {}

  /** Returns null when the row should be dropped, else how many were dropped before it. */
  admit(key: string, now: number): number | null {
    if (now - this.minuteStart >= 60_000) {
      this.minuteStart = now;
      this.inMinute = 0;
    }
    if (now - this.hourStart >= 3_600_000) {
      this.hourStart = now;
      this.inHour = 0;
    }
    const last = this.lastByKey.get(key);
    if ((last !== undefined && now - last < this.perKeyMs) || this.inMinute >= this.perMinute || this.inHour >= this.perHour) {
      this.suppressed++;
      return null;
    }
    // Re-inserted keys move to the end, so the first key is the one admitted longest ago.
    this.lastByKey.delete(key);
    if (this.lastByKey.size >= this.maxKeys) this.lastByKey.delete(this.lastByKey.keys().next().value as string);
    this.lastByKey.set(key, now);
    this.inMinute++;
    this.inHour++;
    const held = this.suppressed;
    this.suppressed = 0;
    return held;
  }

  /** Keys remembered (bounded by maxKeys). */
  get keys(): number {
    return this.lastByKey.size;
  }
}
