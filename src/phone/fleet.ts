/**
 * Many simulated phones against one service: consecutive MACs and E.164 numbers, a bounded number
 * of interactions in flight, one summary. runFleet: one interaction per phone; startFleet: phones
 * that stay running (contact-me, calls, reboots, polling) until stopped.
 */
import { normalizeMac } from './items';
import { SimulatedPhone, type ContactReason, type InteractionResult, type PhoneOptions } from './phone';
import { tanOfPin, wrongPins, wrongTan } from './secure-mode';

/** 00:1A:E8 is the Siemens Enterprise Communications (Unify) OUI. */
export const DEFAULT_MAC_BASE = '00:1A:E8:00:00:01';
export const DEFAULT_E164_BASE = '498972231001';
export const DEFAULT_CONCURRENCY = 20;
export const DEFAULT_BUSY_FOR_MS = 30_000;

export interface FleetOptions extends Omit<PhoneOptions, 'mac' | 'e164' | 'transport' | 'onExchange'> {
  count: number;
  /** First MAC; the others count up from it. */
  macBase?: string;
  /** First E.164 number; the others count up from it. */
  e164Base?: string;
  /** First phone IP address; the others count up, and each phone sends from its own (loopback) address. */
  ipBase?: string;
  /** Interactions in flight at once. */
  concurrency?: number;
  reason?: ContactReason;
  /** The first `busyCount` phones are in a call from the start (manual p.46), for `busyForMs`. */
  busyCount?: number;
  /** Default 30 s. */
  busyForMs?: number;
  /** Called as each phone finishes an interaction (in completion order). */
  onResult?: (result: InteractionResult) => void;
  /** Sees each phone before its first interaction (to attach listeners). */
  onPhone?: (phone: SimulatedPhone) => void;
  /** Each phone's own PIN by MAC (upper case, colons), e.g. from a PIN sheet; wins over `pin`. */
  pins?: ReadonlyMap<string, string>;
  /** Each phone with a PIN first types this many wrong ones (p.83: more than max-pin-retries ends the bootstrap). */
  wrongPins?: number;
  /** Each phone with a PIN answers a wrong bootstrapping-tan (p.68, p.31). */
  wrongTan?: boolean;
}

/** Contacts a one-shot phone makes right after an interaction (bootstrapping follow-ups), at most. */
const MAX_FOLLOW_UPS = 4;

export interface FleetSummary {
  phones: number;
  ok: number;
  failed: number;
  exchanges: number;
  durationMs: number;
  failures: { mac: string; error: string }[];
}

const MAC_SPACE = 2n ** 48n;

/** A MAC as the number it is, to count with. */
export function macNumber(mac: string): bigint {
  return BigInt(`0x${normalizeMac(mac).replace(/:/g, '')}`);
}

/** The MAC `offset` places after `base`, e.g. macAt("00:1A:E8:00:00:FF", 1) = "00:1A:E8:00:01:00". */
export function macAt(base: string, offset: number): string {
  const n = macNumber(base) + BigInt(offset);
  if (n >= MAC_SPACE) throw new Error(`MAC ${base} + ${offset} is beyond FF:FF:FF:FF:FF:FF`);
  return n.toString(16).toUpperCase().padStart(12, '0').match(/../g)!.join(':');
}

export function e164At(base: string, offset: number): string {
  if (!/^\d{1,15}$/.test(base)) throw new Error(`"${base}" is not an E.164 number (1-15 digits)`);
  return (BigInt(base) + BigInt(offset)).toString();
}

/** The IPv4 address `offset` places after `base`, e.g. ipAt("127.0.1.255", 1) = "127.0.2.0". */
export function ipAt(base: string, offset: number): string {
  const parts = base.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`"${base}" is not an IPv4 address`);
  const n = (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) + offset;
  if (n > 0xffffffff) throw new Error(`${base} + ${offset} is beyond 255.255.255.255`);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function createFleet(options: FleetOptions): SimulatedPhone[] {
  const { count, macBase = DEFAULT_MAC_BASE, e164Base = DEFAULT_E164_BASE, ipBase, busyCount = 0, busyForMs = DEFAULT_BUSY_FOR_MS } = options;
  const { pins, wrongPins: wrong = 0, wrongTan: badTan = false, onPhone: _onPhone, onResult: _onResult, ...phoneOptions } = options;
  const now = (options.now ?? Date.now)();
  return Array.from({ length: count }, (_, i) => {
    const mac = macAt(macBase, i);
    return new SimulatedPhone({
      ...phoneOptions,
      mac,
      e164: e164At(e164Base, i),
      ...(ipBase ? { ipAddress: ipAt(ipBase, i), bindIpAddress: true } : {}),
      ...(i < busyCount ? { busyUntil: now + busyForMs } : {}),
      ...pinOptions(pins?.get(mac) ?? options.pin, wrong, badTan, options),
    });
  });
}

/** The PIN dialog of one phone: `wrong` wrong PINs, then the right one; the TAN maybe wrong. */
function pinOptions(pin: string | undefined, wrong: number, badTan: boolean, options: FleetOptions): Partial<PhoneOptions> {
  if (pin === undefined) return { pin: undefined, pinAttempts: options.pinAttempts };
  return {
    pin,
    pinAttempts: [...wrongPins(pin, wrong), pin],
    ...(badTan ? { tanOverride: wrongTan(tanOfPin(pin)) } : {}),
  };
}

