/**
 * The notes the service writes on a job (`Job.error`: why it waits, or why it failed), the most
 * frequent ones, in one place: the service writes them from here, and the renderer reads them back
 * into the UI's language (renderer/src/lib/job-note.ts). Stored as English text (the CLI prints
 * them, and old rows stay readable); a note not listed here is shown as written.
 */

export const JOB_NOTES = {
  waitingSecure: 'waiting for the phone on the secure port',
  waitingPin: 'waiting for the PIN to be typed on the phone, then for the phone on the secure port',
  waitingSecureRenewal: 'waiting for the phone on the secure port with its new certificate (the one it replaces is refused from now on)',
  busyCallsBack: 'the phone is busy (in a call); it calls back when the call ends',
  busyRetries: 'the phone is busy (in a call); LocalDLS retries with contact-me',
  willSendAgain: 'the phone did not answer; will send again',
  cancelledByUser: 'cancelled by the user',
  // FileDeployment (manual p.52–55): "accepted" says the phone took the request, not that the files arrived.
  waitingFileStatus: 'accepted by the phone; waiting for its status report on the file',
  checkingFiles: 'accepted by the phone; checking with ReadAllItems that it lists the files (it sends no status report for several files, manual p.55)',
} as const;

export type FixedNote = keyof typeof JOB_NOTES;

/** How the contact-me notes begin (the store finds and clears them by it). */
export const CONTACT_FAILED_PREFIX = 'contact-me failed';
export const NOT_CONTACTED_PREFIX = 'not contacted:';

/** A contact-me failed; the job still waits (store/contact-failures.ts). */
export const contactFailedNote = (failures: number, max: number, last: string): string =>
  `${CONTACT_FAILED_PREFIX} ${failures} of ${max} times, last: ${last}; trying again at the phone's contact gap`;

/** Too many contact-me failures in a row: the job failed. */
export const unreachableNote = (failures: number, last: string): string =>
  `the phone could not be reached: ${failures} contact-me requests in a row failed, last: ${last}. Check that it is on and on the network, then queue the job again`;

/** How the contact-gap note begins (the store finds and clears it by it, as the "not contacted" one). */
export const CONTACT_GAP_PREFIX = 'contact-me sent at ';

const utc = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A contact-me went to the phone lately: the next may go only once the phone's contact gap has
 * passed (app/contact.ts). Queued jobs said nothing for those minutes. If the phone has called
 * back since, it is not waited for (helper-61: the note said so of jobs queued after the call).
 */
export const contactGapNote = (sentAt: number, nextAt: number, calledBack = false): string =>
  calledBack
    ? `${CONTACT_GAP_PREFIX}${utc(sentAt)}, and the phone called back; the next contact-me goes at ${utc(nextAt)} (a phone ignores one within its contact gap), or the jobs go when it calls in by itself`
    : `${CONTACT_GAP_PREFIX}${utc(sentAt)}; waiting for the phone to call back (the next contact-me goes at ${utc(nextAt)}: a phone ignores one within its contact gap)`;

/** No contact-me can go to the phone (app/contact.ts). `why` is the service's own words. */
export const notContactedNote = (why: string): string => `${NOT_CONTACTED_PREFIX} ${why}; its jobs go out when the phone next calls in by itself`;

/** How often a job is sent before it fails for want of an answer. */
export const MAX_ATTEMPTS = 5;

/**
 * A job the phone left unanswered too often (store/jobs.ts writes it in SQL from these two parts).
 * It counts the unanswered sendings, not all of them: beside "attempts 11" (six busy answers) it
 * said "after 5 attempts". Notes written before say "no answer from the phone after N attempts".
 */
export const NO_ANSWER_PARTS = ['no answer from the phone to ', ' sendings'] as const;
export const noAnswerNote = (unanswered: number): string => `${NO_ANSWER_PARTS[0]}${unanswered}${NO_ANSWER_PARTS[1]}`;

/** The phone refused items of a write (manual p.82–83): how many, the first five as `name[index]: status`. */
export const refusedItemsNote = (results: readonly { name: string; index?: number; status: string }[]): string => {
  const shown = results.slice(0, 5).map((r) => `${r.name}${r.index !== undefined ? `[${r.index}]` : ''}: ${r.status}`).join(', ');
  return `the phone refused ${results.length} item${results.length > 1 ? 's' : ''}: ${shown}${results.length > 5 ? ', …' : ''}`;
};

const filesWord = (n: number) => `file${n === 1 ? '' : 's'}`;

/** A multiple-file deployment a check did not confirm yet (provisioning/file-check.ts): how many of how many, and which (with why). */
export const filesUnconfirmedNote = (open: number, total: number, files: string): string =>
  `accepted by the phone; ReadAllItems does not confirm ${open} of ${total} ${filesWord(total)} yet (${files}): checked again when the phone next calls in (or is contacted), until the deployment's time limit`;

/** The phone lists files of a multiple-file deployment as failed (file-deployment-status, p.245). */
export const filesFailedNote = (failed: number, total: number, files: string): string =>
  `the phone lists ${failed} of ${total} ${filesWord(total)} as failed (file-deployment-status): ${files}`;

