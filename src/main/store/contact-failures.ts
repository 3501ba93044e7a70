/**
 * Contact-me requests that failed (refused, timed out, no route): counted per device since the
 * phone was last heard from, with the last error, and reported on the device's waiting jobs. After
 * `maxFailures` in a row the waiting jobs fail with the reason instead of waiting for a phone that
 * does not answer; a pending bootstrap becomes failed, so a later bootstrap includes the phone.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Device } from '../../shared/model';
import { CONTACT_FAILED_PREFIX, CONTACT_GAP_PREFIX, contactFailedNote, JOB_NOTES, NOT_CONTACTED_PREFIX, unreachableNote } from '../../shared/job-notes';
import type { ChangeFeed } from './change-feed';

/** Failed contact-me requests in a row after which a device's waiting jobs fail. */
export const MAX_CONTACT_FAILURES = 5;

export interface ContactFailureResult {
  /** Failed contact-me requests in a row, this one included. */
  failures: number;
  /** Jobs that failed because of it (the bound was reached). */
  failedJobs: number[];
}

/** The row fields this file adds to `devices` (migration 5), and the two it reads beside them. */
export interface ContactFailureRow {
  last_contact: number;
  last_contact_me: number | null;
  contact_failures: number;
  last_contact_error: string | null;
  last_contact_error_at: number | null;
}

/**
 * The device record's view: a phone heard from after its last failed contact-me (it called in, or
 * a later contact-me was answered) is reachable again, whatever was counted before.
 */
export function contactFailureFields(r: ContactFailureRow): Pick<Device, 'contactFailures' | 'lastContactError' | 'lastContactMeOutcome' | 'lastContactMeError'> {
  const stale = r.last_contact_error_at === null || r.last_contact > r.last_contact_error_at;
  return { ...(stale ? { contactFailures: 0, lastContactError: null } : { contactFailures: r.contact_failures, lastContactError: r.last_contact_error }), ...contactMeOutcome(r) };
}

/**
 * What became of the last contact-me, from when it was sent (last_contact_me, written before the
 * request goes out), when one last failed (last_contact_error_at, cleared when one is answered)
 * and when the phone was last heard from (an answered contact-me counts, a failed one does not):
 * failed if a failure was recorded since it was sent and the phone has not been heard from since;
 * answered if the phone was heard from since it was sent; else sent, its answer still awaited.
 */
function contactMeOutcome(r: ContactFailureRow): Pick<Device, 'lastContactMeOutcome' | 'lastContactMeError'> {
  if (r.last_contact_me === null) return { lastContactMeOutcome: null, lastContactMeError: null };
  if (r.last_contact_error_at !== null && r.last_contact_error_at >= r.last_contact_me && r.last_contact_error_at >= r.last_contact) {
    return { lastContactMeOutcome: 'failed', lastContactMeError: r.last_contact_error };
  }
  if (r.last_contact >= r.last_contact_me) return { lastContactMeOutcome: 'answered', lastContactMeError: null };
  return { lastContactMeOutcome: 'sent', lastContactMeError: null };
}

const WAITING = `state IN ('queued', 'waiting-busy')`;
/** The contact loop's own notes (why a job waits for its phone): "not contacted: …" and "contact-me sent at …". */
const LOOP_NOTE = `(substr(error, 1, length(@notContacted)) = @notContacted OR substr(error, 1, length(@contactGap)) = @contactGap)`;
const LOOP_PREFIXES = { notContacted: NOT_CONTACTED_PREFIX, contactGap: CONTACT_GAP_PREFIX };

export class ContactFailures {
  private readonly st: Record<string, Statement>;

