import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDefaultIdentity, randomSerial } from '../../src/main/pki';
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

  it('makes serials that are positive, 16 bytes and minimally encoded', () => {
    for (let i = 0; i < 2000; i++) expect(randomSerial()).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
  });
});
