/**
 * Jobs, profiles and overrides: the store's provisioning tables. SQL stays in src/main/store.
 */
import { type Hash, createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { JOB_NOTES, MAX_ATTEMPTS, NO_ANSWER_PARTS } from '../../shared/job-notes';
import type { ItemResult, ItemValue, Job, JobKind, JobState, Profile } from '../../shared/model';
import type { ChangeFeed } from './change-feed';
import { filesOverdueNote, isMultipleDeployment } from '../../shared/file-deployment';

export interface NewJob {
  mac: string;
  kind: JobKind;
  items: ItemValue[];
  expect?: Record<string, string> | null;
  source?: string | null;
  /** Created already on its way to the phone (plug & play in the middle of an interaction). */
  sentAt?: number;
  /** With `sentAt`: the phone's address it went to. */
  sentTo?: string;
  /** Sealed secrets the job sends (client key, PIN): kept apart from `items`, never shown. */
  secret?: Buffer;
  /** The moment naming its rollout (a bootstrap run's start, one bulk add's); claimed when absent. */
  rollout?: number;
}

/** A change to an existing job, produced by the engine and applied in the exchange's transaction. */
export interface JobChange {
  id: number;
  state?: JobState;
  partsDone?: number;
  /** Count one more attempt (a message carrying the job went out). */
  attempt?: boolean;
  sent?: number;
  /** The phone's address the job was sent to (with `sent`). */
  sentTo?: string;
  finished?: number;
  /** Appended to the job's per-item results. */
  results?: ItemResult[];
  /** The job goes out again whole: the results of its sending before go (they would be counted twice). */
  resetResults?: boolean;
  error?: string | null;
  /**
   * Only while the job is still `sent`: a verdict reached from what the phone said (a file check)
   * must not overwrite a cancel, or a time limit's failure, that came meanwhile.
   */
  ifSent?: boolean;
}

/**
 * A `sent` job still waiting for the phone's reply within the interaction that sent it. The rest
 * of the `sent` jobs wait for the phone to come back: Restart, factory reset and firmware (the
 * phone reboots, its start-up confirms them) and a bootstrap the phone accepted (parts_done 1: it
 * moves to the secure port) and a file deployment (its status report may come on a later
 * connection; several files are checked with ReadAllItems at the phone's next contacts). An interaction cut short (expiry, crash) can only strand the first kind.
 */
const IN_FLIGHT = `(kind NOT IN ('Restart', 'FactoryReset', 'SoftwareDeployment', 'FileDeployment', 'Bootstrap') OR (kind = 'Bootstrap' AND parts_done = 0))`;

/**
 * How long a job that reboots the phone waits for its start-up, by kind; a file deployment, for
 * its status report (one file) or for a ReadAllItems that lists its files as asked (several).
 */
export type ReturnLimits = Partial<Record<'Restart' | 'FactoryReset' | 'SoftwareDeployment' | 'FileDeployment', number>>;
export const RETURN_LIMITS: ReturnLimits = { Restart: 15 * 60_000, FactoryReset: 15 * 60_000, SoftwareDeployment: 60 * 60_000, FileDeployment: 30 * 60_000 };

/** States in which a job still waits for the phone. */
export const PENDING_STATES: readonly JobState[] = ['queued', 'waiting-busy', 'sent'];

export interface JobQuery {
  mac?: string;
  states?: readonly JobState[];
  limit?: number;
}

/**
 * Of the sent jobs, a deployment of several files, which waits for a ReadAllItems to confirm it
 * (provisioning/decide.ts next(), shared/file-deployment.ts awaitsFileCheck, the same rule): the
 * phone sends no report of its own (manual p.55), so it is asked to call, as for a queued job. The
 * state stays outside (the caller's `state IN (…)`), and the devices drive (CROSS JOIN), so the
 * queue index (mac, state) still seeks instead of the whole job history being read every second.
 */
const SENT_AND_CHECKING = `(j.kind = 'FileDeployment' AND (
  EXISTS (SELECT 1 FROM json_each(j.items) WHERE json_extract(value, '$.name') = 'file-action')
  OR (SELECT count(DISTINCT json_extract(value, '$.index')) FROM json_each(j.items) WHERE substr(json_extract(value, '$.name'), 1, 5) = 'file-') > 1))`;

export interface PendingDevice {
  mac: string;
  contactMeUri: string | null;
  lastContactMe: number | null;
  lastAddress: string | null;
  mode: string;
  state: string;
  queued: number;
  waitingBusy: number;
  /** Oldest change among its pending jobs (for back-off). */
  oldestUpdate: number;
}

interface JobRow {
  id: number; mac: string; kind: JobKind; items: string; secret?: Buffer | null; expect: string | null; state: JobState; attempts: number; unanswered: number; parts_done: number;
  created: number; updated: number; sent: number | null; finished: number | null; results: string; error: string | null; source: string | null;
  /** Migration 13; every query that makes jobs must select it (toJob refuses a row without it). */
  rollout: number | null;
}
interface ProfileRow { name: string; device_type: string | null; match_mac: string | null; match_e164: string | null; items: string; created: number; updated: number }

/** The columns toJob reads, for queries that name them. */
export const JOB_COLUMNS = 'id, mac, kind, items, expect, state, attempts, unanswered, parts_done, created, updated, sent, finished, results, error, source, rollout';

export function toJob(r: JobRow): Job {
  if (r.rollout === undefined) throw new Error('a job row without its rollout column: select it with the job');
  return {
    id: r.id, mac: r.mac, kind: r.kind, items: JSON.parse(r.items) as ItemValue[], expect: r.expect ? (JSON.parse(r.expect) as Record<string, string>) : null,
    state: r.state, attempts: r.attempts, unanswered: r.unanswered, partsDone: r.parts_done, created: r.created, updated: r.updated, sent: r.sent, finished: r.finished,
    results: JSON.parse(r.results) as ItemResult[], error: r.error, source: r.source, rolloutAt: r.rollout ?? r.created,
  };
}

function toProfile(r: ProfileRow): Profile {
  return { name: r.name, deviceType: r.device_type, matchMac: r.match_mac, matchE164: r.match_e164, items: JSON.parse(r.items) as ItemValue[], created: r.created, updated: r.updated };
}

export class JobTables {
  private readonly st: Record<string, Statement>;

  /**
   * The moment naming the rollout of a job added without one (store/rollout-rows.ts momentFor):
   * set by the Store, so a job never joins a rollout another front end started in the same
   * millisecond. Without it (one-shot readers) a job is named by its creation time.
   */
  claimMoment?: (at: number, kind: JobKind) => number;

  constructor(
    private readonly db: Database,
    /** Told which jobs and devices each write touched (the live views); absent for one-shot readers. */
    private readonly feed?: ChangeFeed,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insert: p(`INSERT INTO jobs (mac, kind, items, expect, created, updated, source, secret, rollout, state, attempts, sent, sent_to)
        VALUES (@mac, @kind, @items, @expect, @at, @at, @source, @secret, @rollout, CASE WHEN @sent IS NULL THEN 'queued' ELSE 'sent' END, CASE WHEN @sent IS NULL THEN 0 ELSE 1 END, @sent, @sentTo)`),
      get: p(`SELECT * FROM jobs WHERE id = ?`),
      secret: p(`SELECT secret FROM jobs WHERE id = ?`),
      pending: p(`SELECT * FROM jobs WHERE mac = ? AND state IN ('queued', 'waiting-busy', 'sent') ORDER BY id`),
      sentTo: p(`SELECT sent_to FROM jobs WHERE id = ?`),
      // A job the user cancelled stays cancelled: a late answer to a part already sent is recorded
      // (parts, results) but does not make it done or failed.
      update: p(`UPDATE jobs SET state = CASE WHEN state = 'cancelled' THEN state ELSE coalesce(@state, state) END, parts_done = coalesce(@partsDone, parts_done),
        attempts = attempts + @attempt, sent = coalesce(@sent, sent), sent_to = coalesce(@sentTo, sent_to), finished = coalesce(@finished, finished),
        results = coalesce(@results, results),
        error = CASE WHEN @setError THEN @error ELSE error END, updated = @at WHERE id = @id AND (@ifSent = 0 OR state = 'sent') RETURNING id, mac`),
      requeueSent: p(`UPDATE jobs SET unanswered = unanswered + 1, state = CASE WHEN unanswered + 1 >= @maxAttempts THEN 'failed' ELSE 'queued' END,
        error = CASE WHEN unanswered + 1 >= @maxAttempts THEN @noAnswerHead || (unanswered + 1) || @noAnswerTail ELSE @willSendAgain END,
        finished = CASE WHEN unanswered + 1 >= @maxAttempts THEN @at ELSE finished END, updated = @at
        WHERE (@mac IS NULL OR mac = @mac) AND state = 'sent' AND ${IN_FLIGHT} RETURNING id, mac`),
      inFlight: p(`SELECT count(*) AS n, coalesce(sum(unanswered + 1 >= @maxAttempts), 0) AS failing FROM jobs WHERE state = 'sent' AND ${IN_FLIGHT}`),
      awaitingReturn: p(`SELECT count(*) AS n FROM jobs WHERE state = 'sent' AND NOT (${IN_FLIGHT})`),
      overdue: p(`UPDATE jobs SET state = 'failed', finished = @at, updated = @at,
        error = CASE WHEN kind = 'FileDeployment' THEN 'the phone sent no status report within ' || @minutes || ' minutes after the FileDeployment was sent'
          ELSE 'the phone did not come back within ' || @minutes || ' minutes after the ' || kind || ' was sent' END
        WHERE state = 'sent' AND kind = @kind AND sent < @before RETURNING id, mac`),
      overdueFiles: p(`SELECT id, items, results FROM jobs WHERE state = 'sent' AND kind = 'FileDeployment' AND sent < @before`),
      failFiles: p(`UPDATE jobs SET state = 'failed', finished = @at, updated = @at, error = @error, results = @results WHERE id = @id AND state = 'sent' RETURNING id, mac`),
      cancel: p(`UPDATE jobs SET state = 'cancelled', finished = @at, updated = @at, error = @why WHERE id = @id AND state IN ('queued', 'waiting-busy', 'sent') RETURNING id, mac`),
      // Only the device's newest job counts: one queued after it (another value, a reset) would undo it (helper-64).
      sameWaiting: p(`SELECT id FROM jobs j WHERE mac = @mac AND kind = @kind AND state IN ('queued', 'waiting-busy') AND items = @items AND expect IS @expect
        AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.mac = j.mac AND k.state IN ('queued', 'waiting-busy', 'sent') AND k.id > j.id) ORDER BY id LIMIT 1`),
      pendingDevices: p(`SELECT d.mac, d.contact_me_uri AS contactMeUri, d.last_contact_me AS lastContactMe, d.last_address AS lastAddress, d.mode, d.state,
          sum(j.state = 'queued') AS queued, sum(j.state = 'waiting-busy') AS waitingBusy, min(j.updated) AS oldestUpdate
        FROM devices d CROSS JOIN jobs j ON j.mac = d.mac
        WHERE j.state IN ('queued', 'waiting-busy', 'sent') AND (j.state <> 'sent' OR ${SENT_AND_CHECKING}) GROUP BY d.mac ORDER BY d.mac`),
      setContactMe: p(`UPDATE devices SET last_contact_me = @at WHERE mac = @mac`),
      claimContactMe: p(`UPDATE devices SET last_contact_me = @at WHERE mac = @mac AND (last_contact_me IS NULL OR last_contact_me <= @at - @gapMs)`),
      setProfile: p(`INSERT INTO profiles (name, device_type, match_mac, match_e164, items, created, updated) VALUES (@name, @deviceType, @matchMac, @matchE164, @items, @at, @at)
        ON CONFLICT (name) DO UPDATE SET device_type = excluded.device_type, match_mac = excluded.match_mac, match_e164 = excluded.match_e164, items = excluded.items, updated = excluded.updated`),
      profile: p(`SELECT * FROM profiles WHERE name = ?`),
      profiles: p(`SELECT * FROM profiles ORDER BY name`),
      deleteProfile: p(`DELETE FROM profiles WHERE name = ?`),
      assign: p(`UPDATE devices SET profile = @profile WHERE mac = @mac`),
      overrides: p(`SELECT name, idx, value FROM overrides WHERE mac = ? ORDER BY name, idx`),
      deleteOverride: p(`DELETE FROM overrides WHERE mac = @mac AND name = @name AND idx IS @idx`),
      insertOverride: p(`INSERT INTO overrides (mac, name, idx, value) VALUES (@mac, @name, @idx, @value)`),
    };
  }

  /** Jobs queued or waiting-busy, all devices: not gone out yet. */
  waitingCount(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'waiting-busy')`).get() as { n: number }).n;
  }

  /** The device's newest pending job, if it does the same (kind, items and values, expectations) and has not gone out yet; else null. */
  sameWaiting(job: Pick<NewJob, 'mac' | 'kind' | 'items' | 'expect'>): number | null {
    const row = this.st.sameWaiting!.get({ mac: job.mac, kind: job.kind, items: JSON.stringify(job.items), expect: job.expect ? JSON.stringify(job.expect) : null }) as { id: number } | undefined;
    return row?.id ?? null;
  }

  add(job: NewJob, at: number): Job {
    const id = Number(
      this.st.insert!.run({ mac: job.mac, kind: job.kind, items: JSON.stringify(job.items), expect: job.expect ? JSON.stringify(job.expect) : null, at, source: job.source ?? null, sent: job.sentAt ?? null, sentTo: job.sentAt !== undefined ? (job.sentTo ?? null) : null, secret: job.secret ?? null, rollout: job.rollout ?? this.claimMoment?.(at, job.kind) ?? null })
        .lastInsertRowid,
    );
    this.feed?.job(id, job.mac);
    return this.get(id)!;
  }

  get(id: number): Job | undefined {
    const r = this.st.get!.get(id) as JobRow | undefined;
    return r && toJob(r);
  }

  /** Tells the feed which jobs a write changed; returns how many. */
  private touched(rows: unknown[]): number {
    for (const r of rows as { id: number; mac: string }[]) this.feed?.job(r.id, r.mac);
    return rows.length;
  }

  /** The sealed secret of a job (bootstrap), or undefined. */
  secret(id: number): Buffer | undefined {
    return (this.st.secret!.get(id) as { secret: Buffer | null } | undefined)?.secret ?? undefined;
  }

  /** Jobs still waiting for the phone, in queue order. */
  pending(mac: string): Job[] {
    return (this.st.pending!.all(mac) as JobRow[]).map(toJob);
  }

  /** The address the job was last sent to (null: not sent, or sent before migration 19). */
  sentTo(id: number): string | null {
    return (this.st.sentTo!.get(id) as { sent_to: string | null } | undefined)?.sent_to ?? null;
  }

  list(query: JobQuery = {}): Job[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: Math.min(Math.max(query.limit ?? 1000, 1), 100_000) };
    if (query.mac) { where.push('mac = @mac'); params.mac = query.mac; }
    if (query.states?.length) { where.push(`state IN (SELECT value FROM json_each(@states))`); params.states = JSON.stringify(query.states); }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as JobRow[]).map(toJob);
  }

  apply(change: JobChange, at: number): void {
    // Appended to what the job has, or, sent again whole, to nothing; null leaves them as they are.
    let results: ItemResult[] | null = null;
    if (change.resetResults) results = change.results ?? [];
    else if (change.results) results = [...(this.get(change.id)?.results ?? []), ...change.results];
    this.touched(this.st.update!.all({
      id: change.id, state: change.state ?? null, partsDone: change.partsDone ?? null, attempt: change.attempt ? 1 : 0,
      sent: change.sent ?? null, sentTo: change.sentTo ?? null, finished: change.finished ?? null, results: results ? JSON.stringify(results) : null,
      setError: change.error !== undefined ? 1 : 0, error: change.error ?? null, ifSent: change.ifSent ? 1 : 0, at,
    }));
  }

  /**
   * A phone went silent after a job was sent (null: every phone, after a crash): send it again
   * next time, up to `maxAttempts`, then fail it.
   */
  requeueSent(mac: string | null, at: number, maxAttempts = MAX_ATTEMPTS): void {
    this.touched(this.st.requeueSent!.all({ mac, at, maxAttempts, noAnswerHead: NO_ANSWER_PARTS[0], noAnswerTail: NO_ANSWER_PARTS[1], willSendAgain: JOB_NOTES.willSendAgain }));
  }

  /** Jobs sent in an interaction whose reply was never matched, and how many of them used up their attempts. */
  inFlight(maxAttempts = MAX_ATTEMPTS): { n: number; failing: number } {
    return this.st.inFlight!.get({ maxAttempts }) as { n: number; failing: number };
  }

  /** Jobs sent that wait for their phone to come back (reboot, secure port). */
  awaitingReturn(): number {
    return (this.st.awaitingReturn!.get() as { n: number }).n;
  }

  /**
   * Jobs that wait for their phone to reboot and come back fail once it is clearly not coming:
   * nothing stays `sent` for ever (a phone switched off, unplugged, or reset by hand elsewhere).
   * A bootstrap waits for a person typing a PIN, and has no such limit: it can be cancelled, and it
   * fails when its phone comes back in Default Mode (provisioning/decide.ts).
   */
  failOverdueReturns(at: number, limits: ReturnLimits = RETURN_LIMITS): number {
    let n = 0;
    for (const [kind, ms] of Object.entries(limits)) {
      const minutes = String(Math.round(ms / 60_000));
      // Several files: the reason names each file the phone's ReadAllItems did not confirm (manual p.55).
      if (kind === 'FileDeployment') n += this.failOverdueFiles(at, at - ms, minutes);
      n += this.touched(this.st.overdue!.all({ at, kind, before: at - ms, minutes }));
    }
    return n;
  }

  private failOverdueFiles(at: number, before: number, minutes: string): number {
    let n = 0;
    for (const row of this.st.overdueFiles!.all({ before }) as { id: number; items: string; results: string }[]) {
      const items = JSON.parse(row.items) as ItemValue[];
      if (!isMultipleDeployment(items)) continue;
      const { error, results } = filesOverdueNote(items, JSON.parse(row.results) as ItemResult[], minutes);
      n += this.touched(this.st.failFiles!.all({ id: row.id, at, error, results: JSON.stringify(results) }));
    }
    return n;
  }

  cancel(id: number, at: number, why: string = JOB_NOTES.cancelledByUser): boolean {
    return this.touched(this.st.cancel!.all({ id, at, why })) === 1;
  }

  pendingDevices(): PendingDevice[] {
    return this.st.pendingDevices!.all() as PendingDevice[];
  }

  contactMeSent(mac: string, at: number): void {
    this.st.setContactMe!.run({ mac, at });
    this.feed?.device(mac);
  }

  /**
   * Notes a contact-me as sent now, unless one was sent within `gapMs` (by this process or another:
   * the CLI's `contact` and the service's UI can both send). One statement, so of two processes
   * claiming at once only one gets it. Returns whether this one did.
   */
  claimContactMe(mac: string, at: number, gapMs: number): boolean {
    const claimed = this.st.claimContactMe!.run({ mac, at, gapMs }).changes === 1;
    if (claimed) this.feed?.device(mac);
    return claimed;
  }

  setProfile(p: Omit<Profile, 'created' | 'updated'>, at: number): Profile {
    this.st.setProfile!.run({ name: p.name, deviceType: p.deviceType, matchMac: p.matchMac, matchE164: p.matchE164, items: JSON.stringify(p.items), at });
    return this.profile(p.name)!;
  }

  profile(name: string): Profile | undefined {
    const r = this.st.profile!.get(name) as ProfileRow | undefined;
    return r && toProfile(r);
  }

  profiles(): Profile[] {
    return (this.st.profiles!.all() as ProfileRow[]).map(toProfile);
  }

  deleteProfile(name: string): boolean {
    return this.st.deleteProfile!.run(name).changes === 1;
  }

  assignProfile(mac: string, profile: string | null): void {
    this.st.assign!.run({ mac, profile });
    this.feed?.device(mac);
  }

  overrides(mac: string): ItemValue[] {
    return (this.st.overrides!.all(mac) as { name: string; idx: number | null; value: string }[]).map((r) =>
      r.idx === null ? { name: r.name, value: r.value } : { name: r.name, index: r.idx, value: r.value },
    );
  }

  /** Removes the named overrides of a device (every one when `items` is null); returns how many went. */
  clearOverrides(mac: string, items: readonly { name: string; index?: number }[] | null): number {
    const n = items === null
      ? this.db.prepare('DELETE FROM overrides WHERE mac = ?').run(mac).changes
      : this.db.transaction(() => items.reduce((n, i) => n + this.st.deleteOverride!.run({ mac, name: i.name, idx: i.index ?? null }).changes, 0))();
    if (n > 0) this.feed?.device(mac);
    return n;
  }

  /**
   * A digest of each device's overrides (devices without any are left out), for telling whether
   * another process changed them: null reads every device's.
   */
  overrideDigests(macs: readonly string[] | null): Map<string, string> {
    const rows = (macs === null
      ? this.db.prepare('SELECT mac, name, idx, value FROM overrides ORDER BY mac, name, idx').all()
      : macs.flatMap((mac) => (this.st.overrides!.all(mac) as object[]).map((r) => ({ mac, ...r })))) as { mac: string; name: string; idx: number | null; value: string }[];
    const hashes = new Map<string, Hash>();
    for (const r of rows) {
      let h = hashes.get(r.mac);
      if (!h) hashes.set(r.mac, (h = createHash('sha256')));
      h.update(JSON.stringify([r.name, r.idx, r.value]));
    }
    return new Map([...hashes].map(([mac, h]) => [mac, h.digest('base64')]));
  }

  /** Adds or replaces (same name and index) overrides of a device: all of them or none. */
  setOverrides(mac: string, items: readonly ItemValue[]): void {
    this.db.transaction(() => {
      for (const i of items) {
        const row = { mac, name: i.name, idx: i.index ?? null, value: i.value };
        this.st.deleteOverride!.run(row);
        this.st.insertOverride!.run(row);
      }
    })();
    if (items.length > 0) this.feed?.device(mac);
  }
}
