/**
 * Keeps the free-text index (migration 10, table exchange_text) up to date, off the request path:
 * exchanges are committed without it, and a background loop on the same connection indexes them
 * afterwards in slices of a few milliseconds, oldest first, moving a mark (indexed_through) in the
 * same transaction. A search uses the index up to the mark and scans the few newer rows, so it
 * never misses an exchange however far behind the index is (exchange-filter.ts).
 *
 * Why slices on the main thread rather than a worker: indexing costs ~0.3 ms of CPU per exchange
 * when batched (masking the bodies and tokenizing them); a worker would run it on the second core
 * but spend the same CPU, and while phones keep the event loop busy the loop waits instead
 * (unless searches would have more than 5000 exchanges to scan), catching up once they are
 * answered. See bench/store-bench.ts.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Database, Statement } from 'better-sqlite3';
import { indexedBody, shownContains, summaryText, SUMMARY_FIELDS } from './search-text';
import { unpackBody } from './body-codec';
import { receivedBody, type StoredBodies } from './exchange-rows';

/** Longest a slice holds the event loop. */
const SLICE_MS = 5;
/** While the service is busy, the loop only looks this often whether it still is. */
const BUSY_PAUSE_MS = 250;
/** Share of the event loop other work (phones, the UI) may use before the loop waits. */
const BUSY_UTILIZATION = 0.25;
/** Unindexed exchanges beyond which the loop indexes even while phones are answered (searches scan them). */
const MAX_BEHIND_WHEN_BUSY = 5000;
const CAUGHT_UP_POLL_MS = 500;
/**
 * Index pages merged per slice (at least one per exchange indexed): ~2 ms of work, enough to keep
 * the segments few, which keeps searches and a purge's deletes cheap (measured: 10× slower deletes
 * with FTS5's own automerge).
 */
const MERGE_PAGES = 16;
const RETRY_MS = 5000;

type SourceRow = Record<(typeof SUMMARY_FIELDS)[number], string | null> & StoredBodies;

/**
 * The exchanges indexed under older masking rules whose entries are not made again yet: ids in
 * (done, through] (migration 24). A search masks them at query time meanwhile (exchange-filter.ts
 * textClause). None on a store opened read-only before that migration.
 */
export function staleRange(db: Database): { done: number; through: number } {
  const range = hasStaleTable(db) ? (db.prepare('SELECT done, through FROM exchange_text_stale').get() as { done: number; through: number } | undefined) : undefined;
  return range ?? { done: 0, through: 0 };
}

const hasStaleTable = (db: Database): boolean => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exchange_text_stale'`).get() !== undefined;

export class SearchIndex {
  private readonly st: Record<'mark' | 'setMark' | 'next' | 'insert' | 'masked' | 'merge' | 'newest', Statement>;
  /** Making the entries of stale rows again (staleRange); null without the table, or read-only. */
  private readonly remaking: Record<'range' | 'next' | 'unindex' | 'unmask' | 'setDone', Statement> | null;
  private timer: NodeJS.Timeout | null = null;
  /** The current measuring window: its start, the event loop's use then, and the loop's own share. */
  private window: { at: number; elu: EventLoopUtilization; ownMs: number } = { at: 0, elu: performance.eventLoopUtilization(), ownMs: 0 };
  private busy = false;
  /** The last error of the background loop (it retries); null while all is well. */
  lastError: Error | null = null;

  /** The connection's own settings, restored after each slice. */
  private readonly synchronous: number;
  private readonly busyTimeout: number;

