/**
 * What a simulated phone needs to move to Secure Mode (manual p.62–68 §3.6.10, p.83 §3.8.4;
 * wpi-protocol.md §5): reading the bootstrapping WriteItems, checking that the credential is
 * usable, and opening `secure-mode-data` with a PIN.
 *
 * `secure-mode-data` is decoded here with node:crypto alone, written from docs/secure-mode-data.md
 * (format `localdls-1`), not from LocalDLS's encoder: an independent implementation of the
 * documented bytes. The PKCS#12 inside (and in `dls-client-certificate`) is not parsed: Node's TLS
 * client reads it as `pfx` with the empty password (docs/pki.md, "Containers").
 */
import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { Item } from './codec';

/** Password of every PKCS#12 LocalDLS sends (docs/pki.md): the empty string. */
export const PKCS12_PASSWORD = '';
/** The last 3 characters of the PIN are the TAN, the rest is the password (manual p.67–68). */
export const TAN_CHARACTERS = 3;
/** max-pin-retries when the WriteItems does not carry it; the manual's example value (p.67) [INF]. */
export const DEFAULT_MAX_PIN_RETRIES = 3;
/** cleanup-reason values (manual p.83, p.31). */
export const PASSWORD_RETRIES_EXCEEDED = 'password retries exceeded';
export const WRONG_TAN_FROM_DEVICE = 'wrong TAN from device';

/** Items of the bootstrapping WriteItems (manual p.64, p.67). */
export const BOOTSTRAP_ITEM_NAMES: ReadonlySet<string> = new Set([
  'goto-secure-mode',
  'dls-client-certificate',
  'dls-server-ca',
  'dls-secure-port',
  'secure-mode-data',
  'max-pin-retries',
]);

/** What a phone keeps once it is in Secure Mode (manual p.65 step 7). */
export interface SecureCredential {
  /** How it got there. */
  variant: 'nopin' | 'pin';
  /** dls-secure-port, or the port inside secure-mode-data. */
  securePort: number;
  /** The client certificate with its private key: DER PKCS#12, empty password. */
  pkcs12: Buffer;
  /** dls-server-ca 0…n: the CA(s) the secure-port server certificate must chain to. */
  caPems: string[];
  /** PIN variant: what the phone answers for bootstrapping-tan (manual p.68). */
  tan?: string;
  /** When the phone switched (ms). */
  since: number;
}

/** A usable bootstrapping WriteItems. */
export type BootstrapRequest =
  | { variant: 'nopin'; pkcs12: Buffer; caPems: string[]; securePort: number }
  | { variant: 'pin'; data: Buffer; maxPinRetries: number };

/** The phone cannot use the items: these get status "invalid data" (manual p.26). */
export interface BootstrapRefusal {
  variant: string;
  invalid: Item[];
  /** One line per problem, for people. */
  problems: string[];
}

/** Reads the bootstrapping items of a WriteItems and checks that the phone can use them. */
export function parseBootstrap(items: readonly Item[]): BootstrapRequest | BootstrapRefusal {
  const variant = value(items, 'goto-secure-mode')?.trim() ?? '';
  const invalid: Item[] = [];
  const problems: string[] = [];
  const refuse = (name: string, problem: string, index?: number): void => {
    const item: Item = { name, value: '', status: 'invalid data' };
    if (index !== undefined) item.index = index;
    invalid.push(item);
    problems.push(problem);
  };
  if (variant === 'nopin') {
    const cert = value(items, 'dls-client-certificate');
    let pkcs12: Buffer | undefined;
    if (cert === undefined) refuse('dls-client-certificate', 'dls-client-certificate is missing');
    else {
      pkcs12 = decodeBase64(cert);
      const problem = pkcs12 === undefined ? 'is not base64' : pkcs12Problem(pkcs12);
      if (problem !== undefined) refuse('dls-client-certificate', `dls-client-certificate ${problem}`);
    }
    const cas = items.filter((i) => i.name === 'dls-server-ca').sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
    if (cas.length === 0) refuse('dls-server-ca', 'no dls-server-ca: the phone could not verify the secure-port server');
    for (const ca of cas) {
      const problem = caPemProblem(ca.value);
      if (problem !== undefined) refuse('dls-server-ca', `dls-server-ca${ca.index !== undefined ? ` ${ca.index}` : ''} ${problem}`, ca.index);
    }
    const port = value(items, 'dls-secure-port');
    const securePort = port === undefined ? undefined : tcpPort(port);
    if (securePort === undefined) refuse('dls-secure-port', port === undefined ? 'dls-secure-port is missing' : `dls-secure-port "${port}" is not a TCP port`);
    if (invalid.length > 0 || pkcs12 === undefined || securePort === undefined) return { variant, invalid, problems };
    return { variant, pkcs12, caPems: cas.map((c) => c.value), securePort };
  }
  if (variant === 'pin') {
    const raw = value(items, 'secure-mode-data');
    let data: Buffer | undefined;
    if (raw === undefined) refuse('secure-mode-data', 'secure-mode-data is missing');
    else {
      data = decodeBase64(raw);
      const problem = data === undefined ? 'is not base64' : containerProblem(data);
      if (problem !== undefined) refuse('secure-mode-data', `secure-mode-data ${problem}`);
    }
    const retries = value(items, 'max-pin-retries');
    const maxPinRetries = retries === undefined ? DEFAULT_MAX_PIN_RETRIES : /^\d{1,4}$/.test(retries.trim()) ? Number(retries.trim()) : undefined;
    if (maxPinRetries === undefined) refuse('max-pin-retries', `max-pin-retries "${retries}" is not a number`);
    if (invalid.length > 0 || data === undefined || maxPinRetries === undefined) return { variant, invalid, problems };
    return { variant, data, maxPinRetries };
  }
  refuse('goto-secure-mode', `goto-secure-mode "${variant}" is neither nopin nor pin`);
  return { variant, invalid, problems };
}

