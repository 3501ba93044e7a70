import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import type { Job, Profile } from '../../src/shared/model';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';
import { LIMITS } from '../../src/shared/constants';

const newDir = tempDirs();
const A = '00:1A:E8:00:00:01';
const B = '00:1A:E8:00:00:02';

/** A data directory with two phones that have been read once. */
function site(): string {
  const dir = newDir();
  const store = new Store(dir);
  for (const [mac, type] of [[A, 'OpenStage 60'], [B, 'OpenStage 40']] as const) {
    store.commit(
      {
        kind: 'wpi', started: 1, ended: 1, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1, tlsProtocol: null, tlsCipher: null,
        method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
        mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
      },
      { device: { mac, deviceType: type, lastAddress: '127.0.0.1', contactMeUri: 'http://127.0.0.1:1/contact_dls.html/ContactDLS' }, replaceItems: [{ name: 'sntp-addr', value: 'old' }, { name: 'e164', value: '100' }] },
      null,
    );
  }
  store.close();
  return dir;
}

const jobs = async (dir: string, ...args: string[]) => JSON.parse((await runCli(['job', 'list', '--data-dir', dir, '--json', ...args])).stdout) as Job[];

describe('localdls job / profile / contact', () => {
  it('--all on more devices than one command takes says so in its own words, and queues nothing', async () => {
    const dir = site();
    // Devices as start-ups leave them (a LAN host can make them by naming MACs in Default Mode).
    withRawDb(dir, (db) => {
      const add = db.prepare(`INSERT INTO devices (mac, last_address, first_contact, last_contact) VALUES (?, '127.0.0.9', 1, 1)`);
      db.transaction(() => {
        for (let i = 0; i < LIMITS.macs; i++) add.run(`02:00:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`);
      })();
    });
    const total = LIMITS.macs + 2;
    for (const args of [['job', 'add', '--data-dir', dir, '--all', 'restart'], ['profile', 'apply', 'none', '--data-dir', dir, '--all']]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--all would name ${total} devices, more than the ${LIMITS.macs} one command takes: name them with --mac`);
    }
    const boot = await runCli(['bootstrap', '--data-dir', dir, '--all', '--nopin'], { LOCALDLS_KEY_PASSPHRASE: 'a passphrase for this test only' });
    expect(boot.code, boot.stderr).toBe(2);
    expect(boot.stderr).toContain(`--all would name ${total} phones, more than the ${LIMITS.macs} one command takes: name them with --mac`);
    expect(await jobs(dir)).toEqual([]);
    // One --mac at a time still works.
    expect((await runCli(['job', 'add', '--data-dir', dir, '--mac', A, 'restart'])).code).toBe(0);
  }, 60_000);

  it('queues each job kind with the items the manual asks for', async () => {
    const dir = site();
    const add = (...args: string[]) => runCli(['job', 'add', '--data-dir', dir, '--mac', A, ...args]);
    expect((await add('write', 'sntp-addr=pool.ntp.org', 'function-key-def[0]=3')).stdout).toMatch(/^queued job 1: WriteItems for 00:1A:E8:00:00:01 \(sntp-addr=pool.ntp.org function-key-def\[0\]=3\)/);
    await add('read', 'sntp-addr', 'ldap-server-address[1]');
    await add('restart');
    await add('factory-reset');
    await add('file', '--type', 'LOGO', '--ftp', 'ftp://user:secret@files.example:2121/media/Logo%20A.png');
    await add('file', '--type', 'RINGTONE', '--url', 'https://files.example/a.mp3', '--url', 'https://files.example/b.mp3', '--delete', 'old.mp3:RINGTONE');
    await add('firmware', '--version', '3.5.12.0', '--url', 'https://files.example/fw.img');
    const list = await jobs(dir);
    expect(list.map((j) => j.kind)).toEqual(['WriteItems', 'ReadItems', 'Restart', 'FactoryReset', 'FileDeployment', 'FileDeployment', 'SoftwareDeployment']);
    expect(list.every((j) => j.state === 'queued' && j.source === 'cli')).toBe(true);
    expect(list[0]!.items).toEqual([{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'function-key-def', index: 0, value: '3' }]);
    expect(list[1]!.items).toEqual([{ name: 'sntp-addr', value: '' }, { name: 'ldap-server-address', index: 1, value: '' }]);
    // The FTP password is a secret: masked in every listing.
    expect(list[4]!.items).toEqual([
      { name: 'file-server', value: 'files.example' }, { name: 'file-port', value: '2121' }, { name: 'file-username', value: 'user' },
      { name: 'file-pwd', value: '••••••' }, { name: 'file-path', value: '/media/' }, { name: 'file-name', value: 'Logo A.png' }, { name: 'file-type', value: 'LOGO' },
    ]);
    expect(list[5]!.items.filter((i) => i.name === 'file-action')).toEqual([
      { name: 'file-action', index: 1, value: 'deploy' }, { name: 'file-action', index: 2, value: 'deploy' }, { name: 'file-action', index: 3, value: 'delete' },
    ]);
    expect(list[6]).toMatchObject({ expect: { 'software-version': 'V3 R5.12.0' } });
    expect(list[6]!.items.find((i) => i.name === 'file-type')?.value).toBe('APP');
    const human = await runCli(['job', 'list', '--data-dir', dir]);
    expect(human.stdout).toMatch(/^ID\s+MAC\s+KIND\s+STATE/);
    expect(human.stdout).not.toContain('secret');
  });

  it('says before queueing that an item is read-only or unknown to the catalogue: a write is still queued, a read says nothing', async () => {
    const dir = site();
    const add = (...args: string[]) => runCli(['job', 'add', '--data-dir', dir, '--mac', A, ...args]);
    const write = await add('write', 'user-pwd-expiry=30', 'no-such-item=1', 'sntp-addr=pool.ntp.org');
    expect(write.code).toBe(0);
    expect(write.stderr.trim().split('\n')).toEqual([
      'note: not in LocalDLS\'s item catalogue (the phone may answer "unknown item"): no-such-item',
      'note: read-only on the phone (it will answer "read only", and the job fails): user-pwd-expiry',
    ]);
    expect((await add('read', 'user-pwd-expiry')).stderr).toBe('');
    const profile = await runCli(['profile', 'set', 'p1', '--data-dir', dir, 'user-pwd-expiry=30']);
    expect(profile.stderr).toContain('note: read-only on the phone (it will answer "read only", and the job fails): user-pwd-expiry');
    expect((await jobs(dir)).map((j) => j.kind)).toEqual(['WriteItems', 'ReadItems']);
  });

  it('--all queues for every device; list filters; cancel works once', async () => {
    const dir = site();
    const r = await runCli(['job', 'add', '--data-dir', dir, '--all', 'read-all', '--json']);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Job).mac)).toEqual([A, B]);
    expect(await jobs(dir, '--mac', B)).toHaveLength(1);
    expect((await runCli(['job', 'cancel', '--data-dir', dir, '1'])).stdout).toBe('cancelled job 1\n');
    expect(await jobs(dir, '--state', 'cancelled')).toHaveLength(1);
    const again = await runCli(['job', 'cancel', '--data-dir', dir, '1', '99']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('job 1 is cancelled: only queued, sent or waiting-busy jobs can be cancelled\nno job 99: see the job list (localdls job list, or the Jobs view) for the ids there are\n');
  });

  it('--json names a phone whose same job waits already on a line of its own, beside the queued jobs', async () => {
    const dir = site();
    const first = await runCli(['job', 'add', '--data-dir', dir, '--mac', A, 'restart', '--json']);
    const firstId = (JSON.parse(first.stdout) as Job).id;
    const r = await runCli(['job', 'add', '--data-dir', dir, '--mac', A, '--mac', B, 'restart', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([{ notQueued: { mac: A, sameJob: firstId, reason: 'the same job waits for the phone already' } }, expect.objectContaining({ mac: B, kind: 'Restart', state: 'queued' })]);
    expect(r.stderr).toBe(`${A}: the same job waits for the phone already (job ${firstId}): not queued again\n`);
    expect((await jobs(dir)).map((j) => j.mac)).toEqual([A, B]);
  });

  it('bootstrap --renew says it is a new certificate for a phone in Secure Mode, not a bootstrap into it (helper-77)', async () => {
    const dir = site();
    const env = { LOCALDLS_KEY_PASSPHRASE: 'a passphrase for this test only' };
    // Into Secure Mode first (its job done, as the service marks it on the phone's secure contact).
    expect((await runCli(['bootstrap', '--data-dir', dir, '--mac', A, '--nopin'], env)).code).toBe(0);
    withRawDb(dir, (db) => {
      db.prepare(`UPDATE jobs SET state = 'done', finished = 2 WHERE mac = ? AND kind = 'Bootstrap'`).run(A);
      db.prepare(`UPDATE devices SET mode = 'secure', bootstrap = 'done' WHERE mac = ?`).run(A);
    });
    const again = await runCli(['bootstrap', '--data-dir', dir, '--mac', A, '--nopin'], env);
    expect(again.stderr).toContain(`${A} is already in Secure Mode (to give it a new certificate: localdls bootstrap --mac ${A} --renew)`);
    const renew = await runCli(['bootstrap', '--data-dir', dir, '--mac', A, '--renew'], env);
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(new RegExp(`^queued job \\d+: a new client certificate for ${A}, sent over the secure channel \\(port \\d+\\); the old one is refused once the phone has it\n$`));
  }, 60_000);

  it('--mac once per phone queues for those phones, each once, as one rollout', async () => {
    const dir = site();
    const r = await runCli(['job', 'add', '--data-dir', dir, '--mac', B, '--mac', A.toLowerCase(), '--mac', B, 'restart', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Job).mac)).toEqual([B, A]);
    const rollouts = await runCli(['rollout', 'list', '--data-dir', dir, '--json']);
    expect(rollouts.stdout.trim().split('\n').map((l) => JSON.parse(l) as { total: number })).toMatchObject([{ total: 2 }]);
  });

  it('refuses bad input with a clear message and queues nothing', async () => {
    const dir = site();
    const cases: [string[], number, RegExp][] = [
      [['job', 'add', '--data-dir', dir, '--mac', A, 'write', 'sntp-addr'], 2, /has no value/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'write', '=x'], 2, /is not an item/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'read', 'a=b'], 2, /a read names items without values/],
      // A mistyped spec is quoted up to its value: what follows `=` may be a password.
      [['job', 'add', '--data-dir', dir, '--mac', A, 'write', 'sip pwd=Hunter-2-secret'], 2, /^localdls job: "sip pwd=…" is not an item: write name=value or name\[index\]=value\n/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'launch'], 2, /unknown job kind "launch"/],
      [['job', 'add', '--data-dir', dir, 'restart'], 2, /--mac M or --all is required/],
      [['job', 'add', '--data-dir', dir, '--mac', '00:00:00:00:00:09', 'restart'], 1, /no device 00:00:00:00:00:09: a phone must contact the service once/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'firmware', '--version', 'new', '--url', 'https://x/fw'], 2, /not a firmware version/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'file', '--url', 'http://x/a.png', '--type', 'LOGO'], 2, /https:\/\/ or ftp:\/\//],
      // The UI offers only the manual's types: the CLI refuses another (helper-77: BOGUS was queued).
      [['job', 'add', '--data-dir', dir, '--mac', A, 'file', '--type', 'BOGUS', 'https://x/a.png'], 2, /file type "BOGUS" is not one of RINGTONE, LOGO, MOH, PIC, LDAP, SCREENSAVER, DONGLE/],
      [['job', 'add', '--data-dir', dir, '--mac', A, 'file', '--type', 'LOGO', 'https://x/a.png', '--delete', 'a.wav:TUNE'], 2, /file type "TUNE" is not one of/],
      [['job', 'list', '--data-dir', dir, '--state', 'stuck'], 2, /--state must be one of/],
      [['profile', 'apply', 'nope', '--data-dir', dir, '--all'], 1, /no profile "nope"/],
      [['profile', 'set', 'bad name!', '--data-dir', dir, 'a=b'], 2, /a profile name/],
      // The parser's complaints in the CLI's words, with the usage after them.
      [['job', 'add', '--data-dir', dir, '--mac'], 2, /^localdls job: --mac needs a value\n\nlocaldls job add/],
      [['job', 'list', '--data-dir', dir, '--json=yes'], 2, /^localdls job: --json takes no value\n/],
      [['job', 'list', '--data-dir', dir, '--colour'], 2, /^localdls job: unknown option --colour\n/],
      [['job', 'cancel', '--data-dir', dir, '1e3'], 2, /"1e3" is not a job id/],
      [['job', 'cancel', '--data-dir', dir, '99999999999999999999'], 2, /is not a job id/],
      [['job', 'add', '--data-dir', dir, '--mac', '00:1A-E8:00:00:01', 'restart'], 2, /--mac "00:1A-E8:00:00:01" is not a MAC address/],
      [['job', 'add', '--data-dir', dir, '--mac', A, '--all', 'restart'], 2, /give --mac or --all, not both/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toMatch(message);
    }
    // The mistake and the synopsis, not the page of help: options and examples stay behind --help (helper-77).
    const usage = await runCli(['job', 'add', '--data-dir', dir, '--mac']);
    expect(usage.stderr).toMatch(/\(localdls job --help for details\)\n$/);
    expect(usage.stderr).not.toMatch(/Examples:/);
    // A 5,000-character item name: refused, and quoted short in every line said about it.
    for (const args of [['job', 'add', '--data-dir', dir, '--mac', A, 'write'], ['profile', 'set', 'long', '--data-dir', dir]]) {
      // Of a valid shape (too long), and of none (not an item name at all).
      for (const name of ['x'.repeat(5000), `${'x'.repeat(3000)}!`]) {
        const long = await runCli([...args, `${name}=1`]);
        expect(long.code, args[0]).not.toBe(0);
        for (const line of `${long.stdout}${long.stderr}`.split('\n')) expect(line.length, args[0]).toBeLessThan(400);
      }
    }
    expect(await jobs(dir)).toEqual([]);
  });

  it('profiles: apply writes only what differs, respects the device type, and overrides win', async () => {
    const dir = site();
    expect((await runCli(['profile', 'set', 'site', '--data-dir', dir, 'sntp-addr=ntp.site', 'e164=100'])).stdout).toBe('profile site: 2 items (site-wide)\n');
    await runCli(['profile', 'set', 'os60', '--data-dir', dir, '--device-type', 'OpenStage 60', '--match-mac', '00:1A:E8:*', 'sntp-addr=ntp.60']);
    const shown = JSON.parse((await runCli(['profile', 'show', '--data-dir', dir, '--json'])).stdout) as Profile[];
    expect(shown.map((p) => [p.name, p.deviceType, p.matchMac])).toEqual([['os60', 'OpenStage 60', '00:1A:E8:*'], ['site', null, null]]);

    await runCli(['profile', 'override', '--data-dir', dir, '--mac', B, 'e164=222']);
    const applied = await runCli(['profile', 'apply', 'site', '--data-dir', dir, '--all']);
    expect(applied.stdout).toBe(`${A}: queued job 1, 1 item differs\n${B}: queued job 2, 2 items differ\n`);
    // Applied to several phones, its jobs are one rollout.
    const rollouts = (await runCli(['rollout', 'list', '--data-dir', dir, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; total: number });
    expect(rollouts).toMatchObject([{ id: expect.stringMatching(/^j\d+-WriteItems$/) as unknown, total: 2 }]);
    const list = await jobs(dir);
    expect(list.map((j) => [j.mac, j.items, j.source])).toEqual([
      [A, [{ name: 'sntp-addr', value: 'ntp.site' }], 'profile:site'],
      [B, [{ name: 'sntp-addr', value: 'ntp.site' }, { name: 'e164', value: '222' }], 'profile:site'],
    ]);
    const typed = await runCli(['profile', 'apply', 'os60', '--data-dir', dir, '--all']);
    expect(typed.stdout).toContain(`${B}: skipped, profile os60 is for OpenStage 60, the phone is OpenStage 40`);
  });

  it('contact respects the phone\'s gap and says when the next one may go', async () => {
    const dir = site();
    await runCli(['job', 'add', '--data-dir', dir, '--mac', A, 'read-all']);
    const first = await runCli(['contact', '--data-dir', dir, '--mac', A]);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/\[1\/1\] 00:1A:E8:00:00:01: failed: connection refused by 127\.0\.0\.1:1/);
    const second = await runCli(['contact', '--data-dir', dir, '--all']);
    expect(second.stdout).toMatch(/not sent: contact gap: the phone ignores another contact-me until \d{4}-/);
    const rows = (await runCli(['traffic', '--data-dir', dir, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.kind === 'contact-me')).toHaveLength(1);
  });
});
