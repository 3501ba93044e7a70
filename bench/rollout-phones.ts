/**
 * The phones of the rollout benchmark (bench/rollout-bench.ts), in their own process as on a real
 * site: `count` simulated phones, each on its own loopback address with its contact-me listener,
 * started (start-up = registration) and kept running. Once told where the PIN sheet is (stdin line
 * `pins FILE`), the phones whose PIN dialog is open get their PIN typed, in the order the dialogs
 * opened, by TYPISTS people at a time; a failed first mutual-TLS interaction is retried. Prints
 * JSON lines:
 *   {"event":"registered"}  every phone has made its first start-up
 *   {"event":"dialogs","n"} progress, {"event":"secure","n"} progress (first mutual-TLS interaction done)
 *   {"event":"all-dialogs","first","last"} every phone has opened its PIN dialog (Date.now() of the first and last)
 *   {"event":"all-secure"}  every phone has made its first interaction over mutual TLS
 *   {"event":"failure","mac","error"} anything unexpected; {"event":"retry","mac","attempt"}
 * Argument JSON {server, count, macBase, ipBase}.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parsePinSheet, startFleet, type SimulatedPhone } from '../src/phone';

const config = JSON.parse(process.argv[2] ?? '{}') as { server: string; count: number; macBase: string; ipBase: string };
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

let pins: ReadonlyMap<string, string> | undefined;
const secure = new Set<string>();
const dialogs = new Set<string>();
let firstDialog = 0;

/**
 * PIN entry: TYPISTS people with the sheet, each typing one phone's PIN and moving on once that
 * phone has called back over mutual TLS (or given up). Typing all 200 at the same instant would
 * be no person's way and would only measure a flood of handshakes.
 */
const TYPISTS = 10;
/** A phone whose first mutual-TLS interaction fails tries again this often (a real phone retries too). */
const RETRIES = 3;
const RETRY_AFTER_MS = 2000;
const toType: SimulatedPhone[] = [];
let typing = 0;
const finished = new Map<string, () => void>();

function nextPin(): void {
  while (pins !== undefined && typing < TYPISTS && toType.length > 0) {
    const phone = toType.shift()!;
    const pin = pins.get(phone.mac);
    if (pin === undefined) {
      emit({ event: 'failure', mac: phone.mac, error: 'not on the PIN sheet' });
      continue;
    }
    typing++;
    void typeAndWait(phone, pin).finally(() => {
      typing--;
      nextPin();
    });
  }
}

async function typeAndWait(phone: SimulatedPhone, pin: string): Promise<void> {
  const back = new Promise<void>((resolve) => finished.set(phone.mac, resolve));
  try {
    const r = await phone.enterPin(pin);
    if (r !== 'secure') {
      emit({ event: 'failure', mac: phone.mac, error: `PIN: ${r}` });
      return;
    }
  } catch (e) {
    emit({ event: 'failure', mac: phone.mac, error: String(e) });
    return;
  }
  await back;
}

/** After a failed mutual-TLS interaction: try again, a few times. */
function retry(phone: SimulatedPhone, attempt: number): void {
  if (attempt > RETRIES) {
    finished.get(phone.mac)?.();
    return;
  }
  emit({ event: 'retry', mac: phone.mac, attempt });
  setTimeout(() => {
    phone.runInteraction('start-up').then(
      (r) => {
        if (!r.ok && !secure.has(phone.mac)) retry(phone, attempt + 1);
      },
      () => retry(phone, attempt + 1),
    );
  }, RETRY_AFTER_MS);
}

const attempts = new Map<string, number>();
const fleet = await startFleet({
  server: config.server,
  count: config.count,
  macBase: config.macBase,
  ipBase: config.ipBase,
  contactMePort: 0,
  concurrency: 50,
  onPhone: (phone) => {
    phone.on('secure-mode', (c) => {
      if (c.change === 'pin-dialog') {
        if (dialogs.size === 0) firstDialog = Date.now();
        if (dialogs.has(phone.mac)) emit({ event: 'failure', mac: phone.mac, error: 'a second PIN dialog' });
        dialogs.add(phone.mac);
        emit({ event: 'dialogs', n: dialogs.size });
        if (dialogs.size === config.count) emit({ event: 'all-dialogs', first: firstDialog, last: Date.now() });
        toType.push(phone);
        nextPin();
      } else if (c.change !== 'switched') emit({ event: 'failure', mac: phone.mac, error: `${c.change}: ${(c.problems ?? []).join('; ')}` });
    });
    phone.on('interaction', (r) => {
      if (r.mode !== 'secure' || secure.has(r.mac)) return;
      if (!r.ok) {
        emit({ event: 'failure', mac: r.mac, error: `secure interaction: ${r.error ?? 'failed'}` });
        const n = (attempts.get(r.mac) ?? 0) + 1;
        attempts.set(r.mac, n);
        if (n === 1) retry(phone, 1); // later failures are retry()'s own
        return;
      }
      secure.add(r.mac);
      finished.get(r.mac)?.();
      emit({ event: 'secure', n: secure.size });
      if (secure.size === config.count) emit({ event: 'all-secure' });
    });
  },
});
const failedStarts = fleet.startResults.filter((r) => !r.ok);
for (const r of failedStarts) emit({ event: 'failure', mac: r.mac, error: `start-up: ${r.error ?? 'failed'}` });
emit({ event: 'registered', ok: fleet.startResults.length - failedStarts.length });

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.startsWith('pins ')) {
    pins = parsePinSheet(readFileSync(line.slice(5), 'utf8'));
    emit({ event: 'pins-read', n: pins.size });
    nextPin();
  }
});
const stop = () => {
  fleet.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
