/**
 * Filtered, paged reads of the exchange list for the UIs: builds parameterised SQL from an
 * ExchangeFilter (never string-pastes a value). Read-only; lives here because nothing outside
 * src/main/store writes SQL.
 */
import type { Database } from 'better-sqlite3';
import type { ExchangeFilter, ExchangeList, ExchangePage } from '../../shared/api';
import { TEXT_TOO_SHORT } from '../../shared/free-text';
import { statusFilter } from '../../shared/status-filter';
import { SUMMARY_COLUMNS, toSummary, type ExchangeRow } from './exchange-rows';
import { trigramQuery } from './search-text';
import { staleRange } from './search-index';

interface Where {
  clauses: string[];
  params: Record<string, unknown>;
}

/** LIKE pattern for "contains", with the pattern characters of the value escaped. */
function contains(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * An exchange that is an error: a failed handshake, a refusal, HTTP >= 400, a failed reply (a busy
 * one is not: the phone answered, it is in a call), a reply that refused items of a write. Word for
 * word the partial index exchanges_errors (migration 22): only then does SQLite use it. Its column
 * names are unqualified: in a subquery of exchanges (store/inspector-queries.ts) they are the
 * exchange's, as no other table has them.
 */
export const ERROR_EXCHANGE = "(kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status = 'failed' OR refused_items > 0)";

/**
 * The WHERE clauses for a filter, free text apart (textSearch). Exported for tests; values only
 * ever travel as parameters.
 */
export function filterClauses(f: ExchangeFilter): Where {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.sinceId !== undefined) {
    clauses.push('id > @sinceId');
    params.sinceId = f.sinceId;
  }
  if (f.device) {
    const hex = f.device.replace(/[\s:.-]/g, '').toUpperCase();
    if (/^[0-9A-F]{12}$/.test(hex)) {
      // A whole MAC: exact match on the exchanges_mac index only (no address looks like a MAC; an
      // OR with the address would read every row).
      params.devMac = hex.replace(/(..)(?!$)/g, '$1:');
      clauses.push('mac = @devMac');
    } else if (/^[0-9A-F]+$/.test(hex)) {
      params.devRaw = contains(f.device);
      params.devHex = contains(hex);
      clauses.push('(replace(mac, \':\', \'\') LIKE @devHex ESCAPE \'\\\' OR peer_address LIKE @devRaw ESCAPE \'\\\')');
    } else {
      params.devRaw = contains(f.device);
      clauses.push('peer_address LIKE @devRaw ESCAPE \'\\\'');
    }
  }
  if (f.reason) {
    clauses.push('reason = @reason');
    params.reason = f.reason;
  }
  if (f.action) {
    clauses.push('action = @action');
    params.action = f.action;
  }
  if (f.status) {
    const s = statusFilter(f.status);
    if (s.kind === 'http') {
      clauses.push('http_status = @httpStatus');
      params.httpStatus = s.status;
    } else if (s.kind === 'http-class') {
      clauses.push('http_status BETWEEN @statusFrom AND @statusTo');
      params.statusFrom = s.from;
      params.statusTo = s.to;
    } else if (s.kind === 'tls-failure') {
      clauses.push("kind = 'tls-failure'");
    } else {
      clauses.push('reply_status = @replyStatus COLLATE NOCASE');
      params.replyStatus = s.status;
    }
  }
  if (f.listener) {
    clauses.push('listener = @listener');
    params.listener = f.listener;
  }
  if (f.kind) {
    clauses.push('kind = @kind');
    params.kind = f.kind;
  }
  if (f.errorsOnly) clauses.push(ERROR_EXCHANGE);
  if (f.interactionId !== undefined) {
    clauses.push('interaction_id = @interactionId');
    params.interactionId = f.interactionId;
  }
  return { clauses, params };
}

