/**
 * Realistic stored traffic for the store and UI benchmarks: simulated phones talk to the real
 * ExchangeHandler in-process (no TLS), every Store.commit is captured, and the captured exchange
 * rows are copied (re-timed, spread over devices) to fill a store to any size quickly.
 */
import type { Database } from 'better-sqlite3';
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { Store, type Changes, type CommitResult, type ExchangeRecord } from '../../src/main/store';
import { CookieJar, macAt, SimulatedPhone, type ExchangeResult } from '../../src/phone';
import { parseDLSMessage } from '../../src/main/wpi';

/** One captured Store.commit: what the service wrote for one exchange. */
export interface CapturedCommit {
  record: ExchangeRecord;
  changes: Changes;
  interactionId: number | null;
  result: CommitResult;
}

export const SAMPLE_MAC_BASE = '00:1A:E8:30:00:00';

/** A Transport that hands each message straight to the handler, as the listener would after TLS. */
function inProcessTransport(handler: ExchangeHandler, peerAddress: string) {
  let port = 40000;
  return {
    async post(xml: string, jar?: CookieJar): Promise<ExchangeResult> {
      const headers: [string, string][] = [
        ['Host', '127.0.0.1:18443'],
        ['Content-Type', 'text/xml'],
        ['Content-Length', String(Buffer.byteLength(xml))],
        ['Connection', 'close'],
      ];
      const cookie = jar?.header();
      if (cookie !== undefined) headers.push(['Cookie', cookie]);
      const response = handler.exchange({
        started: Date.now(), listener: 'default', localPort: 18443, peerAddress, peerPort: port++, tlsProtocol: 'TLSv1.3',
        tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService', headers, body: Buffer.from(xml, 'utf8'),
      });
      jar?.store(response.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v));
      const body = response.body.toString('utf8');
      await new Promise((r) => setImmediate(r));
      return { status: response.status, headers: {}, body, message: parseDLSMessage(body), tls: { protocol: 'TLSv1.3', cipher: null }, durationMs: 0 };
    },
  };
}

export interface SampleOptions {
  phones: number;
  /** Start-ups with unchanged configuration (start-up → CleanUp) per ReadAllItems interaction. */
  shortPerBoot: number;
  maxItems: number;
}

/**
 * Runs the sample workload against a store in `dir` and returns every commit in order: each phone
 * one boot (start-up → ReadAllItems → fragmented reply → CleanUp), then `shortPerBoot` start-ups.
 */
export async function captureSample(dir: string, options: SampleOptions): Promise<CapturedCommit[]> {
  const store = new Store(dir, { synchronous: 'OFF' });
  const captured: CapturedCommit[] = [];
  const commit = store.commit.bind(store);
  store.commit = (record, changes, interactionId) => {
    const result = commit(record, changes, interactionId);
    captured.push({ record, changes, interactionId, result });
    return result;
  };
  const handler = new ExchangeHandler(store);
  const phones = Array.from(
    { length: options.phones },
    (_, i) =>
      new SimulatedPhone({
        server: 'https://127.0.0.1:18443',
        mac: macAt(SAMPLE_MAC_BASE, i),
        ipAddress: `127.0.3.${i + 1}`,
        maxItems: options.maxItems,
        contactMe: false,
        transport: inProcessTransport(handler, `127.0.3.${i + 1}`),
      }),
  );
  for (let round = 0; round <= options.shortPerBoot; round++) {
    for (const phone of phones) {
      const r = await phone.runInteraction('start-up');
      if (!r.ok) throw new Error(`sample phone ${phone.mac} failed: ${r.error}`);
    }
  }
  store.close();
  return captured;
}

/** Replays captured commits through Store.commit (the service's write path); returns commits per second. */
export function replayCommits(store: Store, commits: readonly CapturedCommit[], rounds = 1): { commits: number; ms: number } {
  const t0 = performance.now();
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    const ids = new Map<number, number>();
    for (const c of commits) {
      const interactionId = c.interactionId === null ? null : (ids.get(c.interactionId) ?? null);
      const result = store.commit({ ...c.record, started: Date.now(), ended: Date.now() }, c.changes, interactionId);
      if (c.result.interactionId !== null && result.interactionId !== null) ids.set(c.result.interactionId, result.interactionId);
      n++;
    }
  }
  return { commits: n, ms: performance.now() - t0 };
}

