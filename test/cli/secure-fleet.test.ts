import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import type { ExchangeSummary } from '../../src/shared/model';
import { CliProcess, runCli, startServe } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const processes: CliProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
});

const ENV = { LOCALDLS_KEY_PASSPHRASE: 'a passphrase only this test knows' };

describe('bootstrapping simulated phones into Secure Mode from the CLI (issue "Secure Mode", done-when)', () => {
  it('takes phones to Secure Mode with PINs; they carry on over mutual TLS only; the CLI tells secure, pending and failed apart', async () => {
    const dataDir = newDir();
    const sheet = join(newDir(), 'pins.csv');
    const stateDir = newDir();
    process.env.LOCALDLS_KEY_PASSPHRASE = ENV.LOCALDLS_KEY_PASSPHRASE;
    const { serve, port, listening } = await startServe(['--data-dir', dataDir, '--secure-port', '0', '--no-auto-contact']);
    delete process.env.LOCALDLS_KEY_PASSPHRASE;
    processes.push(serve);
    const securePort = listening.securePort as number;
    expect(securePort).toBeGreaterThan(0);
    const server = `https://127.0.0.1:${port}`;

    expect((await runCli(['phone', '--server', server, '--count', '5', '--ip-base', '127.0.7.1'])).code).toBe(0);
    const boot = await runCli(['bootstrap', '--data-dir', dataDir, '--all', '--pin', 'auto', '--sheet', sheet], ENV);
    expect(boot.code).toBe(0);
    expect(boot.stdout.match(/queued job \d+: bootstrap of 00:1A:E8:00:00:0\d to Secure Mode \(port \d+\), PIN ••••••/g)).toHaveLength(5);
    expect(boot.stdout).not.toMatch(/\d{8}/);
    expect(statSync(sheet).mode & 0o777).toBe(0o600);
    const pins = readFileSync(sheet, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(pins.map((p) => p[0])).toEqual(['00:1A:E8:00:00:01', '00:1A:E8:00:00:02', '00:1A:E8:00:00:03', '00:1A:E8:00:00:04', '00:1A:E8:00:00:05']);

    // Phones 1–3 type their PIN; phone 4 types it wrong too often; phone 5 does not call yet.
    const right = await runCli(['phone', '--server', server, '--count', '3', '--ip-base', '127.0.7.1', '--pins', sheet, '--state-dir', stateDir]);
    expect(right.code).toBe(0);
    expect(right.stdout.match(/switched to Secure Mode on https:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(3);
    const wrong = await runCli(['phone', '--server', server, '--count', '1', '--mac-base', '00:1A:E8:00:00:04', '--e164-base', '498972231004', '--ip-base', '127.0.7.4', '--pins', sheet, '--wrong-pins', '4']);
    expect(wrong.stdout).toMatch(/PIN retries exceeded/);

    const status = JSON.parse((await runCli(['bootstrap', '--data-dir', dataDir, '--status', '--json'])).stdout) as { mac: string; mode: string; bootstrap: string; state: string; why: string | null }[];
    expect(status.map((s) => [s.mac.slice(-2), s.mode, s.bootstrap])).toEqual([
      ['01', 'secure', 'done'], ['02', 'secure', 'done'], ['03', 'secure', 'done'], ['04', 'default', 'failed'], ['05', 'default', 'pending'],
    ]);
    expect(status[3]!.why).toBe('password retries exceeded: the PIN was typed wrong too often on the phone');
    expect(status[4]!.why).toBeNull();
    const human = (await runCli(['devices', '--data-dir', dataDir])).stdout;
    expect(human).toMatch(/00:1A:E8:00:00:04\s+default \(bootstrap failed\)/);
    expect(human).toMatch(/00:1A:E8:00:00:05\s+default \(bootstrap pending\)/);

    // The secure phones carry on over mutual TLS (their state dir remembers Secure Mode) …
    const again = await runCli(['phone', '--server', server, '--count', '3', '--ip-base', '127.0.7.1', '--state-dir', stateDir, '--json']);
    expect(again.code).toBe(0);
    // … and a phone claiming to be one of them on the Default-Mode port is refused.
    const spoof = await runCli(['phone', '--server', server, '--count', '1', '--ip-base', '127.0.7.9']);
    expect(spoof.stdout).toMatch(/HTTP 403/);
    const rows = (await runCli(['traffic', '--data-dir', dataDir, '--json', '--limit', '1000'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as ExchangeSummary);
    const lastRound = rows.filter((r) => ['00:1A:E8:00:00:01', '00:1A:E8:00:00:02', '00:1A:E8:00:00:03'].includes(r.mac ?? '')).slice(-6);
    expect(lastRound.every((r) => r.listener === 'secure' && r.localPort === securePort)).toBe(true);
    const refused = rows.filter((r) => r.httpStatus === 403);
    expect(refused.at(-1)!.error).toMatch(/00:1A:E8:00:00:01 is in Secure Mode/);
    // No PIN, TAN or key in any stored exchange, checked on the raw bytes.
    const store = new Store(dataDir, { readonly: true });
    const bytes = store.exchanges({ limit: 10_000 }).map((x) => store.exchange(x.id)!).map((x) => Buffer.concat([Buffer.from(x.requestBody), Buffer.from(x.responseBody)]).toString('utf8')).join('\n');
    store.close();
    expect(bytes).toContain('bootstrapping-tan');
    for (const [, , pin] of pins) {
      expect(bytes).not.toContain(pin!);
      expect(bytes).not.toContain(`bootstrapping-tan">${pin!.slice(-3)}<`);
    }
    expect(bytes).not.toMatch(/PRIVATE KEY|secure-mode-data">[A-Za-z0-9+/=]{16}/);
  }, 120_000);
});
