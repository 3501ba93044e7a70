/** Times say their zone; an item that is never stored offers no reveal that would show nothing. */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ItemTable, type ItemRow } from '../../src/renderer/src/common/ItemTable';
import { ago, bytes, count, dateTime, duration, zoneLabel } from '../../src/renderer/src/lib/format';
import { setLanguage } from '../../src/renderer/src/i18n';

// Node's environment (the renderer's tsconfig has no Node types); TZ is read at each Date call.
const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const zone = env.TZ;
afterEach(() => {
  if (zone === undefined) delete env.TZ;
  else env.TZ = zone;
  setLanguage('en');
  cleanup();
});

describe('sizes and durations', () => {
  it('use the language\'s decimal mark (helper-77: "1.2 kB" in the German UI)', () => {
    expect([bytes(900), bytes(1229), bytes(20_000), bytes(3 * 1024 * 1024 + 200_000), duration(800), duration(1500), duration(12_340)]).toEqual(['900 B', '1.2 kB', '20 kB', '3.2 MB', '800 ms', '1.50 s', '12.3 s']);
    setLanguage('de');
    expect([bytes(1229), bytes(3 * 1024 * 1024 + 200_000), duration(1500), duration(12_340)]).toEqual(['1,2 kB', '3,2 MB', '1,50 s', '12,3 s']);
  });
});

describe('times', () => {
  it('are local and name their offset from UTC', () => {
    const noon = Date.UTC(2025, 0, 15, 12, 0, 0);
    env.TZ = 'Europe/Berlin';
    expect(dateTime(noon)).toBe('2025-01-15 13:00:00 UTC+01:00');
    expect(dateTime(Date.UTC(2025, 6, 15, 12, 0, 0))).toBe('2025-07-15 14:00:00 UTC+02:00');
    env.TZ = 'America/St_Johns';
    expect(zoneLabel(noon)).toBe('UTC-03:30');
    env.TZ = 'UTC';
    expect(dateTime(noon)).toBe('2025-01-15 12:00:00 UTC');
  });

  it('"ago" follows the language', () => {
    const now = Date.UTC(2025, 0, 15, 12, 0, 0);
    expect(ago(now - 3 * 60_000, now)).toBe('3 min ago');
    setLanguage('de');
    expect(ago(now - 3 * 60_000, now)).toBe('vor 3 min');
    expect(ago(now - 3 * 86_400_000, now)).toBe('vor 3 Tagen');
  });
});

describe('counts', () => {
  it('are grouped as Intl groups them, in both languages, whole or not', () => {
    const samples = [0, 7, 999, 1000, 1001, 12_345, 100_000, 999_999, 1_000_000, 1_002_160, -1234, -999, 2 ** 53 - 1, 1234.5, 0.25, -0];
    for (const [language, locale] of [['en', 'en-US'], ['de', 'de-DE']] as const) {
      setLanguage(language);
      for (const n of samples) expect(count(n), `${language} ${n}`).toBe(new Intl.NumberFormat(locale).format(n));
    }
  });
});

describe('secret item values', () => {
  const row = (over: Partial<ItemRow>): ItemRow => ({ key: '0', name: 'sip-pwd', index: null, value: '••••••', status: null, secret: true, ...over });

  it('reveal a stored secret on request, and offer nothing to reveal for key material that is never stored', async () => {
    const asked: string[] = [];
    render(
      <ItemTable
        rows={[row({}), row({ key: '1', name: 'dls-client-certificate', notStored: true }), row({ key: '2', name: 'fault-report-admin-pwd', value: 'true', secret: false })]}
        reveal={async (r) => (asked.push(r.name), 'sip-secret-1')}
      />,
    );
    expect(screen.getAllByRole('button', { name: 'Reveal' })).toHaveLength(1);
    expect(screen.getByText('not kept (key material is never stored)')).toBeTruthy();
    expect(screen.getByText('true')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Reveal' }));
    await waitFor(() => expect(screen.getByText('sip-secret-1')).toBeTruthy());
    expect(asked).toEqual(['sip-pwd']);
  });
});

describe('catalogue text in the UI', () => {
  it('carries no research notes (which source said what), only what the item is and takes', async () => {
    const { CATALOGUE } = await import('../../src/shared/catalogue');
    const { forDisplay } = await import('../../src/renderer/src/lib/catalogue');
    const notes = /ext comment|ext code|\bGS\d|simulat|\bseen\b|sources found|written by/i;
    const leaks = CATALOGUE.flatMap((c) => [c.values, c.description, c.default].map(forDisplay).filter((t) => notes.test(t)).map((t) => `${c.name}: ${t}`));
    expect(leaks).toEqual([]);
    expect(forDisplay('seconds; ext comment: = WBM \'Contact gap\', default 300')).toBe('seconds; = WBM \'Contact gap\', default 300');
    expect(forDisplay('true|false [index: 1..79 seen]')).toBe('true|false');
    expect(forDisplay('0-7 (GS3 uses 3)')).toBe('0-7');
    expect(forDisplay('Administrator password (write-only per ext comment)')).toBe('Administrator password');
    expect(forDisplay('[index: key no.]')).toBe('[index: key no.]');
  });
});
