import { afterEach, describe, expect, it } from 'vitest';
import { phoneMain, runFleet, macAt, e164At } from '../../src/phone';
import { ITEM_STATUSES } from '../../src/phone/codec';
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
    [['--server', 'https://127.0.0.1:18443', '--busy', 'x'], /--busy must be an integer from 0 to 1, not "x"/],
    [['--server', 'https://127.0.0.1:18443', '--count', '3', '--busy', '4'], /--busy must be an integer from 0 to 3, not "4"/],
    [['--server', 'https://127.0.0.1:18443', '--busy-for', '5'], /--busy-for needs --busy K/],
    [['--server', 'https://127.0.0.1:18443', '--busy', '1', '--busy-for', '0'], /--busy-for must be a number of seconds from 0.001 to 31536000, not "0"/],
    [['--server', 'https://127.0.0.1:18443', '--busy', '1', '--busy-for', '2m'], /--busy-for must be a number of seconds/],
    [['--server', 'https://127.0.0.1:18443', '--contact-me-port', '8085'], /--contact-me-port only applies to running phones: add --stay/],
    [['--server', 'https://127.0.0.1:18443', '--dcmp', 'http://127.0.0.1:8080/dcmp/'], /--dcmp only applies to running phones: add --stay/],
    [['--server', 'https://127.0.0.1:18443', '--reboot-delay', '1'], /--reboot-delay only applies to running phones/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--contact-me-port', '70000'], /--contact-me-port must be an integer from 0 to 65535, not "70000"/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--count', '2', '--contact-me-port', '8085'], /--contact-me-port 8085 for 2 phones on one address: give --ip-base/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--contact-gap', '-1'], /--contact-gap must be a number of seconds from 0 to 86400, not "-1"/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--dcmp', 'https://127.0.0.1/dcmp/'], /--dcmp must be http:\/\/ \(DCMP polling is plain HTTP\), not https:\/\//],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--dcmp', 'dcmp'], /--dcmp "dcmp" is not a URL/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--poll-interval', '5'], /--poll-interval needs --dcmp URL/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--dcmp', 'http://127.0.0.1:1/dcmp/', '--poll-interval', '0'], /--poll-interval must be a number of seconds from 0.01/],
    [['--server', 'https://127.0.0.1:18443', '--stay', '--reboot-delay', 'soon'], /--reboot-delay must be a number of seconds from 0 to 3600, not "soon"/],
    [['--server', 'https://127.0.0.1:18443', '--refuse', 'sntp-addr'], /--refuse "sntp-addr": give NAME=STATUS, e.g. --refuse "sntp-addr=invalid data"/],
    [['--server', 'https://127.0.0.1:18443', '--refuse', '=invalid data'], /--refuse "=invalid data": give NAME=STATUS/],
    [['--server', 'https://127.0.0.1:18443', '--refuse', 'sntp-addr=nope'], /--refuse sntp-addr: "nope" is not an item status: failed, unknown item, read only, invalid index, unexpected item, not supported, invalid data, undefined status/],
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
    expect(out.join('\n')).toMatch(/Examples:\n\s+localdls phone --server https:\/\/127\.0\.0\.1:18443/);
    expect(out.join('\n')).toContain('localdls phone --server https://127.0.0.1:18443 --count 20 --ip-base 127.0.1.1 --busy 10 --busy-for 20 --stay');
    // Every status the phone can give, as --refuse takes them.
    const statuses = /STATUS: ([^-]+?)\n\s+--/.exec(out.join('\n'))![1]!.replace(/\s+/g, ' ').trim();
    expect(statuses.split(', ')).toEqual([...ITEM_STATUSES]);
    for (const flag of ['--refuse', '--stay', '--contact-me-port', '--contact-gap', '--busy', '--busy-for', '--no-send-solicited', '--dcmp', '--poll-interval', '--reboot-delay']) expect(out.join('\n')).toContain(`  ${flag} `);
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

  it('numbers phones started in separate runs apart: the default E.164 number counts on with --mac-base', async () => {
    service = await startService(readAllScript);
    expect((await run(['--server', service.url, '--count', '2'])).code).toBe(0);
    expect((await run(['--server', service.url, '--mac-base', '00:1A:E8:00:00:03'])).code).toBe(0);
    expect((await run(['--server', service.url, '--mac-base', '00:1A:E8:00:00:04', '--e164-base', '4930123'])).code).toBe(0);
    const numbers = service.requests.filter((r) => r.message.reason === 'start-up').map((r) => [r.message.items.find((i) => i.name === 'mac-addr')?.value, r.message.items.find((i) => i.name === 'e164')?.value]);
    expect(numbers.sort()).toEqual([['00:1A:E8:00:00:01', '498972231001'], ['00:1A:E8:00:00:02', '498972231002'], ['00:1A:E8:00:00:03', '498972231003'], ['00:1A:E8:00:00:04', '4930123']]);
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
