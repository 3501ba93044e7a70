/**
 * The SQLite store (better-sqlite3, WAL). The only module that writes SQL. Each phone exchange is
 * committed together with the device changes it caused, in one transaction.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Device, DeviceItem, Exchange, ExchangeSummary, Interaction, ListenerKind } from '../../shared/model';
import type { Item } from '../wpi';
import { openDatabase } from './data-dir';
import { SUMMARY_COLUMNS, toExchange, toSummary, type ExchangeRow } from './exchange-rows';
import { ContactFailures, contactFailureFields, type ContactFailureRow } from './contact-failures';
import { JobTables, type JobChange, type NewJob, type ReturnLimits } from './jobs';

export interface StoreOptions {
  /** Path to a better_sqlite3.node built for the running runtime (the Electron app passes its own). */
  nativeBinding?: string;
  readonly?: boolean;
  /** Run PRAGMA quick_check before using the database and refuse a damaged one (the service's start). */
  integrityCheck?: boolean;
}

/** An exchange as the listener saw it, before it gets an id. */
export type ExchangeRecord = Omit<Exchange, 'id' | 'interactionId' | 'requestBytes' | 'responseBytes'>;

/** What one exchange changes besides being recorded; produced by the provisioning engine. */
export interface Changes {
  device?: DeviceUpsert;
  /** ReadAllItems answer: the phone's complete item set replaces what was stored. */
  replaceItems?: Item[];
  /** Items reported in start-up, local-changes, status, …: merged into the current set. */
  mergeItems?: Item[];
  /** Open a new interaction for this exchange (first message of a chain). */
  openInteraction?: { reason: string | null };
  /** The interaction ends with this exchange. */
  endInteraction?: string;
  state?: Device['state'];
  /** Changes to existing jobs (sent, done, failed, waiting-busy, …). */
  jobs?: JobChange[];
  /** Jobs created by this exchange (plug & play profile); their ids come back in CommitResult. */
  newJobs?: NewJob[];
  /** Profile assigned to the device (plug & play). */
  assignProfile?: string;
  /**
   * Interactions whose sessions this exchange drops (the phone started over, or room was needed):
   * closed with the reason, their devices' unanswered jobs queued again, as on expiry.
   */
  abandon?: { interactionId: number | null; mac: string | null; why: string }[];
  /** Secure Mode: the device's mode, bootstrap state and certificate serial. */
  mode?: Device['mode'];
  bootstrap?: Device['bootstrap'];
  certSerial?: string | null;
}

export interface DeviceUpsert {
  mac: string;
  e164?: string;
  deviceType?: string;
  softwareVersion?: string;
  partNumber?: string;
  contactMeUri?: string;
  lastAddress: string;
}

export interface PurgeOptions {
  /** Rows deleted per transaction; default 2000. */
  batchSize?: number;
  /** Pause between batches, ms (default 5): other connections take the write lock meanwhile. */
  pauseMs?: number;
  onProgress?: (sofar: PurgeResult) => void;
}

export interface PurgeResult {
  exchanges: number;
  interactions: number;
  batches: number;
  /** Pages given back to the file system (databases created with incremental auto-vacuum). */
  vacuumedPages: number;
  /** Free pages left inside the file; new traffic reuses them. */
  freePages: number;
  pageSize: number;
}

/** What recoverInterrupted() found and did. */
export interface RecoveryReport {
  /** Interactions that were open and are now closed. */
  interactions: number;
  /** Devices that were "in interaction" and are idle again. */
  devices: number;
  /** Jobs that were sent without an answer… */
  jobs: number;
  /** …of which queued again… */
  requeued: number;
  /** …and failed, their attempts used up. */
  failed: number;
  /** Jobs sent that wait for their phone's return (reboot, secure port): left as they are. */
  awaitingReturn: number;
}

export interface CommitResult {
  exchangeId: number;
  interactionId: number | null;
  newJobIds: number[];
}

