/**
 * A storm of simulated phones in its own process (node --import tsx storm.ts …): every phone on its
 * own loopback address runs one start-up interaction, at most --concurrency at a time. Every
 * message is reported on stdout, one JSON line each, when it is sent and when its answer arrives
 * (or is lost), so the parent knows which exchanges got an HTTP answer, whatever happens to the
 * service. With --hold-mac, that phone stops after the service sends it a WriteItems until a
 * "release" line arrives on stdin: a job is then certainly in flight when the service is killed.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ipAt, macAt, runPhones, SimulatedPhone, Transport, type CookieJar, type ExchangeResult } from '../../../src/phone';

export type StormLine =
  | { e: 'sent'; mac: string; nonce: string; reason: string; action: string | null; status: string | null }
  | { e: 'answer'; mac: string; nonce: string; http: number; action: string | null; echo: string | null }
  | { e: 'lost'; mac: string; nonce: string; error: string }
  | { e: 'held'; mac: string; nonce: string }
  | { e: 'result'; mac: string; ok: boolean; error: string | null; actions: string[] }
  | { e: 'summary'; phones: number; ok: number; failed: number; exchanges: number; durationMs: number };

const { values: v } = parseArgs({
  options: {
    server: { type: 'string' }, count: { type: 'string' }, concurrency: { type: 'string' }, 'mac-base': { type: 'string' },
    'ip-base': { type: 'string' }, 'max-items': { type: 'string' }, 'hold-mac': { type: 'string' }, only: { type: 'string' },
  },
});
const out = (line: StormLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
const count = Number(v.count ?? 1);
const only = v.only ? new Set(v.only.split(',')) : null;

let release: () => void = () => {};
const released = new Promise<void>((r) => (release = r));
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'release') release();
});

const phones: SimulatedPhone[] = [];
for (let i = 0; i < count; i++) {
  const mac = macAt(v['mac-base']!, i);
  if (only && !only.has(mac)) continue;
  const ip = ipAt(v['ip-base']!, i);
  const real = new Transport({ server: v.server!, localAddress: ip, timeoutMs: 20_000 });
  let held = false;
  const transport = {
    async post(xml: string, jar?: CookieJar, signal?: AbortSignal): Promise<ExchangeResult> {
      const nonce = /nonce="([^"]+)"/.exec(xml)?.[1] ?? '';
      const reason = />([a-z-]+)<\/ReasonForContact>/.exec(xml)?.[1] ?? '';
      out({ e: 'sent', mac, nonce, reason, action: / action="([^"]+)"/.exec(xml)?.[1] ?? null, status: / status="([^"]+)"/.exec(xml)?.[1] ?? null });
      let answer: ExchangeResult;
      try {
        answer = await real.post(xml, jar, signal);
      } catch (err) {
        out({ e: 'lost', mac, nonce, error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
      out({ e: 'answer', mac, nonce, http: answer.status, action: answer.message?.action ?? null, echo: answer.message?.nonce ?? null });
      if (mac === v['hold-mac'] && !held && answer.message?.action === 'WriteItems') {
        held = true;
        out({ e: 'held', mac, nonce });
        await released;
      }
      return answer;
    },
  };
  phones.push(new SimulatedPhone({ server: v.server!, mac, ipAddress: ip, maxItems: Number(v['max-items'] ?? 100), transport, timeoutMs: 20_000 }));
}

const summary = await runPhones(phones, {
  concurrency: Number(v.concurrency ?? 20),
  onResult: (r) => out({ e: 'result', mac: r.mac, ok: r.ok, error: r.error ?? null, actions: r.actions }),
});
out({ e: 'summary', phones: summary.phones, ok: summary.ok, failed: summary.failed, exchanges: summary.exchanges, durationMs: summary.durationMs });
process.exit(0);