/**
 * A multiple-file deployment not confirmed within its time limit (shared/file-deployment.ts
 * filesOverdueNote), and the files the phone listed as failed meanwhile, if any.
 */
export const filesOverdueText = (open: number, total: number, minutes: string, files: string, failed = ''): string =>
  `the phone did not confirm ${open} of ${total} ${filesWord(total)} within ${minutes} minutes after the FileDeployment was sent (ReadAllItems): ${files}${failed ? `; listed as failed: ${failed}` : ''}`;

/** The phone answered the job's action with status failed (manual p.29). */
export const refusedActionNote = (action: string): string => `the phone refused ${action} (status failed)`;

/** A note read back: which one, and its values (null when the text is none of these). */
export type ParsedNote =
  | { key: FixedNote; params: Record<string, never> }
  | { key: 'contactFailed'; params: { failures: number; max: number; last: string } }
  | { key: 'unreachable'; params: { failures: number; last: string } }
  | { key: 'notContacted'; params: { why: string } }
  | { key: 'noAnswer'; params: { sendings: number } }
  | { key: 'refusedItems'; params: { count: number; items: string } }
  | { key: 'refusedAction'; params: { action: string } }
  | { key: 'filesUnconfirmed'; params: { open: number; count: number; files: string } }
  | { key: 'filesFailed'; params: { failed: number; count: number; files: string } }
  | { key: 'filesOverdue'; params: { open: number; count: number; minutes: string; files: string } }
  | { key: 'filesOverdueFailed'; params: { open: number; count: number; minutes: string; files: string; failed: string } }
  | { key: 'contactGap' | 'contactGapCalledBack'; params: { sent: string; next: string } };

const PATTERNS: [RegExp, (m: RegExpExecArray) => ParsedNote][] = [
  [/^contact-me failed (\d+) of (\d+) times, last: ([\s\S]*); trying again at the phone's contact gap$/, (m) => ({ key: 'contactFailed', params: { failures: Number(m[1]), max: Number(m[2]), last: m[3]! } })],
  [/^the phone could not be reached: (\d+) contact-me requests in a row failed, last: ([\s\S]*)\. Check that it is on and on the network, then queue the job again$/, (m) => ({ key: 'unreachable', params: { failures: Number(m[1]), last: m[2]! } })],
  [/^not contacted: ([\s\S]*); its jobs go out when the phone next calls in by itself$/, (m) => ({ key: 'notContacted', params: { why: m[1]! } })],
  [/^no answer from the phone (?:to (\d+) sendings|after (\d+) attempts)$/, (m) => ({ key: 'noAnswer', params: { sendings: Number(m[1] ?? m[2]) } })],
  [/^the phone refused (\d+) items?: ([\s\S]*)$/, (m) => ({ key: 'refusedItems', params: { count: Number(m[1]), items: m[2]! } })],
  [/^the phone refused ([\w-]+) \(status failed\)$/, (m) => ({ key: 'refusedAction', params: { action: m[1]! } })],
  // `count` is the whole number of files: the word's plural follows it.
  [/^accepted by the phone; ReadAllItems does not confirm (\d+) of (\d+) files? yet \(([\s\S]*)\): checked again when the phone next calls in \(or is contacted\), until the deployment's time limit$/, (m) => ({ key: 'filesUnconfirmed', params: { open: Number(m[1]), count: Number(m[2]), files: m[3]! } })],
  [/^the phone lists (\d+) of (\d+) files? as failed \(file-deployment-status\): ([\s\S]*)$/, (m) => ({ key: 'filesFailed', params: { failed: Number(m[1]), count: Number(m[2]), files: m[3]! } })],
  [/^the phone did not confirm (\d+) of (\d+) files? within (\S+) minutes after the FileDeployment was sent \(ReadAllItems\): ([\s\S]*?)(?:; listed as failed: ([\s\S]*))?$/, (m) => {
    const params = { open: Number(m[1]), count: Number(m[2]), minutes: m[3]!, files: m[4]! };
    return m[5] === undefined ? { key: 'filesOverdue', params } : { key: 'filesOverdueFailed', params: { ...params, failed: m[5] } };
  }],
  [/^contact-me sent at (\S+); waiting for the phone to call back \(the next contact-me goes at (\S+): a phone ignores one within its contact gap\)$/, (m) => ({ key: 'contactGap', params: { sent: m[1]!, next: m[2]! } })],
  [/^contact-me sent at (\S+), and the phone called back; the next contact-me goes at (\S+) \(a phone ignores one within its contact gap\), or the jobs go when it calls in by itself$/, (m) => ({ key: 'contactGapCalledBack', params: { sent: m[1]!, next: m[2]! } })],
];

export function parseJobNote(text: string): ParsedNote | null {
  for (const [key, value] of Object.entries(JOB_NOTES) as [FixedNote, string][]) if (text === value) return { key, params: {} };
  for (const [re, make] of PATTERNS) {
    const m = re.exec(text);
    if (m) return make(m);
  }
  return null;
}
