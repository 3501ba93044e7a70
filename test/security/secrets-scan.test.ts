/**
 * Secrets stay secret (issue "Hardening", item 4). Plants secrets through real sockets and real
 * CLI processes — a phone whose items carry distinctive passwords (one in a CDATA section, one
 * under a name written with a character reference, one in send-url-passwd), a file job with a
 * distinctive FTP password, a write job and a profile with passwords, a PIN bootstrap and a no-PIN
 * bootstrap carried through to mutual TLS — then scans every way out for them: `serve` stdout and
 * stderr, `traffic` (human, --json), `items` (no --reveal), `devices`, `job list`, `bootstrap`
 * (no --show-pins), `bootstrap --status`, `profile show`, the UI API (getExchange, listExchanges,
 * getDevice, listDevices, listJobs, listProfiles, exportExchanges json and har), and the raw bytes
 * of the database files for key material (passwords may be stored: the protocol needs them).
 */
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { fromPkcs12Der, unpackSecureModeData } from '../../src/main/pki';
import { Store } from '../../src/main/store';
import { MASK } from '../../src/shared/secrets';
import { CliProcess, runCli, startServe, type CliResult } from '../support/cli';
import { startUpItems } from '../support/messages';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';
import { findings, HandPhone, itemOf, slices } from './support';

const newDir = tempDirs();
const processes: CliProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
});

const PASSPHRASE = 'secrets-scan passphrase, known to this test only';
const A = '00:1A:E8:5E:C0:0A';
const B = '00:1A:E8:5E:C0:0B';
const C = '00:1A:E8:5E:C0:0C';

/** Distinctive values: found anywhere they must not be, they can only have come from here. */
const PASSWORDS = {
  'phone user-pwd': 'Upw-7Q2-phone-user',
  'phone sip-pwd': 'Spw-9X4-phone-sip',
  'phone send-url-passwd': 'Surl-3K8-send-url',
  'phone ldap-pwd in CDATA': 'Ldap-5M1-in-cdata',
  'phone admin-pwd, name as a character reference': 'Adm-2R6-charref',
  'file job FTP password': 'Ftp-6W3-file-job',
  'file job https:// URL password': 'Https-1N7-in-url',
  'file job URL query token (a pre-signed link)': 'Qtok-2H8-in-query',
  'write job sip-pwd': 'Job-4T9-write-sip',
  'profile ldap-pwd': 'Prof-8J5-profile',
};

/** Typed by the admin in a job the CLI refuses: quoted in the reason, but not its password. */
const REFUSED_URL_PASSWORD = { 'password of a refused file URL': 'Bad-0Z9-refused-url' };

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

/** The database and its WAL/SHM files, as raw bytes. */
/**
 * The database's files as bytes, and what its compressed columns (bodies, item sets) hold unpacked:
 * a secret stored compressed would not show in the files' bytes.
 */
function databaseBytes(dataDir: string): Record<string, Buffer> {
  const files = Object.fromEntries(readdirSync(dataDir).filter((f) => f.startsWith('localdls.sqlite')).map((f) => [f, readFileSync(join(dataDir, f))]));
  const packed = withRawDb(dataDir, (db) =>
    db.prepare(`SELECT request_body AS bytes, request_encoding AS encoding FROM exchanges UNION ALL SELECT response_body, response_encoding FROM exchanges
      UNION ALL SELECT items, encoding FROM item_sets`).all() as { bytes: Buffer; encoding: string | null }[],
  );
  const unpacked = packed.filter((r) => r.encoding === 'deflate-raw').map((r) => inflateRawSync(r.bytes));
  expect(unpacked.length, 'compressed rows to scan').toBeGreaterThan(0);
  return { ...files, 'compressed columns, unpacked': Buffer.concat(unpacked) };
}

