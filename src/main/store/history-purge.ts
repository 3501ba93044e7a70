/**
 * Retention for the item history: when `traffic purge` deletes exchanges, the item changes those
 * exchanges made go with them, so a device's timeline never shows a change whose exchange (and
 * ladder) no longer exists, and purged traffic leaves no values behind. Changes recorded without
 * an exchange go by age, like the exchanges. The write path (item-history.ts) is not involved.
 */
import type { Database } from 'better-sqlite3';

export interface HistoryPurge {
  /** Deletes at most `limit` rows, one statement (the caller's transaction); returns how many. */
  run(params: { cutoff: number; limit: number }): { changes: number };
}

/**
 * `lastExchangeId` is the newest exchange id before the purge began: an exchange the running
 * service records meanwhile (a higher id, with its item changes in the same transaction) is never
 * mistaken for a purged one.
 */
export function historyPurge(db: Database, lastExchangeId: number): HistoryPurge {
  const statement = db.prepare(`DELETE FROM item_changes WHERE id IN (SELECT c.id FROM item_changes c
    WHERE (c.exchange_id IS NULL AND c.at < @cutoff)
       OR (c.exchange_id <= @lastExchangeId AND NOT EXISTS (SELECT 1 FROM exchanges x WHERE x.id = c.exchange_id))
    ORDER BY c.id LIMIT @limit)`);
  return { run: ({ cutoff, limit }) => statement.run({ cutoff, limit, lastExchangeId }) };
}

