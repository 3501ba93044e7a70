import { X509Certificate, createCipheriv, createDecipheriv, createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSelfSigned, loadOrCreateDefaultIdentity, osKeyringProtector, randomSerial, sealedFormat, type OsKeyring } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { allFiles, fastProtector } from './helpers';

const newDir = tempDirs();

describe('Default-Mode listener identity', () => {
  it('keeps its key in clear without a protector (unchanged behaviour)', async () => {
    const dir = newDir();
    const a = await loadOrCreateDefaultIdentity(dir);
    expect(readFileSync(join(dir, 'tls', 'default-server.key'), 'utf8')).toBe(a.key);
    expect(await loadOrCreateDefaultIdentity(dir)).toEqual(a);
  });

  it('seals its key with a protector, and seals a clear key left by an earlier run', async () => {
    const dir = newDir();
    const clear = await loadOrCreateDefaultIdentity(dir);
    const protector = fastProtector(dir);
    const migrated = await loadOrCreateDefaultIdentity(dir, protector);
    expect(migrated).toEqual(clear);
    expect(existsSync(join(dir, 'tls', 'default-server.key'))).toBe(false);
    expect(await loadOrCreateDefaultIdentity(dir, protector)).toEqual(clear);
    for (const f of allFiles(dir)) expect(readFileSync(f, 'latin1'), f).not.toMatch(/PRIVATE KEY/);

    const fresh = newDir();
    const sealed = await loadOrCreateDefaultIdentity(fresh, fastProtector(fresh));
    expect(new X509Certificate(sealed.cert).checkPrivateKey(createPrivateKey(sealed.key))).toBe(true);
    expect(existsSync(join(fresh, 'tls', 'default-server.key.sealed'))).toBe(true);
    expect(existsSync(join(fresh, 'tls', 'default-server.key'))).toBe(false);
  });

  it('keyring, then a launch without one, then the keyring again: each launch gets a matching pair (issue 17 #6)', async () => {
    const dir = newDir();
    const keyring = osKeyringProtector(new TestKeyring());
    const first = await loadOrCreateDefaultIdentity(dir, keyring);
    expectPair(first);
    const without = await loadOrCreateDefaultIdentity(dir);
    expectPair(without);
    // The sealed key it could not open went with the certificate it replaced.
    expect(existsSync(join(dir, 'tls', 'default-server.key.sealed'))).toBe(false);
    const again = await loadOrCreateDefaultIdentity(dir, keyring);
    expect(again).toEqual(without);
    expect(existsSync(join(dir, 'tls', 'default-server.key'))).toBe(false);
    expect(await loadOrCreateDefaultIdentity(dir, keyring)).toEqual(without);
  });

  it('a pair out of step (left by an older version, or a crash between the two writes) is replaced by a matching one', async () => {
    const dir = newDir();
    const keyring = osKeyringProtector(new TestKeyring());
    const old = await loadOrCreateDefaultIdentity(dir, keyring);
    writeFileSync(join(dir, 'tls', 'default-server.crt'), (await createSelfSigned('someone else')).cert);
    const healed = await loadOrCreateDefaultIdentity(dir, keyring);
    expectPair(healed);
    expect(healed.key).not.toBe(old.key);
    // A damaged certificate file, too.
    writeFileSync(join(dir, 'tls', 'default-server.crt'), 'not a certificate');
    expectPair(await loadOrCreateDefaultIdentity(dir, keyring));
  });

  it('a key sealed by the other protector: an error naming the file, who sealed it and what to do', async () => {
    const byKeyring = newDir();
    await loadOrCreateDefaultIdentity(byKeyring, osKeyringProtector(new TestKeyring()));
    expect(sealedFormat(readFileSync(join(byKeyring, 'tls', 'default-server.key.sealed')))).toBe('os-keyring');
    await expect(loadOrCreateDefaultIdentity(byKeyring, fastProtector(byKeyring))).rejects.toThrow(
      /default-server\.key\.sealed with the "passphrase" key protector: sealed with the OS keyring by the desktop app, not with a key passphrase: open it from the desktop app.*deleting the file/,
    );

    const byPassphrase = newDir();
    await loadOrCreateDefaultIdentity(byPassphrase, fastProtector(byPassphrase));
    expect(sealedFormat(readFileSync(join(byPassphrase, 'tls', 'default-server.key.sealed')))).toBe('passphrase');
    await expect(loadOrCreateDefaultIdentity(byPassphrase, osKeyringProtector(new TestKeyring()))).rejects.toThrow(
      /with the "safeStorage" key protector: sealed with a key passphrase .*LOCALDLS_KEY_PASSPHRASE/,
    );
    // Neither launch changed the files it could not open.
    expect(existsSync(join(byPassphrase, 'tls', 'default-server.key.sealed'))).toBe(true);
  });

  it('a keyring that no longer opens its own file (reset keyring) says so', async () => {
    const dir = newDir();
    await loadOrCreateDefaultIdentity(dir, osKeyringProtector(new TestKeyring()));
    await expect(loadOrCreateDefaultIdentity(dir, osKeyringProtector(new TestKeyring()))).rejects.toThrow(/the OS keyring cannot open it .*keyring was reset/);
  });

  it('makes serials that are positive, 16 bytes and minimally encoded', () => {
    for (let i = 0; i < 2000; i++) expect(randomSerial()).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
  });
});

function expectPair(identity: { key: string; cert: string }): void {
  expect(new X509Certificate(identity.cert).checkPrivateKey(createPrivateKey(identity.key))).toBe(true);
}

/**
 * A stand-in for the OS keyring behind Electron safeStorage (the external boundary): Chromium's
 * format, "v10" then AES-GCM under a key only this keyring holds, and decryptString throwing on
 * anything it did not seal.
 */
class TestKeyring implements OsKeyring {
  private readonly key = randomBytes(32);
  encryptString(plain: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, body, c.getAuthTag()]);
  }
  decryptString(sealed: Buffer): string {
    try {
      if (sealed.subarray(0, 3).toString('latin1') !== 'v10') throw new Error('no prefix');
      const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(3, 15));
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([d.update(sealed.subarray(15, sealed.length - 16)), d.final()]).toString('utf8');
    } catch {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    }
  }
}
