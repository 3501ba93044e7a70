/**
 * The traffic list's state: the rows shown, kept in step with the service. Live batches are
 * queued and applied once per animation frame (with a timer as a floor, for hidden windows), so a
 * burst of phones costs one render, not hundreds. With a filter, new rows are fetched from the
 * service (it owns the filter, including free text over bodies) instead of re-filtered here.
 * Pausing holds the list still; resuming catches up from the store, so nothing is lost.
 *
 * A (re)load asks first for a screenful of the newest rows without counts, so they are painted at
 * once; then, in that order, newer rows (catch-up), the counts (free text counts by checking
 * matches against bodies, the slow part) and the rest of the page further back.
 */
import type { ExchangeFilter, LocalDlsApi } from '../../../shared/api';
import type { ExchangeSummary } from '../../../shared/model';
import { errorText } from '../lib/api-error';

export interface FeedState {
  /** Oldest first. */
  rows: ExchangeSummary[];
  filter: ExchangeFilter;
  /** Exchanges matching the filter (since the view was cleared). */
  matched: number;
  /** `matched` is a lower bound: free text counts its matches only so far ("2,000+"). */
  matchedAtLeast: boolean;
  /** All exchanges since the view was cleared. */
  total: number;
  paused: boolean;
  /** Exchanges that arrived while paused. */
  waiting: number;
  loading: boolean;
  /** The rows are shown, their counts are still on the way (`matched`/`total` are the old ones). */
  counting: boolean;
  hasOlder: boolean;
  /** The list holds as many rows as it keeps while read (twice maxRows): "Load older" stops there. */
  full: boolean;
  error: string | null;
  /** "Clear" hides what came before: when, and how many exchanges it hides (null: nothing hidden). */
  cleared: { at: number; hidden: number } | null;
}

export interface FeedOptions {
  pageSize?: number;
  /** Rows of the first answer of a (re)load: more than a tall window shows; the rest follows. */
  firstPageSize?: number;
  /**
   * Oldest rows are let go past this many (loadOlder brings them back); while the user reads rows
   * away from the live end (setReading), only past twice as many.
   */
  maxRows?: number;
  /** Schedules a flush; returns a cancel function. Default: next animation frame or 500 ms. */
  schedule?: (run: () => void) => () => void;
}

function frameOrTimer(run: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(raf);
    clearTimeout(timer);
    run();
  };
  // Whichever comes first: frames are fast when visible; the timer keeps a floor when they are throttled.
  const raf = requestAnimationFrame(once);
  const timer = setTimeout(once, 500);
  return () => {
    done = true;
    cancelAnimationFrame(raf);
    clearTimeout(timer);
  };
}

/** True when the filter selects everything (then live rows need no trip to the service). */
export function isUnfiltered(f: ExchangeFilter): boolean {
  return Object.entries(f).every(([k, v]) => k === 'sinceId' || v === undefined || v === '' || v === false);
}

export class TrafficFeed {
  private state: FeedState = { rows: [], filter: {}, matched: 0, matchedAtLeast: false, total: 0, paused: false, waiting: 0, loading: false, counting: false, hasOlder: false, full: false, error: null, cleared: null };
  private readonly subscribers = new Set<() => void>();
  private queue: ExchangeSummary[] = [];
  private cancelFlush: (() => void) | null = null;
  private off: (() => void) | null = null;
  /** Newest id counted in `total`. */
  private countedThrough = 0;
  private generation = 0;
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  /** Rows with ids up to here are in `matched`. */
  private matchedThrough = 0;
  /** Ids counted live in `total` while this load's counts are on the way: those come as of their newestId. */
  private liveIds: number[] = [];
  /** The rest of the first page, further back, while it is on the way (loadOlder waits for it). */
  private filling: Promise<void> | null = null;
  private readonly pageSize: number;
  private readonly firstPageSize: number;
  private readonly maxRows: number;
  /** Rows kept while the user reads away from the live end (setReading): "Load older" stops there too. */
  private readonly readingMaxRows: number;
  private readonly schedule: (run: () => void) => () => void;
  /** The user is away from the live end (scrolled up, sorted): the rows they read are kept. */
  private reading = false;

  constructor(
    private readonly api: LocalDlsApi,
    options: FeedOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 2000;
    this.firstPageSize = Math.min(options.firstPageSize ?? 200, this.pageSize);
    this.maxRows = options.maxRows ?? 20_000;
    this.readingMaxRows = 2 * this.maxRows;
    this.schedule = options.schedule ?? frameOrTimer;
  }

