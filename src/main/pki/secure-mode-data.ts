/**
 * `secure-mode-data` (bootstrapping with PIN, manual p.62, p.67): the client certificate with its
 * key, the CA certificate(s) and the secure port, "packed, encrypted and Base64-encoded"; the phone
 * decrypts it with the entered PIN "except last 3 characters" as password (p.67).
 *
 * The real format is NOT public (wpi-protocol §5.6). LocalDLS uses its own documented format,
 * `localdls-1` (docs/secure-mode-data.md), behind a small registry so that the real one can be
 * added as another format once it is known.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { errorMessage } from './fs-util';
import { toPkcs12Der } from './pkcs12';
import { pinPassword } from './pin';

export interface SecureModeDataContents {
  /** PKCS#12 (DER) with the device's client certificate + key and the CA chain, empty password. */
  pkcs12: Buffer;
  /** CA certificate(s) the secure-port server certificate is signed with (PEM), as for `dls-server-ca`. */
  caPems: string[];
  /** As `dls-secure-port` (p.64), e.g. 18444. */
  securePort: number;
}

export interface PackOptions {
  /** Registered format name; default DEFAULT_SECURE_MODE_DATA_FORMAT. */
  format?: string;
  /** PBKDF2 iterations (localdls-1: default 200 000, at least 100 000). */
  iterations?: number;
  /** Fixed salt / IV, only for reproducible examples and tests. */
  salt?: Buffer;
  iv?: Buffer;
}

export type SecureModeDataErrorCode = 'wrong-password' | 'malformed' | 'unsupported';

export class SecureModeDataError extends Error {
  constructor(
    readonly code: SecureModeDataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecureModeDataError';
  }
}

/** One way of packing secure-mode-data. */
export interface SecureModeDataFormat {
  readonly name: string;
  readonly description: string;
  /** True when the decoded bytes look like this format (magic/version). */
  recognizes(bytes: Buffer): boolean;
  pack(contents: SecureModeDataContents, password: string, options: PackOptions): Buffer;
  unpack(bytes: Buffer, password: string): SecureModeDataContents;
}

export const DEFAULT_SECURE_MODE_DATA_FORMAT = 'localdls-1';

const formats = new Map<string, SecureModeDataFormat>();

export function registerSecureModeDataFormat(format: SecureModeDataFormat): void {
  formats.set(format.name, format);
}

export function secureModeDataFormats(): string[] {
  return [...formats.keys()];
}

/** Packs and encrypts `contents` with `password` (the PIN minus its last 3 digits) and returns base64. */
export function packSecureModeData(contents: SecureModeDataContents, password: string, options: PackOptions = {}): string {
  const format = formatNamed(options.format ?? DEFAULT_SECURE_MODE_DATA_FORMAT);
  if (password.length === 0) throw new Error('the secure-mode-data password is empty');
  checkContents(contents);
  return format.pack(contents, password, options).toString('base64');
}

/** Decodes base64 secure-mode-data; the format is recognised from its header unless named. */
export function unpackSecureModeData(base64: string, password: string, options: { format?: string } = {}): SecureModeDataContents {
  const bytes = decodeSecureModeData(base64);
  const format = options.format !== undefined ? formatNamed(options.format) : [...formats.values()].find((f) => f.recognizes(bytes));
  if (format === undefined) throw new SecureModeDataError('unsupported', 'secure-mode-data is in no known format (unrecognised header)');
  return format.unpack(bytes, password);
}

/**
 * The `secure-mode-data` item for a device credential: PKCS#12 with empty password inside,
 * encrypted with pinPassword(pin) (the PIN minus its last 3 digits, p.67).
 */
export function buildSecureModeData(
  credential: { keyPem: string; certPem: string },
  caPems: string[],
  securePort: number,
  pin: string,
  options: PackOptions = {},
): string {
  const password = pinPassword(pin); // validates the PIN before any work
  const pkcs12 = toPkcs12Der(credential.keyPem, credential.certPem, caPems, '');
  return packSecureModeData({ pkcs12, caPems, securePort }, password, options);
}

