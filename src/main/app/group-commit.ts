/**
 * Group commit (issue #14): exchanges decided close together are committed in one SQLite
 * transaction (one fsync), and each answer is sent only once its exchange is durable, as with one
 * transaction per exchange. A batch ends when it is full, when no other request is waiting, or a
 * few milliseconds after it began (GroupCommitOptions); on a quiet line it is one exchange and
 * waits for nothing.
 *
 * The engine decides from its memory and the store, and an exchange changes both only once it is
 * committed. So two exchanges that read the same state (one phone's session or device) are never
 * decided side by side: the second waits for the first's commit and is decided afresh after it.
 */
import type { Store } from '../store';
import type { HandshakeFailure, RequestHandler, WpiRequest, WpiResponse } from '../net/wpi-listener';
import type { WorkpointMessage } from '../wpi';
import type { ExchangeHandler, PreparedExchange } from './exchange-handler';

/**
 * A batch is committed at once when it reaches this size: each decided exchange holds its bodies
 * and parsed items until it is committed, and one turn of a 200-phone storm can decide a hundred.
 * Past a few dozen the shared fsync saves little more.
 */
export const MAX_BATCH = 32;
/**
 * ... and when the items it writes reach this many: a phone's first complete read writes 300–600
 * item rows, and the commit of a batch runs in one turn of the event loop, which must stay short
 * (issue #18: the loop never held for more than 50 ms). A few first reads, or dozens of short
 * exchanges, per batch.
 */
export const MAX_BATCH_ITEMS = 1000;
/** How long the first exchange of a batch may wait for others (its answer waits with it). */
export const MAX_WAIT_MS = 8;

export interface GroupCommitOptions {
  /**
   * How many requests are waiting for their turn (net/turns.ts: the service decides one message
   * per turn of the event loop). Given, a batch grows over turns: it is committed when it is full,
   * when no request is waiting, or MAX_WAIT_MS after its first exchange (with one message decided per turn, a few fit in that time). Not given, a batch is
   * what one turn decided, committed at its end.
   */
  waiting?: () => number;
  /** MAX_WAIT_MS unless given. */
  maxWaitMs?: number;
}

interface Waiter {
  resolve: (response: WpiResponse) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit implements RequestHandler {
  private batch: { prepared: PreparedExchange; waiter: Waiter }[] = [];
  /** The keys (session, device) of the exchanges in `batch`. */
  private readonly busy = new Set<string>();
  /**
   * Requests that named a busy key: decided again after the batch is committed. `keys` are those
   * of their last decision: one still busy defers them again without deciding (parsing) them again,
   * so a storm of one phone's messages costs each one two decisions, not one per commit before it.
   */
  private deferred: { request: WpiRequest; waiter: Waiter; keys: readonly string[] }[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private committing = false;
  /** Item rows the batch writes at most (MAX_BATCH_ITEMS). */
  private batchItems = 0;
  /** Largest batch so far (diagnostics, benchmarks). */
  largestBatch = 0;

  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly handler: ExchangeHandler,
    private readonly store: Store,
    private readonly options: GroupCommitOptions = {},
  ) {}

  exchange(request: WpiRequest): Promise<WpiResponse> {
    return new Promise((resolve, reject) => this.take(request, { resolve, reject }));
  }

  /** Refusals by the listener (too large, too slow) are rare: committed at once. */
  refused(request: WpiRequest, status: number, reason: string, message?: WorkpointMessage): WpiResponse {
    return this.handler.refused(request, status, reason, message);
  }

  handshakeFailed(failure: HandshakeFailure): void {
    this.handler.handshakeFailed(failure);
  }

  /** Commits what is decided now (before the session sweep, and the service's stop before the store closes). */
  flush(): void {
    this.commitBatches();
  }

  private take(request: WpiRequest, waiter: Waiter, lastKeys?: readonly string[]): void {
    if (lastKeys?.some((k) => this.busy.has(k))) {
      this.deferred.push({ request, waiter, keys: lastKeys });
      return;
    }
    let prepared: PreparedExchange;
    try {
      prepared = this.handler.prepare(request);
    } catch (err) {
      waiter.reject(err);
      return;
    }
    if (prepared.keys.some((k) => this.busy.has(k))) {
      this.deferred.push({ request, waiter, keys: prepared.keys });
    } else {
      for (const k of prepared.keys) this.busy.add(k);
      this.batch.push({ prepared, waiter });
      this.batchItems += (prepared.changes.replaceItems?.length ?? 0) + (prepared.changes.mergeItems?.length ?? 0);
    }
    if (this.committing) return;
    const waiting = this.options.waiting;
    if (this.batch.length >= MAX_BATCH || this.batchItems >= MAX_BATCH_ITEMS || (waiting && waiting() === 0)) {
      this.commitBatches();
    } else if (waiting) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.commitBatches();
      }, this.options.maxWaitMs ?? MAX_WAIT_MS);
    } else {
      this.scheduled ??= setImmediate(() => {
        this.scheduled = null;
        this.commitBatches();
      });
    }
  }

  /**
   * Commits the batch, then decides the deferred requests and commits them too, until none is
   * left: a request is never left decided but uncommitted across a turn of the event loop (a
   * timer, such as the session sweep, could otherwise change what it was decided from).
   */
  private commitBatches(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.timer) clearTimeout(this.timer);
    this.scheduled = null;
    this.timer = null;
    this.committing = true;
    try {
      while (this.batch.length > 0) {
        const batch = this.batch;
        this.batch = [];
        this.batchItems = 0;
        this.busy.clear();
        this.largestBatch = Math.max(this.largestBatch, batch.length);
        const results = this.store.commitGroup(batch.map((b) => b.prepared));
        batch.forEach(({ prepared, waiter }, i) => {
          const result = results[i]!;
          if (result instanceof Error) return waiter.reject(result);
          try {
            waiter.resolve(this.handler.finish(prepared, result));
          } catch (err) {
            waiter.reject(err);
          }
        });
        const deferred = this.deferred;
        this.deferred = [];
        for (const d of deferred) this.take(d.request, d.waiter, d.keys);
      }
    } finally {
      this.committing = false;
    }
  }
}
