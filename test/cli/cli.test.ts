import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireServiceLock, Store } from '../../src/main/store';
import { Service } from '../../src/main/app/service';
import { freshDataDir, removeFreshDataDir } from '../../src/main/cli/fresh-data-dir';
import type { Device, DeviceItem, ExchangeSummary } from '../../src/shared/model';
import { CliProcess, runCli, startServe } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const processes: CliProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
});

async function serve(dataDir: string, ...args: string[]) {
  const s = await startServe(['--data-dir', dataDir, ...args]);
  processes.push(s.serve);
  return s;
}

describe('bin/localdls', () => {
  it('serve + phone --count 50 takes every phone from start-up to CleanUp, all stored, visible while serving', async () => {
    const dataDir = newDir();
    const { serve: server, port, listening } = await serve(dataDir);
    expect(listening).toMatchObject({ event: 'listening', host: '127.0.0.1', tls: 'modern' });
    expect(port).toBeGreaterThan(0);

    const phones = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '50', '--max-items', '250', '--json']);
    expect(phones.code).toBe(0);
    const lines = phones.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ event: 'summary', phones: 50, ok: 50, failed: 0 });
    // Several hundred items at maxItems 250: every reply comes in fragments (manual p.69–70).
    const perPhone = lines.slice(0, -1) as { actions: string[]; exchanges: number }[];
    for (const p of perPhone) {
      expect(p.actions[0]).toBe('ReadAllItems');
      expect(p.actions.at(-1)).toBe('CleanUp');
      expect(p.actions.filter((a) => a === 'GetNextFragment').length).toBeGreaterThanOrEqual(1);
    }
    const total = lines.at(-1)!.exchanges as number;
    expect(total).toBe(perPhone.reduce((n, p) => n + p.exchanges, 0));

    const devices = await runCli(['devices', '--data-dir', dataDir, '--json']);
    expect(devices.code).toBe(0);
    const list = JSON.parse(devices.stdout) as Device[];
    expect(list).toHaveLength(50);
    expect(list.every((d) => d.state === 'idle' && d.mode === 'default' && d.deviceType)).toBe(true);

    const traffic = await runCli(['traffic', '--data-dir', dataDir, '--json', '--limit', '1000']);
    const rows = traffic.stdout.trim().split('\n').map((l) => JSON.parse(l) as ExchangeSummary);
    expect(rows).toHaveLength(total);
    expect(rows.filter((r) => r.action === 'CleanUp')).toHaveLength(50);
    expect(rows.filter((r) => r.action === 'ReadAllItems')).toHaveLength(50);
    expect(rows.filter((r) => r.action === 'GetNextFragment')).toHaveLength(total - 100);
    // The text lines give each exchange's time in UTC, and say so (Z), as the README promises.
    const textLines = (await runCli(['traffic', '--data-dir', dataDir, '--limit', '3'])).stdout.trim().split('\n');
    expect(textLines).toHaveLength(3);
    for (const [i, line] of textLines.entries()) expect(line).toMatch(new RegExp(`^ *\\d+ ${new Date(rows[rows.length - 3 + i]!.started).toISOString().slice(11, 23)}Z `));
    // serve printed one line per exchange after its listening line, in the order they were stored
    // (written in batches: none lost, none twice).
    await server.waitFor(() => server.lines.length >= total + 1);
    const printed = server.lines.slice(1).map((l) => JSON.parse(l) as { event: string; id: number });
    expect(printed.every((l) => l.event === 'exchange')).toBe(true);
    expect(printed.map((l) => l.id)).toEqual(rows.map((r) => r.id).sort((a, b) => a - b));

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.lines.at(-1)).toBe('{"event":"stopped"}');
  });

  it('traffic --follow prints exchanges as they happen', async () => {
    const dataDir = newDir();
    const { port } = await serve(dataDir);
    await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '1']);
    const follow = new CliProcess(['traffic', '--data-dir', dataDir, '--follow', '--json']);
    processes.push(follow);
    await follow.waitFor((l) => l.includes('"CleanUp"'));
    const before = follow.lines.length;
    await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '1', '--mac-base', '00:1A:E8:00:00:99']);
    await follow.waitFor((l) => l.includes('00:1A:E8:00:00:99') && l.includes('"CleanUp"'));
    expect(follow.lines.length).toBe(before + 2);
    expect(follow.stderr).toBe('');
    expect(await follow.stop('SIGINT')).toBe(0);
  });

  it('traffic --follow on a folder no service runs on says so, then waits (helper-77: it waited in silence)', async () => {
    const dataDir = newDir();
    new Store(dataDir).close();
    const follow = new CliProcess(['traffic', '--data-dir', dataDir, '--follow']);
    processes.push(follow);
    await expect.poll(() => follow.stderr, { timeout: 15_000, interval: 100 }).toContain('no service seems to run on this data folder: new exchanges show once `localdls serve` (or the desktop app) runs on it; Ctrl-C stops');
    expect(await follow.stop('SIGINT')).toBe(0);
  });

  it('items masks secrets unless --reveal', async () => {
    const dataDir = newDir();
    const { port } = await serve(dataDir);
    await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '1']);
    const masked = JSON.parse((await runCli(['items', '--data-dir', dataDir, '--mac', '00:1a:e8:00:00:01', '--json'])).stdout) as DeviceItem[];
    const pwd = masked.find((i) => i.name === 'user-pwd')!;
    expect(pwd.value).toBe('••••••');
    const revealed = JSON.parse((await runCli(['items', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:01', '--json', '--reveal'])).stdout) as DeviceItem[];
    expect(revealed.find((i) => i.name === 'user-pwd')!.value).not.toBe('••••••');
    expect(revealed.length).toBeGreaterThan(300);
    const human = await runCli(['items', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:01']);
    expect(human.stdout).toMatch(/^NAME\s+INDEX\s+VALUE\s+STATUS/);
    expect(human.stdout).not.toContain(revealed.find((i) => i.name === 'user-pwd')!.value);
  });

  it('legacy TLS: old-firmware phones fail against modern with reason and hint, and are provisioned against legacy', async () => {
    const modernDir = newDir();
    const modern = await serve(modernDir);
    const failed = await runCli(['phone', '--server', `https://127.0.0.1:${modern.port}`, '--tls1.0', '--count', '5', '--ip-base', '127.0.1.1', '--json']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed/);
    // The service records a failed handshake after the phone has already seen it fail: wait for the rows (bounded).
    const read = async () => (await runCli(['traffic', '--data-dir', modernDir, '--json'])).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ExchangeSummary);
    let failures = await read();
    for (let n = 0; n < 50 && failures.length < 5; n++) {
      await new Promise((r) => setTimeout(r, 100));
      failures = await read();
    }
    expect(failures.map((f) => f.peerAddress).sort()).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4', '127.0.1.5']);
    expect(failures.every((f) => f.kind === 'tls-failure' && f.error === 'TLS handshake failed: unsupported protocol' && /--tls legacy/.test(f.warning ?? ''))).toBe(true);

    const legacyDir = newDir();
    const legacy = await serve(legacyDir, '--tls', 'legacy');
    expect(legacy.listening.tls).toBe('legacy');
    const ok = await runCli(['phone', '--server', `https://127.0.0.1:${legacy.port}`, '--tls1.0', '--count', '5', '--ip-base', '127.0.2.1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.match(/ok 2 exchanges ReadAllItems,CleanUp TLSv1 /g)).toHaveLength(5);
    const devices = JSON.parse((await runCli(['devices', '--data-dir', legacyDir, '--json'])).stdout) as Device[];
    expect(devices.map((d) => [d.tlsProtocol, d.lastAddress])).toEqual([1, 2, 3, 4, 5].map((i) => ['TLSv1', `127.0.2.${i}`]));
    const human = await runCli(['devices', '--data-dir', legacyDir]);
    expect(human.stdout.match(/TLSv1 \(legacy\)/g)).toHaveLength(5);
    const rows = (await runCli(['traffic', '--data-dir', legacyDir, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as ExchangeSummary);
    expect(rows.every((r) => r.tlsProtocol === 'TLSv1' && r.tlsCipher === 'AES128-SHA')).toBe(true);
  });

  it('says clearly what is wrong and exits non-zero', async () => {
    const dataDir = newDir();
    const { port } = await serve(dataDir);
    const empty = newDir();
    chmodSync(empty, 0o755);
    const clash = await runCli(['serve', '--data-dir', empty, '--host', '127.0.0.1', '--port', String(port)]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use by another program`));
    // What the failed start made is gone (helper-77: a mistyped folder became an empty site); what was there stays.
    expect(readdirSync(empty)).toEqual([]);
    expect(statSync(empty).mode & 0o777).toBe(0o755); // as it was (helper-79: left 0700)
    expect(clash.stderr).toContain(`emptied ${empty} again: it was empty before this failed start`);
    const parent = newDir();
    const made = join(parent, 'sites', 'site-typo');
    const typo = await runCli(['serve', '--data-dir', made, '--host', '127.0.0.1', '--port', String(port)]);
    expect([typo.code, readdirSync(parent)]).toEqual([1, []]);
    expect(typo.stderr).toContain(`removed ${join(parent, 'sites')}: this failed start made it, and nothing else is in it`);
    const used = newDir();
    writeFileSync(join(used, 'notes.txt'), 'mine');
    expect((await runCli(['serve', '--data-dir', used, '--host', '127.0.0.1', '--port', String(port)])).code).toBe(1);
    expect(readFileSync(join(used, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(used, 'localdls.sqlite'))).toBe(true);
    // A service that holds the folder's lock by the time the failed start cleans up keeps all of it.
    const taken = newDir();
    const fresh = freshDataDir(taken);
    writeFileSync(join(taken, 'localdls.sqlite'), '');
    const other = acquireServiceLock(taken);
    try {
      expect(removeFreshDataDir(fresh)).toBeNull();
      expect(readdirSync(taken)).toContain('localdls.sqlite');
    } finally {
      other.release();
    }
    // A service takes the lock before it opens the database: one started while another holds the
    // folder is refused before it makes or touches a database file, so a failed start's clean-up
    // (above) never pulls the folder from under a service that is still opening it.
    const held = newDir();
    const holder = acquireServiceLock(held);
    try {
      expect(() => new Service({ dataDir: held, host: '127.0.0.1', port: 0 })).toThrow(/another LocalDLS service \(process \d+\) is running on the data folder/);
      expect(readdirSync(held).filter((f) => !f.startsWith('service.'))).toEqual([]);
    } finally {
      holder.release();
    }
    // The lock goes with the store: a service constructed and stopped unstarted leaves the folder free.
    const unstarted = new Service({ dataDir: held, host: '127.0.0.1', port: 0 });
    await unstarted.stop();
    acquireServiceLock(held).release();

    // A start that waits for the lock while a failed one takes the folder back (holding the lock,
    // as removeFreshDataDir does) makes the folder again and starts, rather than failing on a
    // removed lock file ("attempt to write a readonly database").
    const racing = join(newDir(), 'site');
    const other2 = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { acquireServiceLock } = await import(${JSON.stringify(new URL('../../src/main/store/service-lock.ts', import.meta.url).pathname)});
      const { mkdirSync, rmSync } = await import('node:fs');
      mkdirSync(${JSON.stringify(racing)}, { recursive: true });
      const lock = acquireServiceLock(${JSON.stringify(racing)});
      console.log('held');
      await new Promise((r) => setTimeout(r, 120));
      rmSync(${JSON.stringify(racing)}, { recursive: true });
      lock.release();
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(other2.stdout!, 'data');
    const second = new Service({ dataDir: racing, host: '127.0.0.1', port: 0 });
    try {
      expect(existsSync(join(racing, 'localdls.sqlite'))).toBe(true);
      expect(() => acquireServiceLock(racing)).toThrow(/another LocalDLS service \(process \d+\) is running/);
    } finally {
      await second.stop();
    }
    expect((await once(other2, 'exit'))[0]).toBe(0);

    const missing = await runCli(['devices', '--data-dir', `${newDir()}/nothing-here`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no LocalDLS data in .*nothing-here: start `localdls serve/);

    for (const [args, message] of [
      // Said alone, before anything else is read or printed (Secure Mode's warning included).
      [['serve', '--data-dir', newDir(), '--port', '99999'], /^localdls serve: --port must be a number from 0 to 65535/],
      [['serve', '--data-dir', newDir(), '--dcmp-port', '-1'], /^localdls serve: --dcmp-port needs a value; a value starting with "-" is written --dcmp-port=-1/],
      [['serve', '--data-dir', newDir(), '--tls', 'ancient'], /^localdls serve: --tls must be one of modern, legacy/],
      [['items', '--data-dir', dataDir], /--mac is required/],
      [['items', '--data-dir', dataDir, '--mac', 'xyz'], /not a MAC address/],
      [['traffic', '--data-dir', dataDir, '--limit', '0'], /--limit must be a whole number/],
      // In the CLI's words, not the command layer's argument names (helper-77: "filter.text", "id").
      [['traffic', '--data-dir', dataDir, '--text', 'ab'], /^localdls traffic: --text must have at least 3 characters in a row/],
      [['rollout', 'show', 'nosuch', '--data-dir', dataDir], /^localdls rollout: "nosuch" is not a rollout id \(j<time>-<kind> or b-<run>\): `localdls rollout` lists them/],
      [['devices', '--bogus'], /unknown option --bogus/],
      // A repeated option would act on its last value alone: refused before anything is done.
      [['items', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:01', '--mac', '00:1A:E8:00:00:02'], /--mac is given more than once; it takes one value \(several phones: --all/],
      // Where --mac may name several phones, what takes one says so.
      [['bootstrap', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:01', '--mac', '00:1A:E8:00:00:02', '--pin', '12345678'], /--pin DIGITS is for one phone/],
      [['bootstrap', '--data-dir', dataDir, '--undo', '--mac', '00:1A:E8:00:00:01', '--mac', '00:1A:E8:00:00:02'], /--undo takes one --mac/],
      [['job', 'list', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:01', '--mac', '00:1A:E8:00:00:02'], /job list takes one --mac/],
      [['traffic', '--data-dir', dataDir, '--limit', '5', '--limit', '6'], /--limit is given more than once/],
      // A negative number after an option: the parser will not guess, the CLI says how to write it.
      [['traffic', '--data-dir', dataDir, '--limit', '-5'], /^localdls traffic: --limit needs a value; a value starting with "-" is written --limit=-5 \(and is checked like any other\)\n/],
      [['traffic', '--data-dir', dataDir, '--limit', '--json'], /^localdls traffic: --limit needs a value\n/],
      [['traffic', '--data-dir', dataDir, '--limit=-5'], /^localdls traffic: --limit must be a whole number from 1 to 10000, not "-5"/],
      // Free text the index cannot find (fewer than 3 characters in a row) is refused, listed or exported.
      [['traffic', '--data-dir', dataDir, '--text', 'ab'], /text must have at least 3 characters in a row/],
      [['traffic', 'export', '--data-dir', dataDir, '--text', ' Ψ ', '--format', 'har', '--output', join(dataDir, 'x.har')], /text must have at least 3 characters in a row/],
      [['traffic', '--data-dir', dataDir, '--status', ' '], /--status needs a value: 200, 4xx, accepted, failed, busy or tls/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const unknownMac = await runCli(['items', '--data-dir', dataDir, '--mac', '00:00:00:00:00:01']);
    expect(unknownMac.code).toBe(1);
    expect(unknownMac.stderr).toMatch(/no device 00:00:00:00:00:01/);
  });

  it('--help works for every command', async () => {
    for (const cmd of ['serve', 'devices', 'items', 'traffic', 'phone']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toMatch(/Example/);
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/serve\s+run the provisioning service/);
  });
});
