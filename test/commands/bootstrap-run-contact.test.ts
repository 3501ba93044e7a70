/**
 * A bootstrap run says what happens to contact-me while a phone's job waits: the job's note
 * ("contact-me failed 1 of 5 times, …") reaches the run's device, and a phone that cannot be
 * reached ends failed with the reason, out of "bootstrap pending".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BootstrapRuns } from '../../src/main/commands/bootstrap-runs';
import { Store } from '../../src/main/store';
import { fastProtector, openPki } from '../pki/helpers';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:51';
const open: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c();
});

describe('a bootstrap run and contact-me', () => {
  it('shows the contact-me note of a waiting phone, and its failure when the phone cannot be reached', async () => {
    const dir = newDir();
    const store = new Store(dir);
    store.commit(
      {
        kind: 'wpi', started: 1, ended: 1, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1, tlsProtocol: null, tlsCipher: null,
        method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
        mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
      },
      { device: { mac: MAC, lastAddress: '127.0.0.1', contactMeUri: 'http://127.0.0.1:9/contact_dls.html/ContactDLS' } },
      null,
    );
    const pki = await openPki(dir, { keyBits: 1024 });
    const protector = fastProtector(dir);
    const runs = new BootstrapRuns({ store, secure: () => ({ pki, protector, securePort: 18444 }), offReason: () => 'off', emit: () => undefined });
    open.push(async () => {
      await runs.close();
      store.close();
    });

    const { id } = runs.start([MAC], { pin: 'none', maxPinRetries: 3 });
    await expect.poll(() => runs.get(id).devices[0]!.state, { timeout: 20_000 }).toBe('pending');
    const jobId = runs.get(id).devices[0]!.jobId!;
    expect(runs.get(id).devices[0]!.error).toBeNull();

    store.contactFailures.failed(MAC, 'connect ECONNREFUSED 127.0.0.1:9', 10_000_000, 2);
    runs.onJobs([store.jobs.get(jobId)!]);
    expect(runs.get(id).devices[0]).toMatchObject({ state: 'pending', jobState: 'queued', error: expect.stringMatching(/^contact-me failed 1 of 2 times, last: connect ECONNREFUSED/) });

    store.contactFailures.failed(MAC, 'connect ECONNREFUSED 127.0.0.1:9', 10_100_000, 2);
    runs.onJobs([store.jobs.get(jobId)!]);
    expect(runs.get(id).devices[0]).toMatchObject({ state: 'failed', error: expect.stringMatching(/^the phone could not be reached: 2 contact-me requests in a row failed/) });
    expect(runs.get(id).finished).toBe(true);
    expect(store.device(MAC)!.bootstrap).toBe('failed');
  });
});
