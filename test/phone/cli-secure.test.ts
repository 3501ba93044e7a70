/** `localdls phone` and Secure Mode: --pin, --pins, --wrong-pins, --wrong-tan, --state-dir. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Script } from './helpers';
import { phoneMain, stateFilePath, tanOfPin } from '../../src/phone';
import { startService, type TestService } from './helpers';
import { bootstrapScript, nopinItems, pinItems, secureScript, startSecureService, testCa, valueOf, type TanLog, type TestCa } from './secure-helpers';

let ca: TestCa;
let dir: string;
beforeAll(async () => {
  ca = await testCa('cli');
  dir = mkdtempSync(join(tmpdir(), 'localdls-phone-cli-'));
}, 60_000);
afterAll(() => {
  ca.remove();
  rmSync(dir, { recursive: true, force: true });
});

const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function run(argv: string[], stop?: AbortSignal, onLine?: (line: string) => void) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await phoneMain(
    argv,
    (l) => {
      out.push(l);
      onLine?.(l);
    },
    (l) => err.push(l),
    stop ? { stop } : {},
  );
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const S = ['--server', 'https://127.0.0.1:18443'];

describe('localdls phone: Secure-Mode arguments', () => {
  it.each<[string, () => string[], RegExp]>([
    ['a short PIN', () => ['--pin', '123'], /^localdls phone: --pin: a PIN is 4 to 16 digits \(the last 3 are the TAN\), not "123" \(see --help\)$/],
    ['a PIN with letters', () => ['--pin', '12ab5678'], /--pin: a PIN is 4 to 16 digits/],
    ['a PIN of 17 digits', () => ['--pin', '12345678901234567'], /--pin: a PIN is 4 to 16 digits/],
    ['--pin without a value', () => ['--pin'], /Option '--pin <value>' argument missing/],
    ['--pin and --pins', () => ['--pin', '12345678', '--pins', file('ok.csv', 'mac,e164,pin\n')], /--pin \(one PIN for every phone\) and --pins \(a PIN per phone\) exclude each other/],
    ['--wrong-pins without a PIN', () => ['--wrong-pins', '2'], /--wrong-pins needs --pin or --pins/],
    ['--wrong-pins x', () => ['--pin', '12345678', '--wrong-pins', 'x'], /--wrong-pins must be an integer from 0 to 1000, not "x"/],
    ['--wrong-pins -1', () => ['--pin', '12345678', '--wrong-pins', '-1'], /--wrong-pins must be an integer from 0 to 1000, not "-1"/],
    ['--wrong-tan without a PIN', () => ['--wrong-tan'], /--wrong-tan needs --pin or --pins \(the TAN is the last 3 digits of the PIN\)/],
    ['a missing PIN sheet', () => ['--pins', join(dir, 'none.csv')], /--pins: cannot read .*none\.csv: ENOENT/],
    ['a PIN sheet without a pin column', () => ['--pins', file('nopin.csv', 'mac,e164\n00:1A:E8:00:00:01,1\n')], /--pins .*nopin\.csv: line 1: the header must name the columns mac and pin/],
    ['a PIN sheet with a bad MAC', () => ['--pins', file('badmac.csv', 'mac,e164,pin\nzz,1,12345678\n')], /--pins .*badmac\.csv: line 2: "zz" is not a MAC address/],
    ['a PIN sheet with a bad PIN', () => ['--pins', file('badpin.csv', 'mac,e164,pin\n00:1A:E8:00:00:01,,12\n')], /line 2: a PIN is 4 to 16 digits/],
    ['--state-dir on a file', () => ['--state-dir', file('plain-file', '')], /--state-dir .*plain-file is not a directory/],
    ['--state-dir below a file', () => ['--state-dir', join(dir, 'plain-file', 'sub')], /--state-dir .*plain-file\/sub: cannot use it \(ENOTDIR\)/],
    ['an empty --state-dir', () => ['--state-dir', ''], /--state-dir needs a directory/],
  ])('refuses %s with exit 2 and one line', async (_name, argv, message) => {
    const { code, out, err } = await run([...S, ...argv()]);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0]).not.toContain('\n');
  });

  it('documents the flags in --help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--pin', '--pins', '--wrong-pins', '--wrong-tan', '--state-dir']) expect(out.join('\n')).toContain(`  ${flag} `);
  });
});

/** Secure service that reads every phone's TAN (p.68) and records it, then CleanUp. */
function tanReader(log: TanLog): Script {
  return (m) => {
    if (m.reason === 'start-up') return { action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] };
    if (m.reason === 'reply-to') log.tans.push(valueOf(m.items, 'bootstrapping-tan') ?? '');
    return { action: 'CleanUp' };
  };
}

