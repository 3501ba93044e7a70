/**
 * Private keys are kept encrypted at rest. A KeyProtector seals and opens byte strings; the PKI
 * writes only sealed key material to disk. Two implementations are planned: the passphrase one
 * below (CLI, headless service) and one over Electron's safeStorage (desktop shell, see docs/pki.md).
 *
 * Sealed byte format of the passphrase protector (docs/pki.md, "Sealed files"):
 *
 *   offset  size  field
 *   0       4     magic "LDKS" (4c 44 4b 53)
 *   4       1     version 0x01
 *   5       12    AES-256-GCM IV (random per seal)
 *   17      n     ciphertext (n = plaintext length)
 *   17+n    16    GCM tag
 *
 * The 5 header bytes are the GCM additional authenticated data.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, errorMessage, writeFileExclusive } from './fs-util';

export interface KeyProtector {
  /** Short name recorded beside the keys ("passphrase", "safeStorage", …). */
  readonly kind: string;
  /** Encrypts; synchronous and fast (runs on the request path). */
  seal(plain: Buffer): Buffer;
  /** Decrypts what seal() produced; throws when the data was not sealed by this key. */
  open(sealed: Buffer): Buffer;
}

export const KEY_PASSPHRASE_ENV = 'LOCALDLS_KEY_PASSPHRASE';
export const KEY_PASSPHRASE_FILE_ENV = 'LOCALDLS_KEY_PASSPHRASE_FILE';

const MAGIC = Buffer.from('LDKS', 'latin1');
const VERSION = 0x01;
const HEADER = Buffer.concat([MAGIC, Buffer.from([VERSION])]);
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_PLAINTEXT = Buffer.from('LocalDLS key check v1', 'utf8');

/** Contents of `<dataDir>/pki/kdf.json`. */
export interface KdfFile {
  version: 1;
  kdf: 'scrypt';
  cipher: 'aes-256-gcm';
  /** scrypt cost parameters (RFC 7914). */
  N: number;
  r: number;
  p: number;
  keyLength: 32;
  /** 16 random bytes, base64. */
  salt: string;
  /** CHECK_PLAINTEXT sealed with the derived key, base64: opens only with the right passphrase. */
  check: string;
}

export interface PassphraseProtectorOptions {
  /** scrypt N used when kdf.json is first created (default 2^15, ~100 ms). Lower only in tests. */
  scryptCost?: number;
}

const DEFAULT_SCRYPT_N = 1 << 15;

/**
 * AES-256-GCM with a key derived once (scrypt) from `passphrase` and the salt in
 * `<dataDir>/pki/kdf.json` (created on first use). A wrong passphrase fails here, not later.
 */
export function passphraseProtector(passphrase: string, dataDir: string, options: PassphraseProtectorOptions = {}): KeyProtector {
  if (passphrase.length === 0) throw new Error('the key passphrase is empty');
  const pkiDir = join(dataDir, 'pki');
  const kdfPath = join(pkiDir, 'kdf.json');
  if (!existsSync(kdfPath)) {
    const N = options.scryptCost ?? DEFAULT_SCRYPT_N;
    if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new Error(`scrypt cost ${N} is not a power of two`);
    const partial = { version: 1, kdf: 'scrypt', cipher: 'aes-256-gcm', N, r: 8, p: 1, keyLength: 32, salt: randomBytes(16).toString('base64') } as const;
    const fresh = derive(passphrase, partial);
    const kdf: KdfFile = { ...partial, check: sealWith(fresh, CHECK_PLAINTEXT).toString('base64') };
    ensurePrivateDir(pkiDir);
    // Another process may have created it meanwhile: then its salt wins and is checked below.
    if (writeFileExclusive(kdfPath, `${JSON.stringify(kdf, null, 2)}\n`)) return protectorWith(fresh);
  }
  const kdf = readKdfFile(kdfPath);
  const key = derive(passphrase, kdf);
  try {
    const check = openWith(key, Buffer.from(kdf.check, 'base64'));
    if (!check.equals(CHECK_PLAINTEXT)) throw new Error('the check value has unexpected contents');
  } catch (e) {
    throw new Error(`the key passphrase does not open the keys in ${pkiDir}: ${errorMessage(e)} (wrong passphrase?)`);
  }
  return protectorWith(key);
}

function protectorWith(key: Buffer): KeyProtector {
  return {
    kind: 'passphrase',
    seal: (plain) => sealWith(key, plain),
    open: (sealed) => openWith(key, sealed),
  };
}

export interface ProtectorSource {
  env: Record<string, string | undefined>;
  /** Explicit passphrase file (e.g. a CLI option); wins over the environment. */
  passphraseFile?: string;
  dataDir: string;
}

/**
 * The passphrase protector with the passphrase taken from, in order: `passphraseFile`,
 * LOCALDLS_KEY_PASSPHRASE, the file named by LOCALDLS_KEY_PASSPHRASE_FILE.
 */
