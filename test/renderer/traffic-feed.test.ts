import { describe, expect, it } from 'vitest';
import { TrafficFeed } from '../../src/renderer/src/traffic/traffic-feed';
import { FakeApi, summary } from './fake-api';

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
});
