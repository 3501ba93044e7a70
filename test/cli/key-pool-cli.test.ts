/**
 * The key pool from the command line (docs/pki.md "Key pool"): `bootstrap` follows the same
 * LOCALDLS_KEY_POOL_SIZE as `serve` (0: it makes every key itself and leaves the pool alone; a
 * value that is not a size is refused before anything is made), and `ca show` says how many keys
 * are ready.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyPool, passphraseProtector } from '../../src/main/pki';
import { Store } from '../../src/main/store';
import { runCliProcess } from '../support/cli';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const PASSPHRASE = 'key pool cli test passphrase';
const MAC = '00:1A:E8:62:00:01';

/** A phone's first contact, as the service stores it: enough for `bootstrap` to know the phone. */
const startUp = (mac: string) => exchangeRecord({ mac, started: Date.now(), ended: Date.now() });

describe('the key pool from the CLI', () => {
  it('bootstrap follows LOCALDLS_KEY_POOL_SIZE, and ca show counts the ready keys', async () => {
    const dir = newDir();
    const store = new Store(dir);
    store.commit(startUp(MAC), { device: { mac: MAC, e164: '4989700300', lastAddress: '127.0.0.1' } }, null);
    store.close();
    const env = { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE };
    // Two pool keys of the size `bootstrap` uses, as an idle `serve` leaves them.
    const pool = new KeyPool(join(dir, 'pki', 'key-pool'), passphraseProtector(PASSPHRASE, dir), 2048, 2);
    while (await pool.fillOne());
    const poolFiles = () => readdirSync(pool.dir).filter((n) => n.endsWith('.key.sealed'));
    expect(poolFiles()).toHaveLength(2);

    const bad = await runCliProcess(['bootstrap', '--data-dir', dir, '--mac', MAC, '--nopin'], { ...env, LOCALDLS_KEY_POOL_SIZE: 'abc' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('LOCALDLS_KEY_POOL_SIZE="abc" must be a whole number from 0 (no pool) to 1000');

    const off = await runCliProcess(['bootstrap', '--data-dir', dir, '--mac', MAC, '--nopin'], { ...env, LOCALDLS_KEY_POOL_SIZE: '0' });
    expect(off.code, off.stderr).toBe(0);
    expect(poolFiles()).toHaveLength(2);
    // Nothing runs on this folder to deliver the job: said.
    expect(off.stderr).toContain('no service seems to run on this data folder: the bootstraps are sent when `localdls serve`');

    // The only phone has its bootstrap under way now: `--all` says so instead of "no phones".
    const all = await runCliProcess(['bootstrap', '--data-dir', dir, '--all', '--nopin'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('no phones in Default Mode to bootstrap: 1 already has a bootstrap under way (see `localdls bootstrap --status`');

    const shown = await runCliProcess(['ca', 'show', '--data-dir', dir], {});
    expect(shown.stdout).toContain('key pool: 2 device keys ready (at most 64, LOCALDLS_KEY_POOL_SIZE;');
    const shownOff = await runCliProcess(['ca', 'show', '--data-dir', dir, '--json'], { LOCALDLS_KEY_POOL_SIZE: '0' });
    expect(JSON.parse(shownOff.stdout).keyPool).toEqual({ ready: 2, size: 0 });
  }, 120_000);

  it('serve refuses a pool size or idle wait that is not one, before it binds a port, with or without Secure Mode', async () => {
    for (const [name, value] of [['LOCALDLS_KEY_POOL_IDLE_MS', 'soon'], ['LOCALDLS_KEY_POOL_IDLE_MS', '1e3'], ['LOCALDLS_KEY_POOL_SIZE', '0x10']] as const) {
      for (const env of [{ LOCALDLS_KEY_PASSPHRASE: PASSPHRASE }, { LOCALDLS_KEY_POOL_SIZE: '0' }]) {
        if (name in env) continue;
        const dir = newDir();
        const r = await runCliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--secure-port', '0'], { ...env, [name]: value });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`${name}="${value}" must be a whole number`);
        expect(r.stdout).not.toContain('"listening"');
      }
    }
  }, 120_000);
});