/** The parts of an RSA private key no public object contains: d, p, q, and its DER encodings. */
function keyNeedles(label: string, keyPem: string): Record<string, Buffer | string> {
  const key = createPrivateKey(keyPem);
  const jwk = key.export({ format: 'jwk' });
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const pkcs1 = key.export({ format: 'der', type: 'pkcs1' });
  return {
    [`${label} private exponent d`]: Buffer.from(jwk.d!, 'base64url').subarray(0, 32),
    [`${label} prime p`]: Buffer.from(jwk.p!, 'base64url').subarray(0, 32),
    [`${label} prime q`]: Buffer.from(jwk.q!, 'base64url').subarray(0, 32),
    [`${label} PKCS#8 DER`]: pkcs8.subarray(pkcs8.length - 64),
    [`${label} PKCS#1 DER`]: pkcs1.subarray(pkcs1.length - 64),
    [`${label} PKCS#8 base64`]: pkcs8.toString('base64').slice(200, 264),
    [`${label} PKCS#1 base64`]: pkcs1.toString('base64').slice(200, 264),
  };
}

describe('secrets are masked on every way out, and keys and PINs never reach the database', () => {
  it('plants passwords, an FTP password, a PIN and a no-PIN bootstrap, then scans every output', async () => {
    const dataDir = newDir();
    const sheetFile = join(newDir(), 'pins.csv');
    const env = { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE };
    process.env.LOCALDLS_KEY_PASSPHRASE = PASSPHRASE;
    let serve: CliProcess;
    let port: number;
    let listening: Record<string, unknown>;
    try {
      ({ serve, port, listening } = await startServe(['--data-dir', dataDir, '--secure-port', '0', '--no-auto-contact']));
    } finally {
      delete process.env.LOCALDLS_KEY_PASSPHRASE;
    }
    processes.push(serve);
    const securePort = listening.securePort as number;
    expect(securePort).toBeGreaterThan(0);

    // --- phone A reports its configuration, passwords included --------------------------------
    const a = new HandPhone(A, port, '127.0.0.31');
    const r1 = await a.say({ reason: 'start-up', items: startUpItems(A) });
    expect(r1.dls?.action).toBe('ReadAllItems');
    let reply = a.xml({
      reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final',
      items: [
        ...startUpItems(A),
        { name: 'user-pwd', value: PASSWORDS['phone user-pwd'] },
        { name: 'sip-pwd', value: PASSWORDS['phone sip-pwd'] },
        { name: 'send-url-passwd', index: 1, value: PASSWORDS['phone send-url-passwd'] },
        { name: 'ldap-pwd', value: 'CDATA-PLACEHOLDER' },
        { name: 'admin-pwd', value: PASSWORDS['phone admin-pwd, name as a character reference'] },
        { name: 'sntp-addr', value: 'pool.ntp.org' },
      ],
    });
    reply = reply
      .replace('>CDATA-PLACEHOLDER<', `><![CDATA[${PASSWORDS['phone ldap-pwd in CDATA']}]]><`)
      .replace('name="admin-pwd"', 'name="admin-&#x70;wd"');
    const r2 = await a.say(reply);
    expect(r2.dls?.action).toBe('CleanUp');

    // --- phones B and C register -------------------------------------------------------------
    const b = new HandPhone(B, port, '127.0.0.32');
    const c = new HandPhone(C, port, '127.0.0.33');
    for (const p of [b, c]) {
      const first = await p.say({ reason: 'start-up', items: startUpItems(p.mac) });
      await p.acceptAll(first, () => startUpItems(p.mac));
    }

    // --- jobs and a profile with passwords, from the CLI -------------------------------------
    const ftp = `ftp://dlsuser:${PASSWORDS['file job FTP password']}@127.0.0.1/logos/logo.png`;
    const cli: Record<string, CliResult> = {};
    cli['job add file'] = await runCli(['job', 'add', '--data-dir', dataDir, '--mac', A, 'file', '--type', 'LOGO', '--ftp', ftp]);
    cli['job add file https'] = await runCli(['job', 'add', '--data-dir', dataDir, '--mac', A, 'file', '--type', 'RINGTONE', '--url', `https://dlsuser:${PASSWORDS['file job https:// URL password']}@127.0.0.1/ring.mp3?token=${PASSWORDS['file job URL query token (a pre-signed link)']}`]);
    cli['job add write'] = await runCli(['job', 'add', '--data-dir', dataDir, '--mac', A, 'write', `sip-pwd=${PASSWORDS['write job sip-pwd']}`, 'sntp-addr=pool.ntp.org']);
    cli['job add --json'] = await runCli(['job', 'add', '--data-dir', dataDir, '--mac', A, 'read', 'sip-pwd', '--json']);
    const refused = await runCli(['job', 'add', '--data-dir', dataDir, '--mac', A, 'file', '--type', 'LOGO', '--ftp', `ftp://dlsuser:${REFUSED_URL_PASSWORD['password of a refused file URL']}@127.0.0.1/`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^localdls job: "ftp:\/\/dlsuser:••••••@127\.0\.0\.1\/" names no file/);
    cli['profile set'] = await runCli(['profile', 'set', 'site', '--data-dir', dataDir, `ldap-pwd=${PASSWORDS['profile ldap-pwd']}`, 'sntp-addr=pool.ntp.org']);
    for (const [what, r] of Object.entries(cli)) expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    cli['job add (refused)'] = refused;

    // --- bootstraps: B with a PIN, C without -------------------------------------------------
    cli['bootstrap --pin auto'] = await runCli(['bootstrap', '--data-dir', dataDir, '--mac', B, '--pin', 'auto', '--sheet', sheetFile], env);
    cli['bootstrap --nopin'] = await runCli(['bootstrap', '--data-dir', dataDir, '--mac', C, '--nopin'], env);
    for (const what of ['bootstrap --pin auto', 'bootstrap --nopin']) expect(cli[what]!.code, cli[what]!.stderr).toBe(0);
    const pin = readFileSync(sheetFile, 'utf8').trim().split('\n')[1]!.split(',')[2]!;
    expect(pin).toMatch(/^\d{8}$/);
    const tan = pin.slice(-3);

    // --- phone A takes its jobs: the FTP password travels to it -------------------------------
    const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
    const jobsForA = await a.acceptAll(await a.say({ reason: 'solicited', items: known(A) }), (m) => (m.action === 'ReadItems' ? [{ name: 'sip-pwd', value: PASSWORDS['write job sip-pwd'] }] : []));
    const file = jobsForA.find((m) => m.action === 'FileDeployment')!;
    expect(itemOf(file, 'file-pwd')).toBe(PASSWORDS['file job FTP password']);
    expect(jobsForA.map((m) => m.action)).toEqual(['FileDeployment', 'FileDeployment', 'WriteItems', 'ReadItems', 'CleanUp']);
    expect(itemOf(jobsForA[1]!, 'file-https-base-url')).toContain(PASSWORDS['file job https:// URL password']);

    // --- phone B: PIN bootstrap, then the TAN over mutual TLS --------------------------------
    const [bootB] = await b.acceptAll(await b.say({ reason: 'solicited', items: known(B) }));
    const smd = itemOf(bootB!, 'secure-mode-data')!;
    expect(smd.length).toBeGreaterThan(1000);
    const insideB = unpackSecureModeData(smd, pin.slice(0, -3));
    const bSecure = new HandPhone(B, securePort, '127.0.0.32', { pfx: insideB.pkcs12, passphrase: '', ca: insideB.caPems, rejectUnauthorized: true, servername: 'localhost' });
    const tanRead = await bSecure.say({ reason: 'start-up', items: known(B) });
    expect(tanRead.dls).toMatchObject({ action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] });
    const tanDone = await bSecure.say({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', fragment: 'final', items: [{ name: 'bootstrapping-tan', value: tan }] });
    expect(tanDone.dls?.action).toBe('CleanUp');

    // --- phone C: no-PIN bootstrap, then mutual TLS ------------------------------------------
    const [bootC] = await c.acceptAll(await c.say({ reason: 'solicited', items: known(C) }));
    const p12C = itemOf(bootC!, 'dls-client-certificate')!;
    expect(p12C.length).toBeGreaterThan(1000);
    const cSecure = new HandPhone(C, securePort, '127.0.0.33', { pfx: Buffer.from(p12C, 'base64'), passphrase: '', ca: [itemOf(bootC!, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' });
    expect((await cSecure.say({ reason: 'start-up', items: known(C) })).status).toBe(200);

    // --- every CLI view, while serve runs ----------------------------------------------------
    const views: [string, string[], NodeJS.ProcessEnv?][] = [
      ['traffic', ['traffic', '--limit', '10000']],
      ['traffic --json', ['traffic', '--limit', '10000', '--json']],
      ['devices', ['devices']],
      ['devices --json', ['devices', '--json']],
      ['job list', ['job', 'list']],
      ['job list --json', ['job', 'list', '--json']],
      ['profile show', ['profile', 'show']],
      ['profile show --json', ['profile', 'show', '--json']],
      ['bootstrap --status', ['bootstrap', '--status']],
      ['bootstrap --status --json', ['bootstrap', '--status', '--json']],
      ...[A, B, C].flatMap((mac): [string, string[]][] => [[`items ${mac}`, ['items', '--mac', mac]], [`items ${mac} --json`, ['items', '--mac', mac, '--json']]]),
    ];
    for (const [what, args, e] of views) {
      cli[what] = await runCli([...args, '--data-dir', dataDir], e);
      expect(cli[what]!.code, `${what}: ${cli[what]!.stderr}`).toBe(0);
    }
    const revealed = await runCli(['items', '--data-dir', dataDir, '--mac', A, '--reveal']);
    const dbWhileRunning = databaseBytes(dataDir);

    expect(await serve.stop('SIGTERM')).toBe(0);
    const serveOut = { 'serve stdout': serve.lines.join('\n'), 'serve stderr': serve.stderr };
    expect(serve.lines.at(-1)).toBe('{"event":"stopped"}');

    // --- the UI API over the same data directory ---------------------------------------------
    const store = new Store(dataDir, { readonly: true });
    const api = new LocalDlsApiHost({ store, onExchange: () => () => undefined }, { dataDir, networkInterfaces: () => ({}) });
    const ui: Record<string, string> = {};
    try {
      const list = await api.listExchanges({}, { limit: 5000 });
      ui.listExchanges = JSON.stringify(list);
      const ids = list.exchanges.map((x) => x.id);
      expect(ids.length).toBeGreaterThan(15);
      for (const id of ids) ui[`getExchange ${id}`] = JSON.stringify(await api.getExchange(id));
      for (const mac of [A, B, C]) ui[`getDevice ${mac}`] = JSON.stringify(await api.getDevice(mac));
      ui.listDevices = JSON.stringify(await api.listDevices());
      ui.listJobs = JSON.stringify(await api.listJobs({}));
      ui.listProfiles = JSON.stringify(await api.listProfiles());
      ui['exportExchanges json'] = (await api.exportExchanges(ids, 'json')).content;
      ui['exportExchanges har'] = (await api.exportExchanges(ids, 'har')).content;
      // The masked views show the mask where the secrets were (the scan below is not looking at empty views).
      const httpsRow = list.exchanges.filter((x) => x.action === 'FileDeployment')[1]!;
      const httpsView = await api.getExchange(httpsRow.id);
      expect(httpsView.response.items.find((i) => i.name === 'file-https-base-url')?.value).toBe(`https://dlsuser:${MASK}@127.0.0.1/ring.mp3?token=${MASK}`);
      expect(httpsView.response.text).toContain(`https://dlsuser:${MASK}@127.0.0.1/ring.mp3?token=${MASK}`);
      const fileRow = list.exchanges.find((x) => x.action === 'FileDeployment')!;
      const fileView = await api.getExchange(fileRow.id);
      expect(fileView.response.items.find((i) => i.name === 'file-pwd')).toMatchObject({ value: MASK, secret: true });
      expect(fileView.response.text).toContain(`<Item name="file-pwd">${MASK}</Item>`);
      const readAll = list.exchanges.find((x) => x.mac === A && x.replyAction === 'ReadAllItems')!;
      const readAllView = await api.getExchange(readAll.id);
      for (const name of ['user-pwd', 'sip-pwd', 'send-url-passwd', 'ldap-pwd', 'admin-pwd']) {
        expect(readAllView.request.items.find((i) => i.name === name), name).toMatchObject({ value: MASK, secret: true });
      }
      expect(readAllView.request.text).toContain(`<Item name="admin-&#x70;wd">${MASK}</Item>`);
      expect(readAllView.request.text).toContain(`<Item name="ldap-pwd">${MASK}</Item>`);
      // Explicit reveal still gives the stored value (the phone's passwords are kept for protocol use).
      const at = readAllView.request.items.findIndex((i) => i.name === 'user-pwd');
      expect(await api.revealExchangeItem(readAll.id, 'request', at)).toBe(PASSWORDS['phone user-pwd']);
      expect(store.device(B)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
      expect(store.device(C)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
      expect(store.items(B).find((i) => i.name === 'bootstrapping-tan')?.value ?? '').not.toBe(tan);
    } finally {
      api.close();
      store.close();
    }
    const dbAfter = databaseBytes(dataDir);

    // --- what must not be anywhere -----------------------------------------------------------
    const innerP12B = insideB.pkcs12.toString('base64');
    const keyB = fromPkcs12Der(insideB.pkcs12, '').keyPem;
    const keyC = fromPkcs12Der(Buffer.from(p12C, 'base64'), '').keyPem;
    const keyMaterial: Record<string, string | Buffer> = {
      PIN: pin,
      'PEM private key': 'PRIVATE KEY-----',
      ...Object.fromEntries(slices(smd).map((s, i) => [`secure-mode-data base64 #${i}`, s])),
      ...Object.fromEntries(slices(innerP12B).map((s, i) => [`PKCS#12 of B base64 #${i}`, s])),
      ...Object.fromEntries(slices(p12C).map((s, i) => [`dls-client-certificate of C base64 #${i}`, s])),
      'PKCS#12 of C, DER': Buffer.from(p12C, 'base64').subarray(100, 164),
      ...keyNeedles('key of B', keyB),
      ...keyNeedles('key of C', keyC),
    };
    const cliOut = Object.fromEntries(Object.entries(cli).flatMap(([what, r]) => [[`${what} stdout`, r.stdout], [`${what} stderr`, r.stderr]]));
    const outputs = { ...serveOut, ...cliOut, ...ui };

    // Passwords: in no output at all.
    expect(findings(outputs, { ...PASSWORDS, ...REFUSED_URL_PASSWORD })).toEqual([]);
    // Keys, PKCS#12, secure-mode-data and the PIN: in no output, and not in the database's bytes.
    expect(findings(outputs, keyMaterial)).toEqual([]);
    const db = { ...Object.fromEntries(Object.entries(dbWhileRunning).map(([f, b]) => [`${f} (serve running)`, b])), ...dbAfter };
    expect(findings(db, keyMaterial)).toEqual([]);
    // No stored exchange holds the TAN as a bootstrapping-tan value.
    for (const [f, bytes] of Object.entries(db)) expect(bytes.toString('latin1'), f).not.toMatch(new RegExp(`bootstrapping-tan"[^>]*>\\s*${tan}\\s*<`));
    // Nothing under the data directory holds the PIN or a private key in clear (keys are sealed).
    const files = Object.fromEntries(allFiles(dataDir).map((f) => [f, readFileSync(f)]));
    expect(findings(files, { PIN: pin, 'PEM private key': 'PRIVATE KEY-----', ...keyNeedles('key of B', keyB), ...keyNeedles('key of C', keyC) })).toEqual([]);

    // The scans look where the secrets are: the database does hold the passwords (protocol use),
    // --reveal shows them, the PIN sheet has the PIN, and the masked views say where they were.
    const dbText = Object.values(dbAfter).map((b) => b.toString('utf8')).join('\n');
    for (const [what, value] of Object.entries(PASSWORDS)) expect(dbText, `${what} is stored`).toContain(value);
    expect(revealed.stdout).toContain(PASSWORDS['phone user-pwd']);
    expect(readFileSync(sheetFile, 'utf8')).toContain(pin);
    expect(cli['items 00:1A:E8:5E:C0:0A']!.stdout).toMatch(new RegExp(`user-pwd\\s+${MASK}`));
    expect(cli['bootstrap --pin auto']!.stdout).toMatch(/PIN •••••• \(see the sheet, or --show-pins\)/);
    expect(cli['job list']!.stdout).toMatch(/file-pwd=••••••|FileDeployment/);
    expect(cli['job list --json']!.stdout).toContain(`"name":"file-pwd","value":"${MASK}"`);
    expect(cli['profile show']!.stdout).toContain(`ldap-pwd=${MASK}`);
  }, 240_000);
});
