/**
 * What the service answers to one complete phone message, and what that message changes.
 * Pure: (message, device, its pending jobs, the interaction so far) -> decision. Flows from the
 * manual: start-up p.32–35, local changes p.37–38, read p.42–45, write p.46–48, restart and
 * factory reset p.50–51, files p.52–55, firmware p.56–58, errors p.77–83, busy p.72–76.
 */
import { engineRefusalText } from '../../shared/engine-refusals';
import { normalizeMac, type Action, type Item, type WorkpointMessage } from '../wpi';

export { normalizeMac };
import type { Device, ItemResult, Job, Profile } from '../../shared/model';
import type { Changes, DeviceUpsert, JobChange, NewJob } from '../store';
import { profileDiff } from './profiles';
import { supportsSendSolicited } from './firmware';
import { peerKey } from '../net/peer-address';
import { JOB_NOTES, MAX_ATTEMPTS, noAnswerNote, refusedActionNote, refusedItemsNote } from '../../shared/job-notes';
import { AWAITING_RETURN, bootstrapMessage, jobMessage, jobMessages, REBOOTING_KINDS, SPLIT_KINDS, type BootstrapSend, type JobSecret } from './job-messages';
import { RENEWAL_SOURCE, type ListenerKind } from '../../shared/model';
import { itemKey, unsendableItem } from '../../shared/item-rules';
import { awaitsFileCheck, isMultipleDeployment, sentResults, type ListingItem } from '../../shared/file-deployment';
import { checkFiles, reportedNames, reportedResult, reportFor } from './file-check';

/** The job being carried out in this interaction. */
export interface ActiveJob {
  /** null until the store has given a job created by this very exchange its id. */
  id: number | null;
  kind: Job['kind'];
  /** The WriteItems part being answered (0-based). */
  part: number;
  parts: number;
  /**
   * The phone's maxItems the parts were split by: a phone may announce another one in its reply,
   * and splitting again by that would name other items than the ones sent (the rest never sent,
   * or some sent twice).
   */
  splitBy?: number | undefined;
  /**
   * A PIN bootstrap asks for bootstrapping-tan on the first secure contact (manual p.68); a
   * multiple-file deployment the phone accepted is checked with ReadAllItems (p.55).
   */
  stage?: 'tan' | 'check';
}

/** What the engine remembers about the interaction between messages. */
export interface InteractionState {
  current: ActiveJob | null;
  /** Jobs finished in this interaction. */
  finished: number;
  /** The phone accepted a WriteItems in this interaction, so it is not (any more) in a call. */
  acceptedWrite: boolean;
  /** The phone's maxItems from its latest message (manual p.28). */
  maxItems: number | undefined;
  /**
   * Multiple-file deployments checked with ReadAllItems in this interaction: once each, so a file
   * not there yet does not make the service ask again and again; the next interaction checks again.
   */
  checked: readonly number[];
}

export interface Decision {
  answer: { action: Action; items: Item[] };
  changes: Changes;
  /** Set when this answer ends the interaction (CleanUp, Restart, SoftwareDeployment, …). */
  ends: string | null;
  /** Something a person should notice (shown in the traffic view); the exchange still succeeds. */
  warning?: string;
  /**
   * Items of a write (a WriteItems job's part, a bootstrap) the phone refused in this reply, inside
   * an accepted one (manual p.82–83): the job fails with them, and the exchange is an error.
   */
  refusedItems?: number;
}

/** A message the service cannot act on: answered with HTTP 400 (or 403 when refused by policy). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    message: string,
    readonly status = 400,
    /** What the refusal changes in the engine's memory, applied once the refused exchange is recorded. */
    readonly afterRecord?: () => void,
  ) {
    super(message);
  }
}

/** Reasons that open an interaction and carry the phone's identity items (manual p.27). */
export const FIRST_MESSAGE_REASONS = new Set(['start-up', 'solicited', 'local-changes', 'inventory-changes']);

/**
 * Reasons a phone may open an interaction with: the first messages, and the phone-driven reports
 * that carry mac-addr too: the status of a file deployment that arrives after its interaction
 * ended (manual p.32, p.52) and the phone's own clean-up (p.83). A reply-to never opens one.
 */
export const OPENING_REASONS = new Set([...FIRST_MESSAGE_REASONS, 'status', 'clean-up']);

export interface DecisionInput {
  message: WorkpointMessage;
  /** The device this message belongs to: from mac-addr, or from the session for reply-to. */
  mac: string | null;
  device: Device | undefined;
  peerAddress: string;
  /** The device's jobs still waiting (queued, waiting-busy, sent), in queue order. */
  jobs: readonly Job[];
  /** Mutable: the engine's memory of this interaction. */
  interaction: InteractionState;
  /** Plug & play: a profile whose MAC/E.164 pattern matches a device that has none yet. */
  matchingProfile?: Profile;
  /** The device's overrides, laid over its profile. */
  overrides?: readonly { name: string; index?: number; value: string }[];
  /** Which listener the message came in on, and (secure) who the client certificate names. */
  listener?: ListenerKind;
  clientIdentity?: { mac: string; serial: string } | null;
  /** Opens a job's sealed secret (bootstrap); undefined when it cannot be opened. */
  secretOf?: (job: Job) => JobSecret | undefined;
  /** The address a sent job went to (the phone's at the time), or null when not known. */
  sentTo?: (job: Job) => string | null;
  /**
   * A bootstrap job as this service sends it (its own secure port), held, or refused; without
   * it the job's sealed secret is sent as it is (secretOf).
   */
  bootstrapToSend?: (job: Job) => BootstrapSend;
  /** The device's items as stored (its last complete read, and the reports since); read only when a deployment of several files is sent. */
  storedItems?: () => readonly ListingItem[];
  now: number;
}

