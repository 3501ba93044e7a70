/**
 * Preparing Secure-Mode bootstraps (manual §3.6.10, p.62–68): a client certificate per phone,
 * the items of the bootstrap WriteItems, and for the PIN variant the PIN whose first part opens
 * secure-mode-data and whose last 3 characters come back as the TAN. Everything that holds a key
 * or the PIN is sealed with the key protector before it reaches the store.
 */
import type { ItemValue, Job } from '../../shared/model';
import { buildKeyedSecureModeDataAsync, dlsClientCertificate, generatePin, pinPassword, retargetSecureModeData, tanOf, validatePin, type KeyProtector, type Pki } from '../pki';
import { KEYGEN_SLOTS } from '../pki/x509';
import type { BootstrapSend, JobSecret } from '../provisioning';
import { RENEWAL_SOURCE } from '../../shared/model';
import { BootstrapUnderWayError, type Store } from '../store';

export type PinChoice = { kind: 'none' } | { kind: 'auto'; digits?: number } | { kind: 'given'; pin: string };

export interface BootstrapOptions {
  pin: PinChoice;
  /** The Secure-Mode port the phones must use afterwards (dls-secure-port). */
  securePort: number;
  /** How often the user may mistype the PIN on the phone (manual p.67: e.g. 3). */
  maxPinRetries?: number;
  /**
   * Renew the certificate of a phone already in Secure Mode: a new bootstrap without PIN sent over
   * the secure channel; the old certificate is revoked once the phone presents the new one.
   */
  renew?: boolean;
  /** Called as each phone's job is queued, in the order they finish: `done` of `total`. */
  onProgress?: (done: number, total: number, mac: string) => void;
  signal?: AbortSignal;
  /** Phones prepared at the same time (default BOOTSTRAP_CONCURRENCY). */
  concurrency?: number;
  /**
   * The moment naming the jobs' rollout (store/rollout-rows.ts): a bulk bootstrap's start, shared
   * by jobs queued one by one. Absent: each job claims one of its own when it is queued.
   */
  rolloutAt?: number;
}

export interface PreparedBootstrap {
  mac: string;
  e164: string | null;
  jobId: number;
  /** The PIN to type on the phone (PIN variant only): show it only on the PIN sheet. */
  pin?: string;
}

/** The sealed part of a bootstrap job; the PIN is kept for reprinting the sheet. */
interface SealedBootstrap extends JobSecret {
  pin?: string;
  /** The secure port the job was prepared with (inside secure-mode-data for a PIN job). */
  securePort?: number;
  /**
   * PIN jobs: secure-mode-data's master key (base64), so that the service can re-pack it for its
   * own secure port at send time without a PBKDF2 run (retargetSecureModeData).
   */
  smdKey?: string;
}

/**
 * Phones prepared at the same time: enough that every key-generation slot (one per core, see
 * x509.ts) stays busy while the phones before it do their PBKDF2, signing and sealing.
 */
export const BOOTSTRAP_CONCURRENCY = 2 * KEYGEN_SLOTS;

/**
 * Why some phones of a bulk bootstrap were not queued. The others were, and their jobs stand: the
 * caller must still hand out their PINs (`prepared`, in the order of the list), or their phones
 * would ask for PINs nobody has.
 */
export class BootstrapIncompleteError extends Error {
  constructor(
    /** The phones whose jobs were queued. */
    readonly prepared: PreparedBootstrap[],
    /** The phones that were not, and why. */
    readonly notQueued: { mac: string; reason: string }[],
    readonly total: number,
  ) {
    super(`${prepared.length} of ${total} bootstraps queued; not queued: ${notQueued.map((n) => `${n.mac} (${n.reason})`).join('; ')}`);
  }
}

/**
 * Issues a client certificate for each phone and queues its bootstrap job. Phones are prepared
 * BOOTSTRAP_CONCURRENCY at a time, and each is queued and reported (onProgress, in the order they
 * finish) as soon as it is ready, so the service can contact it while the others are still being
 * made. The list is checked as a whole before any key is made. The result is in the order of
 * `macs`. A phone another front end started meanwhile is skipped (checked again before its key is
 * made, and as its job is queued) and the others go on; on any other error or an abort no further
 * phone is started and the phones in progress finish. Either way, when not every phone was queued
 * a BootstrapIncompleteError says which were (with their PINs) and which not.
 */
