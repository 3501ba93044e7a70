/**
 * The recorded traffic: the filtered list, one exchange in detail, revealing one secret item,
 * exports (JSON, HAR; secrets masked), the recent list the CLI prints and follows, and purging
 * old exchanges.
 */
import * as v from 'valibot';
import { ApiError, type ExchangeDetail, type ExchangeList, type ExportResult } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { Exchange, ExchangeSummary } from '../../shared/model';
import { Id, Mac } from '../../shared/schemas';
import { isLegacyProtocol } from '../net/tls-profile';
import type { PurgeResult } from '../store';
import type { CommandContext } from './context';
import { defineCommand } from './define';
import { isNotStored, messageView, notStoredError, parsedItems, toHar, toJsonExport } from './traffic-views';

export { VIEW_TEXT_LIMIT } from './traffic-views';

/** Largest export produced in one call. */
export const EXPORT_LIMIT = 64 * 1024 * 1024;
const CHAIN_LIMIT = 500;

function exchangeOrThrow(ctx: CommandContext, id: number): Exchange {
  const x = ctx.store.exchange(id);
  if (!x) throw new ApiError('not-found', `no exchange ${id}: it may have been purged by retention; list the ids there are with localdls traffic list (or the Traffic view)`, [{ key: 'noExchange', params: { id } }]);
  return x;
}

export const listExchanges = defineCommand('listExchanges', API_ARGS.listExchanges, (ctx, filter, page): ExchangeList => ctx.store.listExchanges(filter, page));

export const getExchange = defineCommand('getExchange', API_ARGS.getExchange, (ctx, id): ExchangeDetail => {
  const x = exchangeOrThrow(ctx, id);
  const { requestHeaders: _a, requestBody: _b, responseHeaders: _c, responseBody: _d, ...summary } = x;
  const interaction = x.interactionId === null ? null : (ctx.store.interaction(x.interactionId) ?? null);
  const chain = x.interactionId === null ? [] : ctx.store.exchanges({ interactionId: x.interactionId, newestFirst: false, limit: CHAIN_LIMIT });
  return {
    summary,
    request: messageView(x, 'request'),
    response: messageView(x, 'response'),
    tls: { protocol: x.tlsProtocol, cipher: x.tlsCipher, legacy: isLegacyProtocol(x.tlsProtocol), clientCertificate: x.clientCertificate ?? null },
    upstream: ctx.store.relay.of(id) ?? null,
    interaction,
    chain,
  };
});

export const revealExchangeItem = defineCommand('revealExchangeItem', API_ARGS.revealExchangeItem, (ctx, id, side, position): string => {
  const item = parsedItems(exchangeOrThrow(ctx, id), side).items[position];
  if (!item) throw new ApiError('not-found', `exchange ${id} has no ${side} item at position ${position}: positions count from 0 in the order the message lists its items`);
  if (isNotStored(item.name, item.value)) throw notStoredError(`exchange ${id}`, item.name);
  return item.value;
});

export const exportExchanges = defineCommand('exportExchanges', API_ARGS.exportExchanges, (ctx, ids, format): ExportResult => exportOf(ctx, ids, format));

/** Most exchanges one filtered export takes (the newest ones); the body limit applies as well. */
export const EXPORT_FILTER_LIMIT = 100_000;

/**
 * Every exchange a filter selects, as HAR or JSON: the same filter as the traffic list (UI) and
 * `traffic list` (CLI), its `limit` the newest that many. Refuses a selection over the limits
 * rather than cut it silently.
 */
export const exportTraffic = defineCommand('exportTraffic', API_ARGS.exportTraffic, (ctx, filter, format): ExportResult => {
  const ids = ctx.store.inspector.exchangeIds(filter, EXPORT_FILTER_LIMIT + 1);
  if (ids.length > EXPORT_FILTER_LIMIT) throw new ApiError('too-large', `the filter selects over ${EXPORT_FILTER_LIMIT} exchanges: narrow it (device, time, status) and export in parts`);
  return exportOf(ctx, ids, format);
});

function exportOf(ctx: CommandContext, ids: readonly number[], format: 'har' | 'json'): ExportResult {
  const exchanges: Exchange[] = [];
  let size = 0;
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const x = exchangeOrThrow(ctx, id);
    size += x.requestBody.length + x.responseBody.length;
    if (size > EXPORT_LIMIT) throw new ApiError('too-large', `the selection is over ${EXPORT_LIMIT / 1024 / 1024} MB of message bodies: export fewer exchanges at a time`);
    exchanges.push(x);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const upstreamOf = (id: number) => ctx.store.relay.of(id);
  const content = format === 'har' ? JSON.stringify(toHar(exchanges, upstreamOf), null, 2) : JSON.stringify(toJsonExport(exchanges, upstreamOf), null, 2);
  return { filename: `localdls-exchanges-${stamp}.${format}`, mimeType: 'application/json', content, count: exchanges.length, tlsFailures: exchanges.filter((x) => x.kind === 'tls-failure').length };
}

export const clearView = defineCommand('clearView', API_ARGS.clearView, (ctx): { throughId: number } => ({ throughId: ctx.store.newestExchangeId() }));

const RecentQuery = v.strictObject({
  mac: v.optional(Mac),
  limit: v.optional(v.pipe(Id, v.minValue(1, 'must be a whole number from 1 to 10000'), v.maxValue(10_000, 'must be a whole number from 1 to 10000'))),
  afterId: v.optional(Id),
});

/** The newest exchanges oldest first (default 50), or with afterId those after it. */
export const recentTraffic = defineCommand('recentTraffic', [['query', RecentQuery]], (ctx, q): ExchangeSummary[] => {
  if (q.afterId !== undefined) return ctx.store.exchanges({ ...(q.mac ? { mac: q.mac } : {}), afterId: q.afterId, newestFirst: false, limit: q.limit ?? 1000 });
  return ctx.store.exchanges({ ...(q.mac ? { mac: q.mac } : {}), limit: q.limit ?? 50 }).reverse();
});

/** Deletes exchanges older than `before` (ms) in small batches, so a running service goes on. */
export const purgeTraffic = defineCommand('purgeTraffic', [['before', Id]], (ctx, before): Promise<PurgeResult> => ctx.store.purgeOlderThan(before));