const cleanUp = (items: Item[] = []) => ({ action: 'CleanUp' as const, items });

export function newInteraction(): InteractionState {
  return { current: null, finished: 0, acceptedWrite: false, maxItems: undefined, checked: [] };
}

export function decide(input: DecisionInput): Decision {
  const { message } = input;
  if (message.maxItems !== undefined) input.interaction.maxItems = message.maxItems;
  switch (message.reason) {
    case 'start-up':
    case 'solicited':
    case 'local-changes':
    case 'inventory-changes':
      return firstMessage(input);
    case 'reply-to':
      return replyTo(input);
    case 'status':
      return status(input);
    case 'clean-up':
      return phoneCleanUp(input);
  }
}

function firstMessage(input: DecisionInput): Decision {
  const { message, device, peerAddress, now } = input;
  const rawMac = itemValue(message.items, 'mac-addr');
  if (rawMac === undefined || rawMac === '') {
    throw new ProtocolError(engineRefusalText('noMacItem', { reason: message.reason }));
  }
  const mac = normalizeMac(rawMac);
  if (!mac) throw new ProtocolError(`mac-addr "${rawMac.slice(0, 40)}" is not a MAC address`);
  const upsert: DeviceUpsert = { mac, lastAddress: peerAddress };
  const set = (key: keyof Omit<DeviceUpsert, 'mac' | 'lastAddress'>, item: string) => {
    const v = itemValue(message.items, item);
    if (v !== undefined && v !== '') upsert[key] = v;
  };
  set('e164', 'e164');
  set('deviceType', 'device-type');
  set('softwareVersion', 'software-version');
  set('partNumber', 'part-number');
  set('contactMeUri', 'contact-me-uri');

  const changes: Changes = { device: upsert, mergeItems: message.items, openInteraction: { reason: message.reason } };
  const jobChanges: JobChange[] = [];
  let jobs = [...input.jobs];
  let revoke: Changes['revoke'];
  const secure = input.listener === 'secure';
  if (secure && input.clientIdentity?.mac !== mac) {
    throw new ProtocolError(`the client certificate is for ${input.clientIdentity?.mac ?? 'no device'}, but the message claims mac-addr ${mac}: refused`, 403);
  }
  if (!secure && device?.mode === 'secure') {
    // The engine refuses this before deciding; kept here so decide() alone never serves it either.
    throw new ProtocolError(engineRefusalText('secureOnDefault', { mac }), 403);
  }
  if (!secure) {
    const stranded = jobs.find((j) => cameBackInDefaultMode(j, message.reason));
    if (stranded) refuseFromElsewhere(input, stranded, `a ${message.reason}`);
    if (stranded) {
      jobChanges.push({ id: stranded.id, state: 'failed', finished: now, error: `${CAME_BACK_IN_DEFAULT_MODE} (${message.reason} on the Default-Mode port): it did not take its Secure-Mode credentials (${isPinBootstrap(stranded) ? 'PIN not entered, or the phone was reset' : 'the phone was reset, or lost them'}); its certificate is revoked: bootstrap it again` });
      changes.bootstrap = 'failed';
      // The credential it was sent may still sit in the phone (or in a capture): it must never open the secure port.
      revoke = revokeFor(input, stranded.id, 'the phone came back in Default Mode without taking this certificate');
      jobs = jobs.filter((j) => j.id !== stranded.id);
    }
  }
  if (secure) {
    const presented = input.clientIdentity!.serial;
    // The bootstrap this certificate was issued for (the engine lets in no other certificate).
    const boot = jobs.find((j) => j.kind === 'Bootstrap' && issuedFor(j, presented, device, input.secretOf));
    if (boot) {
      const secret = input.secretOf?.(boot);
      if (secret?.tan !== undefined) {
        // PIN variant: prove the user typed the PIN we issued (manual p.68).
        input.interaction.current = { id: boot.id, kind: 'Bootstrap', part: 0, parts: 1, stage: 'tan' };
        return { answer: { action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] }, changes: { ...changes, state: 'in-interaction' }, ends: null };
      }
      jobChanges.push({ id: boot.id, state: 'done', finished: now, error: null });
      Object.assign(changes, { mode: 'secure', bootstrap: 'done', certSerial: presented });
      // Renewed: the certificate it had is no longer trusted.
      if (device?.mode === 'secure' && device.certSerial) revoke = { serial: device.certSerial, reason: `renewed: replaced by certificate ${presented}` };
      jobs = jobs.filter((j) => j.id !== boot.id);
    }
    // The certificate a renewal replaces is refused by the engine once the renewal is taken, and
    // opens no other interaction while it is on its way (engine.ts handle): it never gets here then.
  }
  // A phone that reboots sends start-up: that confirms Restart, factory reset and firmware (manual p.50–57).
  if (message.reason === 'start-up') {
    for (const job of jobs.filter((j) => j.state === 'sent' && REBOOTING_KINDS.has(j.kind))) {
      const change = confirmReboot(job, message.items, now);
      // Default Mode names a phone by its MAC alone, and a reset phone may come back on a new address
      // (DHCP): the job is done, and says where the start-up came from when that is not where it went.
      const went = !secure && change.state === 'done' ? elsewhere(input, job) : null;
      if (went) {
        change.error = `confirmed by a start-up on the Default-Mode port from ${input.peerAddress}, not from ${went}, where the ${job.kind} went: the phone got a new address, or another host named its MAC (Default Mode cannot tell which)`;
      }
      jobChanges.push(change);
    }
    jobs = jobs.filter((j) => !(j.state === 'sent' && REBOOTING_KINDS.has(j.kind)));
  }
  if (jobChanges.length) changes.jobs = jobChanges;
  // The revocation commits with the exchange that makes the certificate obsolete.
  const withRevoke = (d: Decision): Decision => (revoke ? { ...d, changes: { ...d.changes, revoke } } : d);

  const changed = itemValue(message.items, 'configuration-changed-flag') === 'true';
  // A known phone whose configuration is unchanged need not be read again (manual p.34).
  if (device === undefined || changed) {
    return withRevoke({ answer: { action: 'ReadAllItems', items: [] }, changes: { ...changes, state: 'in-interaction' }, ends: null });
  }
  return withRevoke(next({ ...input, jobs, device: { ...device, softwareVersion: upsert.softwareVersion ?? device.softwareVersion } }, changes));
}