function whereSql(clauses: string[]): string {
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** One page of the exchanges matching a filter, oldest first, with optional counts. */
export function listExchanges(db: Database, filter: ExchangeFilter, page: ExchangePage): ExchangeList {
  // One read transaction: the rows, the counts and the newest id (with free text, also the index's
  // mark and the index) agree, whatever another process (the CLI) commits between the reads.
  return db.transaction(() => (filter.text ? listByText(db, filter, filter.text, page) : listByFilter(db, filter, page)))();
}

function listByFilter(db: Database, filter: ExchangeFilter, page: ExchangePage): ExchangeList {
  const { clauses, params } = filterClauses(filter);
  const limit = Math.min(Math.max(Math.trunc(page.limit), 1), 5000);
  const pageClauses = [...clauses];
  const pageParams: Record<string, unknown> = { ...params, limitPlusOne: limit + 1 };
  let rows: ExchangeRow[];
  let hasOlder = false;
  let hasNewer = false;
  if (page.afterId !== undefined) {
    pageClauses.push('id > @afterId');
    pageParams.afterId = page.afterId;
    rows = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM exchanges ${whereSql(pageClauses)} ORDER BY id ASC LIMIT @limitPlusOne`).all(pageParams) as ExchangeRow[];
    hasNewer = rows.length > limit;
    if (hasNewer) rows = rows.slice(0, limit);
  } else {
    if (page.beforeId !== undefined) {
      pageClauses.push('id < @beforeId');
      pageParams.beforeId = page.beforeId;
    }
    rows = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM exchanges ${whereSql(pageClauses)} ORDER BY id DESC LIMIT @limitPlusOne`).all(pageParams) as ExchangeRow[];
    hasOlder = rows.length > limit;
    rows = rows.slice(0, limit).reverse();
  }
  let matched: number | null = null;
  let total: number | null = null;
  let newestId: number | null = null;
  if (page.counts !== false) {
    matched = count(db, clauses, params);
    // Total: what the view holds (after a clear, only what came since). Without other filters it is
    // `matched` itself, counted once.
    const view = filter.sinceId === undefined ? { clauses: [], params: {} } : { clauses: ['id > @sinceId'], params: { sinceId: filter.sinceId } };
    total = clauses.length === view.clauses.length ? matched : count(db, view.clauses, view.params);
    newestId = newestExchangeId(db);
  }
  return { exchanges: rows.map(toSummary), matched, total, newestId, hasOlder, hasNewer };
}

function count(db: Database, clauses: string[], params: Record<string, unknown>): number {
  if (clauses.length === 0) return exchangeCount(db);
  return (db.prepare(`SELECT count(*) AS n FROM exchanges ${whereSql(clauses)}`).get(params) as { n: number }).n;
}

/** How many exchanges the store holds: kept by triggers (migration 14), not counted. */
export function exchangeCount(db: Database): number {
  return (db.prepare('SELECT n FROM exchange_count').get() as { n: number }).n;
}

/** Exchanges matching a filter (no paging); with free text, at most TEXT_COUNT_CAP. */
export function countExchanges(db: Database, filter: ExchangeFilter): number {
  const { clauses, params } = filterClauses(filter);
  if (filter.text) {
    return db.transaction(() => textCount(db, textSearch(db, filter.text!, clauses, params), { sql: [], params: {} }).n)();
  }
  return count(db, clauses, params);
}

/** The id of the newest exchange, 0 when there is none. */
export function newestExchangeId(db: Database): number {
  return (db.prepare('SELECT coalesce(max(id), 0) AS id FROM exchanges').get() as { id: number }).id;
}

