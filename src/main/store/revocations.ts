/**
 * Revoked device-certificate serials. The Secure-Mode listener refuses a revoked certificate after
 * its handshake (a revoked phone must be bootstrapped again, wpi-protocol §5.7). The table lives in
 * the database so a revocation commits with the device change that causes it (factory reset,
 * forget, renewal), and a revocation made by another process (the CLI) is seen at once.
 *
 * Data folders from before migration 5 kept the list in pki/revoked.json: it is imported once, the
 * file then renamed to revoked.json.imported (kept, not deleted, so nothing is lost).
 */
import type { Database, Statement } from 'better-sqlite3';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeSerial } from '../pki/identifiers';

export interface Revocation {
  /** Upper-case hex, minimal form. */
  serial: string;
  mac: string | null;
  revokedAt: number;
  reason: string;
}

export class RevocationTable {
  private readonly st: Record<'insert' | 'get' | 'all', Statement>;

  constructor(db: Database) {
    this.st = {
      insert: db.prepare(`INSERT INTO revocations (serial, mac, revoked_at, reason) VALUES (@serial, @mac, @at, @reason) ON CONFLICT (serial) DO NOTHING`),
      get: db.prepare(`SELECT 1 FROM revocations WHERE serial = ?`),
      all: db.prepare(`SELECT serial, mac, revoked_at AS revokedAt, reason FROM revocations ORDER BY revoked_at, serial`),
    };
  }

  /** Records `serial` as revoked; false when it already was. Throws on a serial that is not hex. */
  revoke(serial: string, mac: string | null, at: number, reason: string): boolean {
    return this.st.insert.run({ serial: normalizeSerial(serial), mac, at, reason }).changes === 1;
  }

  isRevoked(serial: string): boolean {
    let s: string;
    try {
      s = normalizeSerial(serial);
    } catch {
      return false;
    }
    return this.st.get.get(s) !== undefined;
  }

  list(): Revocation[] {
    return this.st.all.all() as Revocation[];
  }
}

/** Moves the entries of a pre-migration-5 pki/revoked.json into the table, once. */
export function importRevocationFile(dataDir: string, table: RevocationTable, db: Database): number {
  const path = join(dataDir, 'pki', 'revoked.json');
  if (!existsSync(path)) return 0;
  let parsed: { version?: unknown; revoked?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new Error(`cannot import the revocation list ${path}: ${(e as Error).message}; fix or remove the file`);
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.revoked)) throw new Error(`${path} is not a LocalDLS revocation list (version 1); fix or remove the file`);
  const entries = parsed.revoked as { serial?: unknown; revokedAt?: unknown }[];
  const n = db.transaction(() => {
    let added = 0;
    for (const e of entries) {
      // An entry that is no serial revoked nothing before either: skipped, not a reason to stop.
      if (typeof e?.serial !== 'string' || !/^[\s:0-9a-fA-F]+$/.test(e.serial) || !/[0-9a-fA-F]/.test(e.serial)) continue;
      const at = Date.parse(String(e.revokedAt));
      if (table.revoke(e.serial, null, Number.isFinite(at) ? at : Date.now(), 'imported from pki/revoked.json')) added++;
    }
    return added;
  })();
  renameSync(path, `${path}.imported`);
  return n;
}