/**
 * buildSecureModeData with the key derivation (PBKDF2, about 100 ms at the default iterations) on
 * libuv's thread pool instead of the event loop, for the service, which keeps answering phones
 * while it prepares bootstraps. Same bytes for the same salt and IV. Formats other than localdls-1
 * are packed synchronously.
 */
export async function buildSecureModeDataAsync(
  credential: { keyPem: string; certPem: string },
  caPems: string[],
  securePort: number,
  pin: string,
  options: PackOptions = {},
): Promise<string> {
  return (await buildKeyedSecureModeDataAsync(credential, caPems, securePort, pin, options)).value;
}

/**
 * buildSecureModeDataAsync, also returning localdls-1's master key (PBKDF2 output): kept sealed
 * with the job, it lets retargetSecureModeData re-pack the container for another secure port at
 * send time without a PBKDF2 run. `master` is undefined for other formats.
 */
export async function buildKeyedSecureModeDataAsync(
  credential: { keyPem: string; certPem: string },
  caPems: string[],
  securePort: number,
  pin: string,
  options: PackOptions = {},
): Promise<{ value: string; master?: Buffer }> {
  const password = pinPassword(pin);
  const pkcs12 = toPkcs12Der(credential.keyPem, credential.certPem, caPems, '');
  const contents = { pkcs12, caPems, securePort };
  const format = options.format ?? DEFAULT_SECURE_MODE_DATA_FORMAT;
  if (format !== localDls1.name) return { value: packSecureModeData(contents, password, options) };
  checkContents(contents);
  const params = localDls1Params(options);
  const master = await pbkdf2Async(Buffer.from(password, 'utf8'), params.salt, params.iterations, 32, 'sha256');
  return { value: packLocalDls1(contents, keysOf(master), params).toString('base64'), master };
}

/**
 * The same container for another secure port: same certificate, key, CA chain and password (so the
 * same PIN and TAN: a printed PIN sheet stays valid), packed again with a new IV (localdls-1 keeps
 * its salt and iterations, so the master key still fits). With localdls-1's master key this is an
 * AES and HMAC pass, microseconds; without it the key is derived from the password first (one
 * PBKDF2 run on the caller's thread). `port` is the one the container named before.
 * Throws SecureModeDataError when the key or password does not open it.
 */
export function retargetSecureModeData(base64: string, securePort: number, key: { master?: Buffer; password?: string }): { value: string; port: number } {
  const bytes = decodeSecureModeData(base64);
  if (recognizesLocalDls1(bytes)) {
    const header = localDls1Header(bytes);
    if (key.master === undefined && key.password === undefined) throw new SecureModeDataError('wrong-password', 'secure-mode-data cannot be opened: neither its key nor its PIN is known');
    const keys = key.master !== undefined ? keysOf(key.master) : localDls1Keys(key.password!, header.salt, header.iterations);
    const contents = openLocalDls1(bytes, keys);
    if (contents.securePort === securePort) return { value: base64, port: contents.securePort };
    checkContents({ ...contents, securePort });
    const repacked = packLocalDls1({ ...contents, securePort }, keys, { iterations: header.iterations, salt: header.salt, iv: randomBytes(16) });
    return { value: repacked.toString('base64'), port: contents.securePort };
  }
  const format = [...formats.values()].find((f) => f.recognizes(bytes));
  if (format === undefined) throw new SecureModeDataError('unsupported', 'secure-mode-data is in no known format (unrecognised header)');
  if (key.password === undefined) throw new SecureModeDataError('wrong-password', 'secure-mode-data cannot be opened without its PIN');
  const contents = format.unpack(bytes, key.password);
  if (contents.securePort === securePort) return { value: base64, port: contents.securePort };
  return { value: packSecureModeData({ ...contents, securePort }, key.password, { format: format.name }), port: contents.securePort };
}

function decodeSecureModeData(base64: string): Buffer {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new SecureModeDataError('malformed', 'secure-mode-data is not base64');
  return Buffer.from(compact, 'base64');
}

function formatNamed(name: string): SecureModeDataFormat {
  const f = formats.get(name);
  if (f === undefined) throw new SecureModeDataError('unsupported', `unknown secure-mode-data format "${name}" (known: ${secureModeDataFormats().join(', ')})`);
  return f;
}