/**
 * Whether a client certificate is the one issued for this bootstrap job: its serial is sealed with
 * the job. A job sealed before serials were kept is matched as before: sent at least once, to a
 * device not yet in Secure Mode.
 */
export function issuedFor(job: Job, serial: string, device: Device | undefined, secretOf: DecisionInput['secretOf']): boolean {
  if (job.kind !== 'Bootstrap' || job.attempts === 0 || !['sent', 'queued', 'waiting-busy'].includes(job.state)) return false;
  const issued = secretOf?.(job)?.serial;
  return issued === undefined ? device?.mode !== 'secure' : issued === serial;
}

/** The certificate made for a bootstrap that failed (`why`): it must never open the secure port. */
function revokeFor(input: DecisionInput, jobId: number | null | undefined, why: string): Changes['revoke'] {
  const job = input.jobs.find((j) => j.id === jobId);
  const serial = job ? input.secretOf?.(job)?.serial : undefined;
  return serial ? { serial, reason: `bootstrap job ${jobId} failed: ${why}` } : undefined;
}

/** A bootstrap failed (`why`): the device's bootstrap too, and the certificate made for it revoked. */
function failBootstrap(input: DecisionInput, changes: Changes, jobId: number | null | undefined, why: string): void {
  changes.bootstrap = 'failed';
  const revoke = changes.revoke ?? revokeFor(input, jobId, why);
  if (revoke) changes.revoke = revoke;
}

/** Where a sent job went, when this message comes from another address (null: from there, or not known). */
function elsewhere(input: DecisionInput, job: Job): string | null {
  const went = input.sentTo?.(job);
  return went && peerKey(went) !== peerKey(input.peerAddress) ? went : null;
}

/**
 * Default Mode names a phone by its MAC alone: a message from another address than the one a
 * bootstrap went to (`what`) is not the phone, and must not end the bootstrap it took (its PIN
 * dialog may be open for minutes). A phone that really moved: cancelled by hand, as the refusal says.
 */
function refuseFromElsewhere(input: DecisionInput, boot: Job, what: string): void {
  const went = elsewhere(input, boot);
  if (went) throw new ProtocolError(`${boot.mac} took its bootstrap (job ${boot.id}) at ${went}; ${what} from ${input.peerAddress} does not end it: refused (if the phone itself moved to this address, cancel job ${boot.id} and bootstrap it again)`, 403);
}

/** The start of the error a bootstrap job fails with when its phone comes back in Default Mode. */
export const CAME_BACK_IN_DEFAULT_MODE = 'the phone came back in Default Mode';

/** A bootstrap with PIN (secure-mode-data, the phone asks for the PIN) rather than without. */
export function isPinBootstrap(job: Pick<Job, 'items'>): boolean {
  return job.items.some((i) => i.name === 'goto-secure-mode' && i.value === 'pin');
}

/**
 * Whether this first message on the Default-Mode port shows that the phone will not take the
 * bootstrap it accepted (job sent, parts_done 1: waiting for it on the secure port). The manual's
 * phone switches at the CleanUp without PIN, and once the PIN is typed with one (p.64–67); it
 * sends start-up when it boots (p.32, p.50). So:
 * - start-up: the phone booted (reset, power cycle, restart) without switching; a boot closes the
 *   PIN dialog, so the credential it was given is gone;
 * - without PIN, any first message: it would have switched at once, so it did not take them;
 * - with PIN, solicited, local-changes or inventory-changes: the PIN dialog may still be open (a
 *   contact-me answered, a setting changed while nobody has typed the PIN yet): it keeps waiting.
 */
function cameBackInDefaultMode(job: Job, reason: WorkpointMessage['reason']): boolean {
  if (job.kind !== 'Bootstrap' || job.state !== 'sent' || job.partsDone < 1 || job.source === RENEWAL_SOURCE) return false;
  return reason === 'start-up' || !isPinBootstrap(job);
}

function confirmReboot(job: Job, items: readonly Item[], now: number): JobChange {
  if (job.kind === 'SoftwareDeployment' && job.expect) {
    const wrong = Object.entries(job.expect).filter(([name, want]) => itemValue(items, name) !== want);
    if (wrong.length) {
      const [name, want] = wrong[0]!;
      return { id: job.id, state: 'failed', finished: now, error: `the phone came back with ${name} "${itemValue(items, name) ?? ''}", expected "${want}"` };
    }
  }
  return { id: job.id, state: 'done', finished: now, error: null };
}