export function protectorFromEnvironment(source: ProtectorSource): KeyProtector {
  const file = source.passphraseFile;
  if (file !== undefined && file !== '') return passphraseProtector(readPassphraseFile(file), source.dataDir);
  const direct = source.env[KEY_PASSPHRASE_ENV];
  if (direct !== undefined && direct !== '') return passphraseProtector(direct, source.dataDir);
  const envFile = source.env[KEY_PASSPHRASE_FILE_ENV];
  if (envFile !== undefined && envFile !== '') return passphraseProtector(readPassphraseFile(envFile), source.dataDir);
  throw new Error(
    `no key passphrase: the private keys of Secure Mode (in ${join(source.dataDir, 'pki')}, made when it is first on) are encrypted with a passphrase. ` +
      `Set ${KEY_PASSPHRASE_ENV} to the passphrase, or set ${KEY_PASSPHRASE_FILE_ENV} to the path of a file ` +
      '(mode 0600) whose first line is the passphrase.',
  );
}

/** First line of `path`, trimmed; refuses files that group or others may read or change. */
export function readPassphraseFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new Error(`cannot read the key passphrase file ${path}: ${errorMessage(e)}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(
      `the key passphrase file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run "chmod 600 ${path}"`,
    );
  }
  const first = (readFileSync(path, 'utf8').split(/\r?\n/, 1)[0] ?? '').trim();
  if (first === '') throw new Error(`the key passphrase file ${path} is empty: its first line must hold the passphrase`);
  return first;
}

function readKdfFile(path: string): KdfFile {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${errorMessage(e)}`);
  }
  const k = v as Partial<KdfFile>;
  const ok =
    typeof v === 'object' && v !== null && k.version === 1 && k.kdf === 'scrypt' && k.cipher === 'aes-256-gcm' &&
    Number.isInteger(k.N) && Number.isInteger(k.r) && Number.isInteger(k.p) && k.keyLength === 32 &&
    typeof k.salt === 'string' && typeof k.check === 'string';
  if (!ok) throw new Error(`${path} is not a LocalDLS key-derivation file (version 1, scrypt, aes-256-gcm)`);
  return k as KdfFile;
}

function derive(passphrase: string, kdf: Pick<KdfFile, 'N' | 'r' | 'p' | 'keyLength' | 'salt'>): Buffer {
  const maxmem = 256 * kdf.N * kdf.r + 16 * 1024 * 1024;
  return scryptSync(Buffer.from(passphrase, 'utf8'), Buffer.from(kdf.salt, 'base64'), kdf.keyLength, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem });
}

/** AES-256-GCM seal in the format documented at the top of this file. */
export function sealWith(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(HEADER);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([HEADER, iv, body, cipher.getAuthTag()]);
}

export function openWith(key: Buffer, sealed: Buffer): Buffer {
  if (sealedFormat(sealed) === 'os-keyring') throw new Error(SEALED_ELSEWHERE['os-keyring']);
  if (sealed.length < HEADER.length + IV_BYTES + TAG_BYTES || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('not a LocalDLS sealed file (no "LDKS" header)');
  }
  if (sealed[MAGIC.length] !== VERSION) throw new Error(`sealed file version ${sealed[MAGIC.length]} is not supported`);
  const iv = sealed.subarray(HEADER.length, HEADER.length + IV_BYTES);
  const body = sealed.subarray(HEADER.length + IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(HEADER);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new Error('the sealed data does not authenticate (wrong key or damaged file)');
  }
}

/**
 * Who sealed a file, from its first bytes: "LDKS" is the passphrase protector; Chromium's OS
 * keyring encryption (Electron safeStorage, on macOS, Windows and Linux) starts "v10" or "v11".
 */
export function sealedFormat(sealed: Buffer): 'passphrase' | 'os-keyring' | 'unknown' {
  if (sealed.subarray(0, MAGIC.length).equals(MAGIC)) return 'passphrase';
  if (/^v1\d$/.test(sealed.subarray(0, 3).toString('latin1'))) return 'os-keyring';
  return 'unknown';
}

/** Why a protector cannot open a file the other kind sealed, and what to do. */
const SEALED_ELSEWHERE = {
  'os-keyring':
    'sealed with the OS keyring by the desktop app, not with a key passphrase: open it from the desktop app in a session ' +
    'where the OS keyring is available',
  passphrase:
    `sealed with a key passphrase (the CLI, or the desktop app without an OS keyring), not with the OS keyring: start the ` +
    `desktop app with ${KEY_PASSPHRASE_ENV} or ${KEY_PASSPHRASE_FILE_ENV} set`,
} as const;

/** The subset of Electron's safeStorage the OS-keyring protector needs. */
export interface OsKeyring {
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
}

/**
 * The desktop app's protector over the OS keyring (Electron safeStorage; docs/pki.md). safeStorage
 * seals strings, hence base64. A file the passphrase protector sealed is named as such, rather
 * than failing inside the keyring with its own words.
 */
export function osKeyringProtector(keyring: OsKeyring): KeyProtector {
  return {
    kind: 'safeStorage',
    seal: (plain) => keyring.encryptString(plain.toString('base64')),
    open: (sealed) => {
      if (sealedFormat(sealed) === 'passphrase') throw new Error(SEALED_ELSEWHERE.passphrase);
      try {
        return Buffer.from(keyring.decryptString(sealed), 'base64');
      } catch (e) {
        throw new Error(`the OS keyring cannot open it (${errorMessage(e)}): the keyring was reset, or the file was sealed under another user or machine`);
      }
    },
  };
}
