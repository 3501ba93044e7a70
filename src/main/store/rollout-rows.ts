/**
 * Bulk jobs as rollouts: a rollout is named by a moment and a job kind. The jobs one `job add` /
 * "Write items" queued for several phones share the moment claimed for them (claimTime), a bulk
 * bootstrap's jobs the run's start, and every other job takes one of its own (momentFor), so jobs
 * queued in the same millisecond by two front ends never make one rollout. Jobs queued before
 * migration 17 without a moment are named by their creation time. Reading groups and their jobs,
 * and queuing again the failed ones.
 */
import { unsendableItem } from '../../shared/item-rules';
import type { Database, Statement } from 'better-sqlite3';
import type { ItemValue, Job, JobKind } from '../../shared/model';
import { JOB_COLUMNS, toJob, type JobTables } from './jobs';

/** A rollout's id: `j<moment>-<kind>` (the moment its jobs were queued at, or a bootstrap run's start). */
export function jobRolloutId(created: number, kind: string): string {
  return `j${created}-${kind}`;
}

export interface RolloutGroup {
  created: number;
  kind: JobKind;
  source: string | null;
  total: number;
}

/** How far ahead of the clock a claimed rollout moment may lie and still be followed. */
const CLAIM_AHEAD_MAX_MS = 60_000;

/** The moment naming a job's rollout. */
const MOMENT = 'coalesce(rollout, created)';
type Row = Parameters<typeof toJob>[0];

/** A failed phone of a rollout, to find the job that does its work again (RolloutRows.again). */
export interface FailedJob {
  mac: string;
  kind: JobKind;
  /** Its job's id, or null: a bootstrap run's phone whose preparation failed (it never had a job). */
  id: number | null;
  /** Its job's items; a bootstrap is done again by any later bootstrap (each has its own certificate). */
  items: readonly ItemValue[] | null;
  /** The rollout's moment: only jobs of a later rollout count (what tells them apart for a phone without a job). */
  since?: number;
}

export class RolloutRows {
  private taken?: Statement;
  private later?: Statement;

  constructor(
    private readonly db: Database,
    /** Retries are added through the job tables, so the change feed announces them. */
    private readonly jobTables: JobTables,
    /** The store's settings, where the last claimed moment of each kind is kept (claimTime). */
    private readonly settings: { get(name: string): string | undefined; set(name: string, value: string): void },
  ) {}

  /** The newest groups of at least two jobs created together. */
  groups(limit: number): RolloutGroup[] {
    return this.db
      .prepare(`SELECT ${MOMENT} AS created, kind, min(source) AS source, count(*) AS total FROM jobs GROUP BY ${MOMENT}, kind HAVING count(*) > 1 ORDER BY 1 DESC LIMIT ?`)
      .all(limit) as RolloutGroup[];
  }

  /**
   * A moment of its own to name a new rollout of this kind (a bootstrap's jobs name it): from `at`
   * on, after any claimed before, by this process or another on the same database, and naming no
   * jobs yet. Claimed in a write transaction, so two front ends that start bootstraps in the same
   * millisecond get two rollouts, also before either has queued a job. A claim more than a minute
   * ahead of `at` (the clock was set back) is not followed.
   */
  claimTime(at: number, kind: JobKind): number {
    return this.db.transaction((): number => this.freeMoment(at, kind, true)).immediate();
  }

  /**
   * The moment for one job added without one (store/jobs.ts claimMoment): its creation time, or the
   * next millisecond after every claimed one that no job of its kind names. The job is inserted in
   * the same write transaction, so the jobs table itself is its claim, without claimTime's
   * settings row. A bootstrap's moment is claimed before its jobs exist (a run queues them over
   * minutes), so that kind claims in full.
   */
  momentFor(at: number, kind: JobKind): number {
    return kind === 'Bootstrap' ? this.claimTime(at, kind) : this.freeMoment(at, kind, false);
  }

  /** From `at`, after the last claimed moment of the kind (unless over a minute ahead), the first naming no job; `record`: claim it. */
  private freeMoment(at: number, kind: JobKind, record: boolean): number {
    const name = `rollout_claimed_${kind}`;
    const value = this.settings.get(name);
    const last = value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : 0;
    let t = last >= at && last - at < CLAIM_AHEAD_MAX_MS ? last + 1 : at;
    // Prepared once: an index lookup (migration 17).
    this.taken ??= this.db.prepare(`SELECT 1 FROM jobs WHERE ${MOMENT} = ? AND kind = ? LIMIT 1`);
    while (this.taken.get(t, kind) !== undefined) t++;
    if (record) this.settings.set(name, String(t));
    return t;
  }

  /** The jobs of one group, by MAC. */
  jobs(created: number, kind: string): Job[] {
    return (this.db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE ${MOMENT} = ? AND kind = ? ORDER BY mac, id`).all(created, kind) as Row[]).map(toJob);
  }

  /**
   * The job queued after a failed one that does its work again and has not failed or been
   * cancelled (a retry from any front end, or the same job queued by hand): the same phone, kind
   * and items (for a bootstrap any later one). What the rollout view shows as "queued again" and
   * what retry leaves alone are this one answer, so they cannot disagree.
   */
  again(failed: FailedJob): { id: number; moment: number } | undefined {
    this.later ??= this.db.prepare(`SELECT id, ${MOMENT} AS moment FROM jobs WHERE mac = @mac AND kind = @kind AND (@items IS NULL OR items = @items)
      AND id > @id AND ${MOMENT} > @since AND state IN ('queued', 'waiting-busy', 'sent', 'done') ORDER BY id LIMIT 1`);
    const items = failed.kind === 'Bootstrap' || failed.items === null ? null : JSON.stringify(failed.items);
    return this.later.get({ mac: failed.mac, kind: failed.kind, items, id: failed.id ?? 0, since: failed.since ?? -1 }) as { id: number; moment: number } | undefined;
  }

  /**
   * Queues each failed job of a group again as a new job (same kind, items, expectations; the
   * sealed secret is not copied: such jobs are refused by the caller). One transaction and one
   * claimed moment (`moment`), so the retries form a rollout of their own. Returns the new jobs,
   * and the failed jobs left alone because the same job was queued again after them (a retry
   * before this one, from the CLI or the UI: retrying twice must not write twice).
   */
  retry(jobIds: readonly number[], source: string, at: number): { jobs: Job[]; already: { mac: string; jobId: number }[]; refused: { mac: string; reason: string }[]; moment: number } {
    return this.db.transaction(() => {
      const jobs: Job[] = [];
      const already: { mac: string; jobId: number }[] = [];
      const refused: { mac: string; reason: string }[] = [];
      let moment: number | undefined;
      for (const id of jobIds) {
        const job = this.jobTables.get(id);
        if (!job || job.state !== 'failed' || this.jobTables.secret(id)) continue;
        // Stored by an older version with what no job may send: not copied into a new row (helper-65).
        const unsendable = unsendableItem(job.items);
        if (unsendable) {
          refused.push({ mac: job.mac, reason: unsendable });
          continue;
        }
        const later = this.again({ mac: job.mac, kind: job.kind, id, items: job.items });
        if (later) already.push({ mac: job.mac, jobId: later.id });
        else {
          moment ??= this.claimTime(at, job.kind);
          jobs.push(this.jobTables.add({ mac: job.mac, kind: job.kind, items: job.items, expect: job.expect, source, rollout: moment }, at));
        }
      }
      return { jobs, already, refused, moment: moment ?? at };
    }).immediate();
  }
}