function replyTo(input: DecisionInput): Decision {
  const { message, mac, interaction, now } = input;
  if (mac === null) return end({}, 'reply-to outside any known interaction (no session cookie or address match)');
  const action = message.action ?? '';
  const current = interaction.current;
  const changes: Changes = {};
  // Whatever it says to a check (busy, failed, another action), the deployment itself waits on.
  if (current?.stage === 'check') return checkReply(input, current, changes);

  if (message.status === 'busy') {
    // The phone is in a call (manual p.46): keep the job, ask the phone to call back when idle.
    if (current?.id != null) {
      const sendSolicited = supportsSendSolicited(input.device?.softwareVersion);
      changes.jobs = [{
        id: current.id, state: 'waiting-busy', partsDone: current.part,
        error: sendSolicited ? JOB_NOTES.busyCallsBack : JOB_NOTES.busyRetries,
      }];
      interaction.current = null;
      const items = sendSolicited ? [{ name: 'send-solicited', value: 'true' }] : [];
      return { answer: cleanUp(items), changes: { ...changes, state: 'idle' }, ends: 'CleanUp' };
    }
    return end(changes, `the phone is busy and did not accept ${action || 'the action'}`);
  }

  if (current === null) {
    // Our own ReadAllItems after start-up (no job), or a reply we did not ask for.
    if (action === 'ReadAllItems' && message.status === 'accepted') {
      changes.replaceItems = message.items;
      // It lists the phone's files too: deployments waiting for that check are judged by it.
      const checked = checkAll(input, changes);
      return afterRead({ ...input, jobs: input.jobs.filter((j) => !checked.has(j.id)) }, changes);
    }
    if (message.status === 'failed') return end(changes, `the phone refused ${action || 'the action'} (status failed)`);
    return next(input, changes, `reply-to ${action} without a job waiting for it`);
  }

  if (action !== '' && action !== expectedAction(current.kind, current.stage)) {
    changes.jobs = [{ id: current.id!, state: 'failed', finished: now, error: `the phone answered ${action} to a ${current.kind} job` }];
    interaction.current = null;
    return end(changes, `reply-to action ${action} does not match the job's ${expectedAction(current.kind, current.stage)}`);
  }
  if (message.status === 'failed') {
    changes.jobs = [{ id: current.id!, state: 'failed', finished: now, error: refusedActionNote(current.kind) }];
    // It keeps what it had; the certificate it refused must never open the secure port.
    if (current.kind === 'Bootstrap') failBootstrap(input, changes, current.id, 'the phone refused it');
    interaction.current = null;
    interaction.finished++;
    return next(input, changes);
  }
  if (message.status !== 'accepted') {
    return end(changes, `reply-to with unexpected status "${message.status ?? ''}"`);
  }
  return accepted(input, current, changes);
}

function accepted(input: DecisionInput, current: ActiveJob, changes: Changes): Decision {
  const { message, interaction, now } = input;
  const job = input.jobs.find((j) => j.id === current.id);
  const results: ItemResult[] = message.items
    .filter((i) => i.status !== undefined)
    .map((i) => (i.index === undefined ? { name: i.name, status: i.status! } : { name: i.name, index: i.index, status: i.status! }));
  const jobChange: JobChange = { id: current.id!, ...(results.length ? { results } : {}) };
  // A job sent in parts (a WriteItems or ReadItems over the phone's maxItems).
  const parts = job && SPLIT_KINDS.has(current.kind) ? jobMessages(job, current.splitBy) : [];
  const partsDone = current.part + 1;
  const nextPart = (): Decision => {
    // Service-side split (manual p.71): the next part as a new message in the same interaction.
    interaction.current = { ...current, part: partsDone };
    // One attempt per sending of the job, not per part: five parts are not five tries.
    changes.jobs = [{ ...jobChange, partsDone }];
    return { answer: parts[partsDone]!, changes: { ...changes, state: 'in-interaction' }, ends: null, ...(current.kind === 'WriteItems' ? refusedIn(results) : {}) };
  };
  switch (current.kind) {
    case 'WriteItems': {
      // What the phone accepted is now its configuration.
      const sent = parts[current.part]?.items ?? [];
      const refused = new Set(results.map(itemKey));
      changes.mergeItems = sent.filter((i) => !refused.has(itemKey(i)));
      if (partsDone < parts.length) return nextPart();
      const allResults = [...(job?.results ?? []), ...results];
      Object.assign(jobChange, { partsDone, ...finish(allResults, now) });
      interaction.acceptedWrite = true;
      break;
    }
    case 'ReadItems':
      changes.mergeItems = message.items;
      if (partsDone < parts.length) return nextPart();
      Object.assign(jobChange, { partsDone, state: 'done', finished: now, error: null });
      break;
    case 'ReadAllItems':
      changes.replaceItems = message.items;
      Object.assign(jobChange, { state: 'done', finished: now, error: null });
      break;
    case 'Bootstrap': {
      if (current.stage === 'tan') {
        const secret = job ? input.secretOf?.(job) : undefined;
        const tan = itemValue(message.items, 'bootstrapping-tan');
        if (secret?.tan === undefined || tan !== secret.tan) {
          // Manual p.31: end with the reason; the certificate the phone holds is no longer trusted.
          changes.jobs = [{ id: current.id!, state: 'failed', finished: now, error: 'wrong TAN from device: the PIN typed on the phone is not the one issued' }];
          interaction.current = null;
          return {
            answer: cleanUp([{ name: 'cleanup-reason', value: 'wrong TAN from device' }]),
            changes: {
              ...changes, state: 'idle', bootstrap: 'failed',
              ...(input.clientIdentity ? { revoke: { serial: input.clientIdentity.serial, reason: 'wrong TAN: the PIN typed on the phone is not the one issued' } } : {}),
            },
            ends: 'CleanUp',
          };
        }
        Object.assign(jobChange, { state: 'done', finished: now, error: null });
        Object.assign(changes, { mode: 'secure', bootstrap: 'done', certSerial: input.clientIdentity?.serial ?? null });
        break;
      }
      if (results.length) {
        // The phone could not use what it was given (e.g. `invalid data`): it keeps what it had.
        changes.jobs = [{ ...jobChange, ...finish(results, now) }];
        failBootstrap(input, changes, current.id, 'the phone refused items of it');
        interaction.current = null;
        return { ...end(changes), ...refusedIn(results) };
      }
      // The phone took the credentials; it now moves to the secure port (manual p.64–65).
      // partsDone 1 marks it as delivered: a restart or an expiry no longer sends it again.
      const renewal = input.device?.mode === 'secure';
      const taken = input.jobs.find((j) => j.id === current.id);
      const note = renewal ? JOB_NOTES.waitingSecureRenewal : taken && isPinBootstrap(taken) ? JOB_NOTES.waitingPin : JOB_NOTES.waitingSecure;
      changes.jobs = [{ ...jobChange, partsDone: 1, error: note }];
      interaction.current = null;
      return end({ ...changes, bootstrap: 'pending' });
    }
    case 'SoftwareDeployment':
      // Not in the manual (the phone reboots without a word), and no proof of the new version: the
      // job waits for the start-up that reports it.
      interaction.current = null;
      return end(changes);
    case 'FileDeployment': {
      // "accepted" says the phone took the request, not that a file arrived: it downloads afterwards.
      interaction.current = null;
      if (!job) return next(input, changes);
      // Items it refused in its accepted reply (manual p.78–83: unknown item, invalid data, …) are
      // its answer on them: failed now with its reasons, not after 30 minutes as "not listed" (helper-73).
      if (results.length) {
        // Its refusals replace the files' "not checked" of the sending: no check follows.
        Object.assign(jobChange, { partsDone: 1, resetResults: true, ...finish(results, now) });
        break;
      }
      if (!isMultipleDeployment(job.items)) {
        // One file: its status report finishes it (p.52–54), on this connection or a later one.
        changes.jobs = [{ ...jobChange, partsDone: 1, error: JOB_NOTES.waitingFileStatus }];
        return next({ ...input, jobs: input.jobs.filter((j) => j.id !== job.id) }, changes);
      }
      // Several files: no status ever comes (p.55); ReadAllItems shows what the phone holds. Asked
      // at once (a phone that downloads before answering, or quickly, is confirmed in this
      // interaction), and again at its next contacts when a file is not there yet.
      changes.jobs = [{ ...jobChange, partsDone: 1, error: JOB_NOTES.checkingFiles }];
      return sendCheck(input, job.id, changes);
    }
    default:
      Object.assign(jobChange, { state: 'done', finished: now, error: null });
  }
  changes.jobs = [jobChange];
  interaction.current = null;
  interaction.finished++;
  // A ReadAllItems job's answer lists the phone's files too: deployments waiting for a check are judged by it.
  const checked = current.kind === 'ReadAllItems' ? checkAll(input, changes) : new Set<number>();
  return { ...next({ ...input, jobs: input.jobs.filter((j) => !checked.has(j.id)) }, changes), ...(current.kind === 'WriteItems' ? refusedIn(results) : {}) };
}

