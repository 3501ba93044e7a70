import { afterEach, describe, expect, it } from 'vitest';
import { phoneMain, runFleet, macAt, e164At } from '../../src/phone';
import { readAllScript, startService, type TestService } from './helpers';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await phoneMain(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('localdls phone arguments', () => {
  it.each([
    [['--server', 'https://127.0.0.1:18443', '--count', 'x'], /--count must be an integer from 1 to 100000, not "x"/],
    [['--server', 'https://127.0.0.1:18443', '--count', '0'], /--count must be an integer/],
    [['--server', 'http://127.0.0.1:18443'], /--server must be https:\/\//],
    [['--server', 'not a url'], /is not a URL/],
    [[], /missing --server/],
    [['--server', 'https://127.0.0.1:18443', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['--server', 'https://127.0.0.1:18443', 'extra'], /Unexpected argument 'extra'/],
    [['--server', 'https://127.0.0.1:18443', '--mac-base', 'zz'], /--mac-base: "zz" is not a MAC address/],
    [['--server', 'https://127.0.0.1:18443', '--mac-base', 'FF:FF:FF:FF:FF:FF', '--count', '2'], /beyond FF:FF:FF:FF:FF:FF/],
    [['--server', 'https://127.0.0.1:18443', '--e164-base', '+49'], /--e164-base must be 1-15 digits/],
    [['--server', 'https://127.0.0.1:18443', '--max-items', '0'], /--max-items must be -1/],
    [['--server', 'https://127.0.0.1:18443', '--reason', 'status'], /--reason must be one of start-up, solicited, local-changes, inventory-changes/],
    [['--server', 'https://127.0.0.1:18443', '--concurrency', '-3'], /--concurrency must be an integer from 1 to 1000/],
  ])('refuses %j with exit 2 and one line', async (argv, message) => {
    const { code, out, err } = await run(argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0]).not.toContain('\n');
  });

  it('prints help with an example', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/Usage: localdls phone --server/);
    expect(out.join('\n')).toMatch(/Example:\n\s+localdls phone --server https:\/\/127\.0\.0\.1:18443/);
  });
});

describe('localdls phone against a service', () => {
  it('prints one JSON line per phone and a summary; exit 0 when all are ok', async () => {
    service = await startService(readAllScript);
    const { code, out } = await run(['--server', service.url, '--count', '3', '--max-items', '-1', '--concurrency', '2', '--json', '--no-config-change']);
    expect(code).toBe(0);
    const lines = out.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((l) => l.mac).sort()).toEqual(['00:1A:E8:00:00:01', '00:1A:E8:00:00:02', '00:1A:E8:00:00:03']);
    for (const l of lines.slice(0, 3)) expect(l).toMatchObject({ event: 'phone', ok: true, exchanges: 2 });
    expect(lines[3]).toMatchObject({ event: 'summary', phones: 3, ok: 3, failed: 0, exchanges: 6, failures: [] });
    const flags = service.requests.filter((r) => r.message.reason === 'start-up').map((r) => r.message.items.find((i) => i.name === 'configuration-changed-flag')?.value);
    expect(flags).toEqual(['false', 'false', 'false']);
  });

  it('prints human lines and exits 1 when a phone fails', async () => {
    service = await startService((m) => (m.reason === 'start-up' && m.items.some((i) => i.value === '00:1A:E8:00:00:02') ? { status: 503, body: '' } : { action: 'CleanUp' }));
    const { code, out } = await run(['--server', service.url, '--count', '2']);
    expect(code).toBe(1);
    expect(out).toHaveLength(3);
    expect(out.find((l) => l.startsWith('00:1A:E8:00:00:02'))).toMatch(/FAILED.*HTTP 503/);
    expect(out.find((l) => l.startsWith('00:1A:E8:00:00:01'))).toMatch(/ start-up ok 1 exchanges CleanUp/);
    expect(out[2]).toMatch(/^summary: 2 phones, 1 ok, 1 failed, 2 exchanges/);
  });
});

describe('runFleet', () => {
  it('counts MACs and numbers up from the bases', () => {
    expect(macAt('00:1a:e8:00:00:ff', 1)).toBe('00:1A:E8:00:01:00');
    expect(e164At('4989722300', 12)).toBe('4989722312');
  });

  it('summarises failures per MAC', async () => {
    service = await startService(() => ({ status: 404, body: 'not here' }));
    const summary = await runFleet({ server: service.url, count: 2, macBase: '00:1A:E8:00:10:00' });
    expect(summary).toMatchObject({ phones: 2, ok: 0, failed: 2, exchanges: 2 });
    expect(summary.failures.map((f) => f.mac).sort()).toEqual(['00:1A:E8:00:10:00', '00:1A:E8:00:10:01']);
    expect(summary.failures[0].error).toMatch(/HTTP 404/);
  });
});
