/**
 * Numbered migrations, applied in one transaction each and tracked by PRAGMA user_version.
 * Never edit a shipped migration: add the next number. One that needs more than SQL is a function.
 */
import type { Database } from 'better-sqlite3';
import { parseWorkpointMessage, refusedItemCount } from '../wpi';
import { unpackBody } from './body-codec';
import { scrubCredentialHeaders } from './credential-scrub';

export const MIGRATIONS: readonly (string | ((db: Database) => void))[] = [
  // 1: devices, their current items, exchanges and interactions.
  `
  CREATE TABLE devices (
    mac             TEXT PRIMARY KEY,
    e164            TEXT,
    device_type     TEXT,
    software_version TEXT,
    part_number     TEXT,
    contact_me_uri  TEXT,
    last_address    TEXT,
    mode            TEXT NOT NULL DEFAULT 'default' CHECK (mode IN ('default', 'secure')),
    state           TEXT NOT NULL DEFAULT 'idle',
    tls_protocol    TEXT,                -- last negotiated, e.g. TLSv1 marks an old firmware
    first_contact   INTEGER NOT NULL,
    last_contact    INTEGER NOT NULL
  );

  CREATE TABLE items (
    mac     TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    idx     INTEGER,            -- NULL = item without index; 0 is a real index
    value   TEXT NOT NULL,
    status  TEXT,
    updated INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX items_key ON items (mac, name, ifnull(idx, -1));

  CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    mac         TEXT,
    peer        TEXT NOT NULL,
    listener    TEXT NOT NULL,
    reason      TEXT,            -- ReasonForContact of the first message
    started     INTEGER NOT NULL,
    ended       INTEGER,
    end_reason  TEXT             -- 'CleanUp', 'Restart', 'phone clean-up', 'expired', …
  );
  CREATE INDEX interactions_mac ON interactions (mac, id);

  CREATE TABLE exchanges (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL DEFAULT 'wpi',   -- 'wpi' | 'tls-failure'
    started          INTEGER NOT NULL,    -- ms since epoch
    ended            INTEGER NOT NULL,
    listener         TEXT NOT NULL,       -- 'default' | 'secure' | …
    local_port       INTEGER NOT NULL,
    peer_address     TEXT NOT NULL,
    peer_port        INTEGER NOT NULL,
    tls_protocol     TEXT,
    tls_cipher       TEXT,
    method           TEXT,
    path             TEXT,
    http_status      INTEGER NOT NULL,
    request_headers  TEXT NOT NULL,       -- JSON [[name, value], …] as received
    request_body     BLOB NOT NULL,
    response_headers TEXT NOT NULL,
    response_body    BLOB NOT NULL,
    mac              TEXT,
    interaction_id   INTEGER REFERENCES interactions(id),
    reason           TEXT,
    reply_action     TEXT,
    reply_status     TEXT,
    nonce            TEXT,
    fragment         TEXT,
    item_count       INTEGER NOT NULL DEFAULT 0,
    action           TEXT,                -- Action of our answer
    error            TEXT,                -- why the request was refused
    warning          TEXT                 -- answered, but worth a person's attention
  );
  CREATE INDEX exchanges_mac ON exchanges (mac, id);
  CREATE INDEX exchanges_interaction ON exchanges (interaction_id, id);
  `,
  // 2: provisioning jobs, profiles and per-device overrides, contact-me bookkeeping.
  `
  CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    mac         TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
    kind        TEXT NOT NULL,       -- open set: WriteItems, ReadItems, …, later Bootstrap
    items       TEXT NOT NULL,       -- JSON ItemValue[]
    expect      TEXT,                -- JSON {item: value} the phone must report when it comes back
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sent', 'done', 'failed', 'waiting-busy', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    parts_done  INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    sent        INTEGER,
    finished    INTEGER,
    results     TEXT NOT NULL DEFAULT '[]',   -- JSON ItemResult[]
    error       TEXT,
    source      TEXT
  );
  CREATE INDEX jobs_queue ON jobs (mac, state, id);

  CREATE TABLE profiles (
    name        TEXT PRIMARY KEY,
    device_type TEXT,
    match_mac   TEXT,
    match_e164  TEXT,
    items       TEXT NOT NULL,       -- JSON ItemValue[]
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL
  );

  CREATE TABLE overrides (
    mac   TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
    name  TEXT NOT NULL,
    idx   INTEGER,
    value TEXT NOT NULL
  );
  CREATE UNIQUE INDEX overrides_key ON overrides (mac, name, ifnull(idx, -1));

  ALTER TABLE devices ADD COLUMN profile TEXT;
  ALTER TABLE devices ADD COLUMN last_contact_me INTEGER;
  `,
  // 3: Secure Mode: sealed job secrets (client keys, PINs), bootstrap state, certificates, settings.
  `
  ALTER TABLE jobs ADD COLUMN secret BLOB;          -- sealed with the key protector, never plain
  ALTER TABLE devices ADD COLUMN bootstrap TEXT CHECK (bootstrap IN ('pending', 'failed', 'done'));
  ALTER TABLE devices ADD COLUMN cert_serial TEXT;
  CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 4: indexes for the traffic list's filters (docs/benchmarks.md). The summary columns come after
  // the bodies in a row, so without them a filter reads every body of a table of millions of rows.
  `
  CREATE INDEX exchanges_action ON exchanges (action, id);
  CREATE INDEX exchanges_reason ON exchanges (reason, id);
  CREATE INDEX exchanges_http_status ON exchanges (http_status, id);
  CREATE INDEX exchanges_reply_status ON exchanges (reply_status COLLATE NOCASE, id);
  CREATE INDEX exchanges_kind ON exchanges (kind, id);
  CREATE INDEX exchanges_listener ON exchanges (listener, id);
  -- "Errors only": the same expression as in exchange-filter.ts, so that the query can use it.
  CREATE INDEX exchanges_errors ON exchanges (id)
    WHERE (kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status IN ('failed', 'busy'));
  `,
  // 5: revoked client certificates live in the database (they were pki/revoked.json), so a
  // revocation commits together with the device change that causes it.
  `
  CREATE TABLE revocations (
    serial     TEXT PRIMARY KEY,     -- upper-case hex, minimal (normalizeSerial)
    mac        TEXT,
    revoked_at INTEGER NOT NULL,
    reason     TEXT NOT NULL
  );
  `,
  // 6: relay mode (docs/relay.md): the upstream DLS's side of a relayed exchange, apart from the
  // phone's side kept in exchanges (timing, TLS, its status or why it gave none).
  `
  CREATE TABLE upstream_exchanges (
    exchange_id  INTEGER PRIMARY KEY REFERENCES exchanges(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    started      INTEGER NOT NULL,
    connected    INTEGER,              -- TLS handshake done; NULL when a keep-alive connection was reused
    first_byte   INTEGER,
    ended        INTEGER NOT NULL,
    http_status  INTEGER,              -- NULL: no answer (see error)
    reused       INTEGER NOT NULL DEFAULT 0,
    tls_protocol TEXT,
    tls_cipher   TEXT,
    fingerprint  TEXT,                 -- SHA-256 of the upstream's certificate
    subject      TEXT,
    trusted_by   TEXT CHECK (trusted_by IN ('ca', 'fingerprint')),
    failure      TEXT CHECK (failure IN ('unreachable', 'timeout', 'certificate', 'too-large', 'protocol', 'not-relayed')),
    error        TEXT
  );
  `,
  // 7: the inspector's detail: the client certificate of a TLS exchange (JSON CertificateSummary),
  // and the history of every item value of a device (old -> new per commit, stored as the items table
  // stores values: key material redacted; views mask secrets as everywhere).
  `
  ALTER TABLE exchanges ADD COLUMN client_cert TEXT;
  CREATE TABLE item_changes (
    id          INTEGER PRIMARY KEY,
    mac         TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
    exchange_id INTEGER,               -- the exchange whose commit changed it (no FK; a purge removes the rows with their exchanges, store/history-purge.ts)
    at          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    idx         INTEGER,
    old_value   TEXT,                  -- NULL: the item was new
    new_value   TEXT                   -- NULL: the item disappeared (a ReadAllItems without it)
  );
  CREATE INDEX item_changes_mac ON item_changes (mac, id);
  `,
  // 8: failed contact-me requests per device (store/contact-failures.ts): how many in a row, the last error and when.
  `
  ALTER TABLE devices ADD COLUMN contact_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN last_contact_error TEXT;
  ALTER TABLE devices ADD COLUMN last_contact_error_at INTEGER;
  `,
  // 9: the boot storm's write path (issue #14). Items keyed by (mac, name, idx) in the table itself
  // (WITHOUT ROWID; idx -1 = no index, phones' indexes are >= 0) instead of a table plus a unique
  // index holding the same columns again. devices.inventoried: when the phone's first complete read
  // was stored (store/item-history.ts lists it as one row, not item by item); devices with items
  // already count as read.
  `
  CREATE TABLE items_keyed (
    mac     TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    idx     INTEGER NOT NULL,   -- -1 = item without index; 0 is a real index
    value   TEXT NOT NULL,
    status  TEXT,
    updated INTEGER NOT NULL,
    PRIMARY KEY (mac, name, idx)
  ) WITHOUT ROWID;
  INSERT INTO items_keyed (mac, name, idx, value, status, updated) SELECT mac, name, ifnull(idx, -1), value, status, updated FROM items;
  DROP TABLE items;
  ALTER TABLE items_keyed RENAME TO items;
  ALTER TABLE devices ADD COLUMN inventoried INTEGER;
  UPDATE devices SET inventoried = last_contact WHERE mac IN (SELECT DISTINCT mac FROM items);
  `,
  // 10: free-text search (store/search-index.ts): a trigram index of each exchange's bodies as the
  // view shows them (secrets masked) and its list fields, filled in the background from the oldest
  // exchange not yet indexed; searches scan what is newer. Contentless with rowids only: the exact
  // check reads the exchange itself, and exchange_text_masked says which byte ranges of a body the
  // view shows unchanged (a row only where something is masked). Deleting an exchange (purge)
  // deletes both, and lowers the mark when the newest rows go, so that a reused id is indexed again.
  `
  CREATE VIRTUAL TABLE exchange_text USING fts5(
    request, response, summary, tokenize = 'trigram', detail = 'none', content = '', contentless_delete = 1
  );
  CREATE TABLE exchange_text_masked (
    exchange_id INTEGER PRIMARY KEY, -- no FK: the trigger below deletes it with its exchange
    request     TEXT,                -- '' nothing masked, 'start-end,…' bytes shown unchanged, '*' only masking tells
    response    TEXT
  );
  -- The indexer merges segments itself, a bounded step per slice (search-index.ts); crisismerge
  -- only if it falls far behind.
  INSERT INTO exchange_text (exchange_text, rank) VALUES ('automerge', 0);
  INSERT INTO exchange_text (exchange_text, rank) VALUES ('crisismerge', 64);
  CREATE TABLE exchange_text_progress (indexed_through INTEGER NOT NULL);
  INSERT INTO exchange_text_progress (indexed_through) VALUES (0);
  CREATE TRIGGER exchange_text_purge AFTER DELETE ON exchanges BEGIN
    DELETE FROM exchange_text WHERE rowid = old.id;
    DELETE FROM exchange_text_masked WHERE exchange_id = old.id;
    UPDATE exchange_text_progress SET indexed_through = (SELECT coalesce(max(id), 0) FROM exchanges)
      WHERE indexed_through > (SELECT coalesce(max(id), 0) FROM exchanges);
  END;
  `,
  // 11: bodies stored compactly (store/body-codec.ts): *_encoding 'deflate-raw' = compressed, NULL = the bytes as
  // received; *_size = the size as received (NULL in older rows, where it is length(*_body)).
  `
  ALTER TABLE exchanges ADD COLUMN request_encoding TEXT;
  ALTER TABLE exchanges ADD COLUMN request_size INTEGER;
  ALTER TABLE exchanges ADD COLUMN response_encoding TEXT;
  ALTER TABLE exchanges ADD COLUMN response_size INTEGER;
  `,
  // 12: a device's current items as one set per device (store/item-sets.ts): JSON
  // [[name, index, value, status, updated], …], compressed like a body when that is smaller (encoding
  // 'deflate-raw', size = the JSON's bytes). A first read of 600 items is one row, not 600 B-tree inserts.
  `
  CREATE TABLE item_sets (
    mac      TEXT PRIMARY KEY REFERENCES devices(mac) ON DELETE CASCADE,
    items    BLOB NOT NULL,
    encoding TEXT,
    size     INTEGER NOT NULL
  );
  INSERT INTO item_sets (mac, items, encoding, size)
    SELECT mac, CAST(set_json AS BLOB), NULL, length(CAST(set_json AS BLOB)) FROM (
      SELECT mac, json_group_array(json_array(CAST(name AS TEXT), nullif(idx, -1), CAST(value AS TEXT), CAST(status AS TEXT), updated)) AS set_json
      FROM items GROUP BY mac);
  DROP TABLE items;
  `,
  // 13: jobs.rollout: the moment that names the job's rollout (store/rollout-rows.ts) when it is not
  // the job's own creation time — a bulk bootstrap's jobs are queued one by one over its run, and
  // name the moment the run started; NULL for every other job (jobs queued together share created).
  `
  ALTER TABLE jobs ADD COLUMN rollout INTEGER;
  `,
  // 14: how many exchanges the store holds, kept by triggers: count(*) reads a whole index (12 ms
  // at 1,000,000 exchanges, a quarter of a second from a file the OS has not cached), and the
  // status bar asks once a second while traffic flows. Triggers, not the service's memory: the
  // CLI beside a running service (purge) deletes exchanges too, in its own connection. Never
  // REPLACE into exchanges: SQLite deletes the old row without firing the delete trigger.
  `
  CREATE TABLE exchange_count (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
  INSERT INTO exchange_count (one, n) SELECT 1, count(*) FROM exchanges;
  CREATE TRIGGER exchange_count_insert AFTER INSERT ON exchanges BEGIN UPDATE exchange_count SET n = n + 1; END;
  CREATE TRIGGER exchange_count_delete AFTER DELETE ON exchanges BEGIN UPDATE exchange_count SET n = n - 1; END;
  `,
  // 15: exchange ids are never given twice. Without AUTOINCREMENT SQLite gives max(id) + 1, so a
  // purge that deleted the newest exchanges (all of them, after a quiet hour) started the ids again
  // at 1: live views following "after id N" saw nothing new, and links named other exchanges.
  // The highest id ever given is kept beside the count, and Store's insert asks for the next one.
  // (AUTOINCREMENT itself would mean rebuilding the table, bodies and all.)
  `
  ALTER TABLE exchange_count ADD COLUMN last_id INTEGER NOT NULL DEFAULT 0;
  UPDATE exchange_count SET last_id = coalesce((SELECT max(id) FROM exchanges), 0);
  DROP TRIGGER exchange_count_insert;
  CREATE TRIGGER exchange_count_insert AFTER INSERT ON exchanges BEGIN UPDATE exchange_count SET n = n + 1, last_id = max(last_id, NEW.id); END;
  `,
  // 16: interaction ids likewise. A purge that deleted every ended interaction (nothing open at the
  // time) started them again at 1, and the traffic view's interaction chain or a link to one named
  // another interaction.
  `
  CREATE TABLE interaction_count (one INTEGER PRIMARY KEY CHECK (one = 1), last_id INTEGER NOT NULL);
  INSERT INTO interaction_count (one, last_id) SELECT 1, coalesce(max(id), 0) FROM interactions;
  CREATE TRIGGER interaction_count_insert AFTER INSERT ON interactions BEGIN UPDATE interaction_count SET last_id = max(last_id, NEW.id); END;
  `,
  // 17: every job now claims the moment naming its rollout (store/rollout-rows.ts claimTime), which
  // looks up the moments taken: an index on the expression the queries use. Jobs queued before keep
  // theirs (rollout NULL: their creation time).
  `
  CREATE INDEX jobs_rollout ON jobs (coalesce(rollout, created), kind);
  `,
  // 18: credential headers stored before they were masked on the way in, masked, and their index
  // entries made again (store/credential-scrub.ts).
  scrubCredentialHeaders,
  // 19: the address a job was last sent to, kept with it. A Default-Mode message ends a bootstrap
  // (or confirms a reboot) only from there; it was looked up from the exchanges by time, which a
  // request from another host spanning the sending (its body trickled in) could take for its own.
  // (Each step may meet a database that has it already: tests set user_version back to replay one.)
  (db) => {
    const has = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info('jobs') WHERE name = 'sent_to'`).get() as { n: number }).n > 0;
    if (!has) db.exec(`ALTER TABLE jobs ADD COLUMN sent_to TEXT`);
  },
  // 20: the sendings a job's phone left unanswered, counted apart from its attempts: a phone that
  // answered busy five times had used up the cap of unanswered ones. A job still waiting counts as
  // unanswered what may have been: a queued one every sending (it was queued again for want of an
  // answer), a sent one all but the sending still out (judged when its interaction ends), a busy
  // one all but the last (the phone answered it).
  (db) => {
    const has = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info('jobs') WHERE name = 'unanswered'`).get() as { n: number }).n > 0;
    if (!has) db.exec(`ALTER TABLE jobs ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0`);
    db.exec(`UPDATE jobs SET unanswered = CASE state WHEN 'queued' THEN attempts ELSE max(attempts - 1, 0) END
      WHERE state IN ('queued', 'waiting-busy', 'sent') AND unanswered = 0`);
  },
  // 21: a busy reply is not an error: the phone is in a call, answered, and calls back when it ends
  // (manual p.74–75). "Errors only", the navigation's error count and an interaction's errors leave
  // it out; the status filter "busy" finds it. The partial index follows exchange-filter.ts.
  `
  DROP INDEX IF EXISTS exchanges_errors;
  CREATE INDEX exchanges_errors ON exchanges (id)
    WHERE (kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status = 'failed');
  `,
  // 22: items a phone refused in its reply to a write (statuses inside an "accepted" reply, manual
  // p.82–83; wpi/refused-items.ts) make the exchange an error: its job failed, and "errors only" showed
  // a green "accepted". Replies stored before are counted from their bodies: the accepted replies to
  // writes that list items (a phone lists only the items it refused, so most list none).
  (db) => {
    const has = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info('exchanges') WHERE name = 'refused_items'`).get() as { n: number }).n > 0;
    if (!has) db.exec(`ALTER TABLE exchanges ADD COLUMN refused_items INTEGER NOT NULL DEFAULT 0`);
    // Ids first, then one body at a time: the connection cannot write while it steps through a query.
    const ids = db.prepare(`SELECT id FROM exchanges WHERE reason = 'reply-to' AND reply_action = 'WriteItems' AND reply_status = 'accepted' AND item_count > 0`).pluck().all() as number[];
    const read = db.prepare(`SELECT id, request_body, request_encoding, request_size FROM exchanges WHERE id = ?`);
    const count = db.prepare(`UPDATE exchanges SET refused_items = ? WHERE id = ?`);
    for (const id of ids) {
      const r = read.get(id) as { id: number; request_body: Uint8Array | null; request_encoding: string | null; request_size: number | null };
      if (!r.request_body) continue;
      let refused = 0;
      try {
        refused = refusedItemCount(parseWorkpointMessage(unpackBody(r.request_body, r.request_encoding, r.request_size, `exchange ${r.id}'s request`)));
      } catch {
        continue; // stored as received, and the summary came from the same parse: it did not fail then
      }
      if (refused > 0) count.run(refused, r.id);
    }
    db.exec(`
      DROP INDEX IF EXISTS exchanges_errors;
      CREATE INDEX exchanges_errors ON exchanges (id)
        WHERE (kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status = 'failed' OR refused_items > 0);
    `);
  },
  // 23: the request line's HTTP version when it is not 1.1 (old firmware may send 1.0): the raw view,
  // the HAR export and "copy as curl" showed 1.1 for every request. Rows before: NULL, shown as 1.1.
  (db) => {
    const has = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info('exchanges') WHERE name = 'http_version'`).get() as { n: number }).n > 0;
    if (!has) db.exec(`ALTER TABLE exchanges ADD COLUMN http_version TEXT`);
  },
  // 24: the index entries of the exchanges indexed so far were made under older masking rules (SIP
  // URI passwords and URLs in attributes written with references were not masked): a search could
  // find such a password in them, a prefix at a time. Those rows, (done, through], are now checked
  // by masking them at query time, and the indexer makes their entries again, oldest first, once
  // it has caught up (search-index.ts). A later widening of the rules sets through to the mark again.
  (db) => {
    db.exec(`CREATE TABLE IF NOT EXISTS exchange_text_stale (done INTEGER NOT NULL, through INTEGER NOT NULL)`);
    db.exec(`DELETE FROM exchange_text_stale`);
    db.exec(`INSERT INTO exchange_text_stale (done, through) SELECT 0, indexed_through FROM exchange_text_progress`);
  },
  // 25: the masking rules widened again (a URL password typed with a blank in free text,
  // shared/url-secrets.ts passwordPastBlank): every entry indexed so far is made again, as in 24.
  `UPDATE exchange_text_stale SET done = 0, through = (SELECT indexed_through FROM exchange_text_progress)`,
  // 26: relay mode: the headers LocalDLS wrote to the upstream and those the upstream answered with,
  // as JSON pairs (the exchange's own headers are the phone's side). Rows before: NULL, not recorded.
  (db) => {
    const has = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info('upstream_exchanges') WHERE name = 'request_headers'`).get() as { n: number }).n > 0;
    if (!has) db.exec(`ALTER TABLE upstream_exchanges ADD COLUMN request_headers TEXT; ALTER TABLE upstream_exchanges ADD COLUMN response_headers TEXT;`);
  },
];

export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this LocalDLS understands (${MIGRATIONS.length}); use a newer LocalDLS or another --data-dir`,
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      const step = MIGRATIONS[version - 1]!;
      if (typeof step === 'function') step(db);
      else db.exec(step);
      db.pragma(`user_version = ${version}`);
    })();
  }
  // A migration that rebuilt a table left its old pages free: give them back (incremental auto-vacuum).
  if (current < MIGRATIONS.length && (db.pragma('freelist_count', { simple: true }) as number) > 0) db.pragma('incremental_vacuum');
  return MIGRATIONS.length;
}