/** How many devices the store knows. */
export function deviceCount(db: Database): number {
  return (db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n;
}

// --- free text ---------------------------------------------------------------------------------

/** Counting free-text matches stops here: every match is checked against its exchange's bodies. */
export const TEXT_COUNT_CAP = 500;
/**
 * Free-text pages going back hold at most this many rows (hasOlder says there are more): each row
 * is checked against its bodies (~0.05 ms), and the list loads older rows as it scrolls.
 */
export const TEXT_PAGE_MAX = 250;

/** LIKE pattern columns of free text: ASCII case-insensitive, as the list shows them. */
const LIKE_COLUMNS = ['mac', 'peer_address', 'reason', 'reply_action', 'action', 'error', 'warning', 'path', 'request_headers', 'response_headers'];

/**
 * Free text matches an exchange when its bodies as the view shows them (secrets masked) hold the
 * text, or one of its list fields does, ASCII letters in either case (search-text.ts finder). The exact check learns
 * from exchange_text_masked (joined as k) which ranges of an indexed body are shown unchanged: no
 * row there means nothing is masked; an exchange not indexed yet (NULL) is masked here, and so is
 * one indexed under older masking rules and not made again yet (@staleDone, @staleThrough:
 * search-index.ts staleRange).
 */
export function textClause(needleHasNul = false): string {
  // One call per body: Buffer.indexOf rejects most rows faster than instr() would.
  const side = (s: 'request' | 'response') =>
    `localdls_shown_contains(${s}_body, ${s}_encoding, ${s}_size, @textBytes, CASE WHEN exchanges.id <= @mark AND (exchanges.id <= @staleDone OR exchanges.id > @staleThrough) THEN coalesce(k.${s}, '') END)`;
  // SQLite reads a LIKE pattern up to a NUL: '%\0x%' would match every row. No list field holds one.
  const like = needleHasNul ? '0' : LIKE_COLUMNS.map((c) => `${c} LIKE @textLike ESCAPE '\\'`).join(' OR ');
  return `(${side('request')} OR ${side('response')} OR ${like})`;
}

interface TextSearch {
  /** The other filters' clauses (unqualified: exchanges' columns) and every parameter. */
  clauses: string[];
  params: Record<string, unknown>;
  /** FTS5 query. */
  fts: string;
  nul: boolean;
  /** The other filters select few rows: they drive the search of the indexed rows. */
  selective: boolean;
  /** Exchanges with ids up to here are in the index. */
  mark: number;
}

function textSearch(db: Database, text: string, clauses: string[], params: Record<string, unknown>): TextSearch {
  // The command layer refuses such text first (shared/schemas.ts), with the same words.
  const fts = trigramQuery(text);
  if (fts === null) throw new Error(`free text ${TEXT_TOO_SHORT}`);
  const mark = (db.prepare('SELECT indexed_through AS id FROM exchange_text_progress').get() as { id: number }).id;
  const stale = staleRange(db);
  return {
    clauses,
    params: { ...params, textBytes: Buffer.from(text, 'utf8'), textLike: contains(text), mark, staleDone: stale.done, staleThrough: stale.through },
    fts,
    selective: selective(db, clauses, params),
    nul: text.includes('\0'),
    mark,
  };
}

/** Whether filters besides free text (the view's sinceId apart) match at most SELECTIVE_FILTER_ROWS rows: counted on their index. */
function selective(db: Database, clauses: string[], params: Record<string, unknown>): boolean {
  const others = clauses.filter((c) => c !== 'id > @sinceId');
  // A partial MAC or an address (LIKE) has no index to count on: the trigram index drives.
  if (others.length === 0 || others.some((c) => c.includes(' LIKE '))) return false;
  const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM exchanges WHERE ${others.join(' AND ')} LIMIT ${SELECTIVE_FILTER_ROWS + 1})`;
  return (db.prepare(sql).get(params) as { n: number }).n <= SELECTIVE_FILTER_ROWS;
}

type Part = 'tail' | 'indexed' | 'filtered';

/**
 * Other filters matching at most this many rows drive the indexed part themselves (their index,
 * newest first), the trigram index only a set to test ids against: walking the index's candidates
 * instead would read the row of every candidate (a common word) to test the other filter.
 */
const SELECTIVE_FILTER_ROWS = 50_000;

/**
 * The SQL of one part of a free-text search, ordered by id, `limit` rows: `tail` the exchanges
 * newer than the index's mark (scanned, each checked), `indexed` the index's candidates up to the
 * mark, each checked (the index drives: newest candidates first, so a page stops early),
 * `filtered` the other filters' rows up to the mark, tested against the index's candidates.
 * Exported for the plan test.
 */
export function textPartSql(search: Pick<TextSearch, 'clauses' | 'nul'>, part: Part, select: string, order: 'ASC' | 'DESC', range: string[]): string {
  const where = [...search.clauses, ...range];
  const masked = 'LEFT JOIN exchange_text_masked k ON k.exchange_id = exchanges.id';
  if (part === 'indexed') {
    // Id ranges (page, sinceId) go to the index itself: it then starts where the page starts
    // instead of skipping every newer candidate.
    // FTS5 takes one upper bound: @indexedTop is the lower of the mark and the page's start.
    for (const [i, c] of where.entries()) where[i] = c.replace(/^id ([<>]=?) (@\w+)$/, 't.rowid $1 $2');
    where.push('t.rowid <= @indexedTop', textClause(search.nul));
    return `SELECT ${select} FROM exchange_text t CROSS JOIN exchanges ON exchanges.id = t.rowid ${masked}
      WHERE t.exchange_text MATCH @fts AND ${where.join(' AND ')} ORDER BY t.rowid ${order} LIMIT @partLimit`;
  }
  if (part === 'filtered') {
    // "+id": the IN list only tests ids, it must not become the loop (that would sort every candidate).
    where.push('id <= @mark', '+id IN (SELECT rowid FROM exchange_text WHERE exchange_text MATCH @fts)', textClause(search.nul));
  } else {
    where.push(...(part === 'tail' ? ['id > @mark'] : []), textClause(search.nul));
  }
  return `SELECT ${select} FROM exchanges ${masked} WHERE ${where.join(' AND ')} ORDER BY id ${order} LIMIT @partLimit`;
}

/** Runs the parts in id order until `limit` rows are found. */
function textRows<T>(db: Database, search: TextSearch, select: string, order: 'ASC' | 'DESC', range: { sql: string[]; params: Record<string, unknown> }, limit: number): T[] {
  const indexed = search.selective ? 'filtered' : 'indexed';
  const parts: Part[] = order === 'DESC' ? ['tail', indexed] : [indexed, 'tail'];
  const rows: T[] = [];
  for (const part of parts) {
    if (rows.length >= limit) break;
    if ((part === 'indexed' || part === 'filtered') && search.mark === 0) continue;
    const before = [range.params.beforeId, range.params.countBefore].find((v) => typeof v === 'number') as number | undefined;
    const indexedTop = before === undefined ? search.mark : Math.min(search.mark, before - 1);
    const params = { ...search.params, ...range.params, fts: search.fts, partLimit: limit - rows.length, indexedTop };
    rows.push(...(db.prepare(textPartSql(search, part, select, order, range.sql)).all(params) as T[]));
  }
  return rows;
}

function listByText(db: Database, filter: ExchangeFilter, text: string, page: ExchangePage): ExchangeList {
  const base = filterClauses(filter);
  const search = textSearch(db, text, base.clauses, base.params);
  const order = page.afterId !== undefined ? 'ASC' : 'DESC';
  const limit = Math.min(Math.max(Math.trunc(page.limit), 1), order === 'DESC' ? TEXT_PAGE_MAX : 5000);
  let range: { sql: string[]; params: Record<string, unknown> };
  if (page.afterId !== undefined) range = { sql: ['id > @afterId'], params: { afterId: page.afterId } };
  else if (page.beforeId !== undefined) range = { sql: ['id < @beforeId'], params: { beforeId: page.beforeId } };
  else range = { sql: [], params: {} };
  let rows = textRows<ExchangeRow>(db, search, SUMMARY_COLUMNS, order, range, limit + 1);
  const more = rows.length > limit;
  rows = rows.slice(0, limit);
  if (order === 'DESC') rows.reverse();
  let matched: number | null = null;
  let matchedAtLeast = false;
  let total: number | null = null;
  let newestId: number | null = null;
  if (page.counts !== false) {
    const newestPage = page.afterId === undefined && page.beforeId === undefined;
    if (newestPage && !more) matched = rows.length;
    else if (newestPage) {
      // The rows of this page are matches already: count on from the oldest of them, not twice.
      const counted = textCount(db, search, { sql: ['id < @countBefore'], params: { countBefore: rows[0]!.id } }, TEXT_COUNT_CAP - rows.length);
      matched = rows.length + counted.n;
      matchedAtLeast = counted.atLeast;
    } else {
      const counted = textCount(db, search, { sql: [], params: {} });
      matched = counted.n;
      matchedAtLeast = counted.atLeast;
    }
    total = filter.sinceId === undefined ? count(db, [], {}) : count(db, ['id > @sinceId'], { sinceId: filter.sinceId });
    newestId = newestExchangeId(db);
  }
  return {
    exchanges: rows.map(toSummary), matched, total, newestId,
    hasOlder: order === 'DESC' && more, hasNewer: order === 'ASC' && more,
    ...(matchedAtLeast ? { matchedAtLeast } : {}),
  };
}

/** The ids a filter selects, newest `limit`, oldest first (exports by filter). */
export function matchingIds(db: Database, filter: ExchangeFilter, limit: number): number[] {
  const { clauses, params } = filterClauses(filter);
  if (!filter.text) {
    const sql = `SELECT id FROM exchanges ${whereSql(clauses)} ORDER BY id DESC LIMIT @limit`;
    return (db.prepare(sql).all({ ...params, limit }) as { id: number }[]).map((r) => r.id).reverse();
  }
  return db.transaction(() => {
    const search = textSearch(db, filter.text!, clauses, params);
    return textRows<{ id: number }>(db, search, 'exchanges.id AS id', 'DESC', { sql: [], params: {} }, limit).map((r) => r.id).reverse();
  })();
}

/** Matches of a free-text search, counted up to TEXT_COUNT_CAP (then `atLeast`). */
function textCount(db: Database, search: TextSearch, range: { sql: string[]; params: Record<string, unknown> }, cap = TEXT_COUNT_CAP): { n: number; atLeast: boolean } {
  const found = cap <= 0 ? 1 : textRows<{ one: number }>(db, search, '1 AS one', 'DESC', range, cap + 1).length;
  return { n: Math.min(found, Math.max(cap, 0)), atLeast: found > cap };
}
