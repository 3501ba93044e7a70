/**
 * The SQLite store (better-sqlite3, WAL). The only module that writes SQL, and the only holder of
 * the database: callers get operations, each with its own transaction, never the handle. Each
 * phone exchange is committed together with the device changes it caused, in one transaction; a
 * user action (queue jobs, cancel, bootstrap, forget) is one operation, checked and written
 * atomically even when the CLI and the UI act at once. Writes are announced on the change feed.
 */
import { join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { ExchangeFilter, ExchangeList, ExchangePage, JobFilter, PendingJobCounts } from '../../shared/api';
import type { Device, DeviceItem, Exchange, ExchangeSummary, Interaction, ItemValue, Job, ListenerKind } from '../../shared/model';
import type { Item } from '../wpi';
import { ChangeFeed, type ChangeListener } from './change-feed';
import { packBody } from './body-codec';
import { CLEAN_STOP_FILE, noteCleanStop } from './clean-stop';
import { DATABASE_FILE, openDatabase } from './data-dir';
import { countExchanges, deviceCount, exchangeCount, listExchanges, newestExchangeId } from './exchange-filter';
import { SUMMARY_COLUMNS, toExchange, toSummary, type ExchangeRow } from './exchange-rows';
import { ContactFailures, contactFailureFields, type ContactFailureRow } from './contact-failures';
import { jobsById, jobsChangedSince, listJobsNewest, pendingJobCounts } from './job-queries';
import { JobTables, PENDING_STATES, type JobChange, type NewJob, type ReturnLimits } from './jobs';
import { importRevocationFile, RevocationTable, type Revocation } from './revocations';
import { RelayRows } from './relay-rows';
import type { UpstreamView } from '../../shared/api';
import { InspectorQueries } from './inspector-queries';
import { ItemHistory, type ItemPlan } from './item-history';
import { DamagedItemSetError, ItemSets, MAX_ITEM_SET_CHARS, MAX_ITEMS_PER_DEVICE, type StoredItem } from './item-sets';
import { historyPurge } from './history-purge';
import { RolloutRows } from './rollout-rows';
import { SearchIndex } from './search-index';
import type { ServiceLock } from './service-lock';
import type { FreshDataDir } from '../files/fresh-dir';
import { maskCredentialHeaders } from '../../shared/secrets';
import { itemKey } from '../../shared/item-rules';
import { bootstrapJobRole, RENEWAL_SOURCE } from '../../shared/model';

export interface StoreOptions {
  /** Path to a better_sqlite3.node built for the running runtime (the Electron app passes its own). */
  nativeBinding?: string;
  readonly?: boolean;
  /** Run PRAGMA quick_check before using the database and refuse a damaged one (the service's start). */
  integrityCheck?: boolean;
  /** With integrityCheck: smallest file whose check a clean stop may spare (store/clean-stop.ts; tests lower it). */
  skipCheckFromBytes?: number;
  /** Durability of commits; FULL unless a benchmark filling test data asks for less. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** Free-text index upkeep: in the background (the service), or only when called (default: CLI processes, tests). */
  searchIndexing?: 'background' | 'manual';
  /**
   * The service's: take the folder's service lock (service-lock.ts) before the database is made or
   * opened, and hold it until close. A second service on the folder is refused before it migrates,
   * checks or indexes anything, and a failed start that takes back its fresh folder
   * (cli/fresh-data-dir.ts) cannot pull it from under one that is still opening.
   */
  serviceLock?: boolean;
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
  /** A message LocalDLS refused: it names its device (a secure-port certificate's MAC) but is no contact of it. */
  refused?: true;
  /** Secure Mode: the device's mode, bootstrap state and certificate serial. */
  mode?: Device['mode'];
  bootstrap?: Device['bootstrap'];
  certSerial?: string | null;
  /** A client certificate serial revoked by this exchange (factory reset, renewal), with the device change. */
  revoke?: { serial: string; reason: string };
}

/** A second bootstrap (or undo) of a phone while one is under way: refused, whoever asked. */
export class BootstrapUnderWayError extends Error {
  constructor(readonly job: Job) {
    super(
      job.source === RENEWAL_SOURCE && job.state === 'sent'
        ? // Such a renewal cannot be cancelled (cancelJob): say what ends it instead.
          `${job.mac} has a renewal under way that it has taken or that is on its way to it (job ${job.id}): it completes when the phone next calls on the secure port; a phone that is gone for good: localdls bootstrap --mac ${job.mac} --forget`
        : `${job.mac} has a bootstrap under way (job ${job.id}, ${job.state}): cancel that job first to start again`,
    );
  }
}

/** Pending jobs that make a phone "bootstrap under way": its bootstrap, or the factory reset that undoes one. */
export function isBootstrapJob(job: Pick<Job, 'kind' | 'source'>): boolean {
  return bootstrapJobRole(job) !== null;
}

/** What a store's connection runs with (the start checks, the tests). */
export interface StoreDiagnostics {
  schemaVersion: number;
  journalMode: string;
  synchronous: number;
  autoVacuum: number;
  pageCount: number;
  /** PRAGMA integrity_check ("ok") and foreign_key_check rows, when asked for (slow on big files). */
  integrity?: string;
  foreignKeyViolations?: number;
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
  /** Item history rows of the purged exchanges (store/history-purge.ts). */
  itemChanges: number;
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

/**
 * The upstream a running service relays to, kept while it does (app/service.ts): the CLI beside it
 * refuses what a relay does not do (commands/relay-guard.ts).
 */
export const RELAYING_SETTING = 'relaying_upstream';

export class Store {
  private readonly db: Database;
  /** Jobs, profiles, overrides. Undefined on a read-only store opened before migration 2. */
  readonly jobs: JobTables;
  readonly contactFailures: ContactFailures;
  /** Relay mode: the upstream's side of relayed exchanges. */
  readonly relay: RelayRows;
  /** What opening the data folder changed or wants said (modes narrowed, a read-only copy); `serve` prints it. */
  readonly notices: string[];
  /** Old -> new of every item value, per commit (device timeline). */
  readonly itemHistory: ItemHistory;
  /** Each device's current items, one set per device. */
  private readonly itemSets: ItemSets;
  /** Read-only queries of the inspector's views (ladder, timeline, rollouts, exports). */
  readonly inspector: InspectorQueries;
  /** Bulk jobs as rollouts, and retrying their failed jobs. */
  readonly rollouts: RolloutRows;
  /** The free-text index and its background upkeep. */
  readonly search: SearchIndex;
  /** The service's start-up check (integrityCheck): when quick_check last passed, and whether it ran at this start. */
  readonly integrity: { checkedAt: number; ran: boolean } | null;
  private readonly st: Record<string, Statement>;
  private readonly feed: ChangeFeed;
  /** Null on a read-only store opened before migration 5. */
  private readonly revocations: RevocationTable | null;
  /** With serviceLock: held from before the database opened until close. */
  private readonly lock: ServiceLock | null;
  /** With serviceLock: what the open made again after a failed start took the folder back (data-dir.ts OpenedDatabase.remade). */
  readonly remade: FreshDataDir;

  constructor(
    readonly dataDir: string,
    options: StoreOptions = {},
  ) {
    const opened = openDatabase(dataDir, options);
    this.db = opened.db;
    this.lock = opened.lock ?? null;
    this.remade = opened.remade ?? null;
    this.notices = opened.notices;
    this.integrity = opened.integrity ?? null;
    let search: SearchIndex | undefined;
    try {
      this.st = this.prepare();
      this.feed = new ChangeFeed(this.db);
      this.jobs = new JobTables(this.db, this.feed);
      this.relay = new RelayRows(this.db);
      this.itemHistory = new ItemHistory(this.db);
      this.itemSets = new ItemSets(this.db);
      this.inspector = new InspectorQueries(this.db);
      this.rollouts = new RolloutRows(this.db, this.jobs, { get: (name) => this.setting(name), set: (name, value) => this.setSetting(name, value) });
      if (!options.readonly) this.jobs.claimMoment = (at, kind) => this.rollouts.momentFor(at, kind);
      this.contactFailures = new ContactFailures(this.db, this.feed);
      this.search = search = new SearchIndex(this.db, options.readonly === true);
      if (!options.readonly && options.searchIndexing === 'background') this.search.start();
      const hasRevocations = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'revocations'`).get() !== undefined;
      this.revocations = hasRevocations ? new RevocationTable(this.db) : null;
      if (this.revocations && !options.readonly) {
        const imported = importRevocationFile(dataDir, this.revocations, this.db);
        if (imported > 0) this.notices.push(`moved ${imported} revoked certificate serial(s) from pki/revoked.json into the database (the file is kept as revoked.json.imported)`);
      }
    } catch (e) {
      search?.stop();
      this.db.close();
      this.lock?.release();
      throw e;
    }
  }

  /**
   * Announces the jobs and devices written from now on (coalesced, once per event-loop turn), and
   * commits made by other processes. Returns the unsubscribe function.
   */
  onChange(listener: ChangeListener, externalCheckMs?: number): () => void {
    return this.feed.subscribe(listener, externalCheckMs);
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
      // A contact, with the state and TLS version the exchange leaves: one write of the row, not three.
      touchDevice: p(`UPDATE devices SET last_contact = @at, last_address = @lastAddress, state = coalesce(@state, state),
        tls_protocol = coalesce(@tls, tls_protocol) WHERE mac = @mac`),
      setTls: p(`UPDATE devices SET tls_protocol = @protocol WHERE mac = @mac`),
      setSecure: p(`UPDATE devices SET mode = coalesce(@mode, mode), bootstrap = CASE WHEN @setBootstrap THEN @bootstrap ELSE bootstrap END,
        cert_serial = CASE WHEN @setSerial THEN @serial ELSE cert_serial END WHERE mac = @mac`),
      getSetting: p(`SELECT value FROM settings WHERE name = ?`),
      setSetting: p(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
      setState: p(`UPDATE devices SET state = @state WHERE mac = @mac`),
      inventoried: p(`SELECT inventoried IS NOT NULL AS done FROM devices WHERE mac = ?`),
      setInventoried: p(`UPDATE devices SET inventoried = @at WHERE mac = @mac AND inventoried IS NULL`),
      // The id after the highest ever given (migration 16), as for exchanges below.
      openInteraction: p(`INSERT INTO interactions (id, mac, peer, listener, reason, started) VALUES ((SELECT last_id + 1 FROM interaction_count), @mac, @peer, @listener, @reason, @at)`),
      endInteraction: p(`UPDATE interactions SET ended = @at, end_reason = @why, mac = coalesce(mac, @mac) WHERE id = @id AND ended IS NULL`),
      // The id after the highest ever given (migration 15), not SQLite's max(id) + 1, which a purge lowers.
      insertExchange: p(`INSERT INTO exchanges (id, kind, started, ended, listener, local_port, peer_address, peer_port, tls_protocol, tls_cipher,
          method, path, http_status, request_headers, request_body, request_encoding, request_size, response_headers, response_body,
          response_encoding, response_size, mac, interaction_id, reason, reply_action, reply_status, nonce, fragment, item_count, action,
          error, warning, client_cert, refused_items, http_version)
        VALUES ((SELECT last_id + 1 FROM exchange_count), @kind, @started, @ended, @listener, @localPort, @peerAddress, @peerPort, @tlsProtocol, @tlsCipher,
          @method, @path, @httpStatus, @requestHeaders, @requestBody, @requestEncoding, @requestSize, @responseHeaders, @responseBody,
          @responseEncoding, @responseSize, @mac, @interactionId, @reason, @replyAction, @replyStatus, @nonce, @fragment, @itemCount, @action,
          @error, @warning, @clientCert, @refusedItems, @httpVersion)`),
      device: p(`SELECT * FROM devices WHERE mac = ?`),
      devices: p(`SELECT * FROM devices ORDER BY mac`),
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
      let touched = false;
      if (changes.device) {
        const d = changes.device;
        this.st.insertDevice!.run({
          mac: d.mac, e164: d.e164 ?? null, deviceType: d.deviceType ?? null, softwareVersion: d.softwareVersion ?? null,
          partNumber: d.partNumber ?? null, contactMeUri: d.contactMeUri ?? null, lastAddress: d.lastAddress, at,
        });
      } else if (mac && !changes.refused && record.kind !== 'dcmp' && !(record.kind === 'contact-me' && record.error !== null)) {
        // A contact-me that failed is not a contact: the phone was not heard from. A DCMP poll is
        // plain HTTP from anyone naming any MAC: it must not move the phone's address (contact-me
        // goes there) or pass for a contact.
        this.st.touchDevice!.run({ mac, at, lastAddress: record.peerAddress, state: changes.state ?? null, tls: record.tlsProtocol ?? null });
        touched = true;
      }
      // The phone's first complete read is one history row, not hundreds (store/item-history.ts).
      const firstRead = mac !== null && changes.replaceItems !== undefined && !(this.st.inventoried!.get(mac) as { done: number } | undefined)?.done;
      if (firstRead) this.st.setInventoried!.run({ mac, at });
      const items = mac && (changes.replaceItems || changes.mergeItems) ? this.writeItems(mac, changes, firstRead, at) : null;
      if (mac && changes.state && !touched && !changes.refused) this.st.setState!.run({ mac, state: changes.state });
      if (mac && record.tlsProtocol && !touched && !changes.refused) this.st.setTls!.run({ mac, protocol: record.tlsProtocol });
      if (mac && changes.assignProfile) this.jobs.assignProfile(mac, changes.assignProfile);
      if (mac && (changes.mode !== undefined || changes.bootstrap !== undefined || changes.certSerial !== undefined)) {
        this.st.setSecure!.run({
          mac, mode: changes.mode ?? null, setBootstrap: changes.bootstrap !== undefined ? 1 : 0, bootstrap: changes.bootstrap ?? null,
          setSerial: changes.certSerial !== undefined ? 1 : 0, serial: changes.certSerial ?? null,
        });
      }
      if (changes.revoke) this.revocationTable().revoke(changes.revoke.serial, mac ?? null, at, changes.revoke.reason);
      if (mac) this.feed.device(mac);
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
      const request = packBody(record.requestBody);
      const response = packBody(record.responseBody);
      const exchangeId = Number(
        this.st.insertExchange!.run({
          ...record,
          clientCert: record.clientCertificate ? JSON.stringify(record.clientCertificate) : null,
          httpVersion: record.httpVersion ?? null,
          warning: itemWarnings(record.warning, items),
          mac: mac ?? null,
          interactionId: interaction,
          // Credentials never reach the file (listeners, DCMP, relay alike): the relay forwards the original.
          requestHeaders: JSON.stringify(maskCredentialHeaders(record.requestHeaders)),
          responseHeaders: JSON.stringify(record.responseHeaders),
          requestBody: request.bytes,
          requestEncoding: request.encoding,
          requestSize: request.size,
          responseBody: response.bytes,
          responseEncoding: response.encoding,
          responseSize: response.size,
        }).lastInsertRowid,
      );
      if (mac && items?.history.length) this.itemHistory.record(mac, items.history, exchangeId, at);
      if (interaction !== null && changes.endInteraction) {
        this.st.endInteraction!.run({ id: interaction, at, why: changes.endInteraction, mac: mac ?? null });
        // A job still out when its interaction ends (the phone answered with an unexpected status, or
        // a status report came instead) got no answer: queued again, as when an interaction expires.
        // Jobs that wait for the phone to come back (Restart, deployments, a delivered bootstrap) stay.
        if (mac && !(changes.jobs ?? []).some((c) => c.attempt)) this.jobs.requeueSent(mac, at);
      }
      return { exchangeId, interactionId: interaction, newJobIds };
    })();
  }

  /**
   * Group commit: several exchanges in one transaction (one fsync), each in its own savepoint so
   * that one failing write costs only its own exchange. Returns each one's result or error; when the
   * transaction itself fails (commit, disk full, a rollback of the whole), every one gets the error.
   */
  commitGroup(group: readonly { record: ExchangeRecord; changes: Changes; interactionId: number | null }[]): (CommitResult | Error)[] {
    const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
    try {
      return this.db.transaction(() =>
        group.map((g): CommitResult | Error => {
          try {
            return this.commit(g.record, g.changes, g.interactionId);
          } catch (e) {
            // SQLite ends the whole transaction on some errors (I/O, full disk): then nothing
            // before this one is committed either, and none of them may be answered.
            if (!this.db.inTransaction) throw e;
            return asError(e);
          }
        }),
      )();
    } catch (e) {
      return group.map(() => asError(e));
    }
  }

  /** A relayed exchange: the phone's side as commit() records it, and the upstream's side, in one transaction. */
  commitRelayed(record: ExchangeRecord, changes: Changes, interactionId: number | null, upstream: UpstreamView): CommitResult {
    return this.db.transaction((): CommitResult => {
      const result = this.commit(record, changes, interactionId);
      this.relay.insert(result.exchangeId, upstream);
      return result;
    })();
  }

  /**
   * Writes the device's items as they are after `changes` (only when something changed) and returns
   * the plan. A stored set that cannot be read (damaged outside LocalDLS) is replaced by what this
   * message reports, and `damaged` says so: the phone's items are what it reports, and refusing every
   * message of the phone would leave it unprovisionable.
   */
  private writeItems(mac: string, changes: Changes, firstRead: boolean, at: number): ItemPlan & { damaged?: string } {
    let stored: Map<string, StoredItem>;
    let damaged: string | undefined;
    try {
      stored = this.itemSets.read(mac);
    } catch (e) {
      if (!(e instanceof DamagedItemSetError)) throw e;
      stored = new Map();
      damaged = e.message;
    }
    const plan = this.itemHistory.plan(stored, changes.replaceItems, changes.mergeItems, at, firstRead, { items: MAX_ITEMS_PER_DEVICE, chars: MAX_ITEM_SET_CHARS });
    if (damaged !== undefined || plan.write.length > 0 || plan.remove.length > 0) this.itemSets.write(mac, plan.after.values());
    return damaged === undefined ? plan : { ...plan, damaged };
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
    this.feed.device(mac);
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
      this.feed.everything();
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
    return this.itemSets.items(mac);
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
    return exchangeCount(this.db);
  }

  /** One page of the traffic list (the UI, `traffic list`), with counts unless told not to. */
  listExchanges(filter: ExchangeFilter, page: ExchangePage): ExchangeList {
    return listExchanges(this.db, filter, page);
  }

  countExchanges(filter: ExchangeFilter): number {
    return countExchanges(this.db, filter);
  }

  /** The id of the newest exchange, 0 when there is none. */
  newestExchangeId(): number {
    return newestExchangeId(this.db);
  }

  deviceCount(): number {
    return deviceCount(this.db);
  }

  // --- jobs: the operations of the command layer, each one transaction --------------------------

  /** Matching jobs, newest first, and how many match in all. */
  listJobs(filter: JobFilter): { jobs: Job[]; matched: number } {
    return listJobsNewest(this.db, filter);
  }

  /** Every job changed at or after `since` (ms), oldest change first. */
  jobsChangedSince(since: number): Job[] {
    return jobsChangedSince(this.db, since);
  }

  /** These jobs as they are now (missing ids are left out). */
  jobsById(ids: Iterable<number>): Job[] {
    return jobsById(this.db, [...ids]);
  }

  /** Waiting jobs per device (only devices that have any), for one device or all. */
  pendingJobCounts(mac?: string): Map<string, PendingJobCounts> {
    return pendingJobCounts(this.db, mac);
  }

  /** Queues the same kind of job for several phones: all of them or none, as one rollout. */
  addJobs(jobs: readonly NewJob[], at: number): Job[] {
    return this.queueJobs(jobs, at, 'again').added;
  }

  /**
   * Queues one kind of job for several devices, as one rollout. With `same: 'skip'`, a device with
   * the same job waiting already (queued or waiting-busy: not gone out yet) gets no second one: it
   * is in `same`, with that job's id. Inside one write transaction (BEGIN IMMEDIATE), so the same
   * command from the CLI and the UI at once queues it once (helper-61: each phone got the write twice).
   */
  queueJobs(jobs: readonly NewJob[], at: number, same: 'skip' | 'again'): { added: Job[]; same: { mac: string; jobId: number }[] } {
    const kinds = new Set(jobs.map((j) => j.kind));
    if (kinds.size > 1) throw new Error(`queueJobs queues one kind of job at a time, not ${[...kinds].join(' and ')}`);
    return this.db
      .transaction(() => {
        const waiting: { mac: string; jobId: number }[] = [];
        const fresh = same === 'again' ? jobs : jobs.filter((job) => {
          const jobId = this.jobs.sameWaiting(job);
          if (jobId !== null) waiting.push({ mac: job.mac, jobId });
          return jobId === null;
        });
        const rollout = fresh.length === 0 ? undefined : this.rollouts.claimTime(at, fresh[0]!.kind);
        return { added: fresh.map((job) => this.jobs.add({ ...job, rollout }, at)), same: waiting };
      })
      .immediate();
  }

  /** The pending bootstrap (or undo) of a phone, if one is under way. */
  bootstrapUnderWay(mac: string): Job | undefined {
    return this.jobs.list({ mac, states: PENDING_STATES }).find(isBootstrapJob);
  }

  /**
   * Queues a phone's bootstrap (or its undo) and marks the device: refused with
   * BootstrapUnderWayError when one is already under way. Checked inside the write transaction
   * (BEGIN IMMEDIATE), so two front ends asking at once get one job, not two. A refused bootstrap's
   * certificate (`issuedSerial`) is revoked in the same transaction: it was never handed out.
   */
  queueBootstrap(job: NewJob, at: number, issuedSerial?: string): Job {
    const outcome = this.db
      .transaction((): { job: Job } | { refused: Job } => {
        const under = this.bootstrapUnderWay(job.mac);
        if (under) {
          if (issuedSerial) this.revocationTable().revoke(issuedSerial, job.mac, at, `issued for a bootstrap refused: job ${under.id} was already under way`);
          return { refused: under };
        }
        const added = this.jobs.add(job, at);
        if (job.kind === 'Bootstrap') this.setSecure(job.mac, { bootstrap: 'pending' });
        return { job: added };
      })
      .immediate();
    if ('refused' in outcome) throw new BootstrapUnderWayError(outcome.refused);
    return outcome.job;
  }

  /**
   * Cancels a job still waiting for its phone; a cancelled bootstrap leaves the phone in Default
   * Mode, so it is no longer "pending". Returns the job as it is now, `cancelled: false` when it
   * had already finished (or undefined when there is no such job).
   */
  cancelJob(id: number, at: number, why?: string): { job: Job; cancelled: boolean; taken?: 'taken' | 'in-flight' } | undefined {
    return this.db
      .transaction(() => {
        const job = this.jobs.get(id);
        if (!job) return undefined;
        // A renewal the phone has taken, over the secure channel (so the phone is the real one): it
        // holds the new certificate now, and a cancel would leave it none that opens the secure port.
        // Sent and not yet answered, it may have taken it already (the answer is on its way): the
        // same. Once its interaction ends unanswered the renewal is queued again, and cancellable.
        if (job.kind === 'Bootstrap' && job.source === RENEWAL_SOURCE && job.state === 'sent') {
          return { job, cancelled: false, taken: job.partsDone >= 1 ? ('taken' as const) : ('in-flight' as const) };
        }
        if (!this.jobs.cancel(id, at, why)) return { job, cancelled: false };
        if (job.kind === 'Bootstrap' && this.device(job.mac)?.bootstrap === 'pending') this.setSecure(job.mac, { bootstrap: 'failed' });
        return { job: this.jobs.get(id)!, cancelled: true };
      })
      .immediate();
  }

  /**
   * Assigns a profile to a device and queues the WriteItems of what differs (none when nothing
   * does), less what a WriteItems still waiting for the phone writes already: applying a profile
   * twice (a double click, the CLI beside the UI) queues one write. `waiting`: the jobs that do.
   * In one write transaction, so two front ends applying at once see each other's job. `rollout`:
   * the moment an apply to several phones claimed for all its jobs.
   */
  assignProfile(mac: string, profile: string, diff: readonly ItemValue[], source: string, at: number, rollout?: number): { job: Job | null; waiting: number[] } {
    return this.db
      .transaction(() => {
        this.jobs.assignProfile(mac, profile);
        const onTheWay = new Map<string, { value: string; job: number }>();
        for (const j of this.jobs.pending(mac)) if (j.kind === 'WriteItems') for (const i of j.items) onTheWay.set(itemKey(i), { value: i.value, job: j.id });
        const waiting = new Set<number>();
        const rest = diff.filter((i) => {
          const queued = onTheWay.get(itemKey(i));
          if (queued?.value !== i.value) return true;
          waiting.add(queued.job);
          return false;
        });
        const job = rest.length === 0 ? null : this.jobs.add({ mac, kind: 'WriteItems', items: rest, source, ...(rollout !== undefined ? { rollout } : {}) }, at);
        return { job, waiting: [...waiting] };
      })
      .immediate();
  }

  // --- Secure Mode: device certificates and their revocation ---------------------------------

  private revocationTable(): RevocationTable {
    if (!this.revocations) throw new Error(`the database in ${this.dataDir} predates revocations (schema 5): open it writable once to upgrade it`);
    return this.revocations;
  }

  /** Whether a client certificate serial was revoked (by this or any other process). */
  isRevoked(serial: string): boolean {
    return this.revocations?.isRevoked(serial) ?? false;
  }

  revokedCertificates(): Revocation[] {
    return this.revocations?.list() ?? [];
  }

  /** Revokes a serial that belongs to no device change (a certificate issued and then abandoned); false when it already was. */
  revoke(serial: string, mac: string | null, reason: string, at = Date.now()): boolean {
    return this.revocationTable().revoke(serial, mac, at, reason);
  }

  /**
   * The phone was reset by hand: its certificate is revoked and it is accepted on the Default-Mode
   * port again, in one transaction. Returns the revoked serial (null when it had none).
   */
  forgetCertificate(mac: string, at: number): string | null {
    return this.db
      .transaction(() => {
        const serial = this.device(mac)?.certSerial ?? null;
        if (serial) this.revocationTable().revoke(serial, mac, at, 'forgotten: the phone was reset by hand');
        this.setSecure(mac, { mode: 'default', bootstrap: null, certSerial: null });
        // What was queued for the secure phone (an undo, a renewal, passwords) would now go out in
        // clear text on the Default-Mode port to whoever claims its MAC first: cancelled, as after
        // a factory reset over the secure channel.
        for (const job of this.jobs.pending(mac)) this.jobs.cancel(job.id, at, 'cancelled: the phone was forgotten (reset by hand), so this job would travel in clear text; add it again if it should');
        return serial;
      })
      .immediate();
  }

  /** The pragmas this connection runs with; with `full`, also the integrity checks. */
  diagnostics(full = false): StoreDiagnostics {
    const pragma = (name: string) => this.db.pragma(name, { simple: true });
    return {
      schemaVersion: pragma('user_version') as number,
      journalMode: String(pragma('journal_mode')),
      synchronous: pragma('synchronous') as number,
      autoVacuum: pragma('auto_vacuum') as number,
      pageCount: pragma('page_count') as number,
      ...(full ? { integrity: String(pragma('integrity_check')), foreignKeyViolations: (this.db.pragma('foreign_key_check') as unknown[]).length } : {}),
    };
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
    const history = historyPurge(this.db, newestExchangeId(this.db));
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, options.pauseMs ?? 5));
    const exchanges = this.db.prepare('DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges WHERE started < @cutoff ORDER BY id LIMIT @limit)');
    const interactions = this.db.prepare(`DELETE FROM interactions WHERE id IN (SELECT id FROM interactions i WHERE ended IS NOT NULL AND ended < @cutoff
      AND NOT EXISTS (SELECT 1 FROM exchanges x WHERE x.interaction_id = i.id) ORDER BY id LIMIT @limit)`);
    const result: PurgeResult = { exchanges: 0, interactions: 0, itemChanges: 0, batches: 0, vacuumedPages: 0, freePages: 0, pageSize: this.db.pragma('page_size', { simple: true }) as number };
    for (const [statement, key] of [[exchanges, 'exchanges'], [interactions, 'interactions'], [history, 'itemChanges']] as const) {
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

  deleteSetting(name: string): void {
    this.db.prepare('DELETE FROM settings WHERE name = ?').run(name);
  }

  private setSecure(mac: string, changes: Pick<Changes, 'mode' | 'bootstrap' | 'certSerial'>): void {
    this.st.setSecure!.run({
      mac, mode: changes.mode ?? null, setBootstrap: changes.bootstrap !== undefined ? 1 : 0, bootstrap: changes.bootstrap ?? null,
      setSerial: changes.certSerial !== undefined ? 1 : 0, serial: changes.certSerial ?? null,
    });
    this.feed.device(mac);
  }

  /**
   * Closes the database. The service's store (integrityCheck) then notes the file as it left it, so
   * that the next start need not read it all again (clean-stop.ts).
   */
  close(): void {
    this.search.stop();
    this.feed.stop();
    if (!this.db.open) return;
    this.db.close();
    try {
      if (this.integrity) noteCleanStop(join(this.dataDir, CLEAN_STOP_FILE), join(this.dataDir, DATABASE_FILE), this.integrity.checkedAt);
    } catch {
      // Not noted (the folder turned read-only, a full disk): the next start checks the file, nothing more.
    } finally {
      // Last: the clean-stop note is this service's to write.
      this.lock?.release();
    }
  }
}

interface DeviceRow extends ContactFailureRow {
  mac: string; e164: string | null; device_type: string | null; software_version: string | null; part_number: string | null;
  contact_me_uri: string | null; last_address: string | null; mode: Device['mode']; state: Device['state']; tls_protocol: string | null;
  first_contact: number; last_contact: number; profile: string | null; last_contact_me: number | null;
  bootstrap: Device['bootstrap']; cert_serial: string | null;
}
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

/** The exchange's own warning and what storing its items had to say. */
function itemWarnings(warning: string | null, items: (ItemPlan & { damaged?: string }) | null): string | null {
  const notes = [warning];
  if (items?.damaged) notes.push(`${items.damaged}; replaced by the items of this message`);
  if (items?.dropped) notes.push(`${items.dropped} item(s) not kept: this device's items reach the most LocalDLS keeps per device (${MAX_ITEMS_PER_DEVICE} items, ${MAX_ITEM_SET_CHARS} characters)`);
  return notes.filter((n): n is string => !!n).join('; ') || null;
}
