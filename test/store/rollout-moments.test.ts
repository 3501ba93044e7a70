/**
 * A rollout is named by a moment and a job kind (`j<moment>-<kind>`). Jobs queued together share
 * one; until migration 17 other jobs were named by their creation time, so jobs of the same kind
 * queued in the same millisecond by two front ends (the CLI beside the UI), or by the service
 * beside either, made one rollout: its page listed them all, and "retry failed" queued them all again.
 * Every job now claims its moment (store/rollout-rows.ts claimTime), two connections on one database
 * included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const open: Store[] = [];
afterEach(() => open.splice(0).forEach((s) => s.close()));

const mac = (i: number) => `00:1A:E8:00:07:${i.toString(16).padStart(2, '0').toUpperCase()}`;
const AT = 1_800_000_000_000;

/** Two connections on one database (the service and the CLI, as far as SQLite can tell), six phones known. */
function twoFrontEnds() {
  const dir = newDir();
  const service = new Store(dir, { synchronous: 'OFF' });
  const cli = new Store(dir, { synchronous: 'OFF' });
  open.push(service, cli);
  for (let i = 0; i < 6; i++) service.commit(exchangeRecord({ mac: mac(i) }), { device: { mac: mac(i), lastAddress: '127.0.0.1' } }, null);
  return { dir, service, cli };
}

const writeTo = (i: number) => ({ mac: mac(i), kind: 'WriteItems' as const, items: [{ name: 'e164', value: String(100 + i) }] });
const groups = (s: Store) => s.rollouts.groups(10).map((g) => ({ at: g.created, total: g.total }));
const macsOf = (s: Store, at: number) => s.rollouts.jobs(at, 'WriteItems').map((j) => j.mac);

describe('rollout moments', () => {
  it('two bulk adds in the same millisecond, from two connections, are two rollouts; a single job there joins neither', () => {
    const { service, cli } = twoFrontEnds();
    const first = service.addJobs([writeTo(0), writeTo(1)], AT);
    const second = cli.addJobs([writeTo(2), writeTo(3)], AT);
    const single = cli.addJobs([writeTo(4)], AT)[0]!;
    // Made by the service itself (a profile's items), in the same millisecond too.
    const made = service.assignProfile(mac(5), 'desk', [{ name: 'e164', value: '105' }], 'profile', AT).job!;
    const moments = [first[0]!.rolloutAt, second[0]!.rolloutAt, single.rolloutAt, made.rolloutAt];
    expect(new Set(moments).size).toBe(4);
    expect(first.map((j) => j.rolloutAt)).toEqual([moments[0], moments[0]]);
    expect(second.map((j) => j.rolloutAt)).toEqual([moments[1], moments[1]]);
    // Every job keeps its true creation time; the moments follow it.
    for (const j of [...first, ...second, single, made]) expect(j.created).toBe(AT);
    expect(Math.min(...moments)).toBe(AT);
    expect(groups(cli)).toEqual([{ at: moments[1], total: 2 }, { at: moments[0], total: 2 }].sort((a, b) => b.at - a.at));
    expect(macsOf(service, moments[0]!)).toEqual([mac(0), mac(1)]);
    expect(macsOf(service, moments[1]!)).toEqual([mac(2), mac(3)]);
    expect(macsOf(service, moments[2]!)).toEqual([mac(4)]);
    expect(macsOf(service, moments[3]!)).toEqual([mac(5)]);
  });

  it('retrying a rollout’s failed jobs is a rollout of its own, also beside a bulk add in the same millisecond', () => {
    const { service, cli, dir } = twoFrontEnds();
    const jobs = service.addJobs([writeTo(0), writeTo(1)], AT);
    withRawDb(dir, (db) => db.prepare(`UPDATE jobs SET state = 'failed' WHERE id IN (?, ?)`).run(jobs[0]!.id, jobs[1]!.id));
    // The bulk add first, then the retry in its millisecond: the retry must step past it.
    const bulk = cli.addJobs([writeTo(2), writeTo(3)], AT + 1);
    const retried = service.rollouts.retry(jobs.map((j) => j.id), 'ui', AT + 1);
    const [again, other] = [retried.jobs[0]!.rolloutAt, bulk[0]!.rolloutAt];
    expect(other).toBe(AT + 1);
    expect(retried.moment).toBe(again);
    expect(again).toBe(AT + 2);
    expect(macsOf(cli, again)).toEqual([mac(0), mac(1)]);
    expect(macsOf(cli, other)).toEqual([mac(2), mac(3)]);
    // And the other way round: a bulk add after a retry in the same millisecond.
    withRawDb(dir, (db) => db.prepare(`UPDATE jobs SET state = 'failed' WHERE id IN (?, ?)`).run(bulk[0]!.id, bulk[1]!.id));
    const retried2 = cli.rollouts.retry(bulk.map((j) => j.id), 'cli', AT + 5);
    const bulk2 = service.addJobs([writeTo(4), writeTo(5)], AT + 5);
    expect([retried2.moment, bulk2[0]!.rolloutAt]).toEqual([AT + 5, AT + 6]);
    expect(macsOf(cli, AT + 5)).toEqual([mac(2), mac(3)]);
  });

  it('jobs queued before migration 17 keep their rollouts, and new moments never take one of theirs', () => {
    const dir = newDir();
    const before = new Store(dir, { synchronous: 'OFF' });
    for (let i = 0; i < 3; i++) before.commit(exchangeRecord({ mac: mac(i) }), { device: { mac: mac(i), lastAddress: '127.0.0.1' } }, null);
    before.close();
    // Schema 16: jobs named by their creation time (rollout NULL), no index on the moment.
    withRawDb(dir, (db) => {
      db.exec('DROP INDEX jobs_rollout');
      db.pragma('user_version = 16');
      const insert = db.prepare(`INSERT INTO jobs (mac, kind, items, created, updated) VALUES (?, 'WriteItems', '[]', ?, ?)`);
      for (let i = 0; i < 2; i++) insert.run(mac(i), AT, AT);
    });
    const s = new Store(dir, { synchronous: 'OFF' });
    open.push(s);
    expect(macsOf(s, AT)).toEqual([mac(0), mac(1)]);
    const [late] = s.addJobs([writeTo(2)], AT);
    expect(late!.rolloutAt).toBe(AT + 1);
    expect(macsOf(s, AT)).toEqual([mac(0), mac(1)]);
    // The moment is looked up through an index, not a scan of every job.
    const plan = withRawDb(dir, (db) => db.prepare(`EXPLAIN QUERY PLAN SELECT 1 FROM jobs WHERE coalesce(rollout, created) = ? AND kind = ?`).all(AT, 'WriteItems') as { detail: string }[]);
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX jobs_rollout/);
  });
});
