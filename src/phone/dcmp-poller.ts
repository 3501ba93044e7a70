/**
 * Polling for a service behind a firewall/NAT (manual p.10 §1.3.2, p.15 §1.4.4.3, p.24 §3.1.2.2;
 * wiki "DCMP"): every poll interval the phone sends a plain-HTTP
 * `GET <dcmp-url>contact-me?device-id=<mac-addr>`. `202 Accepted` = something is pending, the
 * phone opens a solicited interaction; `200 OK` = nothing to do. Any contact with the DLS
 * restarts the poll timer (wiki), so the owner calls restart() after every interaction.
 */
import http from 'node:http';

export interface DcmpPollRecord {
  /** ISO time. */
  at: string;
  url: string;
  /** HTTP status; undefined when no answer came. */
  status?: number;
  /** pending = 202, nothing = 200, error = anything else or no answer. */
  outcome: 'pending' | 'nothing' | 'error';
  error?: string;
  /** Whether the phone opened a solicited interaction because of it. */
  solicited?: boolean;
}

export interface DcmpPollerOptions {
  /** e.g. http://127.0.0.1:8080/dcmp/ */
  url: string;
  intervalMs: number;
  /** mac-addr as the phone reports it. */
  mac: string;
  localAddress?: string;
  timeoutMs?: number;
  now?: () => number;
  /** Checked when the timer fires; false = skip this poll and wait for the next restart(). */
  shouldPoll?: () => boolean;
  onResult: (record: DcmpPollRecord) => void;
}

/** The poll URL: the phone appends `contact-me?device-id=<MAC>` to its DCMP URL (p.15, wiki). */
export function dcmpPollUrl(dcmpUrl: string, mac: string): string {
  const base = dcmpUrl.endsWith('/') ? dcmpUrl : `${dcmpUrl}/`; // [INF] tolerate a missing slash
  return `${base}contact-me?device-id=${mac}`;
}

export class DcmpPoller {
  readonly pollUrl: string;
  private timer: NodeJS.Timeout | undefined;
  private request: http.ClientRequest | undefined;
  private stopped = true;

  constructor(private readonly options: DcmpPollerOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:') throw new Error(`DCMP URL must be http:// (polling is plain HTTP, manual p.15), not ${url.protocol}//`);
    this.pollUrl = dcmpPollUrl(options.url, options.mac);
  }

  /** (Re)arms the timer: the next poll is one interval from now. */
  restart(): void {
    this.stopped = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.options.shouldPoll?.() !== false) void this.poll();
    }, this.options.intervalMs);
  }

  /** No polling until restart() (the phone is in an interaction or rebooting). */
  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.pause();
    this.request?.destroy();
    this.request = undefined;
  }

  /** One poll now; the result goes to onResult, and the next poll is scheduled afterwards. */
  async poll(): Promise<DcmpPollRecord> {
    this.pause();
    const at = new Date((this.options.now ?? Date.now)()).toISOString();
    const record: DcmpPollRecord = await this.get().then(
      (status) => ({ at, url: this.pollUrl, status, outcome: status === 202 ? 'pending' : status === 200 ? 'nothing' : 'error', ...(status !== 200 && status !== 202 ? { error: `HTTP ${status}` } : {}) }),
      (err: Error) => ({ at, url: this.pollUrl, outcome: 'error', error: err.message }),
    );
    if (this.stopped) return record;
    // onResult may start an interaction (which pauses the timer); otherwise poll again later.
    this.restart();
    this.options.onResult(record);
    return record;
  }

  private get(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const req = http.get(this.pollUrl, { agent: false, timeout: this.options.timeoutMs ?? 10_000, ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      this.request = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs ?? 10_000} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'ECONNREFUSED' ? `connection refused by ${new URL(this.pollUrl).host}` : err.message)));
      req.on('close', () => {
        if (this.request === req) this.request = undefined;
      });
    });
  }
}