  constructor(
    private readonly db: Database,
    readonly: boolean,
  ) {
    this.synchronous = db.pragma('synchronous', { simple: true }) as number;
    this.busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
    // The exact check of a candidate row (search-text.ts). Deterministic: the bodies never change.
    db.function('localdls_shown_contains', { deterministic: true }, (body: unknown, encoding: unknown, size: unknown, needle: unknown, kept: unknown) =>
      Buffer.isBuffer(body) && Buffer.isBuffer(needle)
        ? Number(shownContains(unpackBody(body, encoding as string | null, size as number | null, 'a body'), needle, typeof kept === 'string' ? kept : null))
        : 0,
    );
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      mark: p('SELECT indexed_through AS id FROM exchange_text_progress'),
      newest: p('SELECT coalesce(max(id), 0) AS id FROM exchanges'),
      ...(readonly
        ? ({} as Record<'setMark' | 'next' | 'insert' | 'masked' | 'merge', Statement>)
        : {
            setMark: p('UPDATE exchange_text_progress SET indexed_through = ?'),
            next: p(`SELECT id, request_body, request_encoding, request_size, response_body, response_encoding, response_size, ${SUMMARY_FIELDS.join(', ')} FROM exchanges WHERE id > ? ORDER BY id LIMIT 8`),
            insert: p(`INSERT INTO exchange_text (rowid, request, response, summary) VALUES (@id, @request, @response, @summary)`),
            masked: p(`INSERT OR REPLACE INTO exchange_text_masked (exchange_id, request, response) VALUES (@id, @request, @response)`),
            merge: p(`INSERT INTO exchange_text (exchange_text, rank) VALUES ('merge', ?)`),
          }),
    };
    this.remaking = readonly || !hasStaleTable(db)
      ? null
      : {
          range: p('SELECT done, through FROM exchange_text_stale'),
          next: p(`SELECT id, request_body, request_encoding, request_size, response_body, response_encoding, response_size, ${SUMMARY_FIELDS.join(', ')} FROM exchanges WHERE id > ? AND id <= ? ORDER BY id LIMIT 8`),
          unindex: p('DELETE FROM exchange_text WHERE rowid = ?'),
          unmask: p('DELETE FROM exchange_text_masked WHERE exchange_id = ?'),
          setDone: p('UPDATE exchange_text_stale SET done = ?'),
        };
  }

  /** Whether stale rows wait for their entries to be made again. */
  private staleLeft(): boolean {
    const range = this.remaking?.range.get() as { done: number; through: number } | undefined;
    return range !== undefined && range.done < range.through;
  }

  /** Every exchange with an id up to this one is in the index. */
  indexedThrough(): number {
    return (this.st.mark.get() as { id: number }).id;
  }

  /** Exchanges not indexed yet (counting ids, so purged gaps count too: an upper bound). */
  behind(): number {
    return Math.max(0, (this.st.newest.get() as { id: number }).id - this.indexedThrough());
  }

  /**
   * Indexes the exchanges after the mark, oldest first, for about `budgetMs` (at least one), in one
   * write transaction. Returns how many it indexed.
   */
  indexSome(budgetMs = SLICE_MS): number {
    // Derived data: a slice need not be on disk before the next commit that is (synchronous FULL
    // writes the whole WAL up to it). And a slice never waits for another process's write lock on
    // the service's event loop: it tries again on the next tick.
    const own = !this.db.inTransaction;
    if (own) {
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 0');
    }
    try {
      return this.slice(budgetMs);
    } finally {
      if (own) {
        this.db.pragma(`synchronous = ${this.synchronous}`);
        this.db.pragma(`busy_timeout = ${this.busyTimeout}`);
      }
    }
  }

  private slice(budgetMs: number): number {
    return this.db
      .transaction((): number => {
        // Read inside the write transaction: two processes indexing at once take turns, never twice.
        let last = this.indexedThrough();
        const deadline = performance.now() + budgetMs;
        let n = 0;
        for (;;) {
          const rows = this.st.next.all(last) as SourceRow[];
          if (rows.length === 0) break;
          for (const r of rows) {
            this.index(r);
            last = r.id;
            n++;
            if (performance.now() >= deadline) break;
          }
          if (performance.now() >= deadline) break;
        }
        if (n > 0) this.st.setMark.run(last);
        // New rows first: the stale ones are searched correctly meanwhile, only more slowly.
        const remade = performance.now() < deadline ? this.remake(deadline) : 0;
        // Merge the index's segments a bounded step at a time (automerge is off: it would merge
        // whole levels at once, a stall of hundreds of ms on a large index).
        if (n + remade > 0) this.st.merge.run(Math.max(MERGE_PAGES, n + remade));
        return n + remade;
      })
      .immediate();
  }

  private index(r: SourceRow): void {
    const request = indexedBody(receivedBody(r, 'request'));
    const response = indexedBody(receivedBody(r, 'response'));
    this.st.insert.run({ id: r.id, request: request.text, response: response.text, summary: summaryText(r) });
    if (request.kept !== '' || response.kept !== '') {
      this.st.masked.run({ id: r.id, request: request.kept ?? '*', response: response.kept ?? '*' });
    }
  }

  /** Makes the entries of stale rows again, oldest first, until `deadline`; returns how many. */
  private remake(deadline: number): number {
    const range = this.remaking?.range.get() as { done: number; through: number } | undefined;
    if (!this.remaking || !range || range.done >= range.through) return 0;
    const { done, through } = range;
    let last = done;
    let n = 0;
    for (;;) {
      const rows = this.remaking.next.all(last, through) as SourceRow[];
      if (rows.length === 0) {
        last = through;
        break;
      }
      for (const r of rows) {
        this.remaking.unindex.run(r.id);
        this.remaking.unmask.run(r.id);
        this.index(r);
        last = r.id;
        n++;
        if (performance.now() >= deadline) break;
      }
      if (performance.now() >= deadline) break;
    }
    this.remaking.setDone.run(last);
    return n;
  }

  /** Indexes everything there is now (tests, benchmarks, an idle moment); returns how many. */
  catchUp(): number {
    let total = 0;
    for (let n = this.indexSome(50); n > 0; n = this.indexSome(50)) total += n;
    return total;
  }

  /** The background loop: timers that do not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.window = { at: performance.now(), elu: performance.eventLoopUtilization(), ownMs: 0 };
    this.schedule(0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.db.open) return;
    try {
      const now = performance.now();
      const newest = (this.st.newest.get() as { id: number }).id;
      if (now - this.window.at >= BUSY_PAUSE_MS) {
        // How much of the last quarter second the event loop worked for others: a storm of phones
        // keeps it busy (even at tens a second on a loaded machine), a trickle does not.
        const others = performance.eventLoopUtilization(this.window.elu).active - this.window.ownMs;
        this.busy = others / (now - this.window.at) > BUSY_UTILIZATION;
        this.window = { at: now, elu: performance.eventLoopUtilization(), ownMs: 0 };
      }
      const behind = newest - this.indexedThrough();
      if (behind <= 0 && !this.staleLeft()) return this.schedule(CAUGHT_UP_POLL_MS);
      // Phones keep the service busy: their CPU, not the index's, unless searches would scan too much.
      if (this.busy && behind < MAX_BEHIND_WHEN_BUSY) return this.schedule(BUSY_PAUSE_MS);
      const started = performance.now();
      this.indexSome(SLICE_MS);
      this.window.ownMs += performance.now() - started;
      this.lastError = null;
      // Between slices the event loop runs whatever waits (phones first).
      this.schedule(1);
    } catch (e) {
      // Searches stay correct meanwhile (they scan what is not indexed). Another process writing
      // (a purge): again shortly; anything else (a full disk): again later.
      const busy = (e as { code?: unknown }).code === 'SQLITE_BUSY';
      if (!busy) this.lastError = e instanceof Error ? e : new Error(String(e));
      if (this.db.open) this.schedule(busy ? BUSY_PAUSE_MS : RETRY_MS);
    }
  }
}
