/**
 * One host flooding the WPI listener, and phones from other hosts that must still be served
 * (issue #12, "Fairness under flood"). Shared by test/security/flood.test.ts (a smoke run) and
 * scripts/flood.ts (`npm run flood`, 1,500 slow connections). Loopback only; no vitest here.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SimulatedPhone, type InteractionResult } from '../../src/phone';

export const HEAD = 'POST /DeploymentService/LoginService HTTP/1.1\r\nHost: dls\r\nContent-Type: text/xml\r\n';

export interface SlowAttackOptions {
  port: number;
  /** The attacker's address (127.0.0.2 in the tests). */
  from: string;
  /** How many slow connections it tries to hold. */
  connections: number;
  /** A header line this often on each connection (the attacker: every 2 s). */
  lineEveryMs?: number;
  /** Every n-th connection never starts TLS (a handshake-phase flood); 0 = none. */
  tcpOnlyEvery?: number;
  /** Wait before replacing a connection the service closed. */
  reopenAfterMs?: number;
  /** Connections opened per batch while filling up (bounded bursts, so the test machine copes). */
  batch?: number;
}

/**
 * Slowloris: partial headers, then one header line every couple of seconds, never the end of
 * the headers. A closed connection is replaced after a pause, as long as the attack runs.
 */
export class SlowAttack {
  /** Connections the attacker currently has open (from its side). */
  held = 0;
  /** Most connections held at once. */
  peak = 0;
  /** Connection attempts, and how many of them the service closed before they got anywhere. */
  attempts = 0;
  closedEarly = 0;
  private running = false;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly options: Required<SlowAttackOptions>;

  constructor(options: SlowAttackOptions) {
    this.options = { lineEveryMs: 2000, tcpOnlyEvery: 3, reopenAfterMs: 1000, batch: 100, ...options };
  }

  /** Opens the connections (in batches) and resolves once all were attempted. */
  async start(): Promise<void> {
    this.running = true;
    const { connections, batch } = this.options;
    for (let i = 0; i < connections && this.running; i += batch) {
      const n = Math.min(batch, connections - i);
      await Promise.all(Array.from({ length: n }, (_, k) => this.openOne(i + k)));
    }
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Opens connection number `n`; resolves when it is established or failed (not when it ends). */
  private openOne(n: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.attempts++;
    const { port, from } = this.options;
    const tcpOnly = this.options.tcpOnlyEvery > 0 && n % this.options.tcpOnlyEvery === 0;
    const socket: net.Socket = tcpOnly
      ? net.connect({ host: '127.0.0.1', port, localAddress: from })
      : tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...{ localAddress: from } });
    this.sockets.add(socket);
    const opened = Date.now();
    let established = false;
    let line = 0;
    let ticker: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      socket.once(tcpOnly ? 'connect' : 'secureConnect', () => {
        established = true;
        this.held++;
        this.peak = Math.max(this.peak, this.held);
        resolve();
        if (tcpOnly) return;
        socket.write(HEAD);
        ticker = setInterval(() => socket.write(`X-Slow-${line++}: ${'a'.repeat(16)}\r\n`), this.options.lineEveryMs);
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (ticker) clearInterval(ticker);
        this.sockets.delete(socket);
        if (established) this.held--;
        if (!established || Date.now() - opened < 200) this.closedEarly++;
        resolve();
        if (!this.running) return;
        const t = setTimeout(() => {
          this.timers.delete(t);
          void this.openOne(n);
        }, this.options.reopenAfterMs);
        this.timers.add(t);
      });
    });
  }
}

export interface PhonesOutcome {
  results: InteractionResult[];
  served: number;
  /** Why the others were not served (first error of each). */
  failures: string[];
}

/** A full start-up interaction, ReadAllItems answered in fragments, then CleanUp. */
export function servedFully(r: InteractionResult): boolean {
  return r.ok && r.actions[0] === 'ReadAllItems' && r.actions.includes('GetNextFragment') && r.end === 'CleanUp';
}

/**
 * `count` fresh phones, `concurrency` at a time, each from `address(i)` (its own, or a shared NAT
 * address), each doing one start-up interaction with fragments.
 */
export async function runPhones(port: number, count: number, concurrency: number, address: (i: number) => string, macBase = 0x30): Promise<PhonesOutcome> {
  const results: InteractionResult[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const phone = new SimulatedPhone({
        server: `https://127.0.0.1:${port}`,
        mac: `02:00:5E:${macBase.toString(16).padStart(2, '0')}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        ipAddress: address(i),
        bindIpAddress: true,
        maxItems: 100,
        timeoutMs: 20_000,
      });
      results[i] = await phone.runInteraction('start-up');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const failures = results.filter((r) => !servedFully(r)).map((r) => `${r.mac}: ${r.error ?? r.actions.join(",")}`);
  return { results, served: count - failures.length, failures };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
