/**
 * What keeps a started phone alive between interactions: its contact-me listener (manual p.14–15),
 * the end of its call and the send-solicited reconnect (p.72–76), reboots after Restart, factory
 * reset and firmware (p.50–51, p.56), and DCMP polling (p.15, p.24). SimulatedPhone.start()
 * creates one; stop() closes every socket and timer. After bootstrapping (p.65 step 5, p.83) it
 * makes the phone's owed contact at once. A failed start-up is not retried (the
 * firmware's retry schedule is not documented); the next contact-me or 202 poll makes the phone
 * send its owed start-up instead of solicited.
 */
import { isIP } from 'node:net';
import { ContactMeListener, CONTACT_ME_PORT, type ContactMeRecord, type ContactMeRequest, type ContactMeVerdict } from './contact-me-listener';
import { DcmpPoller, type DcmpPollRecord } from './dcmp-poller';
import type { ContactReason, InteractionResult, InteractionTrigger, SimulatedPhone } from './phone';
import { serverUrl } from './transport';

export const DEFAULT_CONTACT_GAP_MS = 300_000;
export const DEFAULT_REBOOT_MS = 2000;
export const DEFAULT_POLL_INTERVAL_MS = 60_000;
const MAX_POLL_RECORDS = 100;
/** setTimeout's limit; longer calls are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class PhoneRuntime {
  started = false;
  rebooting = false;
  private listener: ContactMeListener | undefined;
  private poller: DcmpPoller | undefined;
  private busyTimer: NodeJS.Timeout | undefined;
  private rebootTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<InteractionResult>>();
  /** When the phone last accepted a contact-me (the contact gap counts from there). */
  private lastAnsweredAt: number | undefined;
  /** Accepted, 204 on its way, call-back not started yet. */
  private callbackPending = false;
  private readonly onInteraction = (result: InteractionResult): void => this.afterInteraction(result);

  constructor(private readonly phone: SimulatedPhone) {}

  /**
   * Opens the contact-me listener, before any message goes out: a fleet opens every phone's first,
   * so a port taken stops the run before one phone has talked (helper-61: two phones registered
   * and got jobs, then the run stopped).
   */
  async listen(): Promise<void> {
    const o = this.phone.options;
    if (o.contactMe === false || this.listener) return;
    const host = o.ipAddress ?? '127.0.0.1';
    this.listener = new ContactMeListener({ decide: (r) => this.decide(r), record: (r) => this.recordContactMe(r), now: () => this.phone.now() });
    try {
      const port = await this.listener.listen(host, o.contactMePort ?? CONTACT_ME_PORT);
      this.phone.setContactMeAddress(host, port);
    } catch (err) {
      this.listener = undefined;
      throw err;
    }
  }

  async start(reason: ContactReason): Promise<InteractionResult> {
    const o = this.phone.options;
    this.started = true;
    try {
      if (o.contactMe !== false) {
        await this.listen();
        this.phone.emit('listening', { mac: this.phone.mac, contactMeUri: this.phone.contactMeUri });
      }
      if (o.dcmpUrl) {
        this.poller = new DcmpPoller({
          url: o.dcmpUrl,
          intervalMs: o.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
          mac: this.phone.mac,
          ...(o.bindIpAddress && o.ipAddress ? { localAddress: o.ipAddress } : {}),
          ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
          now: () => this.phone.now(),
          shouldPoll: () => this.started && !this.rebooting && !this.phone.inInteraction,
          onResult: (r) => this.polled(r),
        });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.phone.on('interaction', this.onInteraction);
    this.callChanged();
    return this.launch(reason, 'start');
  }

  async stop(): Promise<void> {
    this.started = false;
    this.rebooting = false;
    clearTimeout(this.busyTimer);
    clearTimeout(this.rebootTimer);
    this.phone.off('interaction', this.onInteraction);
    this.poller?.stop();
    this.abort.abort();
    await this.listener?.close();
    await Promise.all(this.inFlight);
  }

  /** The phone owes the service a contact now (a PIN typed outside an interaction, enterPin()). */
  contactDue(): void {
    if (this.started && !this.rebooting && !this.phone.inInteraction && !this.callbackPending) void this.launch('start-up', 'bootstrap');
  }

  /** busyUntil changed: re-arm the end-of-call timer. */
  callChanged(): void {
    clearTimeout(this.busyTimer);
    this.busyTimer = undefined;
    if (!this.started || this.rebooting || this.phone.busyUntil === undefined) return;
    const left = this.phone.busyUntil - this.phone.now();
    if (left > 0) this.busyTimer = setTimeout(() => this.callChanged(), Math.min(left, MAX_TIMER_MS));
    else this.callEnded();
  }

  /** The phone caches send-solicited and connects once when the call is over (p.72). */
  private callEnded(): void {
    this.phone.busyUntil = undefined;
    // Still in an interaction: afterInteraction() reconnects when it ends.
    const solicited = this.phone.solicitedPending && !this.phone.inInteraction;
    if (solicited) void this.launch('solicited', 'send-solicited');
    this.phone.emit('busy-ended', { mac: this.phone.mac, solicited });
  }

  private launch(reason: ContactReason, trigger: InteractionTrigger, server?: string): Promise<InteractionResult> {
    this.poller?.pause();
    const run = this.phone.runInteraction(reason, { trigger, signal: this.abort.signal, ...(server ? { server } : {}) });
    this.inFlight.add(run);
    const done = (): void => void this.inFlight.delete(run);
    run.then(done, done);
    return run;
  }

  private afterInteraction(result: InteractionResult): void {
    if (!this.started) return;
    if (result.end === 'Restart' || result.end === 'SoftwareDeployment') return this.reboot(result);
    // Bootstrapped: start-up on the secure port at once (p.65 step 5); or the clean-up after too
    // many wrong PINs (p.83). The phone picks the reason itself.
    if (this.phone.contactDue && !this.phone.inInteraction) {
      void this.launch('start-up', 'bootstrap');
      return;
    }
    // "Any contact with the DLS … should restart the poll timer" (wiki DCMP).
    this.poller?.restart();
    // Idle with a cached send-solicited: reconnect at once (p.75 step 21). Not after a failed
    // attempt, which keeps the indication for the next occasion (p.72).
    if (result.ok && this.phone.solicitedPending && !this.phone.busy && !this.phone.inInteraction && !this.callbackPending) {
      void this.launch('solicited', 'send-solicited');
    }
  }

  /** Restart / factory reset / firmware: the web server is down, then start-up (p.50–51, p.56). */
  private reboot(result: InteractionResult): void {
    const delayMs = this.phone.options.rebootMs ?? DEFAULT_REBOOT_MS;
    const cause = result.end === 'SoftwareDeployment' ? 'SoftwareDeployment' : result.factoryReset ? 'FactoryReset' : 'Restart';
    this.rebooting = true;
    if (this.listener) this.listener.down = true;
    this.poller?.pause();
    clearTimeout(this.busyTimer);
    this.phone.emit('rebooting', { mac: this.phone.mac, cause, delayMs });
    this.rebootTimer = setTimeout(() => {
      this.rebooting = false;
      if (this.listener) this.listener.down = false;
      void this.launch('start-up', 'reboot');
    }, delayMs);
  }

  /**
   * Contact-me (p.14–15, p.41): call back unless the phone is already in an interaction or the
   * last accepted contact-me is less than the contact gap ago. Requests within the gap "are
   * ignored" (ADM 3.3.7); the phone still answers them 204, since the web server answers every
   * well-formed request and only the call-back is suppressed [INF].
   */
  private decide(request: ContactMeRequest): ContactMeVerdict {
    // Listening, not started yet (a fleet opens every port first): as a phone still booting, it takes no contact-me.
    if (!this.started) return { outcome: 'ignored', reason: 'still starting' };
    if (this.phone.inInteraction || this.callbackPending) return { outcome: 'ignored', reason: 'already in an interaction' };
    const now = this.phone.now();
    const gap = this.phone.contactGapMs;
    if (this.lastAnsweredAt !== undefined && now - this.lastAnsweredAt < gap) {
      return { outcome: 'ignored', reason: `within the contact gap (${seconds(gap - (now - this.lastAnsweredAt))} of ${seconds(gap)} left)` };
    }
    this.lastAnsweredAt = now;
    this.callbackPending = true;
    const server = this.callbackServer(request);
    return {
      outcome: 'accepted',
      then: () => {
        this.callbackPending = false;
        if (this.started && !this.rebooting) void this.launch('solicited', 'contact-me', server);
      },
    };
  }

  /** dls_ip_addr / dls_ip_port replace host and port of the configured service (p.14) [INF: path kept]. */
  private callbackServer(request: ContactMeRequest): string | undefined {
    if (request.dlsIpAddr === undefined && request.dlsIpPort === undefined) return undefined;
    const url = serverUrl(this.phone.server);
    if (request.dlsIpAddr !== undefined) url.hostname = isIP(request.dlsIpAddr) === 6 ? `[${request.dlsIpAddr}]` : request.dlsIpAddr;
    if (request.dlsIpPort !== undefined) url.port = String(request.dlsIpPort);
    return url.href;
  }

  private recordContactMe(record: ContactMeRecord): void {
    this.phone.contactMes.push(record);
    this.phone.emit('contact-me', record);
  }

  /**
   * 202 Accepted: open a solicited interaction (wiki DCMP); 200: nothing. The contact gap is not
   * applied here: it guards the phone's web server against contact-me floods, and the poll
   * interval already limits polling [INF].
   */
  private polled(record: DcmpPollRecord): void {
    if (record.outcome === 'pending') {
      record.solicited = this.started && !this.rebooting && !this.phone.inInteraction;
      if (record.solicited) void this.launch('solicited', 'dcmp');
    }
    this.phone.polls.push(record);
    if (this.phone.polls.length > MAX_POLL_RECORDS) this.phone.polls.shift();
    this.phone.emit('poll', record);
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
