/**
 * The phones of the rollout benchmark (bench/rollout-bench.ts), in their own process as on a real
 * site: `count` simulated phones, each on its own loopback address with its contact-me listener,
 * started (start-up = registration) and kept running. Once told where the PIN sheet is (stdin line
 * `pins FILE`), each phone whose PIN dialog is open gets its PIN typed, as a person with the sheet
 * would; a phone that opens its dialog later gets it then. Prints JSON lines:
 *   {"event":"registered"}  every phone has made its first start-up
 *   {"event":"dialogs","n"} progress, {"event":"secure","n"} progress (first mutual-TLS interaction done)
 *   {"event":"all-dialogs","first","last"} every phone has opened its PIN dialog (Date.now() of the first and last)
 *   {"event":"all-secure"}  every phone has made its first interaction over mutual TLS
 *   {"event":"failure","mac","error"} anything unexpected
 * Argument JSON {server, count, macBase, ipBase}.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parsePinSheet, startFleet, type SimulatedPhone } from '../src/phone';

const config = JSON.parse(process.argv[2] ?? '{}') as { server: string; count: number; macBase: string; ipBase: string };
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

let pins: ReadonlyMap<string, string> | undefined;
const waiting = new Map<string, SimulatedPhone>();
const secure = new Set<string>();
const dialogs = new Set<string>();
let firstDialog = 0;

function typePin(phone: SimulatedPhone): void {
  const pin = pins?.get(phone.mac);
  if (pin === undefined) {
    if (pins !== undefined) emit({ event: 'failure', mac: phone.mac, error: 'not on the PIN sheet' });
    return;
  }
  waiting.delete(phone.mac);
  phone.enterPin(pin).then(
    (r) => {
      if (r !== 'secure') emit({ event: 'failure', mac: phone.mac, error: `PIN: ${r}` });
    },
    (e: unknown) => emit({ event: 'failure', mac: phone.mac, error: String(e) }),
  );
}

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
        waiting.set(phone.mac, phone);
        if (pins !== undefined) typePin(phone);
      } else if (c.change !== 'switched') emit({ event: 'failure', mac: phone.mac, error: `${c.change}: ${(c.problems ?? []).join('; ')}` });
    });
    phone.on('interaction', (r) => {
      if (r.mode !== 'secure') return;
      if (!r.ok) {
        emit({ event: 'failure', mac: r.mac, error: `secure interaction: ${r.error ?? 'failed'}` });
        return;
      }
      if (secure.has(r.mac)) return;
      secure.add(r.mac);
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
    for (const phone of [...waiting.values()]) typePin(phone);
    emit({ event: 'pins-read', n: pins.size });
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