function checkContents(c: SecureModeDataContents): void {
  if (!Buffer.isBuffer(c.pkcs12) || c.pkcs12.length === 0) throw new Error('secure-mode-data needs the PKCS#12 of the client certificate');
  if (!Number.isInteger(c.securePort) || c.securePort < 1 || c.securePort > 65535) throw new Error(`secure port ${c.securePort} is not a TCP port`);
  if (!Array.isArray(c.caPems) || c.caPems.length === 0 || c.caPems.some((p) => typeof p !== 'string' || !p.includes('-----BEGIN CERTIFICATE-----'))) {
    throw new Error('secure-mode-data needs at least one CA certificate in PEM');
  }
}

// ---------------------------------------------------------------------------------------------
// Format "localdls-1" — byte layout in docs/secure-mode-data.md:
//   "LDSM" | 0x01 version | 0x01 kdf | uint32be iterations | salt[16] | iv[16] | ciphertext | hmac[32]
// master = PBKDF2-HMAC-SHA256(UTF-8 password, salt, iterations, 32)
// encKey = HMAC-SHA256(master, "LocalDLS secure-mode-data encryption"), AES-256-CBC + PKCS#7
// macKey = HMAC-SHA256(master, "LocalDLS secure-mode-data authentication"), HMAC over all bytes before it
// plaintext = UTF-8 JSON {"type","version","securePort","caPems","pkcs12"(base64)}

const MAGIC = Buffer.from('LDSM', 'latin1');
const VERSION = 0x01;
const KDF_PBKDF2_SHA256 = 0x01;
const HEADER_BYTES = 42;
const MAC_BYTES = 32;
const MIN_ITERATIONS = 100_000;
const MAX_ITERATIONS = 10_000_000;
export const LOCALDLS_1_DEFAULT_ITERATIONS = 200_000;
const INNER_TYPE = 'localdls-secure-mode-data';

/** The three keys of localdls-1 (exported for the worked example in the docs and for tests). */
export function localDls1Keys(password: string, salt: Buffer, iterations: number): { master: Buffer; encKey: Buffer; macKey: Buffer } {
  return keysOf(pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256'));
}

const pbkdf2Async = promisify(pbkdf2);

function keysOf(master: Buffer): { master: Buffer; encKey: Buffer; macKey: Buffer } {
  return {
    master,
    encKey: createHmac('sha256', master).update('LocalDLS secure-mode-data encryption', 'latin1').digest(),
    macKey: createHmac('sha256', master).update('LocalDLS secure-mode-data authentication', 'latin1').digest(),
  };
}

/** Iterations, salt and IV of a new localdls-1 container, checked. */
function localDls1Params(options: PackOptions): { iterations: number; salt: Buffer; iv: Buffer } {
  const iterations = options.iterations ?? LOCALDLS_1_DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new Error(`localdls-1 needs ${MIN_ITERATIONS} to ${MAX_ITERATIONS} PBKDF2 iterations, not ${iterations}`);
  }
  const salt = options.salt ?? randomBytes(16);
  const iv = options.iv ?? randomBytes(16);
  if (salt.length !== 16 || iv.length !== 16) throw new Error('localdls-1 salt and IV are 16 bytes each');
  return { iterations, salt, iv };
}

function packLocalDls1(contents: SecureModeDataContents, keys: { encKey: Buffer; macKey: Buffer }, params: { iterations: number; salt: Buffer; iv: Buffer }): Buffer {
  const inner = JSON.stringify({
    type: INNER_TYPE,
    version: 1,
    securePort: contents.securePort,
    caPems: contents.caPems,
    pkcs12: contents.pkcs12.toString('base64'),
  });
  const cipher = createCipheriv('aes-256-cbc', keys.encKey, params.iv);
  const ciphertext = Buffer.concat([cipher.update(inner, 'utf8'), cipher.final()]);
  const header = Buffer.alloc(10);
  MAGIC.copy(header, 0);
  header[4] = VERSION;
  header[5] = KDF_PBKDF2_SHA256;
  header.writeUInt32BE(params.iterations, 6);
  const body = Buffer.concat([header, params.salt, params.iv, ciphertext]);
  return Buffer.concat([body, createHmac('sha256', keys.macKey).update(body).digest()]);
}