/** The count of refused items a decision carries: only where there are some. */
function refusedIn(results: readonly ItemResult[]): Pick<Decision, 'refusedItems'> {
  return results.length ? { refusedItems: results.length } : {};
}

/** A job whose items all went through is done; item errors make it failed, with the details kept. */
function finish(results: readonly ItemResult[], now: number): Partial<JobChange> {
  if (results.length === 0) return { state: 'done', finished: now, error: null };
  return { state: 'failed', finished: now, error: refusedItemsNote(results) };
}

/**
 * A file deployment's status report (manual p.52–54). It counts for the single-file job whose file
 * it names (file-deployment-name, and -type when given): the one in flight, else (a report after
 * its interaction expired or the service restarted) one sent and not finished since. A report
 * naming another file finishes nothing: the job waits for its own report (or its time limit).
 */
function status(input: DecisionInput): Decision {
  const { message, interaction, now } = input;
  // The file-deployment-* items are the phone's list of stored files (p.245): kept.
  const changes: Changes = { mergeItems: message.items };
  const current = interaction.current;
  const sentNow = current?.kind === 'FileDeployment' && current.stage !== 'check' && current.id !== null ? input.jobs.find((j) => j.id === current.id) : undefined;
  // Several files get no status report (p.55): such a job in flight waits for its check instead.
  const inFlight = sentNow && !isMultipleDeployment(sentNow.items) ? sentNow : undefined;
  const waiting = input.jobs.filter((j) => j.kind === 'FileDeployment' && j.sent !== null && j.state === 'sent' && !isMultipleDeployment(j.items));
  const candidates = inFlight ? [inFlight, ...waiting.filter((j) => j !== inFlight)] : waiting;
  const job = candidates.find((j) => reportFor(j, message.items) !== undefined);
  // The interaction's job waits on for its own report, which may come on a later connection.
  const notInFlight = inFlight && job !== inFlight ? `; job ${inFlight.id} waits for the report on its own file` : '';
  if (sentNow && job !== inFlight) interaction.current = null;
  if (job) {
    const entry = reportFor(job, message.items)!;
    const name = entry.name;
    const ok = entry.status === 'ok';
    changes.jobs = [
      ok
        ? { id: job.id, state: 'done', finished: now, error: null, results: reportedResult(job, true), resetResults: true }
        : { id: job.id, state: 'failed', finished: now, error: entry.status ? `the phone could not deploy ${name}` : 'status without file-deployment-status', results: reportedResult(job, false), resetResults: true },
    ];
    if (job === inFlight) interaction.current = null;
    interaction.finished++;
    const late = job === inFlight ? undefined : `late status report: matched to the deployment job it reports on${notInFlight}`;
    // Another deployment still waits here: this interaction ends, its report comes by itself.
    if (notInFlight) return end(changes, late);
    return next({ ...input, jobs: input.jobs.filter((j) => j.id !== job.id) }, changes, late);
  }
  const multiple = input.jobs.find(awaitsFileCheck);
  if (inFlight) return end(changes, `status report for ${reportedNames(message.items)}, not the file of FileDeployment job ${inFlight.id}: not taken${notInFlight}`);
  if (multiple) {
    // The manual's phone sends none for several files (p.55): what it holds is checked by ReadAllItems,
    // now, as after an accept (a phone that reports instead of accepting took the job: helper-73).
    interaction.current = null;
    const warning = `status report for ${reportedNames(message.items)}: no single-file deployment waits for one (job ${multiple.id}, of several files, is checked with ReadAllItems): not taken`;
    if (interaction.checked.includes(multiple.id)) return end(changes, warning);
    changes.jobs = [{ id: multiple.id, partsDone: 1, error: JOB_NOTES.checkingFiles }];
    return sendCheck(input, multiple.id, changes, warning);
  }
  return end(changes, current ? undefined : 'status report for no deployment waiting for one');
}

