/**
 * The CA certificate is public: `ca show` and `ca export-public` need no key passphrase. Job lists
 * never print a PEM (a bootstrap job carries the CA chain and the phone's credentials). The CLI
 * says which zone its times are in.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { Store } from '../../src/main/store';
import { fastProtector, openPki } from '../pki/helpers';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:41';
const saved = { pass: process.env.LOCALDLS_KEY_PASSPHRASE, file: process.env.LOCALDLS_KEY_PASSPHRASE_FILE };
beforeEach(() => {
  delete process.env.LOCALDLS_KEY_PASSPHRASE;
  delete process.env.LOCALDLS_KEY_PASSPHRASE_FILE;
});
afterEach(() => {
  if (saved.pass !== undefined) process.env.LOCALDLS_KEY_PASSPHRASE = saved.pass;
  if (saved.file !== undefined) process.env.LOCALDLS_KEY_PASSPHRASE_FILE = saved.file;
});

async function siteWithCa() {
  const dir = newDir();
  const store = new Store(dir);
  store.commit(
    {
      kind: 'wpi', started: 1, ended: 1, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1, tlsProtocol: null, tlsCipher: null,
      method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
      mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
    },
    { device: { mac: MAC, lastAddress: '127.0.0.1' } },
    null,
  );
  const pki = await openPki(dir, { keyBits: 1024 });
  return { dir, store, pki };
}

describe('the CA certificate is public', () => {
  it('ca show and ca export-public work without the key passphrase', async () => {
    const { dir, store, pki } = await siteWithCa();
    store.close();
    const show = await runCli(['ca', 'show', '--data-dir', dir]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`fingerprint (SHA-256): ${pki.caSummary().fingerprint}`);
    expect(show.stdout).toMatch(/valid until: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    const json = JSON.parse((await runCli(['ca', 'show', '--json', '--data-dir', dir])).stdout) as Record<string, unknown>;
    expect(json).toEqual({ ...pki.caSummary(), keyPool: { ready: 0, size: 64 } });
    const pem = await runCli(['ca', 'export-public', '--data-dir', dir]);
    expect(pem.code, pem.stderr).toBe(0);
    expect(`${pem.stdout.trim()}\n`).toBe(pki.caChainPems().join(''));
  });

  it('says so when there is no CA yet', async () => {
    const dir = newDir();
    new Store(dir).close();
    const show = await runCli(['ca', 'show', '--data-dir', dir]);
    expect(show.code).not.toBe(0);
    expect(show.stderr).toMatch(/no CA in .*pki yet/);
  });
});

describe('job list', () => {
  it('prints no PEM for a bootstrap job, and says its times are UTC', async () => {
    const { dir, store, pki } = await siteWithCa();
    await prepareBootstraps(store, pki, fastProtector(dir), [MAC], { pin: { kind: 'none' }, securePort: 18444 });
    store.close();
    const list = await runCli(['job', 'list', '--data-dir', dir]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/Bootstrap/);
    expect(list.stdout).toContain('UPDATED (UTC)');
    expect(list.stdout).not.toContain('-----BEGIN');
    expect(list.stdout).not.toContain('MII');
  });
});
