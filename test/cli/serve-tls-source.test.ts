/**
 * A TLS profile chosen in the app or web UI is stored in the data directory and used by the next
 * `serve` on it: never silently. serve reports where each profile came from (tlsFrom) and says on
 * stderr which stored choice applies and how to override it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TLS_SETTING } from '../../src/main/app/service';
import { Store } from '../../src/main/store';
import { type CliProcess, startServe } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const processes: CliProcess[] = [];
afterEach(async () => {
  // Only those still running: a process already gone never emits 'exit' again.
  for (const p of processes.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGKILL');
});

describe('serve and the TLS setting made in the UI', () => {
  it('applies the stored choice and says so; a flag overrides it, and says that too', async () => {
    const dir = newDir();
    const store = new Store(dir);
    store.setSetting(TLS_SETTING.default, 'legacy');
    store.close();

    const stored = await startServe(['--data-dir', dir]);
    processes.push(stored.serve);
    expect(stored.listening).toMatchObject({ tls: 'legacy', tlsFrom: { default: 'stored' } });
    await expect.poll(() => stored.serve.stderr, { timeout: 20_000 }).toContain('"event":"notice"');
    expect(stored.serve.stderr).toContain(`the Default-Mode port uses legacy TLS, as chosen in the app or web UI (stored in ${dir}/localdls.sqlite); --tls modern overrides it for this run`);
    await stored.serve.stop();

    const flagged = await startServe(['--data-dir', dir, '--tls', 'modern']);
    processes.push(flagged.serve);
    expect(flagged.listening).toMatchObject({ tls: 'modern', tlsFrom: { default: 'flag' } });
    await flagged.serve.stop();
    expect(flagged.serve.stderr).not.toContain('"event":"notice"');
  }, 120_000);
});