/** Why Node's TLS client cannot use this PKCS#12 with the empty password, or undefined. */
export function pkcs12Problem(pkcs12: Buffer): string | undefined {
  if (pkcs12.length === 0) return 'is empty';
  try {
    createSecureContext({ pfx: pkcs12, passphrase: PKCS12_PASSWORD });
    return undefined;
  } catch (e) {
    return `is not a PKCS#12 the phone can load with the empty password (${firstLine(e)})`;
  }
}

/** Why this is not one PEM certificate, or undefined. */
export function caPemProblem(pem: string): string | undefined {
  if (!/^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(pem)) return 'is not a PEM certificate';
  try {
    new X509Certificate(pem);
    return undefined;
  } catch (e) {
    return `is not a readable certificate (${firstLine(e)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// secure-mode-data, format localdls-1 (docs/secure-mode-data.md, "Format localdls-1")

const MAGIC = Buffer.from('LDSM', 'latin1');
const HEADER_BYTES = 42;
const TAG_BYTES = 32;
const MAX_ITERATIONS = 10_000_000;
const INNER_TYPE = 'localdls-secure-mode-data';

/** What secure-mode-data carries (docs/secure-mode-data.md, "Plaintext"). */
export interface SecureModeData {
  securePort: number;
  caPems: string[];
  pkcs12: Buffer;
}

export type SecureModeDataProblem = 'malformed' | 'unsupported' | 'wrong-password';

export class SecureModeDataError extends Error {
  override readonly name = 'SecureModeDataError';
  constructor(
    readonly code: SecureModeDataProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Steps 1–2 of "Decoding, step by step": what can be checked without the PIN, or undefined. */
export function containerProblem(bytes: Buffer): string | undefined {
  if (bytes.length < HEADER_BYTES + 16 + TAG_BYTES || (bytes.length - HEADER_BYTES - TAG_BYTES) % 16 !== 0) return `is truncated or damaged (${bytes.length} bytes)`;
  if (!bytes.subarray(0, 4).equals(MAGIC) || bytes[4] !== 0x01) return 'is not in a format this phone knows (expected localdls-1)';
  if (bytes[5] !== 0x01) return `uses an unknown key derivation (${bytes[5]})`;
  const iterations = bytes.readUInt32BE(6);
  if (iterations < 1 || iterations > MAX_ITERATIONS) return `asks for ${iterations} PBKDF2 iterations (1 to ${MAX_ITERATIONS})`;
  return undefined;
}

/** The password the PIN gives: all but its last 3 characters (manual p.67). */
export function pinPasswordOf(pin: string): string {
  return pin.length > TAN_CHARACTERS ? pin.slice(0, -TAN_CHARACTERS) : '';
}

/** The TAN the PIN gives: its last 3 characters (manual p.68). */
export function tanOfPin(pin: string): string {
  return pin.slice(-TAN_CHARACTERS);
}

/**
 * Opens localdls-1 (steps 1–7): PBKDF2-HMAC-SHA256 → master; encKey / macKey by HMAC-SHA256 of
 * the two labels; HMAC tag checked in constant time (a wrong PIN fails here); AES-256-CBC; JSON.
 */
export async function openSecureModeData(bytes: Buffer, password: string): Promise<SecureModeData> {
  const problem = containerProblem(bytes);
  if (problem !== undefined) throw new SecureModeDataError(/format|derivation/.test(problem) ? 'unsupported' : 'malformed', `secure-mode-data ${problem}`);
  const iterations = bytes.readUInt32BE(6);
  const salt = bytes.subarray(10, 26);
  const iv = bytes.subarray(26, HEADER_BYTES);
  const tagAt = bytes.length - TAG_BYTES;
  // Asynchronous: one PIN attempt costs ~0.1 s of PBKDF2, which must not stall a fleet's event loop.
  const master = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
  const encKey = createHmac('sha256', master).update('LocalDLS secure-mode-data encryption', 'latin1').digest();
  const macKey = createHmac('sha256', master).update('LocalDLS secure-mode-data authentication', 'latin1').digest();
  const tag = createHmac('sha256', macKey).update(bytes.subarray(0, tagAt)).digest();
  if (!timingSafeEqual(tag, bytes.subarray(tagAt))) throw new SecureModeDataError('wrong-password', 'secure-mode-data does not open with this PIN (wrong PIN?)');
  let inner: unknown;
  try {
    const decipher = createDecipheriv('aes-256-cbc', encKey, iv);
    inner = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, tagAt)), decipher.final()]).toString('utf8'));
  } catch (e) {
    throw new SecureModeDataError('malformed', `secure-mode-data opens but cannot be read: ${firstLine(e)}`);
  }
  const o = (typeof inner === 'object' && inner !== null ? inner : {}) as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new SecureModeDataError('malformed', `secure-mode-data contents: ${what}`);
  };
  if (o.type !== INNER_TYPE) bad(`"type" is not "${INNER_TYPE}"`);
  if (o.version !== 1) bad(`version ${String(o.version)} is not supported`);
  const securePort = typeof o.securePort === 'number' && Number.isInteger(o.securePort) && o.securePort >= 1 && o.securePort <= 65535 ? o.securePort : bad('"securePort" is not a TCP port');
  const caPems = Array.isArray(o.caPems) && o.caPems.every((p) => typeof p === 'string') ? (o.caPems as string[]) : bad('"caPems" is not a list of strings');
  const pkcs12 = typeof o.pkcs12 === 'string' ? decodeBase64(o.pkcs12) : undefined;
  if (pkcs12 === undefined || pkcs12.length === 0) bad('"pkcs12" is not base64');
  return { securePort, caPems, pkcs12: pkcs12! };
}

/** Why decrypted contents are still unusable (PKCS#12 or CA), or undefined. */
export function contentsProblem(data: SecureModeData): string | undefined {
  const p12 = pkcs12Problem(data.pkcs12);
  if (p12 !== undefined) return `the PKCS#12 in secure-mode-data ${p12}`;
  if (data.caPems.length === 0) return 'secure-mode-data holds no CA certificate';
  for (const [i, pem] of data.caPems.entries()) {
    const problem = caPemProblem(pem);
    if (problem !== undefined) return `CA ${i} in secure-mode-data ${problem}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Simulated users

/**
 * `n` wrong PINs for `pin`: its first digit is changed, so the password part differs and the
 * HMAC check fails (docs/secure-mode-data.md step 5); the i-th changes it by i (mod 10).
 */
export function wrongPins(pin: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const first = /^\d/.test(pin) ? String((Number(pin[0]) + 1 + (i % 9)) % 10) : '0';
    return `${first}${pin.slice(1)}`;
  });
}

/** A TAN that is not `tan`: every digit + 1 (mod 10). */
export function wrongTan(tan: string): string {
  const changed = tan.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
  return changed === tan ? `${tan}0` : changed;
}

// ---------------------------------------------------------------------------------------------

/** Strict RFC 4648 base64 (white space ignored), or undefined. */
export function decodeBase64(text: string): Buffer | undefined {
  const clean = text.replace(/\s+/g, '');
  if (clean === '' || clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'base64');
}

function tcpPort(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,5}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function value(items: readonly Item[], name: string): string | undefined {
  return items.find((i) => i.name === name)?.value;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}
