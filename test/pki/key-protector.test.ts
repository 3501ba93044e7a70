import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passphraseProtector, protectorFromEnvironment, readPassphraseFile } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { fastProtector, modeOf } from './helpers';

const newDir = tempDirs();
const posix = process.platform !== 'win32';

describe('passphrase key protector', () => {
  it('creates kdf.json once with scrypt parameters, a 16-byte salt and a check value (default cost)', () => {
    const dir = newDir();
    const p = passphraseProtector('s3cret passphrase', dir);
    expect(p.kind).toBe('passphrase');
    const kdfPath = join(dir, 'pki', 'kdf.json');
    const kdf = JSON.parse(readFileSync(kdfPath, 'utf8'));
    expect(kdf).toMatchObject({ version: 1, kdf: 'scrypt', cipher: 'aes-256-gcm', N: 32768, r: 8, p: 1, keyLength: 32 });
    expect(Buffer.from(kdf.salt, 'base64')).toHaveLength(16);
    expect(typeof kdf.check).toBe('string');
    if (posix) {
      expect(modeOf(kdfPath)).toBe(0o600);
      expect(modeOf(join(dir, 'pki'))).toBe(0o700);
    }
    // A second protector with the same passphrase reuses the salt and opens what the first sealed.
    const sealed = p.seal(Buffer.from('private key bytes'));
    const again = passphraseProtector('s3cret passphrase', dir);
    expect(again.open(sealed).toString()).toBe('private key bytes');
    expect(JSON.parse(readFileSync(kdfPath, 'utf8')).salt).toBe(kdf.salt);
  });

  it('seals in the documented byte format: "LDKS", version 1, 12-byte IV, ciphertext, 16-byte tag', () => {
    const p = fastProtector(newDir());
    const plain = Buffer.from('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    const sealed = p.seal(plain);
    expect(sealed.subarray(0, 4).toString('latin1')).toBe('LDKS');
    expect(sealed[4]).toBe(1);
    expect(sealed).toHaveLength(5 + 12 + plain.length + 16);
    expect(sealed.includes(plain)).toBe(false);
    expect(p.seal(plain).equals(sealed)).toBe(false); // fresh IV per seal
    expect(p.open(sealed).equals(plain)).toBe(true);
  });

  it('refuses tampered or foreign data', () => {
    const p = fastProtector(newDir());
    const sealed = p.seal(Buffer.from('key material'));
    const flipped = Buffer.from(sealed);
    flipped[20] = (flipped[20] as number) ^ 1;
    expect(() => p.open(flipped)).toThrow(/does not authenticate/);
    const header = Buffer.from(sealed);
    header[4] = 2; // the header is authenticated data
    expect(() => p.open(header)).toThrow(/version 2/);
    expect(() => p.open(Buffer.from('-----BEGIN PRIVATE KEY-----'))).toThrow(/not a LocalDLS sealed file/);
    const other = fastProtector(newDir());
    expect(() => other.open(sealed)).toThrow(/does not authenticate/);
  });

  it('refuses a wrong passphrase early, naming the directory', () => {
    const dir = newDir();
    fastProtector(dir, 'the right one');
    expect(() => fastProtector(dir, 'the wrong one')).toThrow(`the key passphrase does not open the keys in ${join(dir, 'pki')}: `);
  });

  it('refuses an empty passphrase', () => {
    expect(() => passphraseProtector('', newDir())).toThrow(/empty/);
  });
});

describe('protectorFromEnvironment', () => {
  it('says exactly what to set when there is no passphrase', () => {
    const dir = newDir();
    let message = '';
    try {
      protectorFromEnvironment({ env: {}, dataDir: dir });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('Set LOCALDLS_KEY_PASSPHRASE to the passphrase');
    expect(message).toContain('LOCALDLS_KEY_PASSPHRASE_FILE to the path of a file (mode 0600) whose first line is the passphrase');
    expect(() => protectorFromEnvironment({ env: { LOCALDLS_KEY_PASSPHRASE: '' }, dataDir: dir })).toThrow(/no key passphrase/);
  });

  it('takes the passphrase from LOCALDLS_KEY_PASSPHRASE', () => {
    const dir = newDir();
    const fromEnv = protectorFromEnvironment({ env: { LOCALDLS_KEY_PASSPHRASE: 'env pass' }, dataDir: dir });
    const sealed = fromEnv.seal(Buffer.from('x'));
    expect(passphraseProtector('env pass', dir).open(sealed).toString()).toBe('x');
  });

  it('reads the first line of a 0600 passphrase file, trimmed; the file wins over the environment', () => {
    const dir = newDir();
    const file = join(newDir(), 'passphrase');
    writeFileSync(file, '  file pass  \nsecond line ignored\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(readPassphraseFile(file)).toBe('file pass');
    const viaOption = protectorFromEnvironment({ env: { LOCALDLS_KEY_PASSPHRASE: 'env pass' }, passphraseFile: file, dataDir: dir });
    const sealed = viaOption.seal(Buffer.from('y'));
    expect(passphraseProtector('file pass', dir).open(sealed).toString()).toBe('y');
    const viaEnvFile = protectorFromEnvironment({ env: { LOCALDLS_KEY_PASSPHRASE_FILE: file }, dataDir: dir });
    expect(viaEnvFile.open(sealed).toString()).toBe('y');
  });

  it.runIf(posix)('refuses a passphrase file that group or others can read', () => {
    const file = join(newDir(), 'passphrase');
    writeFileSync(file, 'pass\n');
    chmodSync(file, 0o644);
    expect(() => readPassphraseFile(file)).toThrow(`the key passphrase file ${file} is accessible by group or others (mode 0644): run "chmod 600 ${file}"`);
    chmodSync(file, 0o640);
    expect(() => protectorFromEnvironment({ env: {}, passphraseFile: file, dataDir: newDir() })).toThrow(/mode 0640/);
  });

  it('refuses an empty or missing passphrase file', () => {
    const file = join(newDir(), 'passphrase');
    writeFileSync(file, '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(() => readPassphraseFile(file)).toThrow(/is empty: its first line must hold the passphrase/);
    expect(() => readPassphraseFile(join(newDir(), 'missing'))).toThrow(/cannot read the key passphrase file/);
  });
});