  getState = (): FeedState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  };

  private set(patch: Partial<FeedState>): void {
    this.state = { ...this.state, ...patch };
    this.state.full = this.state.rows.length >= this.readingMaxRows;
    for (const s of this.subscribers) s();
  }

  start(): void {
    if (this.off) return;
    this.off = this.api.onExchanges((batch) => this.receive(batch));
    void this.reload();
  }

  stop(): void {
    this.off?.();
    this.off = null;
    this.cancelFlush?.();
    this.cancelFlush = null;
  }

  /**
   * A new filter; the clear mark stays, unless `showCleared` (a link from a device: its whole
   * traffic, whatever was cleared before).
   */
  setFilter(filter: ExchangeFilter, options: { showCleared?: boolean } = {}): void {
    const sinceId = options.showCleared ? undefined : this.state.filter.sinceId;
    this.set({ filter: { ...filter, ...(sinceId !== undefined ? { sinceId } : {}) }, ...(options.showCleared ? { cleared: null } : {}) });
    void this.reload();
  }

  /** Undoes "Clear": the hidden exchanges are shown again. */
  showCleared(): void {
    const { sinceId: _hidden, ...filter } = this.state.filter;
    this.set({ filter, cleared: null });
    void this.reload();
  }

  pause(): void {
    this.set({ paused: true, waiting: 0 });
  }

  resume(): void {
    this.set({ paused: false, waiting: 0 });
    void this.catchUp();
  }

  /** Starts the view afresh from now on; the store keeps everything. */
  async clear(): Promise<void> {
    try {
      const { throughId } = await this.api.clearView();
      // What was counted so far (since an earlier clear, if any) is now hidden too.
      const hidden = (this.state.cleared?.hidden ?? 0) + this.state.total;
      this.set({ filter: { ...this.state.filter, sinceId: throughId }, rows: [], matched: 0, matchedAtLeast: false, total: 0, hasOlder: false, cleared: { at: Date.now(), hidden } });
      await this.reload();
    } catch (e) {
      this.set({ error: message(e) });
    }
  }

  /** Reloads everything shown, e.g. after the connection came back. */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    const filter = this.state.filter;
    this.filling = null;
    this.set({ loading: true, error: null });
    try {
      const page = await this.api.listExchanges(filter, { limit: this.firstPageSize, counts: false });
      if (generation !== this.generation) return;
      // Until the counts come, live arrivals after these rows are counted on the old total.
      this.countedThrough = Math.max(this.countedThrough, page.exchanges.at(-1)?.id ?? 0);
      this.liveIds = [];
      this.set({ rows: page.exchanges, hasOlder: page.hasOlder, loading: false, counting: true });
      this.queue = this.queue.filter((x) => x.id > this.lastId());
      const caughtUp = this.catchUp();
      const counted = this.count(generation, filter);
      // The rest after the rows are painted: its answer (up to a megabyte) must not hold them up.
      if (page.hasOlder && page.exchanges.length >= this.firstPageSize && this.pageSize > this.firstPageSize) this.filling = this.afterPaint().then(() => this.fill(generation, filter));
      await Promise.all([caughtUp, counted, this.filling]);
    } catch (e) {
      if (generation === this.generation) this.set({ loading: false, counting: false, error: message(e) });
    }
  }

  /** The counts of a load, asked after its rows. */
  private async count(generation: number, filter: ExchangeFilter): Promise<void> {
    const c = await this.api.listExchanges(filter, { limit: 1, counts: true });
    if (generation !== this.generation) return;
    // Everything up to `newestId` is in c.total and c.matched; what came later is counted here:
    // rows shown that are newer (they match), exchanges that arrived live.
    const newest = c.newestId ?? 0;
    this.countedThrough = Math.max(this.countedThrough, newest);
    this.matchedThrough = Math.max(newest, this.lastId());
    this.set({
      matched: (c.matched ?? 0) + this.state.rows.filter((x) => x.id > newest).length,
      matchedAtLeast: c.matchedAtLeast === true,
      total: (c.total ?? 0) + this.liveIds.filter((id) => id > newest).length,
      counting: false,
    });
    this.liveIds = [];
  }

  private afterPaint(): Promise<void> {
    return new Promise((resolve) => {
      this.schedule(() => setTimeout(resolve, 0));
    });
  }

  /** The rest of a load's first page, older than its rows. */
  private async fill(generation: number, filter: ExchangeFilter): Promise<void> {
    const first = this.state.rows[0];
    // Live rows may have filled the page meanwhile: "Load older" brings the rest.
    const limit = this.pageSize - this.state.rows.length;
    if (!first || limit < 1) {
      if (generation === this.generation) this.filling = null;
      return;
    }
    try {
      const page = await this.api.listExchanges(filter, { limit, beforeId: first.id, counts: false });
      if (generation !== this.generation || this.state.rows[0]?.id !== first.id) return;
      this.set({ rows: [...page.exchanges, ...this.state.rows], hasOlder: page.hasOlder });
    } finally {
      if (generation === this.generation) this.filling = null;
    }
  }

  async loadOlder(): Promise<void> {
    // The rest of the first page first: asking meanwhile would fetch the same rows twice.
    if (this.filling) await this.filling.catch(() => undefined);
    const first = this.state.rows[0];
    // Past readingMaxRows the next live row would let go of the oldest, the ones just loaded and read.
    const room = this.readingMaxRows - this.state.rows.length;
    if (!first || !this.state.hasOlder || room <= 0) return;
    const generation = this.generation;
    try {
      const page = await this.api.listExchanges(this.state.filter, { limit: Math.min(this.pageSize, room), beforeId: first.id, counts: false });
      if (generation !== this.generation) return;
      this.set({ rows: [...page.exchanges, ...this.state.rows], hasOlder: page.hasOlder });
    } catch (e) {
      this.set({ error: message(e) });
    }
  }

  private lastId(): number {
    return this.state.rows.at(-1)?.id ?? this.state.filter.sinceId ?? 0;
  }

  private receive(batch: ExchangeSummary[]): void {
    const floor = this.state.filter.sinceId ?? 0;
    const news = batch.filter((x) => x.id > floor);
    // Counted: those not in the counts yet. Shown: every one not shown yet (flush checks), also one
    // the counts already hold: its event can come after them while the rows were asked before it.
    const fresh = news.filter((x) => x.id > this.countedThrough);
    if (news.length === 0) return;
    if (fresh.length > 0) this.countedThrough = Math.max(this.countedThrough, ...fresh.map((x) => x.id));
    if (this.state.counting) this.liveIds.push(...fresh.map((x) => x.id));
    if (this.state.paused) {
      if (fresh.length > 0) this.set({ waiting: this.state.waiting + fresh.length, total: this.state.total + fresh.length });
      return;
    }
    this.state = { ...this.state, total: this.state.total + fresh.length };
    this.queue.push(...news);
    this.cancelFlush ??= this.schedule(() => {
      this.cancelFlush = null;
      this.flush();
    });
  }

  private flush(): void {
    if (this.state.loading) return; // reload() catches up when it lands
    if (!isUnfiltered(this.state.filter)) {
      this.queue = [];
      void this.catchUp();
      for (const s of this.subscribers) s(); // total changed
      return;
    }
    const last = this.lastId();
    const add = this.queue.filter((x) => x.id > last);
    this.queue = [];
    this.append(add);
  }

  private append(add: ExchangeSummary[]): void {
    if (add.length === 0) {
      for (const s of this.subscribers) s();
      return;
    }
    const counted = add.filter((x) => x.id > this.matchedThrough).length;
    this.matchedThrough = Math.max(this.matchedThrough, add.at(-1)!.id);
    this.set({ ...this.trimmed([...this.state.rows, ...add]), matched: this.state.matched + counted });
  }

  /**
   * The list follows the live end (false) or the user reads rows away from it (true). Reading,
   * the rows they scrolled to or loaded ("Load older") are not let go as live rows come, up to
   * twice maxRows; back at the end, the list is cut to maxRows again.
   */
  setReading(on: boolean): void {
    if (on === this.reading) return;
    this.reading = on;
    if (!on && this.state.rows.length > this.maxRows) this.set(this.trimmed(this.state.rows));
  }

  private trimmed(rows: ExchangeSummary[]): Pick<FeedState, 'rows' | 'hasOlder'> {
    const keep = this.reading ? this.readingMaxRows : this.maxRows;
    return rows.length > keep ? { rows: rows.slice(rows.length - keep), hasOlder: true } : { rows, hasOlder: this.state.hasOlder };
  }

  /** Fetches rows newer than the last one shown (single flight; a request during one runs once after). */
  private catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    const run = async () => {
      for (;;) {
        this.catchUpAgain = false;
        const generation = this.generation;
        const page = await this.api.listExchanges(this.state.filter, { limit: this.pageSize, afterId: this.lastId(), counts: false });
        if (this.state.paused) return;
        if (generation === this.generation) this.append(page.exchanges);
        // Asked again meanwhile, a new load's catch-up among them: go round for the load now
        // current. Ending here lost the rows that came while that load was on its way.
        if (!this.catchUpAgain && (generation !== this.generation || !page.hasNewer)) return;
      }
    };
    this.catchingUp = run()
      .catch((e: unknown) => this.set({ error: message(e) }))
      .finally(() => {
        this.catchingUp = null;
      });
    return this.catchingUp;
  }
}

/** The service's error in the UI's language (lib/api-error.ts). */
function message(e: unknown): string {
  return errorText(e);
}