describe('localdls phone against a bootstrapping service', () => {
  it('--pins: each phone types its own PIN from the sheet; a phone not in it waits at its PIN dialog (JSON)', async () => {
    const pins = new Map([
      ['00:1A:E8:00:60:01', '11112222'],
      ['00:1A:E8:00:60:02', '3333444455'],
      ['00:1A:E8:00:60:03', '55556666'],
    ]);
    const log: TanLog = { tans: [] };
    const secure = await startSecureService(ca, tanReader(log));
    services.push(secure);
    const def = await startService(bootstrapScript((mac) => pinItems(ca, mac, secure.port, pins.get(mac)!)));
    services.push(def);
    const sheet = file('pins.csv', 'mac,e164,pin\n00:1A:E8:00:60:01,498972260001,11112222\n00:1A:E8:00:60:02,498972260002,3333444455\n');

    const { code, out, err } = await run(['--server', def.url, '--count', '3', '--mac-base', '00:1A:E8:00:60:01', '--pins', sheet, '--json']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const events = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const secureUrl = `https://127.0.0.1:${secure.port}/DeploymentService/LoginService`;
    const modeEvents = events.filter((e) => e.event === 'secure-mode');
    expect(modeEvents.filter((e) => e.change === 'switched').map((e) => [e.mac, e.server, e.mode]).sort()).toEqual([
      ['00:1A:E8:00:60:01', secureUrl, 'secure'],
      ['00:1A:E8:00:60:02', secureUrl, 'secure'],
    ]);
    expect(modeEvents.filter((e) => e.change === 'pin-dialog')).toEqual([
      { event: 'secure-mode', mac: '00:1A:E8:00:60:03', change: 'pin-dialog', variant: 'pin', pinsTyped: 0, wrongPins: 0, maxPinRetries: 3, mode: 'default' },
    ]);
    const phoneEvents = events.filter((e) => e.event === 'phone');
    expect(phoneEvents.filter((e) => e.mode === 'secure').map((e) => [e.mac, e.reason, e.trigger, e.ok]).sort()).toEqual([
      ['00:1A:E8:00:60:01', 'start-up', 'bootstrap', true],
      ['00:1A:E8:00:60:02', 'start-up', 'bootstrap', true],
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'summary', phones: 3, ok: 3, failed: 0 });
    expect(log.tans.sort()).toEqual([tanOfPin('11112222'), tanOfPin('3333444455')].sort());
    expect(secure.requests.filter((r) => r.message.reason === 'start-up').map((r) => r.peer?.subjectCN).sort()).toEqual(['00:1A:E8:00:60:01', '00:1A:E8:00:60:02']);
  });

  it('--wrong-pins beyond max-pin-retries: "PIN retries exceeded", then clean-up on the default port', async () => {
    const secure = await startSecureService(ca, secureScript());
    services.push(secure);
    const def = await startService(bootstrapScript((mac) => pinItems(ca, mac, secure.port, '24681357', 3)));
    services.push(def);
    const { code, out, err } = await run(['--server', def.url, '--mac-base', '00:1A:E8:00:61:01', '--pin', '24681357', '--wrong-pins', '4']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toContain('00:1A:E8:00:61:01 PIN retries exceeded (4 wrong PINs, max-pin-retries 3): clean-up to the Default-Mode service');
    expect(out.some((l) => /^00:1A:E8:00:61:01 clean-up \(bootstrap\) ok 1 exchanges CleanUp/.test(l))).toBe(true);
    const cleanUp = def.requests.find((r) => r.message.reason === 'clean-up')!;
    expect(valueOf(cleanUp.message.items, 'cleanup-reason')).toBe('password retries exceeded');
    expect(secure.requests).toEqual([]);
  });

  it('--wrong-tan: switched, then "wrong TAN" when the service refuses it', async () => {
    const log: TanLog = { tans: [] };
    const secure = await startSecureService(ca, secureScript({ expectedTan: '357', log }));
    services.push(secure);
    const def = await startService(bootstrapScript((mac) => pinItems(ca, mac, secure.port, '24681357')));
    services.push(def);
    const { code, out } = await run(['--server', def.url, '--mac-base', '00:1A:E8:00:62:01', '--pin', '24681357', '--wrong-pins', '1', '--wrong-tan']);
    expect(code).toBe(0);
    expect(out).toContain(`00:1A:E8:00:62:01 switched to Secure Mode on https://127.0.0.1:${secure.port}`);
    expect(out).toContain('00:1A:E8:00:62:01 wrong TAN: the service refused the bootstrap; back in Default Mode');
    expect(log.tans).toEqual(['468']);
    expect(out.some((l) => /^00:1A:E8:00:62:01 start-up \(bootstrap\) \[secure\] ok 2 exchanges ReadItems,CleanUp/.test(l))).toBe(true);
  });

  it('--state-dir: the next run of the simulator starts the phone in Secure Mode', async () => {
    const stateDir = join(dir, 'state');
    const secure = await startSecureService(ca, secureScript());
    services.push(secure);
    const def = await startService(bootstrapScript((mac) => nopinItems(ca, mac, secure.port)));
    services.push(def);
    const argv = ['--server', def.url, '--mac-base', '00:1A:E8:00:63:01', '--state-dir', stateDir];
    const first = await run(argv);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`00:1A:E8:00:63:01 switched to Secure Mode on https://127.0.0.1:${secure.port}`);
    const state = stateFilePath(stateDir, '00:1A:E8:00:63:01');
    expect(existsSync(state)).toBe(true);
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(def.requests).toHaveLength(2);

    const second = await run(argv);
    expect(second.code).toBe(0);
    expect(second.out[0]).toMatch(/^00:1A:E8:00:63:01 start-up \[secure\] ok 1 exchanges CleanUp/);
    expect(second.out.filter((l) => l.includes('switched'))).toEqual([]);
    expect(def.requests).toHaveLength(2);
    expect(secure.requests.map((r) => [r.message.reason, r.peer?.subjectCN])).toEqual([
      ['start-up', '00:1A:E8:00:63:01'],
      ['start-up', '00:1A:E8:00:63:01'],
    ]);
  });

  it('exits 1 with one line when a state file is damaged', async () => {
    const stateDir = join(dir, 'damaged');
    mkdirSync(stateDir);
    writeFileSync(stateFilePath(stateDir, '00:1A:E8:00:64:01'), 'not json');
    const { code, err } = await run(['--server', 'https://127.0.0.1:9', '--mac-base', '00:1A:E8:00:64:01', '--state-dir', stateDir]);
    expect(code).toBe(1);
    expect(err).toEqual([`localdls phone: the phone state ${join(stateDir, '00-1A-E8-00-64-01.json')} is damaged (not JSON): delete it to start the phone in Default Mode`]);
  });

  it('--stay: a running phone switches and goes to the secure port at once (JSON events)', async () => {
    const log: TanLog = { tans: [] };
    const secure = await startSecureService(ca, secureScript({ expectedTan: '999', log }));
    services.push(secure);
    const def = await startService(bootstrapScript((mac) => pinItems(ca, mac, secure.port, '77778999')));
    services.push(def);
    const stop = new AbortController();
    let secureStartUp = (): void => undefined;
    const seen = new Promise<void>((resolve) => (secureStartUp = resolve));
    const running = run(['--server', def.url, '--mac-base', '00:1A:E8:00:65:01', '--pin', '77778999', '--stay', '--json'], stop.signal, (l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      if (e.event === 'interaction' && e.trigger === 'bootstrap') secureStartUp();
    });
    await seen;
    stop.abort();
    const { code, out } = await running;
    expect(code).toBe(0);
    const events = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.event === 'secure-mode')).toMatchObject({ mac: '00:1A:E8:00:65:01', change: 'switched', variant: 'pin', mode: 'secure' });
    expect(events.find((e) => e.event === 'interaction' && e.trigger === 'bootstrap')).toMatchObject({ ok: true, mode: 'secure', reason: 'start-up', actions: ['ReadItems', 'CleanUp'] });
    expect(log.tans).toEqual(['999']);
    expect(events.at(-1)).toMatchObject({ event: 'summary', interactions: 2, ok: 2 });
  });
});
