/**
 * A simulated phone's Secure-Mode state on disk (`stateDir`), so that a restart of the simulator
 * process keeps its phones in Secure Mode, as a real phone keeps its credential across power
 * cycles (manual p.65 step 7). One JSON file per MAC, `00-1A-E8-00-00-01.json`, mode 0600 (it
 * holds the client key, inside the PKCS#12), directory 0700, written atomically. A phone in
 * Default Mode has no file. A PIN dialog that is still open is not kept.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { caPemProblem, decodeBase64, type SecureCredential } from './secure-mode';

const STATE_VERSION = 1;

interface StateFile {
  version: number;
  mac: string;
  mode: 'secure';
  variant: 'nopin' | 'pin';
  securePort: number;
  caPems: string[];
  /** base64 DER PKCS#12, empty password. */
  pkcs12: string;
  tan?: string;
  since: number;
}

export function stateFilePath(dir: string, mac: string): string {
  return join(dir, `${mac.replace(/:/g, '-')}.json`);
}

/** The phone's stored Secure-Mode credential, undefined when it has none; throws on a damaged file. */
export function loadSecureState(dir: string, mac: string): SecureCredential | undefined {
  const path = stateFilePath(dir, mac);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the phone state ${path}: ${(e as Error).message}`);
  }
  const damaged = (why: string): never => {
    throw new Error(`the phone state ${path} is damaged (${why}): delete it to start the phone in Default Mode`);
  };
  let s: Partial<StateFile>;
  try {
    s = JSON.parse(text) as Partial<StateFile>;
  } catch {
    return damaged('not JSON');
  }
  if (typeof s !== 'object' || s === null) return damaged('not an object');
  if (s.version !== STATE_VERSION) damaged(`version ${String(s.version)}`);
  if (s.mac !== mac) damaged(`it is for ${String(s.mac)}`);
  if (s.mode !== 'secure' || (s.variant !== 'nopin' && s.variant !== 'pin')) damaged('mode');
  if (typeof s.securePort !== 'number' || !Number.isInteger(s.securePort) || s.securePort < 1 || s.securePort > 65535) damaged('securePort');
  if (!Array.isArray(s.caPems) || s.caPems.length === 0 || s.caPems.some((p) => typeof p !== 'string' || caPemProblem(p) !== undefined)) damaged('caPems');
  const pkcs12 = typeof s.pkcs12 === 'string' ? decodeBase64(s.pkcs12) : undefined;
  if (pkcs12 === undefined) return damaged('pkcs12');
  if (s.tan !== undefined && typeof s.tan !== 'string') damaged('tan');
  const credential: SecureCredential = { variant: s.variant!, securePort: s.securePort!, caPems: s.caPems!, pkcs12, since: typeof s.since === 'number' ? s.since : 0 };
  if (s.tan !== undefined) credential.tan = s.tan;
  return credential;
}

/** Writes the credential (temporary file 0600, fsync, rename). */
export function saveSecureState(dir: string, mac: string, credential: SecureCredential): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = stateFilePath(dir, mac);
  const state: StateFile = {
    version: STATE_VERSION,
    mac,
    mode: 'secure',
    variant: credential.variant,
    securePort: credential.securePort,
    caPems: credential.caPems,
    pkcs12: credential.pkcs12.toString('base64'),
    ...(credential.tan !== undefined ? { tan: credential.tan } : {}),
    since: credential.since,
  };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Default Mode again (factory reset, wrong TAN): the file goes. */
export function clearSecureState(dir: string, mac: string): void {
  rmSync(stateFilePath(dir, mac), { force: true });
}
