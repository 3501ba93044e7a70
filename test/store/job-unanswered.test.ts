/**
 * Migration 20: the sendings a phone left unanswered, counted apart from a job's attempts. A store
 * of schema 19 counts for its waiting jobs what may have gone unanswered (a queued job every
 * sending; a sent one all but the one still out; a busy one all but the one it answered busy),
 * leaves the ended ones as they were, and the count goes on from there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS } from '../../src/shared/job-notes';
import { Store } from '../../src/main/store';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const open: Store[] = [];
afterEach(() => open.splice(0).forEach((s) => s.close()));

const MAC = '00:1A:E8:00:20:01';

describe('jobs.unanswered (migration 20)', () => {
  it('a schema-19 store: waiting jobs count what may have gone unanswered, ended ones are left alone; requeueing counts on', () => {
    const dir = newDir();
    new Store(dir).close();
    withRawDb(dir, (db) => {
      db.exec('ALTER TABLE jobs DROP COLUMN unanswered');
      db.pragma('user_version = 19');
      db.prepare(`INSERT INTO devices (mac, first_contact, last_contact) VALUES (?, 1, 1)`).run(MAC);
      const insert = db.prepare(`INSERT INTO jobs (mac, kind, items, created, updated, state, attempts) VALUES (?, 'WriteItems', '[]', 1, 1, ?, ?)`);
      insert.run(MAC, 'queued', 3);
      insert.run(MAC, 'waiting-busy', 2);
      insert.run(MAC, 'sent', MAX_ATTEMPTS - 1);
      insert.run(MAC, 'sent', MAX_ATTEMPTS);
      insert.run(MAC, 'done', 4);
      insert.run(MAC, 'failed', MAX_ATTEMPTS);
    });
    const store = new Store(dir);
    open.push(store);
    const jobs = () => store.jobs.list({ mac: MAC }).map((j) => [j.state, j.attempts, j.unanswered]);
    expect(jobs()).toEqual([
      ['queued', 3, 3], ['waiting-busy', 2, 1], ['sent', MAX_ATTEMPTS - 1, MAX_ATTEMPTS - 2], ['sent', MAX_ATTEMPTS, MAX_ATTEMPTS - 1], ['done', 4, 0], ['failed', MAX_ATTEMPTS, 0],
    ]);
    // The phone of the sent ones went silent (an upgrade passes through a restart's recovery): the
    // job on its fifth sending fails, saying so; the one on its fourth is sent once more, as the
    // rule before the migration judged them both.
    store.jobs.requeueSent(MAC, 2);
    expect(jobs()).toEqual([
      ['queued', 3, 3], ['waiting-busy', 2, 1], ['queued', MAX_ATTEMPTS - 1, MAX_ATTEMPTS - 1], ['failed', MAX_ATTEMPTS, MAX_ATTEMPTS], ['done', 4, 0], ['failed', MAX_ATTEMPTS, 0],
    ]);
    expect(store.jobs.list({ mac: MAC, states: ['failed'] }).map((j) => j.error)).toEqual([`no answer from the phone to ${MAX_ATTEMPTS} sendings`, null]);
  });

  it('a new job starts at none unanswered, and each interaction that ends without its answer counts one', () => {
    const dir = newDir();
    new Store(dir).close();
    withRawDb(dir, (db) => db.prepare(`INSERT INTO devices (mac, first_contact, last_contact) VALUES (?, 1, 1)`).run(MAC));
    const store = new Store(dir);
    open.push(store);
    const job = store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }] }, 1);
    expect(job.unanswered).toBe(0);
    for (let n = 1; n < MAX_ATTEMPTS; n++) {
      store.jobs.apply({ id: job.id, state: 'sent', attempt: true, sent: n }, n);
      store.jobs.requeueSent(MAC, n);
      expect(store.jobs.get(job.id)).toMatchObject({ state: 'queued', attempts: n, unanswered: n });
    }
  });
});
