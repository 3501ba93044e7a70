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
  // case-insensitive; any column, as detail=none allows no column filter), and every row not indexed yet: not a scan of every row of a large store (its
  // bodies are gigabytes). LIKE then decides, ASCII case-insensitively: every spelling of both names.
  const candidates = db
    .prepare(`SELECT rowid AS id FROM exchange_text WHERE exchange_text MATCH ? UNION SELECT id FROM exchanges WHERE id > ?`)
    .all(trigramQuery('authorization')!, indexedThrough) as { id: number }[];
  const read = db.prepare(`SELECT id, request_body, request_encoding, request_size, response_body, response_encoding, response_size, ${SUMMARY_FIELDS.join(', ')}
    FROM exchanges WHERE id = ? AND request_headers LIKE '%authorization%'`);
  const rows = candidates.map((c) => read.get(c.id) as Row | undefined).filter((r): r is Row => r !== undefined);
  const update = db.prepare('UPDATE exchanges SET request_headers = ? WHERE id = ?');
  const unindex = db.prepare('DELETE FROM exchange_text WHERE rowid = ?');
  const index = db.prepare('INSERT INTO exchange_text (rowid, request, response, summary) VALUES (@id, @request, @response, @summary)');
  for (const r of rows) {
    const masked = JSON.stringify(maskCredentialHeaders(JSON.parse(r.request_headers ?? '[]') as [string, string][]));
    if (masked === r.request_headers) continue;
    update.run(masked, r.id);
    // Rows past the mark are indexed later, from the row as it is now.
    if (r.id > indexedThrough) continue;
    unindex.run(r.id);
    const request = indexedBody(receivedBody(r, 'request'), masked).text;
    const response = indexedBody(receivedBody(r, 'response'), r.response_headers ?? '[]').text;
    index.run({ id: r.id, request, response, summary: summaryText({ ...r, request_headers: masked }) });
  }
}