  /** `feed`: announces the devices and jobs written here, as the store's other writes do. */
  constructor(
    private readonly db: Database,
    private readonly feed?: ChangeFeed,
  ) {
    this.st = {
      count: db.prepare(`UPDATE devices SET
          contact_failures = CASE WHEN last_contact_error_at IS NULL OR last_contact > last_contact_error_at THEN 1 ELSE contact_failures + 1 END,
          last_contact_error = @error, last_contact_error_at = @at
        WHERE mac = @mac RETURNING contact_failures AS failures`),
      // The notes' own words are bound, not pasted into the SQL: a quote in them must not matter.
      note: db.prepare(`UPDATE jobs SET error = @note, updated = @at WHERE mac = @mac AND ${WAITING} RETURNING id`),
      fail: db.prepare(`UPDATE jobs SET state = 'failed', error = @reason, finished = @at, updated = @at WHERE mac = @mac AND ${WAITING} RETURNING id, kind`),
      bootstrapFailed: db.prepare(`UPDATE devices SET bootstrap = 'failed' WHERE mac = @mac AND bootstrap = 'pending'`),
      answered: db.prepare(`UPDATE devices SET contact_failures = 0, last_contact_error = NULL, last_contact_error_at = NULL WHERE mac = @mac`),
      clearNote: db.prepare(`UPDATE jobs SET error = NULL, updated = @at WHERE mac = @mac AND ${WAITING} AND (substr(error, 1, length(@failedPrefix)) = @failedPrefix OR ${LOOP_NOTE}) RETURNING id`),
      // Only over no note, its own, or "will send again": a failed contact-me's note says more (it
      // was sent), and a busy job's says what it waits for.
      notContacted: db.prepare(`UPDATE jobs SET error = @note, updated = @at WHERE mac = @mac AND state = 'queued'
        AND (error IS NULL OR ${LOOP_NOTE} OR error = @willSendAgain) AND error IS NOT @note RETURNING id`),
      contactable: db.prepare(`UPDATE jobs SET error = NULL, updated = @at WHERE mac = @mac AND ${WAITING} AND ${LOOP_NOTE} RETURNING id`),
      clearNotContacted: db.prepare(`UPDATE jobs SET error = NULL, updated = @at WHERE ${WAITING} AND ${LOOP_NOTE} RETURNING id, mac`),
    };
  }

  /** Counts a failed contact-me and reports it on the device's waiting jobs, failing them at the bound. */
  failed(mac: string, error: string, at: number, maxFailures = MAX_CONTACT_FAILURES): ContactFailureResult {
    return this.db.transaction((): ContactFailureResult => {
      const row = this.st.count!.get({ mac, error, at }) as { failures: number } | undefined;
      if (!row) return { failures: 0, failedJobs: [] };
      const { failures } = row;
      this.feed?.device(mac);
      if (failures < maxFailures) {
        const noted = this.st.note!.all({ mac, at, note: contactFailedNote(failures, maxFailures, error) }) as { id: number }[];
        for (const j of noted) this.feed?.job(j.id, mac);
        return { failures, failedJobs: [] };
      }
      const reason = unreachableNote(failures, error);
      const failed = this.st.fail!.all({ mac, at, reason }) as { id: number; kind: string }[];
      if (failed.some((j) => j.kind === 'Bootstrap')) this.st.bootstrapFailed!.run({ mac });
      for (const j of failed) this.feed?.job(j.id, mac);
      return { failures, failedJobs: failed.map((j) => j.id) };
    })();
  }

  /** No contact-me can go to the phone (`note` says why): its waiting jobs say so. */
  notContacted(mac: string, note: string, at: number): void {
    const noted = this.st.notContacted!.all({ mac, note, at, ...LOOP_PREFIXES, willSendAgain: JOB_NOTES.willSendAgain }) as { id: number }[];
    for (const j of noted) this.feed?.job(j.id, mac);
  }

  /** The phone can be contacted again: the note goes. */
  contactable(mac: string, at: number): void {
    const cleared = this.st.contactable!.all({ mac, at, ...LOOP_PREFIXES }) as { id: number }[];
    for (const j of cleared) this.feed?.job(j.id, mac);
  }

  /**
   * Every "not contacted" note, at the service's start: they are the running service's view
   * (its contact loop writes them again within a second when they still hold).
   */
  clearNotContacted(at: number = Date.now()): void {
    const cleared = this.st.clearNotContacted!.all({ at, ...LOOP_PREFIXES }) as { id: number; mac: string }[];
    for (const j of cleared) this.feed?.job(j.id, j.mac);
  }

  /** The phone answered a contact-me: reachable again. */
  answered(mac: string, at: number): void {
    this.db.transaction(() => {
      this.st.answered!.run({ mac });
      const cleared = this.st.clearNote!.all({ mac, at, failedPrefix: CONTACT_FAILED_PREFIX, ...LOOP_PREFIXES }) as { id: number }[];
      this.feed?.device(mac);
      for (const j of cleared) this.feed?.job(j.id, mac);
    })();
  }
}
