/**
 * Relay mode: the upstream DLS's side of each relayed exchange (migration 5), one row per
 * exchange, written in the same transaction as the exchange itself.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { UpstreamView } from '../../shared/api';
import { maskCredentialHeaders } from '../../shared/secrets';

interface UpstreamRow {
  exchange_id: number; url: string; started: number; connected: number | null; first_byte: number | null; ended: number;
  http_status: number | null; reused: number; tls_protocol: string | null; tls_cipher: string | null; fingerprint: string | null;
  subject: string | null; trusted_by: UpstreamView['trustedBy']; failure: UpstreamView['failure']; error: string | null;
  request_headers: string | null; response_headers: string | null;
}

/** Statements are prepared on first use: a read-only store of an older database has no such table. */
export class RelayRows {
  private statements: { insertRow: Statement; selectRow: Statement } | null = null;

  constructor(private readonly db: Database) {}

  private get st(): { insertRow: Statement; selectRow: Statement } {
    return (this.statements ??= this.prepare());
  }

  private prepare(): { insertRow: Statement; selectRow: Statement } {
    const insertRow = this.db.prepare(`INSERT INTO upstream_exchanges (exchange_id, url, started, connected, first_byte, ended, http_status, reused,
        tls_protocol, tls_cipher, fingerprint, subject, trusted_by, failure, error, request_headers, response_headers)
      VALUES (@exchangeId, @url, @started, @connected, @firstByte, @ended, @httpStatus, @reused,
        @tlsProtocol, @tlsCipher, @fingerprint, @subject, @trustedBy, @failure, @error, @requestHeaders, @responseHeaders)`);
    const selectRow = this.db.prepare(`SELECT * FROM upstream_exchanges WHERE exchange_id = ?`);
    return { insertRow, selectRow };
  }

  /** Called inside Store.commitRelayed's transaction. */
  insert(exchangeId: number, u: UpstreamView): void {
    // Credentials masked on the way in, as for the exchange's own headers (store.ts): never in the file.
    // JSON null for "none": SQL NULL is a row from before the record (headersRecorded).
    const json = (h: [string, string][] | null) => JSON.stringify(h === null ? null : maskCredentialHeaders(h));
    this.st.insertRow.run({ ...u, exchangeId, reused: u.reused ? 1 : 0, requestHeaders: json(u.requestHeaders), responseHeaders: json(u.responseHeaders) });
  }

  /** The upstream's side of an exchange; undefined for LocalDLS's own traffic. */
  of(exchangeId: number): UpstreamView | undefined {
    if (!this.statements && !this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upstream_exchanges'`).get()) return undefined;
    const r = this.st.selectRow.get(exchangeId) as UpstreamRow | undefined;
    return (
      r && {
        url: r.url, started: r.started, connected: r.connected, firstByte: r.first_byte, ended: r.ended, httpStatus: r.http_status,
        reused: r.reused === 1, tlsProtocol: r.tls_protocol, tlsCipher: r.tls_cipher, fingerprint: r.fingerprint, subject: r.subject,
        trustedBy: r.trusted_by, failure: r.failure, error: r.error,
        requestHeaders: headerPairs(r.request_headers), responseHeaders: headerPairs(r.response_headers), headersRecorded: r.request_headers !== null,
      }
    );
  }
}

/** Stored pairs, or null when none were recorded (or the column holds something else: damaged outside LocalDLS). */
function headerPairs(json: string | null): [string, string][] | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string') ? (v as [string, string][]) : null;
  } catch {
    return null;
  }
}
