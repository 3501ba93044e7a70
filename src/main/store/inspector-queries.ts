/**
 * Read-only queries of the inspector's views: a device's interactions with their counts, its item
 * changes with the interaction they belong to, its contact-me attempts, and the ids a traffic
 * filter selects (for exports). Parameterised SQL only.
 */
import type { Database } from 'better-sqlite3';
import type { ExchangeFilter } from '../../shared/api';
import type { ExchangeSummary, Interaction, Job, ListenerKind } from '../../shared/model';
import { ERROR_EXCHANGE, matchingIds } from './exchange-filter';
import { SUMMARY_COLUMNS, toSummary, type ExchangeRow } from './exchange-rows';
import { listJobsNewest } from './job-queries';

export interface InteractionWithCounts extends Interaction {
  exchanges: number;
  errors: number;
}

export interface ItemChangeInContext {
  id: number;
  exchangeId: number | null;
  interactionId: number | null;
  at: number;
  name: string;
  index: number | null;
  oldValue: string | null;
  newValue: string | null;
}


export class InspectorQueries {
  constructor(private readonly db: Database) {}

  /** A device's interactions, newest first, with how many exchanges and errors each had. */
  interactionsOf(mac: string, limit: number): InteractionWithCounts[] {
    const rows = this.db
      .prepare(
        `SELECT i.*, (SELECT count(*) FROM exchanges x WHERE x.interaction_id = i.id) AS n,
           (SELECT count(*) FROM exchanges x WHERE x.interaction_id = i.id AND ${ERROR_EXCHANGE}) AS errors
         FROM interactions i WHERE i.mac = ? ORDER BY i.id DESC LIMIT ?`,
      )
      .all(mac, limit) as { id: number; mac: string | null; peer: string; listener: ListenerKind; reason: string | null; started: number; ended: number | null; end_reason: string | null; n: number; errors: number }[];
    return rows.map((r) => ({
      id: r.id, mac: r.mac, peer: r.peer, listener: r.listener, reason: r.reason, started: r.started, ended: r.ended, endReason: r.end_reason, exchanges: r.n, errors: r.errors,
    }));
  }

  /** The device's interactions just before and after `id`. */
  neighbours(mac: string, id: number): { previousId: number | null; nextId: number | null } {
    const prev = this.db.prepare(`SELECT max(id) AS id FROM interactions WHERE mac = ? AND id < ?`).get(mac, id) as { id: number | null };
    const next = this.db.prepare(`SELECT min(id) AS id FROM interactions WHERE mac = ? AND id > ?`).get(mac, id) as { id: number | null };
    return { previousId: prev.id, nextId: next.id };
  }

  /** A device's item changes, newest first, each with the interaction of the exchange that made it. */
  itemChangesOf(mac: string, limit: number): ItemChangeInContext[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.exchange_id, x.interaction_id, c.at, c.name, c.idx, c.old_value, c.new_value
         FROM item_changes c LEFT JOIN exchanges x ON x.id = c.exchange_id WHERE c.mac = ? ORDER BY c.id DESC LIMIT ?`,
      )
      .all(mac, limit) as { id: number; exchange_id: number | null; interaction_id: number | null; at: number; name: string; idx: number | null; old_value: string | null; new_value: string | null }[];
    return rows.map((r) => ({ id: r.id, exchangeId: r.exchange_id, interactionId: r.interaction_id, at: r.at, name: r.name, index: r.idx, oldValue: r.old_value, newValue: r.new_value }));
  }

  /** A device's exchanges outside interactions (contact-me, DCMP, refusals), newest first. */
  looseExchangesOf(mac: string, limit: number): ExchangeSummary[] {
    return (this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM exchanges WHERE mac = ? AND interaction_id IS NULL ORDER BY id DESC LIMIT ?`).all(mac, limit) as ExchangeRow[]).map(toSummary);
  }

  /** A device's newest jobs (unmasked: callers mask). */
  jobsOf(mac: string, limit: number): Job[] {
    return listJobsNewest(this.db, { mac, limit }).jobs;
  }

  /** The device's newest interaction that started at or after `since` (a job's ladder). */
  interactionSince(mac: string, since: number): number | null {
    const r = this.db.prepare(`SELECT id FROM interactions WHERE mac = ? AND started >= ? ORDER BY id DESC LIMIT 1`).get(mac, since) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** The device's exchange under way at `t` (a job's sent or finished time), with its interaction. */
  exchangeAt(mac: string, t: number): { id: number; interactionId: number | null; peerAddress: string } | null {
    const r = this.db.prepare(`SELECT id, interaction_id, peer_address FROM exchanges WHERE mac = ? AND started <= ? AND ended >= ? ORDER BY id DESC LIMIT 1`).get(mac, t, t) as
      | { id: number; interaction_id: number | null; peer_address: string }
      | undefined;
    return r ? { id: r.id, interactionId: r.interaction_id, peerAddress: r.peer_address } : null;
  }

  /** The ids a traffic filter selects, oldest first, at most `limit` (one more tells there are more). */
  exchangeIds(filter: ExchangeFilter, limit: number): number[] {
    return matchingIds(this.db, filter, limit);
  }
}
