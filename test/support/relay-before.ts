/**
 * A relay (a LocalDLS service with an upstream, in this process, on 127.0.0.1) before a stand-in
 * DLS on 127.0.0.2 that answers as `script` says: for the relay's tests against DLSs that are not
 * LocalDLS. Both are stopped, and the relay's folder removed, by the `cleanups` the file runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Service } from '../../src/main/app/service';
import { startStandInDls, type StandInDls, type StandInScript } from './stand-in-dls';

export async function relayBefore(script: StandInScript, cleanups: (() => Promise<void> | void)[]): Promise<{ dls: StandInDls; relay: Service; port: number }> {
  const dls = await startStandInDls({ script, host: '127.0.0.2' });
  cleanups.push(() => dls.close());
  const dir = mkdtempSync(join(tmpdir(), 'localdls-relay-before-'));
  const relay = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, upstream: { url: dls.url, fingerprints: [dls.fingerprint] }, store: { integrityCheck: false } });
  const info = await relay.start();
  cleanups.push(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dls, relay, port: info.port };
}