/** Asks the phone for its items to check a multiple-file deployment (manual p.55); once per interaction. */
function sendCheck(input: DecisionInput, id: number, changes: Changes, warning?: string): Decision {
  const { interaction } = input;
  interaction.current = { id, kind: 'FileDeployment', part: 0, parts: 1, stage: 'check' };
  interaction.checked = [...interaction.checked, id];
  return { answer: { action: 'ReadAllItems', items: [] }, changes: { ...changes, state: 'in-interaction' }, ends: null, ...(warning ? { warning } : {}) };
}

/** The phone's answer to a check: the files it lists judge the job; any other answer leaves it for the next check. */
function checkReply(input: DecisionInput, current: ActiveJob, changes: Changes): Decision {
  const { message, interaction, now } = input;
  interaction.current = null;
  const job = input.jobs.find((j) => j.id === current.id);
  const others = { ...input, jobs: input.jobs.filter((j) => j.id !== current.id) };
  if (message.action !== 'ReadAllItems' || message.status !== 'accepted' || !job) {
    const what = `${message.action ?? 'no action'} ${message.status ?? ''}`.trim();
    return next(others, changes, job ? `the phone answered ${what} to the ReadAllItems that checks FileDeployment job ${job.id}: checked again at its next contact` : undefined);
  }
  changes.replaceItems = message.items;
  const check = checkFiles(job, message.items, now);
  changes.jobs = [fromElsewhere(input, job, check.change)];
  if (check.final) interaction.finished++;
  // Other deployments waiting for a check are judged by the same listing, not read again each (helper-73).
  const alsoChecked = checkAll(input, changes);
  return next({ ...others, jobs: others.jobs.filter((j) => !alsoChecked.has(j.id)) }, changes);
}

/**
 * Default Mode names a phone by its MAC alone: a check answered from another address than the one
 * the deployment went to says so on the job, as a restart confirmed from elsewhere does (helper-72).
 */
function fromElsewhere(input: DecisionInput, job: Job, change: JobChange): JobChange {
  const went = input.listener !== 'secure' && change.state === 'done' ? elsewhere(input, job) : null;
  if (!went) return change;
  return { ...change, error: `confirmed by a ReadAllItems on the Default-Mode port from ${input.peerAddress}, not from ${went}, where the FileDeployment went: the phone got a new address, or another host named its MAC (Default Mode cannot tell which)` };
}

/** The service's own ReadAllItems answer also checks every multiple-file deployment waiting for one; returns their ids. */
function checkAll(input: DecisionInput, changes: Changes): Set<number> {
  const { interaction, message, now } = input;
  const due = input.jobs.filter((j) => awaitsFileCheck(j) && !interaction.checked.includes(j.id));
  for (const job of due) {
    const check = checkFiles(job, message.items, now);
    changes.jobs = [...(changes.jobs ?? []), fromElsewhere(input, job, check.change)];
    if (check.final) interaction.finished++;
  }
  interaction.checked = [...interaction.checked, ...due.map((j) => j.id)];
  return new Set(due.map((j) => j.id));
}

function phoneCleanUp(input: DecisionInput): Decision {
  const { message, interaction, now } = input;
  const why = itemValue(message.items, 'cleanup-reason');
  const changes: Changes = { state: 'idle' };
  const current = interaction.current;
  // A check ended by the phone is no verdict on the files: the next contact checks again.
  if (current?.id != null && current.stage !== 'check') {
    changes.jobs = [{ id: current.id, state: 'failed', finished: now, error: `the phone ended the interaction${why ? `: ${why}` : ''}` }];
    // As a bootstrap it refused: the certificate it was sent must never open the secure port.
    if (current.kind === 'Bootstrap') failBootstrap(input, changes, current.id, 'the phone ended the interaction');
  }
  interaction.current = null;
  // PIN typed wrong too often (manual p.83): the phone gives up the bootstrap it was given (only
  // from where it went, as a start-up that ends one). Whoever else holds the secure-mode-data (a
  // capture) must not use it either.
  const boot = input.jobs.find((j) => j.kind === 'Bootstrap' && j.state === 'sent' && isPinBootstrap(j));
  if (boot && why === 'password retries exceeded') {
    if (input.listener === 'default') refuseFromElsewhere(input, boot, 'a clean-up "password retries exceeded"');
    changes.jobs = [...(changes.jobs ?? []), { id: boot.id, state: 'failed', finished: now, error: 'password retries exceeded: the PIN was typed wrong too often on the phone' }];
    failBootstrap(input, changes, boot.id, 'password retries exceeded');
  }
  return { answer: cleanUp(), changes, ends: why ? `phone clean-up: ${why}` : 'phone clean-up' };
}


