import { describe, expect, it } from 'vitest';
import type { ExchangeFilter, ExchangeList, ExchangePage } from '../../src/shared/api';
import type { ExchangeSummary } from '../../src/shared/model';
import { TrafficFeed } from '../../src/renderer/src/traffic/traffic-feed';
import { FakeApi, summary } from './fake-api';

/**
 * A FakeApi whose listExchanges answers wait until the test lets them go (in any order): each is
 * computed when asked, as the service does, and delivered on `answer(i)`.
 */
class SlowApi extends FakeApi {
  readonly waiting: { filter: ExchangeFilter; page: ExchangePage; deliver: () => void }[] = [];
  /** Computes an answer when it is delivered instead (the service got to it later). */
  computeOnAnswer = false;
  override listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList> {
    const now = this.computeOnAnswer ? null : super.listExchanges(filter, page);
    return new Promise((resolve) => this.waiting.push({ filter, page, deliver: () => resolve(now ?? super.listExchanges(filter, page)) }));
  }
  /** An event for exchanges already in `rows` (committed earlier, announced now). */
  emit(batch: ExchangeSummary[]): void {
    for (const l of (this as unknown as { exchangeListeners: Set<(b: ExchangeSummary[]) => void> }).exchangeListeners) l(batch);
  }
  /** Delivers the first waiting answer matching `which`; returns what it was asked. */
  async answer(which: (page: ExchangePage, filter: ExchangeFilter) => boolean): Promise<ExchangePage> {
    const i = this.waiting.findIndex((w) => which(w.page, w.filter));
    if (i < 0) throw new Error(`no such request waiting: ${JSON.stringify(this.waiting.map((w) => [w.filter, w.page]))}`);
    const [w] = this.waiting.splice(i, 1);
    w!.deliver();
    await settle();
    return w!.page;
  }
}
const isFirst = (p: ExchangePage) => p.counts === false && p.afterId === undefined && p.beforeId === undefined;
const isCount = (p: ExchangePage) => p.counts === true;
const isCatchUp = (p: ExchangePage) => p.afterId !== undefined;
const isFill = (p: ExchangePage) => p.beforeId !== undefined;
const ids = (feed: TrafficFeed) => feed.getState().rows.map((r) => r.id);

