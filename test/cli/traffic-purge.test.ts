import { describe, expect, it } from 'vitest';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const DAY = 86_400_000;
const MAC = '00:1A:E8:00:00:01';

function record(started: number): ExchangeRecord {
  return {
    kind: 'wpi', started, ended: started + 5, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: null, method: 'POST', path: '/DeploymentService/LoginService', httpStatus: 200,
    requestHeaders: [], requestBody: Buffer.from('<req/>'), responseHeaders: [], responseBody: Buffer.from('<res/>'), mac: MAC,
    reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'N', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
  };
}

/** Interactions of one exchange each: `old` 40 days ago, `hours` 3 hours ago, `fresh` a minute ago. */
function seed(dir: string, old: number, hours: number, fresh: number): void {
  const store = new Store(dir);
  const now = Date.now();
  for (let i = 0; i < old + hours + fresh; i++) {
    const t = i < old ? now - 40 * DAY + i : i < old + hours ? now - 3 * 3_600_000 + i : now - 60_000 + i;
    store.commit(record(t), { device: { mac: MAC, lastAddress: '127.0.0.1' }, openInteraction: { reason: 'start-up' }, endInteraction: 'CleanUp' }, null);
  }
  store.close();
}

describe('localdls traffic purge', () => {
  it('removes exchanges and interactions older than --older-than and says how many', async () => {
    const dir = newDir();
    seed(dir, 12, 4, 3);
    const r = await runCli(['traffic', 'purge', '--data-dir', dir, '--older-than', '30d']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^removed 12 exchanges, 12 interactions and 0 item history rows older than 30d \(before \d{4}-\d\d-\d\dT[\d:.]+Z\) in \d+\.\d s/);
    const left = await runCli(['traffic', '--data-dir', dir, '--json']);
    expect(left.stdout.trim().split('\n')).toHaveLength(7);

    // Hours work too, and --json reports the same counts.
    const json = await runCli(['traffic', 'purge', '--data-dir', dir, '--older-than', '1h', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ event: 'purged', exchanges: 4, interactions: 4 });
    const again = await runCli(['traffic', 'purge', '--data-dir', dir, '--older-than', '1h', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ exchanges: 0, interactions: 0 });
    const fresh = await runCli(['traffic', '--data-dir', dir, '--json']);
    expect(fresh.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('refuses a missing or malformed age and a data directory without data', async () => {
    const dir = newDir();
    seed(dir, 1, 0, 0);
    const missing = await runCli(['traffic', 'purge', '--data-dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--older-than is required');
    for (const bad of ['30', '30m', '0d', '-1d', 'thirty']) {
      const r = await runCli(['traffic', 'purge', '--data-dir', dir, `--older-than=${bad}`]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('--older-than must be a number of days or hours');
    }
    const empty = await runCli(['traffic', 'purge', '--data-dir', newDir(), '--older-than', '30d']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('no LocalDLS data in');
    const help = await runCli(['traffic', '--help']);
    expect(help.stdout).toContain('localdls traffic purge --older-than');
  });
});