/** After the phone's complete item set arrived: plug & play, then the queue. */
function afterRead(input: DecisionInput, changes: Changes): Decision {
  const { device, matchingProfile, message } = input;
  if (matchingProfile && device?.profile == null && input.mac) {
    // Items a profile or override stored before the command layer refused them are left out (helper-63).
    const items = profileDiff(matchingProfile.items, input.overrides ?? [], message.items).filter((i) => unsendableItem([i]) === null);
    changes.assignProfile = matchingProfile.name;
    if (items.length) {
      const job: NewJob = { mac: input.mac, kind: 'WriteItems', items, source: `profile:${matchingProfile.name}` };
      changes.newJobs = [job];
      const pseudo: Job = { ...job, id: -1, expect: null, state: 'queued', attempts: 0, unanswered: 0, partsDone: 0, created: input.now, updated: input.now, sent: null, finished: null, results: [], error: null, source: job.source ?? null, rolloutAt: input.now };
      return next({ ...input, jobs: [pseudo, ...input.jobs] }, changes);
    }
  }
  return next(input, changes);
}

/**
 * Sends the next job, or ends the interaction. Jobs never tried go first (jobsAhead); jobs the phone
 * was busy for wait for its callback. The manual's busy chain (p.74–75): after a job, when only such
 * jobs remain, CleanUp — with send-solicited if the phone has just shown it is out of its call (it
 * accepted a WriteItems), so it calls straight back for the next one; plain otherwise, since it
 * still holds the callback it was asked for.
 */
