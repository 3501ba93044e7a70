/**
 * Migration 18: credential headers (Authorization, Proxy-Authorization) in exchanges stored before
 * they were masked on the way in (shared/secrets.ts maskCredentialHeaders). They were shown masked,
 * but stayed in the file, and free text found them in the list fields and the search index, a
 * prefix at a time. Each such row is rewritten masked, and its index entry made again from it.
 */
import type { Database } from 'better-sqlite3';
import { maskCredentialHeaders } from '../../shared/secrets';
import { receivedBody, type StoredBodies } from './exchange-rows';
import { indexedBody, SUMMARY_FIELDS, summaryText, trigramQuery } from './search-text';

type Row = StoredBodies & Record<(typeof SUMMARY_FIELDS)[number], string | null> & { id: number };

export function scrubCredentialHeaders(db: Database): void {
  const indexedThrough = (db.prepare('SELECT indexed_through AS n FROM exchange_text_progress').get() as { n: number }).n;
  // Candidates from the search index, whose summary column holds the request headers (trigrams,
  // case-insensitive; any column, as detail=none allows no column filter), and every row not
  // indexed yet: not a scan of every row of a large store (its bodies are gigabytes). LIKE then
  // decides, ASCII case-insensitively: every spelling of both names (HTTP header names are ASCII).
  const candidates = db
    .prepare(`SELECT rowid AS id FROM exchange_text WHERE exchange_text MATCH ? UNION SELECT id FROM exchanges WHERE id > ?`)
    .pluck()
    .all(trigramQuery('authorization')!, indexedThrough) as number[];
  // Headers first (they come before the bodies in the row: cheap); bodies only for a row whose
  // index entry is made again, one row at a time.
  const headers = db.prepare(`SELECT request_headers FROM exchanges WHERE id = ? AND request_headers LIKE '%authorization%'`).pluck();
  const read = db.prepare(`SELECT id, request_body, request_encoding, request_size, response_body, response_encoding, response_size, ${SUMMARY_FIELDS.join(', ')}
    FROM exchanges WHERE id = ?`);
  const update = db.prepare('UPDATE exchanges SET request_headers = ? WHERE id = ?');
  const unindex = db.prepare('DELETE FROM exchange_text WHERE rowid = ?');
  const index = db.prepare('INSERT INTO exchange_text (rowid, request, response, summary) VALUES (@id, @request, @response, @summary)');
  // Overwritten, not only unlinked: the old text must not stay in the file's free space.
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    let changed = 0;
    for (const id of candidates) {
      const stored = headers.get(id) as string | undefined;
      if (stored === undefined) continue;
      const masked = JSON.stringify(maskCredentialHeaders(JSON.parse(stored) as [string, string][]));
      if (masked === stored) continue;
      update.run(masked, id);
      changed++;
      // Rows past the mark are indexed later, from the row as it is now.
      if (id > indexedThrough) continue;
      const r = read.get(id) as Row;
      unindex.run(id);
      const request = indexedBody(receivedBody(r, 'request')).text;
      const response = indexedBody(receivedBody(r, 'response')).text;
      index.run({ id, request, response, summary: summaryText(r) });
    }
    // A deleted entry's terms stay in the index's segments until they are merged: merge them all
    // now, once, where something was masked.
    if (changed > 0) db.prepare(`INSERT INTO exchange_text (exchange_text) VALUES ('optimize')`).run();
  } finally {
    db.pragma(`secure_delete = ${secureDelete}`);
  }
}
