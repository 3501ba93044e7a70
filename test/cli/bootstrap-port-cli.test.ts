/**
 * The case through the command line: `bootstrap` run while no service runs prepares the
 * job with the last service's secure port; `serve --secure-port` on another port says so at start
 * and sends the phone its own port; the phone types the PIN from the sheet and goes secure there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { passphraseProtector } from '../../src/main/pki';
import { SimulatedPhone } from '../../src/phone';
import { type CliProcess, runCli, startServe } from '../support/cli';
import { freePortOtherThan } from '../support/ports';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const processes: CliProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGKILL');
});

const PASSPHRASE = 'port18 command line passphrase';
const MAC = '00:1A:E8:00:18:11';

describe('bootstrap prepared with one secure port, served on another (CLI)', () => {
  it('serve warns, sends its own port, and the phone with the sheet\'s PIN reaches it over mutual TLS', async () => {
    const dir = newDir();
    // A first service registers the phone and stores its secure port; then it stops.
    const a = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: passphraseProtector(PASSPHRASE, dir, { scryptCost: 1024 }), autoContact: false });
    const infoA = await a.start();
    const portA = infoA.securePort!;
    const phone = (server: string, pin?: string) => new SimulatedPhone({ server, mac: MAC, contactMe: false, ...(pin ? { pin } : {}) });
    expect((await phone(`https://127.0.0.1:${infoA.port}`).runInteraction('start-up')).ok).toBe(true);
    await a.stop();

    // No service runs: the job gets the stored port.
    const sheet = join(newDir(), 'pins.csv');
    const boot = await runCli(['bootstrap', '--data-dir', dir, '--mac', MAC, '--pin', 'auto', '--sheet', sheet], { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE });
    expect(boot.code, boot.stderr).toBe(0);
    expect(boot.stdout).toContain(`(port ${portA})`);
    const pin = readFileSync(sheet, 'utf8').trim().split('\n')[1]!.split(',')[2]!;

    const portB = await freePortOtherThan(portA);
    const passFile = join(newDir(), 'passphrase');
    writeFileSync(passFile, PASSPHRASE, { mode: 0o600 });
    const served = await startServe(['--data-dir', dir, '--secure-port', String(portB), '--key-passphrase-file', passFile]);
    processes.push(served.serve);
    expect(served.listening).toMatchObject({ securePort: portB });
    expect(served.listening).not.toHaveProperty('bootstrapNotes');
    await expect.poll(() => served.serve.stderr, { timeout: 20_000 }).toContain(`1 queued bootstrap job names secure port ${portA}, this service listens on ${portB}: it will be sent with ${portB}`);

    const p = phone(`https://127.0.0.1:${served.port}`, pin);
    expect((await p.runInteraction('solicited')).bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure' });
    expect(p.secureCredential?.securePort).toBe(portB);
    expect(await p.runInteraction()).toMatchObject({ ok: true, mode: 'secure', actions: ['ReadItems', 'CleanUp'] });
    const status = JSON.parse((await runCli(['bootstrap', '--data-dir', dir, '--status', '--json'])).stdout) as { mac: string; mode: string; bootstrap: string }[];
    expect(status.find((s) => s.mac === MAC)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    await served.serve.stop();
  }, 120_000);
});