function next(input: DecisionInput, changes: Changes, warning?: string): Decision {
  const { interaction, now } = input;
  // Kept with a job sent now: a Default-Mode message ends or confirms it only from there (elsewhere()).
  const sentTo = input.peerAddress ? { sentTo: input.peerAddress } : {};
  const done = new Set((changes.jobs ?? []).filter((c) => c.state && c.state !== 'sent').map((c) => c.id));
  // Still "sent" here: its interaction ended unanswered as this one began (the phone started over).
  // That counts as an interaction that expired does (the commit's requeueSent counts it): at the
  // last unanswered sending the job fails instead of going out once more.
  const spent = input.jobs.filter((j) => !done.has(j.id) && j.state === 'sent' && !AWAITING_RETURN.has(j.kind) && j.unanswered + 1 >= MAX_ATTEMPTS);
  if (spent.length > 0) changes.jobs = [...(changes.jobs ?? []), ...spent.map((j): JobChange => ({ id: j.id, state: 'failed', finished: now, error: noAnswerNote(j.unanswered + 1) }))];
  const open = input.jobs.filter((j) => !done.has(j.id) && !spent.includes(j) && (j.state !== 'sent' || !AWAITING_RETURN.has(j.kind)));
  // A multiple-file deployment the phone may have carried out since: checked once per interaction
  // (p.55), unless a ReadAllItems job goes out now: its answer is the check (accepted()).
  const unchecked = input.jobs.find((j) => awaitsFileCheck(j) && !done.has(j.id) && !interaction.checked.includes(j.id));
  const readAll = open.some((j) => j.kind === 'ReadAllItems' && j.state === 'queued');
  if (unchecked && !readAll) return sendCheck(input, unchecked.id, changes, warning);
  const ahead = jobsAhead(open);
  const sendable = [...ahead, ...open.filter((j) => !ahead.includes(j))];
  const supports = supportsSendSolicited(input.device?.softwareVersion);
  if (interaction.finished > 0 && sendable[0]?.state === 'waiting-busy') {
    const items = interaction.acceptedWrite && supports ? [{ name: 'send-solicited', value: 'true' }] : [];
    return { answer: cleanUp(items), changes: { ...changes, state: 'idle' }, ends: 'CleanUp', ...(warning ? { warning } : {}) };
  }
  const job = sendable[0];
  if (!job) return end(changes, warning);
  if (job.kind === 'Bootstrap') {
    const secret = input.bootstrapToSend ? input.bootstrapToSend(job) : (input.secretOf?.(job) ?? { refused: 'the bootstrap credentials cannot be opened: start the service with the key passphrase they were made with' });
    const others = { ...input, jobs: input.jobs.filter((j) => j.id !== job.id) };
    if ('refused' in secret) {
      changes.jobs = [...(changes.jobs ?? []), { id: job.id, state: 'failed', finished: now, error: secret.refused }];
      return next(others, { ...changes, bootstrap: 'failed' }, warning);
    }
    if ('hold' in secret) {
      // Not sent and not failed: it stays queued for a service that can send it; the job says why.
      if (job.error !== secret.hold) changes.jobs = [...(changes.jobs ?? []), { id: job.id, error: secret.hold }];
      const note = `bootstrap job ${job.id} not sent (${secret.hold.replace(/^held: /, '')})`;
      return next(others, changes, warning ? `${warning}; ${note}` : note);
    }
    interaction.current = { id: job.id, kind: job.kind, part: 0, parts: 1 };
    changes.jobs = [...(changes.jobs ?? []), { id: job.id, state: 'sent', attempt: true, sent: now, ...sentTo, error: null }];
    return { answer: bootstrapMessage(job, secret), changes: { ...changes, state: 'in-interaction', bootstrap: 'pending' }, ends: null, ...(warning ? { warning } : {}) };
  }
  // A write stored before the command layer refused these (a job, a profile's or an override's,
  // a retry of one): never sent, so key material or the mask cannot reach the phone (helper-63).
  // Any kind: a deployment's items go out as they are stored too (helper-65).
  const unsendable = job.id >= 0 ? unsendableItem(job.items) : null;
  if (unsendable) {
    changes.jobs = [...(changes.jobs ?? []), { id: job.id, state: 'failed', finished: now, error: `not sent: ${unsendable}` }];
    return next({ ...input, jobs: input.jobs.filter((j) => j.id !== job.id) }, changes, warning);
  }
  const parts = jobMessages(job, interaction.maxItems);
  // A WriteItems (or ReadItems) starts at its first part in every interaction: the parts done before were split by
  // that interaction's maxItems, which this one may not share, so "parts done" would name other
  // items here (the rest marked done unsent). Writing the first parts again writes the same values.
  const answer = SPLIT_KINDS.has(job.kind) ? parts[0]! : jobMessage(job);
  const isNew = job.id < 0;
  interaction.current = { id: isNew ? null : job.id, kind: job.kind, part: 0, parts: parts.length, splitBy: interaction.maxItems };
  // Sent again from its first part: what the phone said to the sending before no longer counts.
  const jobChange: JobChange = { id: job.id, state: 'sent', attempt: true, sent: now, ...sentTo, error: null, ...(SPLIT_KINDS.has(job.kind) ? { partsDone: 0 } : {}), ...(job.results.length ? { resetResults: true } : {}) };
  // Several files: what the phone lists of them now, for the check to tell a new copy from the old:
  // the complete listing this message brings, else the one stored, with what this message adds to
  // it (a status report's file, a first message's items: not stored yet when this is decided).
  if (job.kind === 'FileDeployment' && isMultipleDeployment(job.items)) {
    const results = sentResults(job.items, changes.replaceItems ?? input.storedItems?.() ?? [], changes.replaceItems ? [] : (changes.mergeItems ?? []));
    Object.assign(jobChange, { results, resetResults: true });
  }
  if (!isNew) changes.jobs = [...(changes.jobs ?? []), jobChange];
  else if (changes.newJobs?.[0]) changes.newJobs = [{ ...changes.newJobs[0], sentAt: now, ...sentTo }, ...changes.newJobs.slice(1)];
  if (job.kind === 'SoftwareDeployment') {
    // Taken, the phone reboots without a word and its start-up confirms the version (manual p.56).
    // It may refuse instead: normal priority during a call ("the deployment will be rejected",
    // p.56: busy), or an image it cannot use (p.29: failed). So the interaction stays open for that
    // reply; the start-up after the reboot ends it as a new one begins.
    return { answer, changes: { ...changes, state: 'in-interaction' }, ends: null, ...(warning ? { warning } : {}) };
  }
  if (REBOOTING_KINDS.has(job.kind)) {
    // The phone reboots: no reply, no CleanUp (manual p.50); done when it starts up again.
    interaction.current = null;
    const leaving = job.kind === 'FactoryReset' && input.listener === 'secure' && input.device?.mode === 'secure';
    if (leaving) {
      // A factory reset returns the phone to Default Mode (§5.7): from now on it is a Default-Mode
      // device, so its start-up on the Default-Mode port is served, and its certificate is revoked.
      Object.assign(changes, { mode: 'default', bootstrap: null, certSerial: null });
      // Jobs queued for the secure phone would now travel in clear to whoever claims its MAC first.
      const held = input.jobs.filter((j) => j.id !== job.id && (j.state === 'queued' || j.state === 'waiting-busy'));
      changes.jobs = [...(changes.jobs ?? []), ...held.map((j): JobChange => ({ id: j.id, state: 'cancelled', finished: now, error: 'cancelled: the phone left Secure Mode (factory reset), so this job would travel in clear text; add it again if it should' }))];
    }
    const revoke = leaving && input.device?.certSerial ? { revoke: { serial: input.device.certSerial, reason: 'factory reset: the phone left Secure Mode' } } : {};
    return { answer, changes: { ...changes, state: 'idle', ...revoke }, ends: job.kind, ...(warning ? { warning } : {}) };
  }
  return { answer, changes: { ...changes, state: 'in-interaction' }, ends: null, ...(warning ? { warning } : {}) };
}


/**
 * The jobs that may go to the phone before those it was busy for (given in queue order): all not
 * waiting-busy, except a WriteItems that writes an item an older waiting job writes. In queue
 * order, a job that waits (busy, or held behind one) holds its items for the jobs after it, or an
 * older value could be written last. The contact loop asks the same: none ahead, nothing to send
 * until the phone's callback.
 */
export function jobsAhead<J extends Pick<Job, 'kind' | 'state' | 'items'>>(open: readonly J[]): J[] {
  const held = new Set<string>();
  const ahead: J[] = [];
  for (const j of open) {
    const keys = j.kind === 'WriteItems' ? j.items.map(itemKey) : [];
    if (j.state === 'waiting-busy' || keys.some((k) => held.has(k))) for (const k of keys) held.add(k);
    else ahead.push(j);
  }
  return ahead;
}

function end(changes: Changes, warning?: string): Decision {
  return { answer: cleanUp(), changes: { ...changes, state: 'idle' }, ends: 'CleanUp', ...(warning ? { warning } : {}) };
}

function expectedAction(kind: Job['kind'], stage?: ActiveJob['stage']): string {
  if (kind === 'FactoryReset') return 'Restart';
  if (kind === 'Bootstrap') return stage === 'tan' ? 'ReadItems' : 'WriteItems';
  if (stage === 'check') return 'ReadAllItems';
  return kind;
}

export function itemValue(items: readonly Item[], name: string): string | undefined {
  return items.find((i) => i.name === name)?.value;
}
