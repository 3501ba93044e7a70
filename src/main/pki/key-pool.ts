/**
 * A small pool of pre-generated RSA keys for device certificates (issue #18 item 3): the service
 * makes them one at a time while it is idle, so a rollout that starts later finds part of its keys
 * ready. Rules (docs/pki.md, "Key pool"):
 *
 * - Every pool key is sealed at rest by the data directory's KeyProtector, like every other key.
 * - A key is handed out once: take() claims it by renaming its file (atomic, so of two processes
 *   taking at the same time only one gets it), reads it, and deletes the claimed file before the
 *   key is used. A claim left behind by a process that died is deleted unread, never used.
 * - The pool is bounded (`size` files at most; filling stops there).
 * - It survives a restart: the keys stay on disk, sealed. A file that does not open with the current
 *   protector or is malformed is deleted and a fresh key is made instead. Keys of another size (a
 *   Pki opened with other keyBits on the same folder) are left alone for their own pool.
 *
 * Layout: `<dataDir>/pki/key-pool/<bits>-<32 hex>.key.sealed`, each the sealed JSON
 * `{"v":1,"bits":2048,"key":"<PKCS#8 PEM>"}`.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, errorMessage, writeFileAtomic } from './fs-util';
import type { KeyProtector } from './key-protector';
import { generateRsaKeyPair, type RsaKeyPair } from './x509';

/** Keys kept ready by default: about a quarter of a 200-phone site; some 150 kB on disk. */
export const DEFAULT_KEY_POOL_SIZE = 64;
/** The most a pool may be configured to keep. */
export const MAX_KEY_POOL_SIZE = 1000;
export const KEY_POOL_SIZE_ENV = 'LOCALDLS_KEY_POOL_SIZE';
/** How long `serve` waits without an exchange before it fills the pool (milliseconds). */
export const KEY_POOL_IDLE_ENV = 'LOCALDLS_KEY_POOL_IDLE_MS';
/** The longest wait it may be set to: an hour. */
export const MAX_KEY_POOL_IDLE_MS = 3_600_000;

const CLAIMED = /^\d+-[0-9a-f]{32}\.key\.sealed\.claimed-(\d+)$/;
/** writeFileAtomic's temporary files: `.<name>.<pid>.<hex>.tmp`. */
const TEMP = /^\.\d+-[0-9a-f]{32}\.key\.sealed\.(\d+)\.[0-9a-f]+\.tmp$/;

interface PoolFile {
  v: 1;
  bits: number;
  key: string;
}

/** The pool size from $LOCALDLS_KEY_POOL_SIZE (0 turns the pool off), else the default. */
export function keyPoolSizeFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[KEY_POOL_SIZE_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_KEY_POOL_SIZE;
  const n = wholeNumber(raw);
  if (n === null || n > MAX_KEY_POOL_SIZE) throw new Error(`${KEY_POOL_SIZE_ENV}="${raw}" must be a whole number from 0 (no pool) to ${MAX_KEY_POOL_SIZE}`);
  return n;
}

/** The idle wait from $LOCALDLS_KEY_POOL_IDLE_MS, or undefined (the service's default). */
export function keyPoolIdleMsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[KEY_POOL_IDLE_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = wholeNumber(raw);
  if (n === null || n > MAX_KEY_POOL_IDLE_MS) throw new Error(`${KEY_POOL_IDLE_ENV}="${raw}" must be a whole number of milliseconds from 0 to ${MAX_KEY_POOL_IDLE_MS}`);
  return n;
}

/** Digits only (blanks around them allowed): not 1e3, 0x10 or 2.0, which Number() would take. */
function wholeNumber(raw: string): number | null {
  const t = raw.trim();
  return /^\d{1,9}$/.test(t) ? Number(t) : null;
}

/** The pool's folder in a data directory (Pki keeps it there). */
export function keyPoolDir(dataDir: string): string {
  return join(dataDir, 'pki', 'key-pool');
}

/** Ready keys in a pool folder, of any size, counted by name (no passphrase needed, nothing opened). */
export function readyPoolKeys(dir: string): number {
  try {
    return readdirSync(dir).filter((n) => /^\d+-[0-9a-f]{32}\.key\.sealed$/.test(n)).length;
  } catch {
    return 0;
  }
}

export class KeyPool {
  /** Keys being made by fill() in this process (counted against the bound before they land). */
  private making = 0;
  /** Files deleted because they could not be used, since this object was made. */
  discarded = 0;
  /** Ready keys of this pool's size: `<bits>-<32 hex>.key.sealed`. */
  private readonly ready: RegExp;