export async function prepareBootstraps(store: Store, pki: Pki, protector: KeyProtector, macs: readonly string[], options: BootstrapOptions): Promise<PreparedBootstrap[]> {
  if (options.pin.kind === 'given') validatePin(options.pin.pin);
  if (options.pin.kind === 'given' && macs.length > 1) throw new Error('one given PIN for several phones would let any of them take any credential: use --pin auto');
  if (options.renew && options.pin.kind !== 'none') throw new Error('a renewal travels over the secure channel and needs no PIN: use --nopin');
  const concurrency = options.concurrency ?? BOOTSTRAP_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`bootstrap concurrency must be a whole number of at least 1, not ${concurrency}`);
  const seen = new Set<string>();
  const devices = macs.map((mac) => {
    const device = store.device(mac);
    if (!device) throw new Error(`no device ${mac}: a phone must contact the service once before it can be bootstrapped`);
    if (device.mode === 'secure' && !options.renew) throw new Error(`${mac} is already in Secure Mode (to give it a new certificate: localdls bootstrap --mac ${mac} --renew)`);
    if (device.mode !== 'secure' && options.renew) throw new Error(`${mac} is not in Secure Mode: bootstrap it first`);
    if (seen.has(device.mac)) throw new Error(`${device.mac} is listed twice: each phone gets one certificate and one job`);
    seen.add(device.mac);
    return device;
  });
  const caPems = pki.caChainPems();
  const prepared: (PreparedBootstrap | undefined)[] = new Array(devices.length);
  const notQueued: { mac: string; reason: string }[] = [];
  let done = 0;
  let stopped: unknown;
  try {
    await forEachConcurrently(devices.length, concurrency, async (i) => {
      if (options.signal?.aborted) throw new Error('bootstrap cancelled');
      const device = devices[i]!;
      try {
        prepared[i] = await prepareOne(store, pki, protector, device.mac, device.e164, caPems, options);
      } catch (e) {
        // Another front end took this phone after the list was checked: its run has the phone.
        if (!(e instanceof BootstrapUnderWayError)) throw e;
        notQueued.push({ mac: device.mac, reason: e.message });
        return;
      }
      options.onProgress?.(++done, devices.length, device.mac);
    });
  } catch (e) {
    stopped = e;
  }
  const queued = prepared.filter((p): p is PreparedBootstrap => p !== undefined);
  if (queued.length === devices.length) return queued;
  if (stopped !== undefined) {
    const why = stopped instanceof Error ? stopped.message : String(stopped);
    const skipped = new Set(notQueued.map((n) => n.mac));
    devices.forEach((d, i) => {
      if (prepared[i] === undefined && !skipped.has(d.mac)) notQueued.push({ mac: d.mac, reason: `not started: ${why}` });
    });
  }
  const order = new Map(devices.map((d, i) => [d.mac, i]));
  notQueued.sort((a, b) => order.get(a.mac)! - order.get(b.mac)!);
  throw new BootstrapIncompleteError(queued, notQueued, devices.length);
}

async function prepareOne(store: Store, pki: Pki, protector: KeyProtector, mac: string, e164: string | null, caPems: string[], options: BootstrapOptions): Promise<PreparedBootstrap> {
  // Before a key is spent on it: another front end may have started this phone since the list was checked.
  const underWay = store.bootstrapUnderWay(mac);
  if (underWay) throw new BootstrapUnderWayError(underWay);
  // Key generation and signing run on libuv's thread pool (node:crypto, async).
  const credential = await pki.issueDeviceCertificate(mac);
  const items: ItemValue[] = [];
  // The certificate's serial is sealed with the job: on the secure port it is the only one this bootstrap lets in.
  const secret: SealedBootstrap = { items: [], serial: credential.serial };
  if (options.pin.kind === 'none') {
    items.push({ name: 'goto-secure-mode', value: 'nopin' });
    caPems.forEach((pem, index) => items.push({ name: 'dls-server-ca', index, value: pem }));
    items.push({ name: 'dls-secure-port', value: String(options.securePort) });
    secret.items.push({ name: 'dls-client-certificate', value: dlsClientCertificate(credential, caPems) });
  } else {
    const pin = options.pin.kind === 'given' ? options.pin.pin : generatePin(options.pin.digits);
    items.push({ name: 'goto-secure-mode', value: 'pin' }, { name: 'max-pin-retries', value: String(options.maxPinRetries ?? 3) });
    // PBKDF2 (the bulk of the packing) on the thread pool too: the service keeps answering phones meanwhile.
    const data = await buildKeyedSecureModeDataAsync(credential, caPems, options.securePort, pin);
    secret.items.push({ name: 'secure-mode-data', value: data.value });
    secret.tan = tanOf(pin);
    secret.pin = pin;
    if (data.master) secret.smdKey = data.master.toString('base64');
  }
  secret.securePort = options.securePort;
  const sealed = protector.seal(Buffer.from(JSON.stringify(secret), 'utf8'));
  // Checked again as it is queued: another front end may have started this phone meanwhile.
  const source = options.renew ? RENEWAL_SOURCE : `bootstrap:${options.pin.kind === 'none' ? 'nopin' : 'pin'}`;
  const job = store.queueBootstrap({ mac, kind: 'Bootstrap', items, secret: sealed, source, ...(options.rolloutAt !== undefined ? { rollout: options.rolloutAt } : {}) }, Date.now(), credential.serial);
  return { mac, e164, jobId: job.id, ...(secret.pin ? { pin: secret.pin } : {}) };
}