export interface ExchangeQuery {
  mac?: string;
  interactionId?: number;
  /** Only rows with id greater than this (for following). */
  afterId?: number;
  /** Newest first when true (default), oldest first otherwise. */
  newestFirst?: boolean;
  limit?: number;
}

export class Store {
  readonly db: Database;
  /** Jobs, profiles, overrides. Undefined on a read-only store opened before migration 2. */
  readonly jobs: JobTables;
  readonly contactFailures: ContactFailures;
  /** What opening the data folder changed or wants said (modes narrowed, a read-only copy); `serve` prints it. */
  readonly notices: string[];
  private readonly st: Record<string, Statement>;

  constructor(
    readonly dataDir: string,
    options: StoreOptions = {},
  ) {
    const opened = openDatabase(dataDir, options);
    this.db = opened.db;
    this.notices = opened.notices;
    this.st = this.prepare();
    this.jobs = new JobTables(this.db);
    this.contactFailures = new ContactFailures(this.db);
  }

  private prepare(): Record<string, Statement> {
    const p = (sql: string) => this.db.prepare(sql);
    return {
      insertDevice: p(`INSERT INTO devices (mac, e164, device_type, software_version, part_number, contact_me_uri, last_address, first_contact, last_contact)
        VALUES (@mac, @e164, @deviceType, @softwareVersion, @partNumber, @contactMeUri, @lastAddress, @at, @at)
        ON CONFLICT (mac) DO UPDATE SET
          e164 = coalesce(excluded.e164, e164), device_type = coalesce(excluded.device_type, device_type),
          software_version = coalesce(excluded.software_version, software_version),
          part_number = coalesce(excluded.part_number, part_number),
          contact_me_uri = coalesce(excluded.contact_me_uri, contact_me_uri),
          last_address = excluded.last_address, last_contact = excluded.last_contact`),
      touchDevice: p(`UPDATE devices SET last_contact = @at, last_address = @lastAddress WHERE mac = @mac`),
      setTls: p(`UPDATE devices SET tls_protocol = @protocol WHERE mac = @mac`),
      setSecure: p(`UPDATE devices SET mode = coalesce(@mode, mode), bootstrap = CASE WHEN @setBootstrap THEN @bootstrap ELSE bootstrap END,
        cert_serial = CASE WHEN @setSerial THEN @serial ELSE cert_serial END WHERE mac = @mac`),
      getSetting: p(`SELECT value FROM settings WHERE name = ?`),
      setSetting: p(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
      setState: p(`UPDATE devices SET state = @state WHERE mac = @mac`),
      deleteItems: p(`DELETE FROM items WHERE mac = ?`),
      deleteItem: p(`DELETE FROM items WHERE mac = @mac AND name = @name AND idx IS @idx`),
      insertItem: p(`INSERT INTO items (mac, name, idx, value, status, updated) VALUES (@mac, @name, @idx, @value, @status, @at)`),
      openInteraction: p(`INSERT INTO interactions (mac, peer, listener, reason, started) VALUES (@mac, @peer, @listener, @reason, @at)`),
      endInteraction: p(`UPDATE interactions SET ended = @at, end_reason = @why, mac = coalesce(mac, @mac) WHERE id = @id AND ended IS NULL`),
      insertExchange: p(`INSERT INTO exchanges (kind, started, ended, listener, local_port, peer_address, peer_port, tls_protocol, tls_cipher,
          method, path, http_status, request_headers, request_body, response_headers, response_body, mac, interaction_id,
          reason, reply_action, reply_status, nonce, fragment, item_count, action, error, warning)
        VALUES (@kind, @started, @ended, @listener, @localPort, @peerAddress, @peerPort, @tlsProtocol, @tlsCipher,
          @method, @path, @httpStatus, @requestHeaders, @requestBody, @responseHeaders, @responseBody, @mac, @interactionId,
          @reason, @replyAction, @replyStatus, @nonce, @fragment, @itemCount, @action, @error, @warning)`),
      device: p(`SELECT * FROM devices WHERE mac = ?`),
      devices: p(`SELECT * FROM devices ORDER BY mac`),
      items: p(`SELECT name, idx, value, status, updated FROM items WHERE mac = ? ORDER BY name, idx`),
      exchange: p(`SELECT * FROM exchanges WHERE id = ?`),
      interaction: p(`SELECT * FROM interactions WHERE id = ?`),
      expireInteractions: p(`UPDATE interactions SET ended = @at, end_reason = 'expired' WHERE ended IS NULL AND id IN (SELECT value FROM json_each(@ids))`),
    };
  }

  /** Records one exchange and everything it changed, atomically. */
  commit(record: ExchangeRecord, changes: Changes, interactionId: number | null): CommitResult {
    return this.db.transaction((): CommitResult => {
      const at = record.ended;
      const mac = changes.device?.mac ?? record.mac;
      for (const gone of changes.abandon ?? []) {
        if (gone.interactionId !== null) this.st.endInteraction!.run({ id: gone.interactionId, at, why: gone.why, mac: gone.mac });
        if (gone.mac) this.releaseDevice(gone.mac, at);
      }
      if (changes.device) {
        const d = changes.device;
        this.st.insertDevice!.run({
          mac: d.mac, e164: d.e164 ?? null, deviceType: d.deviceType ?? null, softwareVersion: d.softwareVersion ?? null,
          partNumber: d.partNumber ?? null, contactMeUri: d.contactMeUri ?? null, lastAddress: d.lastAddress, at,
        });
      } else if (mac && !(record.kind === 'contact-me' && record.error !== null)) {
        // A contact-me that failed is not a contact: the phone was not heard from.
        this.st.touchDevice!.run({ mac, at, lastAddress: record.peerAddress });
      }
      if (mac && changes.replaceItems) {
        this.st.deleteItems!.run(mac);
        this.writeItems(mac, changes.replaceItems, at);
      }
      if (mac && changes.mergeItems) this.writeItems(mac, changes.mergeItems, at);
      if (mac && changes.state) this.st.setState!.run({ mac, state: changes.state });
      if (mac && record.tlsProtocol) this.st.setTls!.run({ mac, protocol: record.tlsProtocol });
      if (mac && changes.assignProfile) this.jobs.assignProfile(mac, changes.assignProfile);
      if (mac && (changes.mode !== undefined || changes.bootstrap !== undefined || changes.certSerial !== undefined)) {
        this.st.setSecure!.run({
          mac, mode: changes.mode ?? null, setBootstrap: changes.bootstrap !== undefined ? 1 : 0, bootstrap: changes.bootstrap ?? null,
          setSerial: changes.certSerial !== undefined ? 1 : 0, serial: changes.certSerial ?? null,
        });
      }
      for (const change of changes.jobs ?? []) this.jobs.apply(change, at);
      const newJobIds = (changes.newJobs ?? []).map((j) => this.jobs.add(j, at).id);

      let interaction = interactionId;
      if (changes.openInteraction) {
        interaction = Number(
          this.st.openInteraction!.run({
            mac: mac ?? null, peer: record.peerAddress, listener: record.listener, reason: changes.openInteraction.reason, at: record.started,
          }).lastInsertRowid,
        );
      }
      const exchangeId = Number(
        this.st.insertExchange!.run({
          ...record,
          mac: mac ?? null,
          interactionId: interaction,
          requestHeaders: JSON.stringify(record.requestHeaders),
          responseHeaders: JSON.stringify(record.responseHeaders),
          requestBody: Buffer.from(record.requestBody),
          responseBody: Buffer.from(record.responseBody),
        }).lastInsertRowid,
      );
      if (interaction !== null && changes.endInteraction) {
        this.st.endInteraction!.run({ id: interaction, at, why: changes.endInteraction, mac: mac ?? null });
      }
      return { exchangeId, interactionId: interaction, newJobIds };
    })();
  }

  private writeItems(mac: string, items: readonly Item[], at: number): void {
    for (const item of items) {
      const row = { mac, name: item.name, idx: item.index ?? null, value: item.value, status: item.status ?? null, at };
      this.st.deleteItem!.run(row);
      this.st.insertItem!.run(row);
    }
  }

  /**
   * Ends interactions whose sessions expired without CleanUp, sets their devices idle, and queues
   * again what was sent to them without an answer.
   */
  expireInteractions(ids: readonly number[], macs: readonly string[], at: number, returnLimits?: ReturnLimits): void {
    this.db.transaction(() => {
      this.jobs.failOverdueReturns(at, returnLimits);
      if (ids.length === 0 && macs.length === 0) return;
      this.st.expireInteractions!.run({ ids: JSON.stringify(ids), at });
      for (const mac of macs) this.releaseDevice(mac, at);
    })();
  }

  /** An interaction of this device ended without CleanUp: idle again, its unanswered jobs queued again. */
  private releaseDevice(mac: string, at: number): void {
    this.st.setState!.run({ mac, state: 'idle' });
    this.jobs.requeueSent(mac, at);
  }

  /**
   * After an unclean stop (crash, kill, power cut): closes the interactions that were open, sets
   * their devices idle, and queues again (or fails, once their attempts are used up) the jobs that
   * were sent in them and never answered. Jobs waiting for their phone to come back stay `sent`.
   * One transaction; returns what it did so the start can say so.
   */
  recoverInterrupted(at: number): RecoveryReport {
    return this.db.transaction((): RecoveryReport => {
      const interactions = this.db.prepare(`UPDATE interactions SET ended = @at, end_reason = 'closed at start: the service stopped during this interaction' WHERE ended IS NULL`).run({ at }).changes;
      const devices = this.db.prepare(`UPDATE devices SET state = 'idle' WHERE state = 'in-interaction'`).run().changes;
      const { n: jobs, failing: failed } = this.jobs.inFlight();
      this.jobs.requeueSent(null, at);
      const requeued = jobs - failed;
      return { interactions, devices, jobs, requeued, failed, awaitingReturn: this.jobs.awaitingReturn() };
    })();
  }

  /** Records an exchange that changes nothing else (contact-me, DCMP). */
  recordExchange(record: ExchangeRecord): number {
    return this.commit(record, {}, null).exchangeId;
  }

  device(mac: string): Device | undefined {
    const row = this.st.device!.get(mac) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  devices(): Device[] {
    return (this.st.devices!.all() as DeviceRow[]).map(toDevice);
  }

  items(mac: string): DeviceItem[] {
    return (this.st.items!.all(mac) as ItemRow[]).map((r) => ({
      name: r.name, index: r.idx, value: r.value, status: r.status, updated: r.updated,
    }));
  }

  exchange(id: number): Exchange | undefined {
    const row = this.st.exchange!.get(id) as ExchangeRow | undefined;
    return row && toExchange(row);
  }

  interaction(id: number): Interaction | undefined {
    const r = this.st.interaction!.get(id) as InteractionRow | undefined;
    return r && { id: r.id, mac: r.mac, peer: r.peer, listener: r.listener, reason: r.reason, started: r.started, ended: r.ended, endReason: r.end_reason };
  }

  exchanges(query: ExchangeQuery = {}): ExchangeSummary[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.mac !== undefined) { where.push('mac = @mac'); params.mac = query.mac; }
    if (query.interactionId !== undefined) { where.push('interaction_id = @interactionId'); params.interactionId = query.interactionId; }
    if (query.afterId !== undefined) { where.push('id > @afterId'); params.afterId = query.afterId; }
    const order = query.newestFirst === false ? 'ASC' : 'DESC';
    params.limit = Math.min(Math.max(query.limit ?? 100, 1), 10_000);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM exchanges ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as ExchangeRow[]).map(toSummary);
  }

  exchangeCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n;
  }

  /**
   * Retention: deletes the exchanges that started before `cutoff` (ms) and the interactions that
   * ended before it and no exchange refers to any more (open interactions stay). Works in batches
   * of `batchSize` rows, one transaction each, with a pause between them so that a running service
   * (another connection) keeps recording meanwhile. Then checkpoints the WAL and, when the database
   * was created with incremental auto-vacuum, gives the freed pages back to the file system.
   */
  async purgeOlderThan(cutoff: number, options: PurgeOptions = {}): Promise<PurgeResult> {
    const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 2000));
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, options.pauseMs ?? 5));
    const exchanges = this.db.prepare('DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges WHERE started < @cutoff ORDER BY id LIMIT @limit)');
    const interactions = this.db.prepare(`DELETE FROM interactions WHERE id IN (SELECT id FROM interactions i WHERE ended IS NOT NULL AND ended < @cutoff
      AND NOT EXISTS (SELECT 1 FROM exchanges x WHERE x.interaction_id = i.id) ORDER BY id LIMIT @limit)`);
    const result: PurgeResult = { exchanges: 0, interactions: 0, batches: 0, vacuumedPages: 0, freePages: 0, pageSize: this.db.pragma('page_size', { simple: true }) as number };
    for (const [statement, key] of [[exchanges, 'exchanges'], [interactions, 'interactions']] as const) {
      for (;;) {
        const removed = this.db.transaction(() => statement.run({ cutoff, limit: batchSize }).changes)();
        result[key] += removed;
        result.batches++;
        options.onProgress?.({ ...result });
        if (removed < batchSize) break;
        await pause();
      }
    }
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    if ((this.db.pragma('auto_vacuum', { simple: true }) as number) === 2) {
      for (;;) {
        const before = this.db.pragma('freelist_count', { simple: true }) as number;
        if (before === 0) break;
        // 512 pages (2 MB) a step: moving pages is the slowest part, and writers wait meanwhile.
        this.db.pragma('incremental_vacuum(512)');
        const freed = before - (this.db.pragma('freelist_count', { simple: true }) as number);
        result.vacuumedPages += freed;
        if (freed === 0) break;
        await pause();
      }
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
    result.freePages = this.db.pragma('freelist_count', { simple: true }) as number;
    return result;
  }

  /** Small facts the service shares with CLI processes (e.g. the secure port actually bound). */
  setting(name: string): string | undefined {
    return (this.st.getSetting!.get(name) as { value: string } | undefined)?.value;
  }

  setSetting(name: string, value: string): void {
    this.st.setSetting!.run(name, value);
  }

  /** Changes a device outside any exchange (bootstrap queued, certificate revoked, …). */
  updateDevice(mac: string, changes: Pick<Changes, 'mode' | 'bootstrap' | 'certSerial'>): void {
    this.st.setSecure!.run({
      mac, mode: changes.mode ?? null, setBootstrap: changes.bootstrap !== undefined ? 1 : 0, bootstrap: changes.bootstrap ?? null,
      setSerial: changes.certSerial !== undefined ? 1 : 0, serial: changes.certSerial ?? null,
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface DeviceRow extends ContactFailureRow {
  mac: string; e164: string | null; device_type: string | null; software_version: string | null; part_number: string | null;
  contact_me_uri: string | null; last_address: string | null; mode: Device['mode']; state: Device['state']; tls_protocol: string | null;
  first_contact: number; last_contact: number; profile: string | null; last_contact_me: number | null;
  bootstrap: Device['bootstrap']; cert_serial: string | null;
}
interface ItemRow { name: string; idx: number | null; value: string; status: string | null; updated: number }
interface InteractionRow {
  id: number; mac: string | null; peer: string; listener: ListenerKind; reason: string | null; started: number; ended: number | null; end_reason: string | null;
}
function toDevice(r: DeviceRow): Device {
  return {
    mac: r.mac, e164: r.e164, deviceType: r.device_type, softwareVersion: r.software_version, partNumber: r.part_number,
    contactMeUri: r.contact_me_uri, lastAddress: r.last_address, mode: r.mode, state: r.state, tlsProtocol: r.tls_protocol,
    firstContact: r.first_contact, lastContact: r.last_contact, profile: r.profile, lastContactMe: r.last_contact_me,
    bootstrap: r.bootstrap, certSerial: r.cert_serial, ...contactFailureFields(r),
  };
}
