/**
 * Reads of the jobs table for the UIs: the filtered list (newest first), what changed since a
 * moment, and how many jobs wait per device. Read-only, parameterised SQL; the sealed `secret`
 * column is never read here.
 */
import type { Database } from 'better-sqlite3';
import type { JobFilter, PendingJobCounts } from '../../shared/api';
import type { Job } from '../../shared/model';
import { JOB_COLUMNS, toJob } from './jobs';

type Row = Parameters<typeof toJob>[0];

export const DEFAULT_JOB_LIMIT = 500;

function where(filter: JobFilter): { sql: string; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.mac) {
    clauses.push('mac = @mac');
    params.mac = filter.mac;
  }
  if (filter.states?.length) {
    clauses.push('state IN (SELECT value FROM json_each(@states))');
    params.states = JSON.stringify(filter.states);
  }
  if (filter.kinds?.length) {
    clauses.push('kind IN (SELECT value FROM json_each(@kinds))');
    params.kinds = JSON.stringify(filter.kinds);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Matching jobs, newest first, and how many match in all. */
export function listJobsNewest(db: Database, filter: JobFilter): { jobs: Job[]; matched: number } {
  const w = where(filter);
  const limit = filter.limit ?? DEFAULT_JOB_LIMIT;
  const rows = db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs ${w.sql} ORDER BY id DESC LIMIT @limit`).all({ ...w.params, limit }) as Row[];
  const matched = (db.prepare(`SELECT count(*) AS n FROM jobs ${w.sql}`).get(w.params) as { n: number }).n;
  return { jobs: rows.map(toJob), matched };
}

/** Every job changed at or after `since` (ms), oldest change first; no cap, so none is missed (read after another process commits). */
export function jobsChangedSince(db: Database, since: number): Job[] {
  return (db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE updated >= ? ORDER BY updated, id`).all(since) as Row[]).map(toJob);
}

/** These jobs as they are now. */
export function jobsById(db: Database, ids: readonly number[]): Job[] {
  if (ids.length === 0) return [];
  return (db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`).all(JSON.stringify(ids)) as Row[]).map(toJob);
}

/** Waiting jobs per device (only devices that have any). */
export function pendingJobCounts(db: Database, mac?: string): Map<string, PendingJobCounts> {
  const rows = db
    .prepare(
      `SELECT mac, sum(state = 'queued') AS queued, sum(state = 'sent') AS sent, sum(state = 'waiting-busy') AS waitingBusy
       FROM jobs WHERE state IN ('queued', 'sent', 'waiting-busy') ${mac ? 'AND mac = @mac' : ''} GROUP BY mac`,
    )
    .all(mac ? { mac } : {}) as ({ mac: string } & PendingJobCounts)[];
  return new Map(rows.map((r) => [r.mac, { queued: r.queued, sent: r.sent, waitingBusy: r.waitingBusy }]));
}

export const NO_PENDING_JOBS: PendingJobCounts = Object.freeze({ queued: 0, sent: 0, waitingBusy: 0 });