  constructor(
    readonly dir: string,
    private readonly protector: KeyProtector,
    readonly bits: number,
    readonly size: number = DEFAULT_KEY_POOL_SIZE,
  ) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_KEY_POOL_SIZE) throw new Error(`key pool size ${size} must be a whole number from 0 to ${MAX_KEY_POOL_SIZE}`);
    if (!Number.isInteger(bits) || bits < 1024) throw new Error(`key pool key size ${bits} must be a whole number of bits, at least 1024`);
    this.ready = new RegExp(`^${bits}-[0-9a-f]{32}\\.key\\.sealed$`);
  }

  /** Keys ready to take. */
  count(): number {
    return this.readyNames().length;
  }

  /**
   * Takes one key out of the pool, or null when none is ready (the caller generates one). The key
   * is no longer on disk when this returns: nobody else can get it.
   */
  take(): RsaKeyPair | null {
    // A pool configured off (size 0) is not used, whatever an earlier run left in it.
    if (this.size === 0) return null;
    for (const name of this.readyNames()) {
      const claimed = join(this.dir, `${name}.claimed-${process.pid}`);
      try {
        renameSync(join(this.dir, name), claimed);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process took it first
        throw new Error(`cannot take a key from ${this.dir}: ${errorMessage(e)}`);
      }
      let pair: RsaKeyPair | null = null;
      try {
        pair = this.decode(readFileSync(claimed));
      } catch {
        this.discarded++;
      } finally {
        rmSync(claimed, { force: true });
      }
      if (pair !== null) return pair;
    }
    return null;
  }

  /**
   * Makes one key and adds it, unless the pool (with the keys this process is already making) is
   * full. Returns whether a key was added. Key generation runs on the thread pool.
   */
  async fillOne(): Promise<boolean> {
    if (this.count() + this.making >= this.size) return false;
    this.making++;
    try {
      const { privateKeyPem } = await generateRsaKeyPair(this.bits);
      ensurePrivateDir(this.dir);
      const file: PoolFile = { v: 1, bits: this.bits, key: privateKeyPem };
      writeFileAtomic(join(this.dir, `${this.bits}-${randomBytes(16).toString('hex')}.key.sealed`), this.protector.seal(Buffer.from(JSON.stringify(file), 'utf8')));
      return true;
    } finally {
      this.making--;
    }
  }

  /**
   * Deletes what a process that died left behind: claimed keys (never to be used) and temporary
   * files. Claims and temporary files of running processes are left alone. Returns how many went.
   */
  sweep(): number {
    let removed = 0;
    for (const name of this.names()) {
      const pid = CLAIMED.exec(name)?.[1] ?? TEMP.exec(name)?.[1];
      if (pid === undefined || processRuns(Number(pid))) continue;
      rmSync(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Deletes the ready keys beyond the bound (the pool was made smaller, or turned off), so the pool
   * holds at most `size` keys as documented. Returns how many went.
   */
  trim(): number {
    let n = 0;
    for (const name of this.readyNames().slice(this.size)) {
      try {
        rmSync(join(this.dir, name));
        n++;
      } catch {
        // Taken by another process meanwhile.
      }
    }
    return n;
  }

  /** Deletes every ready key (e.g. the pool was turned off). Returns how many. */
  clear(): number {
    let n = 0;
    for (const name of this.readyNames()) {
      try {
        rmSync(join(this.dir, name));
        n++;
      } catch {
        // taken meanwhile
      }
    }
    return n;
  }

  private decode(sealed: Buffer): RsaKeyPair {
    const file = JSON.parse(this.protector.open(sealed).toString('utf8')) as Partial<PoolFile>;
    if (file.v !== 1 || file.bits !== this.bits || typeof file.key !== 'string') throw new Error('not a pool key of this size');
    const key = createPrivateKey(file.key);
    if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== this.bits) throw new Error('not an RSA key of this size');
    // The public half is derived from the private key, never taken from the file.
    return { privateKeyPem: file.key, publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string };
  }

  private names(): string[] {
    try {
      return readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read the key pool ${this.dir}: ${errorMessage(e)}`);
    }
  }

  private readyNames(): string[] {
    return this.names().filter((n) => this.ready.test(n));
  }
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export interface KeyPoolFiller {
  /** Stops filling; resolves once the key being made (if any) is in the pool. */
  stop(): Promise<void>;
  /** Resolves the next time the pool is full (for tests and the benchmark). */
  full(): Promise<void>;
}

export interface KeyPoolFillerOptions {
  /** Whether the process has nothing better to do right now; checked before each key. */
  isIdle: () => boolean;
  /** How long to wait before looking again when busy or full (default 1000 ms). */
  pollMs?: number;
  onError?: (e: Error) => void;
}

/**
 * Keeps `pool` full, one key at a time (one core at most, the others stay with the service), and
 * only while `isIdle()` says so. A failure is reported and filling goes on after the poll interval.
 */
export function startKeyPoolFiller(pool: KeyPool, options: KeyPoolFillerOptions): KeyPoolFiller {
  const pollMs = options.pollMs ?? 1000;
  let stopped = false;
  let wake: (() => void) | undefined;
  const fullWaiters: Array<() => void> = [];
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    try {
      pool.sweep();
    } catch (e) {
      options.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
    while (!stopped) {
      let added = false;
      try {
        if (pool.count() >= pool.size) {
          for (const w of fullWaiters.splice(0)) w();
        } else if (options.isIdle()) {
          added = await pool.fillOne();
        }
      } catch (e) {
        options.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
      if (!added && !stopped) await pause();
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      for (const w of fullWaiters.splice(0)) w();
    },
    full() {
      return new Promise<void>((resolve) => {
        if (stopped) resolve();
        else fullWaiters.push(resolve);
      });
    },
  };
}