function recognizesLocalDls1(b: Buffer): boolean {
  return b.length >= 5 && b.subarray(0, 4).equals(MAGIC) && b[4] === VERSION;
}

const localDls1: SecureModeDataFormat = {
  name: 'localdls-1',
  description: 'LocalDLS format 1: PBKDF2-HMAC-SHA256, AES-256-CBC, HMAC-SHA256 (encrypt-then-MAC) over UTF-8 JSON',
  recognizes: recognizesLocalDls1,
  pack(contents, password, options) {
    const params = localDls1Params(options);
    return packLocalDls1(contents, localDls1Keys(password, params.salt, params.iterations), params);
  },
  unpack(bytes, password) {
    const { salt, iterations } = localDls1Header(bytes);
    return openLocalDls1(bytes, localDls1Keys(password, salt, iterations));
  },
};

/** The checked header of a localdls-1 container: its salt and iterations. */
function localDls1Header(bytes: Buffer): { salt: Buffer; iterations: number } {
  if (bytes.length < HEADER_BYTES + 16 + MAC_BYTES || (bytes.length - HEADER_BYTES - MAC_BYTES) % 16 !== 0) {
    throw new SecureModeDataError('malformed', `secure-mode-data is truncated or damaged (${bytes.length} bytes)`);
  }
  if (!recognizesLocalDls1(bytes)) throw new SecureModeDataError('unsupported', 'secure-mode-data is not localdls-1 (header)');
  if (bytes[5] !== KDF_PBKDF2_SHA256) throw new SecureModeDataError('unsupported', `secure-mode-data uses unknown key derivation ${bytes[5]}`);
  const iterations = bytes.readUInt32BE(6);
  if (iterations < 1 || iterations > MAX_ITERATIONS) throw new SecureModeDataError('malformed', `secure-mode-data asks for ${iterations} PBKDF2 iterations`);
  return { salt: bytes.subarray(10, 26), iterations };
}

/** Checks the tag and decrypts a localdls-1 container whose header localDls1Header accepted. */
function openLocalDls1(bytes: Buffer, keys: { encKey: Buffer; macKey: Buffer }): SecureModeDataContents {
  const iv = bytes.subarray(26, 42);
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const expected = createHmac('sha256', keys.macKey).update(body).digest();
  if (!timingSafeEqual(expected, bytes.subarray(bytes.length - MAC_BYTES))) {
    throw new SecureModeDataError('wrong-password', 'secure-mode-data does not open with this password (wrong PIN?)');
  }
  let inner: unknown;
  try {
    const decipher = createDecipheriv('aes-256-cbc', keys.encKey, iv);
    const plain = Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - MAC_BYTES)), decipher.final()]);
    inner = JSON.parse(plain.toString('utf8'));
  } catch (e) {
    throw new SecureModeDataError('malformed', `secure-mode-data authenticates but its contents cannot be read: ${errorMessage(e)}`);
  }
  return innerContents(inner);
}

function innerContents(v: unknown): SecureModeDataContents {
  const o = v as { type?: unknown; version?: unknown; securePort?: unknown; caPems?: unknown; pkcs12?: unknown };
  const bad = (what: string): never => {
    throw new SecureModeDataError('malformed', `secure-mode-data contents: ${what}`);
  };
  if (typeof v !== 'object' || v === null || o.type !== INNER_TYPE) bad(`"type" is not "${INNER_TYPE}"`);
  if (o.version !== 1) bad(`version ${String(o.version)} is not supported`);
  if (typeof o.securePort !== 'number' || !Number.isInteger(o.securePort) || o.securePort < 1 || o.securePort > 65535) bad('"securePort" is not a TCP port');
  if (!Array.isArray(o.caPems) || o.caPems.some((p) => typeof p !== 'string')) bad('"caPems" is not a list of PEM strings');
  if (typeof o.pkcs12 !== 'string' || o.pkcs12 === '') bad('"pkcs12" is missing');
  return { securePort: o.securePort as number, caPems: o.caPems as string[], pkcs12: Buffer.from(o.pkcs12 as string, 'base64') };
}

registerSecureModeDataFormat(localDls1);