type Row = Record<string, unknown>;

export interface FillResult {
  rows: number;
  interactions: number;
  ms: number;
  firstStarted: number;
  lastStarted: number;
}

/**
 * Fills `db` (a migrated LocalDLS store) with `rows` exchanges copied from the sample in
 * `sampleDir`, spread evenly over the `spanDays` before `now` and over `devices` MACs, with their
 * interactions. Bulk path (big transactions, synchronous OFF): this is the baseline fill, not the
 * service's write path.
 */
export function fillExchanges(db: Database, sampleDb: Database, rows: number, options: { spanDays: number; devices: number; now: number }): FillResult {
  const sample = sampleDb.prepare('SELECT * FROM exchanges ORDER BY id').all() as Row[];
  const sampleInteractions = new Map((sampleDb.prepare('SELECT * FROM interactions').all() as Row[]).map((r) => [r.id as number, r]));
  const sampleMacs = [...new Set(sample.map((r) => r.mac as string | null).filter((m): m is string => m !== null))].sort();
  const macIndex = new Map(sampleMacs.map((m, i) => [m, i]));
  const columns = Object.keys(sample[0]!).filter((c) => c !== 'id');
  const insert = db.prepare(`INSERT INTO exchanges (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  const insertInteraction = db.prepare(
    'INSERT INTO interactions (mac, peer, listener, reason, started, ended, end_reason) VALUES (@mac, @peer, @listener, @reason, @started, @ended, @end_reason)',
  );
  const insertDevice = db.prepare(
    `INSERT OR IGNORE INTO devices (mac, e164, device_type, software_version, part_number, last_address, first_contact, last_contact)
     VALUES (?, '4989700000', 'OpenStage 60', 'V3 R5.12.0', 'S30817-S7403-A101', '127.0.3.1', ?, ?)`,
  );
  const span = options.spanDays * 86_400_000;
  const first = options.now - span;
  const step = span / rows;
  const previous = db.pragma('synchronous', { simple: true });
  db.pragma('synchronous = OFF');
  const t0 = performance.now();
  // The kept count's insert trigger (migration 14) makes each INSERT keep a statement journal, three
  // times the time per row of this bulk path: off while filling, the count taken once at the end.
  const countTrigger = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'exchange_count_insert'`).get() as { sql: string } | undefined;
  if (countTrigger) db.exec('DROP TRIGGER exchange_count_insert');
  let interactions = 0;
  let i = 0;
  let cycle = 0;
  const macOf = (mac: string | null): string | null => {
    if (mac === null) return null;
    const k = macIndex.get(mac);
    return k === undefined ? mac : macAt('00:1A:E8:40:00:00', (k + cycle * sampleMacs.length) % options.devices);
  };
  while (i < rows) {
    db.transaction(() => {
      const ids = new Map<number, number>();
      for (const s of sample) {
        if (i >= rows) return;
        const started = Math.round(first + i * step);
        const mac = macOf(s.mac as string | null);
        let interaction: number | null = null;
        if (s.interaction_id !== null) {
          interaction = ids.get(s.interaction_id as number) ?? null;
          if (interaction === null) {
            const si = sampleInteractions.get(s.interaction_id as number)!;
            interaction = Number(
              insertInteraction.run({ ...si, mac, started, ended: si.ended === null ? null : started + ((si.ended as number) - (si.started as number)) }).lastInsertRowid,
            );
            ids.set(s.interaction_id as number, interaction);
            interactions++;
          }
        }
        insert.run({ ...s, mac, interaction_id: interaction, started, ended: started + ((s.ended as number) - (s.started as number)) });
        i++;
      }
      for (let d = 0; d < sampleMacs.length; d++) insertDevice.run(macOf(sampleMacs[d]!), first, options.now);
    })();
    cycle++;
  }
  if (countTrigger) {
    db.transaction(() => {
      db.exec(countTrigger.sql);
      db.prepare('UPDATE exchange_count SET n = (SELECT count(*) FROM exchanges), last_id = max(last_id, coalesce((SELECT max(id) FROM exchanges), 0))').run();
    })();
  }
  const ms = performance.now() - t0;
  db.pragma(`synchronous = ${String(previous)}`);
  return { rows, interactions, ms, firstStarted: first, lastStarted: Math.round(first + (rows - 1) * step) };
}
