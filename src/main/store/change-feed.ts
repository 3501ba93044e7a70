/**
 * What changed in the store, for the live front ends (the UI's device and job views, bootstrap
 * runs). The store's own writes say which jobs and devices they touched; commits made by another
 * connection (the CLI in its own process) show up as a new `PRAGMA data_version`, checked only
 * while someone listens. Listeners get one coalesced notice per turn of the event loop and re-read
 * what they show: a notice may be spurious (a rolled-back write), never missing.
 */
import type { Database, Statement } from 'better-sqlite3';

export interface StoreChange {
  /** Jobs written by this process: id → device MAC. */
  jobs: ReadonlyMap<number, string>;
  /** Devices written by this process (state, mode, items, contact, profile, …). */
  devices: ReadonlySet<string>;
  /** Another connection committed, or a write touched rows it cannot name: re-read everything shown. */
  external: boolean;
}

export type ChangeListener = (change: StoreChange) => void;

/** How often another process's commits are looked for while someone listens (ms). */
export const EXTERNAL_CHECK_MS = 250;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private jobs = new Map<number, string>();
  private devices = new Set<string>();
  private external = false;
  private scheduled: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly dataVersion: Statement;
  private seenVersion: number;

  constructor(db: Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.seenVersion = this.dataVersion.get() as number;
  }

  job(id: number, mac: string): void {
    this.jobs.set(id, mac);
    this.devices.add(mac);
    this.schedule();
  }

  device(mac: string): void {
    this.devices.add(mac);
    this.schedule();
  }

  /** A write whose rows are not named (recovery after a crash, bulk changes). */
  everything(): void {
    this.external = true;
    this.schedule();
  }

  subscribe(listener: ChangeListener, checkMs = EXTERNAL_CHECK_MS): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.seenVersion = this.dataVersion.get() as number;
      this.timer = setInterval(() => this.checkExternal(), checkMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
  }

  private checkExternal(): void {
    let version: number;
    try {
      version = this.dataVersion.get() as number;
    } catch {
      return this.stop(); // the database was closed
    }
    if (version === this.seenVersion) return;
    this.seenVersion = version;
    this.everything();
  }

  private schedule(): void {
    if (this.listeners.size === 0) {
      this.jobs.clear();
      this.devices.clear();
      this.external = false;
      return;
    }
    this.scheduled ??= setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = null;
    const change: StoreChange = { jobs: this.jobs, devices: this.devices, external: this.external };
    this.jobs = new Map();
    this.devices = new Set();
    this.external = false;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // one failing listener must not starve the others
      }
    }
  }
}