/** A feed whose frames run only when the test says so. */
function manualFeed(api: FakeApi) {
  const frames: (() => void)[] = [];
  const feed = new TrafficFeed(api, { pageSize: 50, schedule: (run) => (frames.push(run), () => undefined) });
  return { feed, frame: () => frames.splice(0).forEach((f) => f()) };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('TrafficFeed', () => {
  it('loads the newest page, then applies live exchanges in one batch per frame', async () => {
    const api = new FakeApi();
    api.rows = [summary(1), summary(2)];
    const { feed, frame } = manualFeed(api);
    let renders = 0;
    feed.subscribe(() => renders++);
    feed.start();
    await settle();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([1, 2]);
    renders = 0;
    for (let id = 3; id <= 12; id++) api.push(summary(id));
    expect(feed.getState().rows).toHaveLength(2); // nothing applied before the frame
    frame();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(renders).toBe(1);
    expect(feed.getState()).toMatchObject({ total: 12, matched: 12 });
  });

  it('pauses without losing anything and catches up from the store on resume', async () => {
    const api = new FakeApi();
    const { feed, frame } = manualFeed(api);
    feed.start();
    await settle();
    feed.pause();
    api.push(summary(1), summary(2));
    frame();
    expect(feed.getState()).toMatchObject({ rows: [], waiting: 2, total: 2 });
    feed.resume();
    await settle();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([1, 2]);
    expect(feed.getState().waiting).toBe(0);
  });

  it('with a filter, asks the service for new matching rows instead of filtering here', async () => {
    const api = new FakeApi();
    api.rows = [summary(1, { reason: 'start-up' }), summary(2, { reason: 'reply-to' })];
    const { feed, frame } = manualFeed(api);
    feed.start();
    await settle();
    feed.setFilter({ reason: 'reply-to' });
    await settle();
    expect(feed.getState()).toMatchObject({ matched: 1, total: 2 });
    api.push(summary(3, { reason: 'start-up' }), summary(4, { reason: 'reply-to' }));
    frame();
    await settle();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([2, 4]);
    expect(feed.getState()).toMatchObject({ matched: 2, total: 4 });
    const last = api.calls.filter((c) => c.method === 'listExchanges').at(-1)!;
    expect(last.args).toEqual([{ reason: 'reply-to' }, { limit: 50, afterId: 2, counts: false }]);
  });

  it('keeps the service\'s word that a free-text count is only a lower bound ("500+")', async () => {
    const api = new FakeApi();
    api.rows = [summary(1), summary(2)];
    const list = api.listExchanges.bind(api);
    api.listExchanges = async (filter, page) => ({ ...(await list(filter, page)), ...(filter.text ? { matched: 500, matchedAtLeast: true } : {}) });
    const { feed } = manualFeed(api);
    feed.start();
    await settle();
    expect(feed.getState().matchedAtLeast).toBe(false);
    feed.setFilter({ text: 'sntp' });
    await settle();
    expect(feed.getState()).toMatchObject({ matched: 500, matchedAtLeast: true });
    feed.setFilter({});
    await settle();
    expect(feed.getState().matchedAtLeast).toBe(false);
  });

  it('clear starts the view afresh from the newest id; the store keeps everything', async () => {
    const api = new FakeApi();
    api.rows = [summary(1), summary(2)];
    const { feed, frame } = manualFeed(api);
    feed.start();
    await settle();
    await feed.clear();
    expect(feed.getState()).toMatchObject({ rows: [], total: 0, matched: 0, filter: { sinceId: 2 } });
    api.push(summary(3));
    frame();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([3]);
    expect(api.rows).toHaveLength(3);
  });

  it('lets the oldest rows go past maxRows and brings them back with loadOlder', async () => {
    const api = new FakeApi();
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 5, maxRows: 5, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await settle();
    for (let id = 1; id <= 8; id++) api.push(summary(id));
    frames.splice(0).forEach((f) => f());
    expect(feed.getState().rows.map((r) => r.id)).toEqual([4, 5, 6, 7, 8]);
    expect(feed.getState().hasOlder).toBe(true);
    await feed.loadOlder();
    expect(feed.getState().rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('while the user reads away from the live end, the rows are let go only past twice maxRows; back at the end, past maxRows', async () => {
    const api = new FakeApi();
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 5, maxRows: 5, schedule: (run) => (frames.push(run), () => undefined) });
    const flush = () => frames.splice(0).forEach((f) => f());
    feed.start();
    await settle();
    for (let id = 1; id <= 4; id++) api.push(summary(id));
    flush();
    feed.setReading(true);
    for (let id = 5; id <= 9; id++) api.push(summary(id));
    flush();
    expect(ids(feed)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let id = 10; id <= 13; id++) api.push(summary(id));
    flush();
    expect(ids(feed)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(feed.getState().hasOlder).toBe(true);
    feed.setReading(true); // the same again: nothing changes
    expect(ids(feed)).toHaveLength(10);
    feed.setReading(false);
    expect(ids(feed)).toEqual([9, 10, 11, 12, 13]);
    api.push(summary(14));
    flush();
    expect(ids(feed)).toEqual([10, 11, 12, 13, 14]);
  });

  it('"Load older" stops at the rows the list keeps while read (twice maxRows): the next live row would let go of those just loaded', async () => {
    const api = new FakeApi();
    api.rows = Array.from({ length: 30 }, (_, i) => summary(i + 1));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 4, firstPageSize: 4, maxRows: 5, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await settle();
    await settle();
    expect(ids(feed)).toEqual([27, 28, 29, 30]);
    feed.setReading(true);
    await feed.loadOlder();
    await feed.loadOlder();
    // The first page's 4, a page of 4, then the 2 rows of room left: ten, the most kept while read.
    expect(ids(feed)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(feed.getState()).toMatchObject({ hasOlder: true, full: true });
    await feed.loadOlder();
    expect(ids(feed)).toHaveLength(10);
    // A live row while read: the oldest of those loaded goes, none of the others.
    api.push(summary(31));
    frames.splice(0).forEach((f) => f());
    expect(ids(feed)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
    feed.setReading(false);
    expect(ids(feed)).toEqual([27, 28, 29, 30, 31]);
    expect(feed.getState().full).toBe(false);
  });

  it('shows a screenful first, then the counts and, after a frame, the rest of the page', async () => {
    const api = new SlowApi();
    api.rows = Array.from({ length: 20 }, (_, i) => summary(i + 1));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 3, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    expect(await api.answer(isFirst)).toEqual({ limit: 3, counts: false });
    expect(ids(feed)).toEqual([18, 19, 20]);
    expect(feed.getState()).toMatchObject({ loading: false, counting: true, hasOlder: true });
    await api.answer(isCatchUp);
    await api.answer(isCount);
    expect(feed.getState()).toMatchObject({ counting: false, matched: 20, total: 20 });
    expect(api.waiting).toHaveLength(0); // the rest waits for the rows to be painted
    frames.splice(0).forEach((f) => f());
    await new Promise((r) => setTimeout(r, 5));
    expect(await api.answer(isFill)).toEqual({ limit: 7, beforeId: 18, counts: false });
    expect(ids(feed)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(feed.getState().hasOlder).toBe(true);
  });

  it('a filter set while the previous rows, counts or rest are on the way never shows their answers', async () => {
    const api = new SlowApi();
    api.rows = Array.from({ length: 20 }, (_, i) => summary(i + 1, { reason: i % 2 ? 'reply-to' : 'start-up' }));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 3, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await api.answer(isFirst);
    feed.setFilter({ reason: 'reply-to' });
    frames.splice(0).forEach((f) => f());
    await new Promise((r) => setTimeout(r, 5));
    feed.setFilter({ reason: 'start-up' });
    // Everything of the first two loads answers late, in the worst order.
    await api.answer((p, f) => isFirst(p) && f.reason === 'start-up');
    for (const w of [...api.waiting].filter((w) => w.filter.reason !== 'start-up')) await api.answer((p, f) => p === w.page && f === w.filter);
    expect(ids(feed)).toEqual([15, 17, 19]);
    await api.answer((p) => isCount(p));
    expect(feed.getState()).toMatchObject({ matched: 10, total: 20, counting: false });
    while (api.waiting.length) await api.answer(() => true);
    frames.splice(0).forEach((f) => f());
    await new Promise((r) => setTimeout(r, 5));
    await api.answer(isFill);
    expect(ids(feed)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(feed.getState().rows.every((r) => r.reason === 'start-up')).toBe(true);
  });

  it('live exchanges during a partial load are shown once and counted once, whenever their events come', async () => {
    const api = new SlowApi();
    api.rows = Array.from({ length: 8 }, (_, i) => summary(i + 1));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 3, schedule: (run) => (frames.push(run), () => undefined) });
    const flush = async () => {
      frames.splice(0).forEach((f) => f());
      await new Promise((r) => setTimeout(r, 5));
    };
    feed.start();
    await api.answer(isFirst); // rows 6–8; catch-up and counts asked next
    // 9 arrives before the counts are computed: its event comes before them.
    const count = api.waiting.find((w) => isCount(w.page))!;
    api.waiting.splice(api.waiting.indexOf(count), 1);
    api.push(summary(9));
    // 10 is committed after the counts were computed: they do not hold it.
    const late = summary(10);
    await api.answer(isCatchUp);
    count.deliver();
    await new Promise((r) => setTimeout(r, 0));
    api.push(late);
    // 11 committed, counted by a later count (simulated: the store has it) but its event comes last.
    await flush();
    while (api.waiting.some((w) => isCatchUp(w.page))) await api.answer(isCatchUp);
    await flush();
    await api.answer(isFill);
    expect(ids(feed)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(feed.getState()).toMatchObject({ total: 10, matched: 10, counting: false });
  });

  it('a catch-up still on its way from the load before does not swallow the new load\'s: exchanges that came while it loaded are shown', async () => {
    const api = new SlowApi();
    api.rows = [summary(1), summary(2), summary(3)];
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 10, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await api.answer(isFirst); // rows 1–3; its catch-up (after 3) stays on its way
    await api.answer(isCount);
    feed.setFilter({}); // a new load: its first page is computed now, 1–3
    // 4 and 5 come while it loads: their events are held back until the load lands.
    api.rows.push(summary(4), summary(5));
    (api as unknown as { emit: (b: ExchangeSummary[]) => void }).emit([summary(4), summary(5)]);
    frames.splice(0).forEach((f) => f());
    await api.answer(isFirst);
    // The old catch-up lands (asked before 4 and 5 existed); the new load's must still be asked.
    await api.answer(isCatchUp);
    while (api.waiting.some((w) => isCatchUp(w.page))) await api.answer(isCatchUp);
    expect(ids(feed)).toEqual([1, 2, 3, 4, 5]);
  });

  it('an exchange the counts hold but whose event comes after them is still shown, and not counted twice', async () => {
    const api = new SlowApi();
    api.computeOnAnswer = true;
    api.rows = Array.from({ length: 5 }, (_, i) => summary(i + 1));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 10, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await api.answer(isFirst);
    await api.answer(isCatchUp); // before 6 is committed: nothing new
    const six = summary(6);
    api.rows.push(six); // committed; its event comes late
    await api.answer(isCount);
    expect(feed.getState()).toMatchObject({ total: 6, matched: 6 });
    expect(ids(feed)).toEqual([1, 2, 3, 4, 5]);
    api.emit([six]);
    frames.splice(0).forEach((f) => f());
    expect(ids(feed)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(feed.getState()).toMatchObject({ total: 6, matched: 6 });
  });

  it('"Load older" while the rest of the page is on the way waits for it: no row twice', async () => {
    const api = new SlowApi();
    api.rows = Array.from({ length: 30 }, (_, i) => summary(i + 1));
    const frames: (() => void)[] = [];
    const feed = new TrafficFeed(api, { pageSize: 10, firstPageSize: 3, schedule: (run) => (frames.push(run), () => undefined) });
    feed.start();
    await api.answer(isFirst);
    await api.answer(isCatchUp);
    await api.answer(isCount);
    frames.splice(0).forEach((f) => f());
    await new Promise((r) => setTimeout(r, 5));
    const older = feed.loadOlder();
    await settle();
    expect(api.waiting.filter((w) => isFill(w.page))).toHaveLength(1);
    await api.answer(isFill); // the rest: 21–27
    await api.answer(isFill); // then the older page: 11–20
    await older;
    expect(ids(feed)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
  });
});
