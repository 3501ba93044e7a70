/**
 * Revoked device-certificate serials, `<dataDir>/pki/revoked.json`. The service checks it after the
 * TLS handshake of the Secure-Mode port (a revoked phone must be bootstrapped again, wpi-protocol §5.7).
 * The file is re-read when it changes on disk, so a revocation made by another process (the CLI)
 * is seen without a restart.
 */
import { readFileSync, statSync } from 'node:fs';
import { errorMessage, writeFileAtomic } from './fs-util';
import { normalizeSerial } from './identifiers';

export interface RevokedEntry {
  /** Upper-case hex, as normalizeSerial() gives it. */
  serial: string;
  /** ISO 8601. */
  revokedAt: string;
}

interface RevokedFile {
  version: 1;
  revoked: RevokedEntry[];
}

export class RevocationList {
  private entries = new Map<string, RevokedEntry>();
  private seen = '';

  constructor(private readonly path: string) {}

  /** Records `serial` as revoked; false when it already was. */
  revoke(serial: string, now = new Date()): boolean {
    const s = normalizeSerial(serial);
    this.refresh();
    if (this.entries.has(s)) return false;
    this.entries.set(s, { serial: s, revokedAt: now.toISOString() });
    const file: RevokedFile = { version: 1, revoked: [...this.entries.values()] };
    writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
    this.seen = stamp(this.path);
    return true;
  }

  isRevoked(serial: string): boolean {
    let s: string;
    try {
      s = normalizeSerial(serial);
    } catch {
      return false;
    }
    this.refresh();
    return this.entries.has(s);
  }

  list(): RevokedEntry[] {
    this.refresh();
    return [...this.entries.values()];
  }

  /** Re-reads the file when its size or modification time changed (one stat per call). */
  private refresh(): void {
    const now = stamp(this.path);
    if (now === this.seen) return;
    const entries = new Map<string, RevokedEntry>();
    if (now !== '') {
      let parsed: Partial<RevokedFile>;
      try {
        parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<RevokedFile>;
      } catch (e) {
        throw new Error(`cannot read the revocation list ${this.path}: ${errorMessage(e)}`);
      }
      if (parsed.version !== 1 || !Array.isArray(parsed.revoked)) throw new Error(`${this.path} is not a LocalDLS revocation list (version 1)`);
      for (const e of parsed.revoked) {
        if (typeof e?.serial === 'string') entries.set(normalizeSerial(e.serial), { serial: normalizeSerial(e.serial), revokedAt: String(e.revokedAt) });
      }
    }
    this.entries = entries;
    this.seen = now;
  }
}

function stamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return '';
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}
