/**
 * Runs fuzz cases: through the parser in this thread, or over HTTPS against a running service
 * (keep-alive connections, a bounded number in flight, each request with a deadline), and keeps
 * simulated phones doing full start-up interactions meanwhile. Used by scripts/fuzz.ts (in child
 * processes) and by the smoke test (in process).
 */
import https from 'node:https';
import { SimulatedPhone, type InteractionResult } from '../../../src/phone';
import { CaseMaker, type FuzzCase } from './mutate';
import { checkAnswer, checkParser, expectationFor, Violation, type HttpAnswer } from './oracle';

export interface Failure {
  id: string;
  invariant: string;
  detail: string;
  ops: string[];
  /** The input, base64 (first 64 kB) and its full length. */
  input: string;
  inputBytes: number;
}

export function failureOf(c: FuzzCase, err: unknown): Failure {
  const v = err instanceof Violation ? err : new Violation('crash', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return {
    id: c.id,
    invariant: v.invariant,
    detail: v.message.slice(0, 1000),
    ops: c.ops,
    input: c.bytes.subarray(0, 64 * 1024).toString('base64'),
    inputBytes: c.bytes.length,
  };
}

export interface Progress {
  done: number;
  failed: number;
}

/** Parser cases from..to (exclusive), every `stride`-th starting at `from` (for sharing across processes). */
export function runParserCases(
  maker: CaseMaker,
  range: { from: number; to: number; stride?: number },
  onFailure: (f: Failure) => void,
  onProgress?: (p: Progress) => void,
): Progress & { parsed: number; canonical: number } {
  const stride = range.stride ?? 1;
  const p = { done: 0, failed: 0, parsed: 0, canonical: 0 };
  for (let i = range.from; i < range.to; i += stride) {
    const c = maker.make('p', i);
    try {
      const outcome = checkParser(c.bytes);
      if (outcome.ok) p.parsed++;
      if (outcome.canonical) p.canonical++;
    } catch (err) {
      p.failed++;
      onFailure(failureOf(c, err));
    }
    p.done++;
    if (onProgress && p.done % 2000 === 0) onProgress({ done: p.done, failed: p.failed });
  }
  return p;
}

export interface SocketOptions {
  port: number;
  host?: string;
  maker: CaseMaker;
  from: number;
  to: number;
  concurrency: number;
  maxBodyBytes: number;
  /** Deadline of one request: no answer by then is a hang. */
  timeoutMs: number;
  onFailure: (f: Failure) => void;
  onProgress?: (p: Progress) => void;
  /** Source address of the fuzz connections (the phones use others). */
  localAddress?: string;
}

/** Socket cases from..to: every one must be answered, and answered right. */
export async function runSocketCases(o: SocketOptions): Promise<Progress & { answered: number; closedOnOversize: number; statuses: Record<number, number> }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.concurrency, rejectUnauthorized: false });
  const p = { done: 0, failed: 0, answered: 0, closedOnOversize: 0, statuses: {} as Record<number, number> };
  let next = o.from;
  const lane = async (): Promise<void> => {
    let cookie: string | undefined;
    while (next < o.to) {
      const c = o.maker.make('s', next++);
      try {
        const expect = expectationFor(c.bytes, c.http, o.maxBodyBytes);
        const headers: Record<string, string> = { 'Content-Length': String(c.bytes.length) };
        if (c.http?.contentType !== null) headers['Content-Type'] = c.http?.contentType ?? 'text/xml';
        const jar = c.http?.cookie === 'lane' ? cookie : c.http?.cookie;
        if (jar !== undefined) headers.Cookie = jar;
        const answer = await request(agent, o, c, headers);
        if (answer === 'closed') {
          // The service refused an oversized body by closing while we were still sending it.
          if (expect.http !== 413) throw new Violation('closed', 'connection closed without an answer');
          p.closedOnOversize++;
        } else {
          p.answered++;
          p.statuses[answer.status] = (p.statuses[answer.status] ?? 0) + 1;
          checkAnswer(expect, answer);
          const set = answer.headers['set-cookie'];
          if (set) cookie = String(Array.isArray(set) ? set[0] : set);
        }
      } catch (err) {
        p.failed++;
        o.onFailure(failureOf(c, err));
      }
      p.done++;
      if (o.onProgress && p.done % 500 === 0) o.onProgress({ done: p.done, failed: p.failed });
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return p;
}

function request(agent: https.Agent, o: SocketOptions, c: FuzzCase, headers: Record<string, string>): Promise<HttpAnswer | 'closed'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = https.request(
      {
        host: o.host ?? '127.0.0.1',
        port: o.port,
        method: c.http?.method ?? 'POST',
        path: c.http?.path ?? '/DeploymentService/LoginService',
        headers,
        agent,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => done(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
        res.on('error', (err) => done(() => reject(new Violation('closed', `answer cut: ${err.message}`))));
      },
    );
    const timer = setTimeout(() => {
      done(() => reject(new Violation('hang', `no answer within ${o.timeoutMs} ms`)));
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') done(() => resolve('closed'));
      else done(() => reject(new Violation('network', err.message)));
    });
    req.end(c.bytes);
  });
}

export interface PhonesSummary {
  interactions: number;
  ok: number;
  exchanges: number;
  failures: { mac: string; error: string }[];
}

/**
 * Phones that must keep being served while the fuzzer runs: each on its own loopback address and
 * MAC range (the fuzzer uses 127.0.0.1 and 00:1A:E8:F0:…), each interaction a full start-up with a
 * changed configuration (ReadAllItems, its reply fragmented by the phone's maxItems, CleanUp).
 */
export async function servePhonesUntil(server: string, count: number, stop: () => boolean, minInteractions = 1): Promise<PhonesSummary> {
  const summary: PhonesSummary = { interactions: 0, ok: 0, exchanges: 0, failures: [] };
  const maxItemsOf = [-1, 100, 40, 250];
  const phones = Array.from({ length: count }, (_, k) => new SimulatedPhone({
    server,
    mac: `02:00:5E:10:00:${(k + 1).toString(16).padStart(2, '0')}`,
    ipAddress: `127.0.0.${20 + k}`,
    bindIpAddress: true,
    maxItems: maxItemsOf[k % maxItemsOf.length],
    timeoutMs: 30_000,
  }));
  const record = (r: InteractionResult) => {
    summary.interactions++;
    summary.exchanges += r.exchanges;
    const full = r.actions[0] === 'ReadAllItems' && r.end === 'CleanUp';
    if (r.ok && full) summary.ok++;
    else summary.failures.push({ mac: r.mac, error: r.error ?? `unexpected actions ${r.actions.join(',')}` });
  };
  await Promise.all(phones.map(async (phone) => {
    let mine = 0;
    while (!stop() || mine < minInteractions) {
      phone.config.configurationChanged = true;
      record(await phone.runInteraction('start-up'));
      mine++;
    }
  }));
  return summary;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/** Heap after a full collection when the process runs with --expose-gc, else as it is. */
export function memoryNow(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

export const MB = 1024 * 1024;