/**
 * Runs one interaction on every phone, at most `concurrency` at a time, plus the contacts a phone
 * makes at once after bootstrapping (start-up on the secure port, clean-up after wrong PINs).
 * A phone counts as ok when all its interactions were.
 */
export async function runPhones(
  phones: readonly SimulatedPhone[],
  options: { reason?: ContactReason; concurrency?: number; onResult?: (result: InteractionResult) => void } = {},
): Promise<FleetSummary> {
  const started = performance.now();
  const summary: FleetSummary = { phones: phones.length, ok: 0, failed: 0, exchanges: 0, durationMs: 0, failures: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < phones.length) {
      const phone = phones[next++];
      let error: string | undefined;
      for (let n = 0; n === 0 || (phone.contactDue && n <= MAX_FOLLOW_UPS); n++) {
        const result = await phone.runInteraction(n === 0 ? (options.reason ?? 'start-up') : 'start-up', n === 0 ? {} : { trigger: 'bootstrap' });
        summary.exchanges += result.exchanges;
        if (!result.ok) error ??= result.error ?? 'unknown error';
        options.onResult?.(result);
      }
      if (error === undefined) summary.ok++;
      else {
        summary.failed++;
        summary.failures.push({ mac: phone.mac, error });
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, phones.length));
  await Promise.all(Array.from({ length: workers }, worker));
  summary.durationMs = Math.round(performance.now() - started);
  return summary;
}

export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const phones = createFleet(options);
  for (const phone of phones) options.onPhone?.(phone);
  return runPhones(phones, options);
}

/** What a running fleet has done so far. */
export interface RunningFleetStats {
  phones: number;
  interactions: number;
  ok: number;
  failed: number;
  exchanges: number;
  contactMe: { accepted: number; ignored: number; refused: number };
  polls: number;
  reboots: number;
  busyEnded: number;
  durationMs: number;
  /** The latest error of each phone whose last interaction failed. */
  failures: { mac: string; error: string }[];
}

export interface RunningFleet {
  readonly phones: readonly SimulatedPhone[];
  /** Each phone's first interaction, in phone order. */
  readonly startResults: readonly InteractionResult[];
  stats(): RunningFleetStats;
  /** Stops every phone (sockets, timers, exchanges in flight) and returns the final stats. */
  stop(): Promise<RunningFleetStats>;
}

/**
 * Starts every phone (contact-me listener, first interaction), at most `concurrency` first
 * interactions at a time. If a phone cannot start (e.g. its contact-me port is taken), the
 * phones already started are stopped and the error is thrown.
 */
export async function startPhones(phones: readonly SimulatedPhone[], options: { reason?: ContactReason; concurrency?: number } = {}): Promise<RunningFleet> {
  const started = performance.now();
  const stats: RunningFleetStats = { phones: phones.length, interactions: 0, ok: 0, failed: 0, exchanges: 0, contactMe: { accepted: 0, ignored: 0, refused: 0 }, polls: 0, reboots: 0, busyEnded: 0, durationMs: 0, failures: [] };
  const lastError = new Map<string, string>();
  for (const phone of phones) {
    phone.on('interaction', (r) => {
      stats.interactions++;
      stats.exchanges += r.exchanges;
      if (r.ok) {
        stats.ok++;
        lastError.delete(r.mac);
      } else {
        stats.failed++;
        lastError.set(r.mac, r.error ?? 'unknown error');
      }
    });
    phone.on('contact-me', (c) => stats.contactMe[c.outcome]++);
    phone.on('poll', () => stats.polls++);
    phone.on('rebooting', () => stats.reboots++);
    phone.on('busy-ended', () => stats.busyEnded++);
  }
  const snapshot = (): RunningFleetStats => ({
    ...stats,
    contactMe: { ...stats.contactMe },
    durationMs: Math.round(performance.now() - started),
    failures: [...lastError].map(([mac, error]) => ({ mac, error })),
  });
  const startResults: InteractionResult[] = new Array(phones.length);
  let next = 0;
  let failure: unknown;
  // Every contact-me port first: one that is taken stops the run before any phone has talked.
  try {
    for (const phone of phones) await phone.listen();
  } catch (err) {
    await Promise.all(phones.map((p) => p.stop()));
    throw err;
  }
  const worker = async (): Promise<void> => {
    while (next < phones.length && failure === undefined) {
      const i = next++;
      try {
        startResults[i] = await phones[i].start(options.reason ?? 'start-up');
      } catch (err) {
        failure ??= err;
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, phones.length));
  await Promise.all(Array.from({ length: workers }, worker));
  const stop = async (): Promise<RunningFleetStats> => {
    await Promise.all(phones.map((p) => p.stop()));
    return snapshot();
  };
  if (failure !== undefined) {
    await stop();
    throw failure;
  }
  return { phones, startResults, stats: snapshot, stop };
}

/** createFleet + startPhones; `onPhone` sees each phone before it starts (to attach listeners). */
export async function startFleet(options: FleetOptions): Promise<RunningFleet> {
  const phones = createFleet(options);
  for (const phone of phones) options.onPhone?.(phone);
  return startPhones(phones, options);
}
