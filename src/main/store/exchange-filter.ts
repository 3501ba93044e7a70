/**
 * Filtered, paged reads of the exchange list for the UIs: builds parameterised SQL from an
 * ExchangeFilter (never string-pastes a value). Read-only; lives here because nothing outside
 * src/main/store writes SQL.
 */
import type { Database } from 'better-sqlite3';
import type { ExchangeFilter, ExchangeList, ExchangePage } from '../../shared/api';
import { SUMMARY_COLUMNS, toSummary, type ExchangeRow } from './exchange-rows';

interface Where {
  clauses: string[];
  params: Record<string, unknown>;
}

/** LIKE pattern for "contains", with the pattern characters of the value escaped. */
function contains(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The WHERE clauses for a filter. Exported for tests; values only ever travel as parameters. */
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
    const s = f.status.toLowerCase();
    if (/^\d{3}$/.test(s)) {
      clauses.push('http_status = @httpStatus');
      params.httpStatus = Number(s);
    } else if (/^[1-5]xx$/.test(s)) {
      clauses.push('http_status BETWEEN @statusFrom AND @statusTo');
      params.statusFrom = Number(s[0]) * 100;
      params.statusTo = Number(s[0]) * 100 + 99;
    } else if (s === 'tls' || s === 'tls-failure') {
      clauses.push("kind = 'tls-failure'");
    } else {
      clauses.push('reply_status = @replyStatus COLLATE NOCASE');
      params.replyStatus = s;
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
  if (f.errorsOnly) {
    // Word for word the partial index exchanges_errors (migration 4): only then does SQLite use it.
    clauses.push("(kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status IN ('failed', 'busy'))");
  }
  if (f.interactionId !== undefined) {
    clauses.push('interaction_id = @interactionId');
    params.interactionId = f.interactionId;
  }
  if (f.text) {
    // Bodies: exact bytes (a BLOB needle makes instr() compare bytes). Summary fields: ASCII case-insensitive.
    params.textBytes = Buffer.from(f.text, 'utf8');
    params.textLike = contains(f.text);
    const like = ['mac', 'peer_address', 'reason', 'reply_action', 'action', 'error', 'warning', 'path', 'request_headers', 'response_headers']
      .map((c) => `${c} LIKE @textLike ESCAPE '\\'`)
      .join(' OR ');
    clauses.push(`(instr(request_body, @textBytes) > 0 OR instr(response_body, @textBytes) > 0 OR ${like})`);
  }
  return { clauses, params };
}

function whereSql(clauses: string[]): string {
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** One page of the exchanges matching a filter, oldest first, with optional counts. */
export function listExchanges(db: Database, filter: ExchangeFilter, page: ExchangePage): ExchangeList {
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
    // One synchronous run: no commit can land between these reads, so the three agree.
    matched = count(db, clauses, params);
    total = filter.sinceId === undefined ? count(db, [], {}) : count(db, ['id > @sinceId'], { sinceId: filter.sinceId });
    newestId = newestExchangeId(db);
  }
  return { exchanges: rows.map(toSummary), matched, total, newestId, hasOlder, hasNewer };
}

function count(db: Database, clauses: string[], params: Record<string, unknown>): number {
  return (db.prepare(`SELECT count(*) AS n FROM exchanges ${whereSql(clauses)}`).get(params) as { n: number }).n;
}

/** Exchanges matching a filter (no paging). */
export function countExchanges(db: Database, filter: ExchangeFilter): number {
  const { clauses, params } = filterClauses(filter);
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
