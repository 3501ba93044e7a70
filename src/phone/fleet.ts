/**
 * Many simulated phones against one service: consecutive MACs and E.164 numbers, a bounded number
 * of interactions in flight, one summary. runFleet: one interaction per phone; startFleet: phones
 * that stay running (contact-me, calls, reboots, polling) until stopped.
 */
import { normalizeMac } from './items';
import { SimulatedPhone, type ContactReason, type InteractionResult, type PhoneOptions } from './phone';

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
  /** Called as each phone finishes (in completion order). */
  onResult?: (result: InteractionResult) => void;
}

export interface FleetSummary {
  phones: number;
  ok: number;
  failed: number;
  exchanges: number;
  durationMs: number;
  failures: { mac: string; error: string }[];
}

const MAC_SPACE = 2n ** 48n;

/** The MAC `offset` places after `base`, e.g. macAt("00:1A:E8:00:00:FF", 1) = "00:1A:E8:00:01:00". */
export function macAt(base: string, offset: number): string {
  const n = BigInt(`0x${normalizeMac(base).replace(/:/g, '')}`) + BigInt(offset);
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
  const now = (options.now ?? Date.now)();
  return Array.from(
    { length: count },
    (_, i) =>
      new SimulatedPhone({
        ...options,
        mac: macAt(macBase, i),
        e164: e164At(e164Base, i),
        ...(ipBase ? { ipAddress: ipAt(ipBase, i), bindIpAddress: true } : {}),
        ...(i < busyCount ? { busyUntil: now + busyForMs } : {}),
      }),
  );
}

/** Runs one interaction on every phone, at most `concurrency` at a time. */
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
      const result = await phone.runInteraction(options.reason ?? 'start-up');
      summary.exchanges += result.exchanges;
      if (result.ok) summary.ok++;
      else {
        summary.failed++;
        summary.failures.push({ mac: result.mac, error: result.error ?? 'unknown error' });
      }
      options.onResult?.(result);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, phones.length));
  await Promise.all(Array.from({ length: workers }, worker));
  summary.durationMs = Math.round(performance.now() - started);
  return summary;
}

export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  return runPhones(createFleet(options), options);
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
export async function startFleet(options: FleetOptions & { onPhone?: (phone: SimulatedPhone) => void }): Promise<RunningFleet> {
  const phones = createFleet(options);
  for (const phone of phones) options.onPhone?.(phone);
  return startPhones(phones, options);
}
