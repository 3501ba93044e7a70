/** Small formatters shared by the views. Times are local, and say which zone they are in. */
import { i18next } from '../i18n';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** 14:03:07.123 (local time, with ms: exchanges of one interaction are milliseconds apart). */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The local zone's offset from UTC at that moment: "UTC+01:00", "UTC-05:30", or "UTC". */
export function zoneLabel(ms: number = Date.now()): string {
  const offset = -new Date(ms).getTimezoneOffset();
  if (offset === 0) return 'UTC';
  const abs = Math.abs(offset);
  return `UTC${offset > 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** 2025-11-26 14:03:07 UTC+01:00 (local time, with its zone: a site's laptop may not be on UTC). */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zoneLabel(ms)}`;
}

export function ago(ms: number, now: number = Date.now()): string {
  const t = i18next.getFixedT(null, 'common');
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return t('time.justNow');
  if (s < 60) return t('time.secondsAgo', { count: s });
  const m = Math.round(s / 60);
  if (m < 60) return t('time.minutesAgo', { count: m });
  const h = Math.round(m / 60);
  if (h < 48) return t('time.hoursAgo', { count: h });
  return t('time.daysAgo', { count: Math.round(h / 24) });
}

/** A fixed-point number with the language's decimal mark (1.2 / 1,2), without Intl's start-up cost. */
const decimal = (n: number, digits: number): string => (i18next.language === 'de' ? n.toFixed(digits).replace('.', ',') : n.toFixed(digits));

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${decimal(n / 1024, n < 10 * 1024 ? 1 : 0)} kB`;
  return `${decimal(n / 1024 / 1024, 1)} MB`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${decimal(ms / 1000, ms < 10_000 ? 2 : 1)} s`;
}

/** One formatter per language: toLocaleString builds a new one per call (a list renders hundreds). */
const counters = new Map<string, Intl.NumberFormat>();

/**
 * A count as the language writes it: 12,345 / 12.345. Whole numbers are grouped here: a page's
 * first Intl.NumberFormat loads the locale's number data, 30–70 ms of the first screen's path in
 * Chromium on this project's test machine, for the one number the status line shows.
 */
export function count(n: number): string {
  const de = i18next.language === 'de';
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) {
    const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, de ? '.' : ',');
    return n < 0 ? `-${grouped}` : grouped;
  }
  const locale = de ? 'de-DE' : 'en-US';
  let f = counters.get(locale);
  if (!f) counters.set(locale, (f = new Intl.NumberFormat(locale)));
  return f.format(n);
}
