/**
 * The pool of pre-generated device keys (src/main/pki/key-pool.ts, issue #18 item 3): bounded,
 * sealed at rest, each key handed out once — also to two processes taking at the same time — and
 * what cannot be used (another passphrase, another size, garbage, a dead process's claim) deleted.
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { KEY_POOL_IDLE_ENV, KEY_POOL_SIZE_ENV, KeyPool, keyPoolIdleMsFromEnvironment, keyPoolSizeFromEnvironment, passphraseProtector, startKeyPoolFiller, type KeyProtector } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { fastProtector, modeOf, openPki } from './helpers';

const newDir = tempDirs();
const BITS = 1024; // speed; the pool checks the size it was made for, whatever it is

function poolOf(dir: string, size = 8, protector: KeyProtector = fastProtector(dir), bits = BITS): KeyPool {
  return new KeyPool(join(dir, 'pki', 'key-pool'), protector, bits, size);
}

const files = (pool: KeyPool) => readdirSync(pool.dir).sort();
const fingerprint = (publicKeyPem: string) => createHash('sha256').update(publicKeyPem).digest('hex');

describe('KeyPool', () => {
  it('fills up to its size and no further, also when asked many times at once', async () => {
    const pool = poolOf(newDir(), 3);
    const added = await Promise.all(Array.from({ length: 6 }, () => pool.fillOne()));
    expect(added.filter(Boolean)).toHaveLength(3);
    expect(pool.count()).toBe(3);
    expect(await pool.fillOne()).toBe(false);
    expect(pool.count()).toBe(3);
  });

  it('keeps the keys sealed at rest, private to the owner', async () => {
    const dir = newDir();
    const protector = fastProtector(dir);
    const pool = poolOf(dir, 2, protector);
    await pool.fillOne();
    const [name] = files(pool);
    const path = join(pool.dir, name!);
    const raw = readFileSync(path);
    expect(raw.toString('latin1')).not.toContain('PRIVATE KEY');
    expect(raw.subarray(0, 4).toString('latin1')).toBe('LDKS');
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(pool.dir)).toBe(0o700);
    const inside = JSON.parse(protector.open(raw).toString('utf8')) as { key: string; bits: number };
    expect(inside.bits).toBe(BITS);
    expect(createPrivateKey(inside.key).asymmetricKeyDetails?.modulusLength).toBe(BITS);
  });

  it('hands each key out once and deletes it before handing it out', async () => {
    const pool = poolOf(newDir(), 4);
    while (await pool.fillOne());
    const seen = new Set<string>();
    for (let left = 3; left >= 0; left--) {
      const pair = pool.take();
      expect(pair).not.toBeNull();
      // The public half belongs to the private key.
      expect(createPublicKey(pair!.privateKeyPem).export({ type: 'spki', format: 'pem' })).toBe(pair!.publicKeyPem);
      seen.add(fingerprint(pair!.publicKeyPem));
      expect(pool.count()).toBe(left);
      expect(files(pool)).toHaveLength(left); // no claimed file left behind either
    }
    expect(seen.size).toBe(4);
    expect(pool.take()).toBeNull();
  });

  it('gives two processes taking at the same time different keys, each key to one of them', async () => {
    const dir = newDir();
    const pool = poolOf(dir, 24);
    while (await pool.fillOne());
    const protector = fastProtector(dir);
    const publicOf = (n: string) => createPublicKey((JSON.parse(protector.open(readFileSync(join(pool.dir, n))).toString('utf8')) as { key: string }).key).export({ type: 'spki', format: 'pem' }) as string;
    const made = readdirSync(pool.dir).map((n) => fingerprint(publicOf(n)));
    const takers = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/key-pool-taker.ts'), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines: string[] = [];
      const ready = new Promise<void>((resolve) => createInterface({ input: child.stdout }).on('line', (l) => (l === 'ready' ? resolve() : lines.push(l))));
      const done = new Promise<string[]>((resolve) => child.on('exit', () => resolve(lines.filter((l) => l !== 'end' && l !== ''))));
      return { child, ready, done };
    });
    await Promise.all(takers.map((t) => t.ready));
    for (const t of takers) t.child.stdin.write('go\n');
    const [a, b] = await Promise.all(takers.map((t) => t.done));
    // Each process printed the SHA-256 of the public keys it got.
    const all = [...a!, ...b!];
    expect(new Set(all).size).toBe(all.length); // nobody got a key twice, no key went to both
    expect(all.sort()).toEqual(made.sort()); // every key that went in came out
    expect(readdirSync(pool.dir)).toEqual([]);
  });

  it('deletes what it cannot use instead of handing it out: another passphrase, garbage, a lie about the size', async () => {
    const dir = newDir();
    const other = passphraseProtector('another passphrase entirely', newDir(), { scryptCost: 1024 });
    await poolOf(dir, 1, other).fillOne(); // sealed with another key
    const pool = poolOf(dir, 8);
    writeFileSync(join(pool.dir, `1024-${'ab'.repeat(16)}.key.sealed`), 'not sealed at all');
    writeFileSync(join(pool.dir, `1024-${'cd'.repeat(16)}.key.sealed`), fastProtector(dir).seal(Buffer.from('{"v":1,"bits":1024,"key":"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n"}')));
    // Named and labelled 1024 bits, but the key inside is 1536.
    const big = poolOf(newDir(), 1, fastProtector(dir), 1536);
    await big.fillOne();
    const [bigName] = readdirSync(big.dir);
    writeFileSync(join(pool.dir, `1024-${'ef'.repeat(16)}.key.sealed`), fastProtector(dir).seal(Buffer.from(JSON.stringify({ ...(JSON.parse(fastProtector(dir).open(readFileSync(join(big.dir, bigName!))).toString('utf8')) as object), bits: 1024 }))));
    expect(pool.count()).toBe(4);
    expect(pool.take()).toBeNull();
    expect(pool.discarded).toBe(4);
    expect(readdirSync(pool.dir)).toEqual([]);
    // A good key after bad ones still comes out.
    await poolOf(dir, 1, other).fillOne();
    await pool.fillOne();
    expect(pool.take()).not.toBeNull(); // whichever comes first in the folder
    expect(pool.take()).toBeNull();
    expect(readdirSync(pool.dir)).toEqual([]);
  });

  it('leaves keys of another size to their own pool', async () => {
    const dir = newDir();
    const big = poolOf(dir, 2, fastProtector(dir), 1536);
    await big.fillOne();
    const pool = poolOf(dir, 2);
    expect(pool.count()).toBe(0);
    expect(pool.take()).toBeNull();
    expect(pool.discarded).toBe(0);
    expect(big.count()).toBe(1);
    expect(createPrivateKey(big.take()!.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(1536);
  });

  it('sweeps away the claims and temporary files of processes that died, and nothing else', async () => {
    const pool = poolOf(newDir(), 2);
    await pool.fillOne();
    const dead = 2 ** 22 + 12345; // above any pid this machine hands out (pid_max ≤ 2^22)
    const id = `1024-${'ef'.repeat(16)}`;
    const deadClaim = `${id}.key.sealed.claimed-${dead}`;
    const liveClaim = `1024-${'01'.repeat(16)}.key.sealed.claimed-${process.ppid}`;
    const deadTemp = `.${id}.key.sealed.${dead}.0a0b.tmp`;
    for (const n of [deadClaim, liveClaim, deadTemp]) writeFileSync(join(pool.dir, n), 'x');
    expect(pool.count()).toBe(1); // claims and temporary files are never ready keys
    expect(pool.sweep()).toBe(2);
    expect(files(pool)).toHaveLength(2);
    expect(files(pool)).toContain(liveClaim);
    expect(pool.take()).not.toBeNull();
  });

  it('trims to its size (made smaller, or off), and hands out nothing when off', async () => {
    const dir = newDir();
    const big = poolOf(dir, 4);
    while (await big.fillOne());
    const small = poolOf(dir, 1);
    expect(small.trim()).toBe(3);
    expect(files(small)).toHaveLength(1);
    const off = poolOf(dir, 0);
    expect(off.take()).toBeNull();
    expect(files(off)).toHaveLength(1);
    expect(off.trim()).toBe(1);
    expect(files(off)).toEqual([]);
  });

  it('refuses a size it cannot keep, and reads the size from the environment', () => {
    const dir = newDir();
    expect(() => poolOf(dir, -1)).toThrow(/key pool size -1/);
    expect(() => poolOf(dir, 1.5)).toThrow(/whole number/);
    expect(keyPoolSizeFromEnvironment({})).toBe(64);
    expect(keyPoolSizeFromEnvironment({ [KEY_POOL_SIZE_ENV]: '0' })).toBe(0);
    expect(keyPoolSizeFromEnvironment({ [KEY_POOL_SIZE_ENV]: ' 12 ' })).toBe(12);
    for (const bad of ['-3', 'lots', '2.5', '100000', '1e2', '0x10', '2.0']) expect(() => keyPoolSizeFromEnvironment({ [KEY_POOL_SIZE_ENV]: bad })).toThrow(KEY_POOL_SIZE_ENV);
  });

  it('reads the idle wait before filling from the environment; a value that is not one is refused', () => {
    expect(keyPoolIdleMsFromEnvironment({})).toBeUndefined();
    expect(keyPoolIdleMsFromEnvironment({ [KEY_POOL_IDLE_ENV]: '0' })).toBe(0);
    expect(keyPoolIdleMsFromEnvironment({ [KEY_POOL_IDLE_ENV]: '2500' })).toBe(2500);
    expect(keyPoolIdleMsFromEnvironment({ [KEY_POOL_IDLE_ENV]: ' 5 ' })).toBe(5);
    for (const bad of ['-1', 'soon', '0.5', '3600001', '1e3', '0x10', '5 s']) expect(() => keyPoolIdleMsFromEnvironment({ [KEY_POOL_IDLE_ENV]: bad })).toThrow(KEY_POOL_IDLE_ENV);
  });
});

describe('key pool filler', () => {
  it('makes nothing while the process is busy, fills the pool once idle, and stops cleanly', async () => {
    const pool = poolOf(newDir(), 3);
    let idle = false;
    let asked = 0;
    const filler = startKeyPoolFiller(pool, { pollMs: 5, isIdle: () => (asked++, idle) });
    while (asked < 5) await new Promise((r) => setTimeout(r, 5));
    expect(pool.count()).toBe(0);
    idle = true;
    await filler.full();
    expect(pool.count()).toBe(3);
    await filler.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(files(pool)).toHaveLength(3); // nothing written after stop, no temporary file left
  });

  it('refills what is taken', async () => {
    const pool = poolOf(newDir(), 2);
    const filler = startKeyPoolFiller(pool, { pollMs: 5, isIdle: () => true });
    await filler.full();
    pool.take();
    expect(pool.count()).toBe(1);
    await filler.full();
    expect(pool.count()).toBe(2);
    await filler.stop();
  });
});

describe('Pki with a key pool', () => {
  it('issues a device certificate with a pool key, which leaves the pool; then generates again', async () => {
    const dir = newDir();
    const pki = await openPki(dir, { keyBits: BITS });
    await pki.keyPool.fillOne();
    const [name] = readdirSync(pki.keyPool.dir);
    const pooled = JSON.parse(fastProtector(dir).open(readFileSync(join(pki.keyPool.dir, name!))).toString('utf8')) as { key: string };
    const pooledPublic = createPublicKey(pooled.key).export({ type: 'spki', format: 'pem' });
    const first = await pki.issueDeviceCertificate('00:1A:E8:00:00:01');
    expect(new X509Certificate(first.certPem).publicKey.export({ type: 'spki', format: 'pem' })).toBe(pooledPublic);
    expect(first.keyPem).toBe(pooled.key);
    expect(pki.keyPool.count()).toBe(0);
    // The stored device key is the pool key, sealed again under the device's name.
    expect(pki.deviceCredential('00:1A:E8:00:00:01')!.keyPem).toBe(pooled.key);
    const second = await pki.issueDeviceCertificate('00:1A:E8:00:00:02');
    expect(second.keyPem).not.toBe(pooled.key);
    expect(new X509Certificate(second.certPem).checkPrivateKey(createPrivateKey(second.keyPem))).toBe(true);
  });

  it('keeps its keys over a restart (another Pki on the same folder uses them)', async () => {
    const dir = newDir();
    const before = await openPki(dir, { keyBits: BITS });
    await before.keyPool.fillOne();
    await before.keyPool.fillOne();
    const after = await openPki(dir, { keyBits: BITS });
    expect(after.keyPool.count()).toBe(2);
    await after.issueDeviceCertificate('00:1A:E8:00:00:03');
    expect(after.keyPool.count()).toBe(1);
  });
});

describe('Service key pool', () => {
  const running: Service[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it('fills the pool while idle when Secure Mode is on, and not at all with size 0', async () => {
    const dir = newDir();
    const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: fastProtector(dir), autoContact: false, keyPoolSize: 2, keyPoolIdleMs: 0 });
    running.push(service);
    await service.start();
    while (service.pki!.keyPool.count() < 2) await new Promise((r) => setTimeout(r, 50));
    await service.stop();
    running.length = 0;
    expect(readdirSync(service.pki!.keyPool.dir).filter((n) => n.endsWith('.key.sealed'))).toHaveLength(2);

    // Started again with a smaller pool: it keeps at most that many.
    const smaller = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: fastProtector(dir), autoContact: false, keyPoolSize: 1, keyPoolIdleMs: 0 });
    running.push(smaller);
    await smaller.start();
    expect(smaller.pki!.keyPool.count()).toBe(1);
    await smaller.stop();
    running.length = 0;

    const off = newDir();
    const quiet = new Service({ dataDir: off, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: fastProtector(off), autoContact: false, keyPoolSize: 0, keyPoolIdleMs: 0 });
    running.push(quiet);
    await quiet.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(quiet.pki!.keyPool.count()).toBe(0);
  });
});