/**
 * Runs `task(0…count-1)`, at most `limit` at a time. After the first failure no new task starts;
 * the running ones settle, then that failure is thrown (nothing is left writing behind the caller).
 */
export async function forEachConcurrently(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const i = next++;
      try {
        await task(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Opens a bootstrap job's sealed part for the engine. */
export function openJobSecret(protector: KeyProtector, sealed: Buffer): JobSecret | undefined {
  const s = openSealed(protector, sealed);
  return s && jobSecretOf(s);
}

/** What of the sealed part is sent: the items, the TAN to check, the certificate's serial. */
function jobSecretOf(s: SealedBootstrap): JobSecret {
  return { items: [...s.items], ...(s.tan !== undefined ? { tan: s.tan } : {}), ...(s.serial !== undefined ? { serial: s.serial } : {}) };
}

/**
 * A bootstrap job's sealed items as the sending service must send them: the phone is told the
 * secure port of THIS service (its `securePort`), whatever port the job was prepared with — a
 * job prepared by the CLI with the stored or default port, or by a service since restarted on
 * another port, would otherwise send the phone where nobody listens, and a phone in Secure Mode
 * cannot be reached again without a factory reset. Without PIN the `dls-secure-port` item is
 * replaced (a sealed item replaces the public one of the same name, see bootstrapMessage); with
 * PIN secure-mode-data is re-packed with the same certificate, key and PIN, so the TAN and the
 * printed PIN sheet stay valid. `securePort` undefined: Secure Mode is off here, nobody could
 * receive the phone afterwards, so the job is held (not sent, not failed). A job that cannot be
 * re-packed is refused, never sent with a wrong port.
 */
export function bootstrapToSend(protector: KeyProtector | undefined, sealed: Buffer | undefined, job: Pick<Job, 'id' | 'items'>, securePort: number | undefined): BootstrapSend {
  if (securePort === undefined || protector === undefined) {
    return { hold: 'held: Secure Mode is off in the running service (started without the key passphrase), so a phone sent into Secure Mode could not reach it; start the service with the key passphrase and the job is sent' };
  }
  const opened = sealed && openSealed(protector, sealed);
  if (!opened) return { refused: 'the bootstrap credentials cannot be opened: start the service with the key passphrase they were made with' };
  const secret = jobSecretOf(opened);
  const port = String(securePort);
  const publicPort = job.items.find((i) => i.name === 'dls-secure-port');
  const index = secret.items.findIndex((i) => i.name === 'secure-mode-data');
  // Without PIN the port travels as its own item: always this service's, even if the job lacks it.
  if (index < 0 && publicPort?.value !== port) secret.items.push({ name: 'dls-secure-port', value: port });
  if (index >= 0) {
    const data = secret.items[index]!;
    try {
      const key = opened.smdKey !== undefined ? { master: Buffer.from(opened.smdKey, 'base64') } : opened.pin !== undefined ? { password: pinPassword(opened.pin) } : {};
      // The port is known without opening the container when the job recorded it.
      if (opened.securePort !== securePort) secret.items[index] = { ...data, value: retargetSecureModeData(data.value, securePort, key).value };
    } catch (e) {
      const was = opened.securePort !== undefined ? `prepared for secure port ${opened.securePort}` : 'prepared by an older LocalDLS';
      return { refused: `bootstrap job ${job.id} was ${was} and cannot be re-packed for this service's secure port ${securePort} (${e instanceof Error ? e.message : String(e)}): nothing was sent; cancel it and bootstrap the phone again` };
    }
  }
  return secret;
}

/** The sealed part of a bootstrap job; undefined when it does not open (another passphrase, damage). */
function openSealed(protector: KeyProtector, sealed: Buffer): SealedBootstrap | undefined {
  try {
    return JSON.parse(protector.open(sealed).toString('utf8')) as SealedBootstrap;
  } catch {
    return undefined;
  }
}

/**
 * The secure port each queued bootstrap job was prepared with, where the job says (a PIN job
 * prepared before LocalDLS recorded it does not, without opening its container).
 */
export function preparedPort(protector: KeyProtector, sealed: Buffer | undefined, job: Pick<Job, 'items'>): number | undefined {
  const publicPort = job.items.find((i) => i.name === 'dls-secure-port');
  if (publicPort) return Number(publicPort.value);
  return sealed ? openSealed(protector, sealed)?.securePort : undefined;
}

/**
 * What a starting service says about the bootstrap jobs waiting for their phones: those prepared
 * for another secure port (they are sent with this service's port, see bootstrapToSend), or, with
 * Secure Mode off (`securePort` undefined), that they are held.
 */
export function queuedBootstrapNotes(store: Store, protector: KeyProtector | undefined, securePort: number | undefined): string[] {
  const jobs = store.jobs.list({ states: ['queued', 'waiting-busy'], limit: 100_000 }).filter((j) => j.kind === 'Bootstrap');
  if (jobs.length === 0) return [];
  const n = (count: number) => `${count} queued bootstrap job${count === 1 ? '' : 's'}`;
  if (securePort === undefined || protector === undefined) {
    return [`${n(jobs.length)}: Secure Mode is off in this service (no key passphrase), so they are held, not sent, until the service runs with the key passphrase`];
  }
  const byPort = new Map<number, number>();
  for (const job of jobs) {
    const port = preparedPort(protector, store.jobs.secret(job.id), job);
    if (port !== undefined && port !== securePort) byPort.set(port, (byPort.get(port) ?? 0) + 1);
  }
  return [...byPort].map(([port, count]) => `${n(count)} name${count === 1 ? 's' : ''} secure port ${port}, this service listens on ${securePort}: ${count === 1 ? 'it' : 'they'} will be sent with ${securePort}`);
}

/**
 * Phones that were told another secure port than the one this service listens on: those in Secure
 * Mode and those that took a bootstrap and are on their way, both given the port of the last run
 * (`previousPort`, the stored one). They cannot reach this service; only serving on their port can.
 */
export function securePortChangeNote(store: Store, previousPort: number | undefined, securePort: number): string | undefined {
  if (previousPort === undefined || previousPort === securePort) return undefined;
  const phones = securePhones(store);
  if (!phones) return undefined;
  return `${phones.what} ${phones.count === 1 ? 'was' : 'were'} given secure port ${previousPort} (the last run's); this service listens on ${securePort}, where they cannot find it: serve with --secure-port ${previousPort} to reach them`;
}

/**
 * Secure Mode off (no key passphrase) on a site with phones in it: they talk to the secure port
 * only, which this service does not open, so none of them reaches it (helper-77: only the general
 * "Secure Mode is off" was said).
 */
export function secureModeOffNote(store: Store): string | undefined {
  const phones = securePhones(store);
  if (!phones) return undefined;
  return `${phones.what} can reach only the secure port, which this service does not open without the key passphrase: none of them reaches it until it runs with the passphrase`;
}

/** The phones in Secure Mode, and those that took a bootstrap and are on their way there; undefined for none. */
function securePhones(store: Store): { what: string; count: number } | undefined {
  const secure = store.devices().filter((d) => d.mode === 'secure').length;
  const onTheirWay = store.jobs.list({ states: ['sent'], limit: 100_000 }).filter((j) => j.kind === 'Bootstrap' && j.partsDone > 0).length;
  if (secure + onTheirWay === 0) return undefined;
  const what = [secure ? `${secure} phone${secure === 1 ? '' : 's'} in Secure Mode` : '', onTheirWay ? `${onTheirWay} phone${onTheirWay === 1 ? '' : 's'} that took a bootstrap` : ''].filter(Boolean).join(' and ');
  return { what, count: secure + onTheirWay };
}

/** The PIN sealed in a PIN bootstrap job (for a new copy of the sheet); undefined when it has none or does not open. */
export function openJobPin(protector: KeyProtector, sealed: Buffer): string | undefined {
  const pin = openSealed(protector, sealed)?.pin;
  return typeof pin === 'string' ? pin : undefined;
}

/** A PIN sheet to print or hand out: CSV (for tools, and the simulator's --pins) or HTML. */
export function pinSheet(rows: readonly PreparedBootstrap[], format: 'csv' | 'html', site = 'LocalDLS'): string {
  const withPin = rows.filter((r) => r.pin);
  if (format === 'csv') return ['mac,e164,pin', ...withPin.map((r) => `${r.mac},${r.e164 ?? ''},${r.pin}`)].join('\n') + '\n';
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(site)} PIN sheet</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.4em .8em;text-align:left}td.pin{font:1.2em monospace;letter-spacing:.15em}</style>
</head><body>
<h1>${esc(site)}: Secure Mode PINs</h1>
<p>Type the PIN on the phone when it asks. The last three digits are checked by the service (TAN). Keep this sheet private; destroy it when the phones are secure.</p>
<table><thead><tr><th>MAC</th><th>E.164</th><th>PIN</th></tr></thead><tbody>
${withPin.map((r) => `<tr><td>${esc(r.mac)}</td><td>${esc(r.e164 ?? '')}</td><td class="pin">${esc(r.pin!)}</td></tr>`).join('\n')}
</tbody></table>
</body></html>
`;
}
