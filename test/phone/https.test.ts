/** The phone over real TLS sockets against a scripted service on 127.0.0.1. */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { allItems, SimulatedPhone } from '../../src/phone';
import { readAllScript, selfSignedCertificate, startService, type TestService } from './helpers';

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('SimulatedPhone over HTTPS', () => {
  it('runs start-up → ReadAllItems → fragments → CleanUp like a real phone', async () => {
    service = await startService(readAllScript);
    const phone = new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:01:00', maxItems: 100 });
    const expected = allItems(phone.config);
    const result = await phone.runInteraction('start-up');

    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const requests = service.requests;
    const parts = Math.ceil(expected.length / 100);
    expect(requests).toHaveLength(parts + 1);
    expect(result.exchanges).toBe(requests.length);
    expect(result.actions).toEqual(['ReadAllItems', ...Array(parts - 1).fill('GetNextFragment'), 'CleanUp']);

    // One TLS connection per message, closed after it (wpi-protocol.md §2.3).
    expect(service.connections).toBe(requests.length);
    expect(new Set(requests.map((r) => r.socket)).size).toBe(requests.length);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/DeploymentService/LoginService');
      expect(r.headers.connection).toBe('close');
      expect(r.headers['content-type']).toBe('text/xml');
      expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
    }

    // The session cookie comes back with its attributes, on every message after the first.
    expect(requests[0].headers.cookie).toBeUndefined();
    for (const r of requests.slice(1)) expect(r.headers.cookie).toBe('JSESSIONID=ABC123; path=/DeploymentService; secure');

    const nonces = requests.map((r) => r.message.nonce);
    for (const n of nonces) expect(n).toMatch(/^[0-9A-F]{32}$/);
    expect(new Set(nonces).size).toBe(nonces.length);

    expect(requests[0].message.reason).toBe('start-up');
    const replies = requests.slice(1).map((r) => r.message);
    expect(replies.map((m) => m.fragment)).toEqual([...Array(parts - 1).fill('next'), 'final']);
    expect(replies.flatMap((m) => m.items)).toEqual(expected);

    expect(result.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(result.tls?.cipher).toBeTruthy();
  });

  it('stops at an answer with the wrong nonce and sends nothing further', async () => {
    service = await startService(() => ({ action: 'ReadAllItems', nonce: '0123456789ABCDEF0123456789ABCDEF' }));
    const phone = new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:01:01' });
    const result = await phone.runInteraction('start-up');
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/carries nonce 0123456789ABCDEF0123456789ABCDEF, expected [0-9A-F]{32}/);
    expect(result.exchanges).toBe(1);
    expect(service.requests).toHaveLength(1);
  });

  it('sends clean-up in the same session when an answer is not readable XML (manual p.13), and stops after its answer', async () => {
    service = await startService((m, i) => (i === 0 ? { status: 200, body: '<DLSMessage><Message nonce="' + m.nonce + '"><Action>ReadAll' } : { action: 'CleanUp' }));
    const phone = new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:01:03' });
    const result = await phone.runInteraction('start-up');
    expect(result).toMatchObject({ ok: false, exchanges: 2, cleanUpSent: 'invalid XML received', actions: ['CleanUp'] });
    expect(result.error).toMatch(/answer to the start-up message is not a DLSMessage/);
    expect(service.requests).toHaveLength(2);
    const cleanUp = service.requests[1]!;
    expect(cleanUp.message.reason).toBe('clean-up');
    expect(cleanUp.message.items).toContainEqual({ name: 'cleanup-reason', value: 'invalid XML received' });
    expect(cleanUp.message.items).toContainEqual({ name: 'mac-addr', value: '00:1A:E8:00:01:03' });
    expect(cleanUp.headers.cookie).toBe('JSESSIONID=ABC123; path=/DeploymentService; secure');
    expect(cleanUp.message.nonce).not.toBe(service.requests[0]!.message.nonce);
    // The next interaction is an ordinary one: nothing more is owed.
    expect((await phone.runInteraction('local-changes')).error).toBeUndefined();
    expect(service.requests[2]!.message.reason).toBe('local-changes');
  });

  it('sends that clean-up once: an unreadable answer to it, or an HTTP error status, ends the interaction', async () => {
    service = await startService(() => ({ status: 200, body: 'not xml at all' }));
    const unreadable = await new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:01:04' }).runInteraction('start-up');
    expect(unreadable).toMatchObject({ ok: false, exchanges: 2, cleanUpSent: 'invalid XML received', actions: [] });
    expect(service.requests.map((r) => r.message.reason)).toEqual(['start-up', 'clean-up']);
    await service.close();
    service = await startService(() => ({ status: 400, body: 'malformed WorkpointMessage' }));
    const refused = await new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:01:05' }).runInteraction('start-up');
    expect(refused).toMatchObject({ ok: false, exchanges: 1 });
    expect(refused.cleanUpSent).toBeUndefined();
    expect(refused.error).toMatch(/HTTP 400/);
    expect(service.requests).toHaveLength(1);
  });

  it('reports a refused connection as an error result', async () => {
    service = await startService(readAllScript);
    const url = service.url;
    await service.close();
    service = undefined;
    const result = await new SimulatedPhone({ server: url, mac: '00:1A:E8:00:01:02' }).runInteraction('start-up');
    expect(result.ok).toBe(false);
    expect(result.exchanges).toBe(0);
    expect(result.error).toMatch(/connection refused/);
  });

  it('gives up on a service that never answers (timeout) and on a second concurrent interaction', async () => {
    const silent = https.createServer({ ...selfSignedCertificate() }, () => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: '00:1A:E8:00:01:03', timeoutMs: 300 });
      const [first, second] = await Promise.all([phone.runInteraction('start-up'), phone.runInteraction('start-up')]);
      expect(first.ok).toBe(false);
      expect(first.error).toMatch(/no answer from 127\.0\.0\.1:\d+ within 300 ms/);
      expect(second).toMatchObject({ ok: false, exchanges: 0, error: 'the phone is already in an interaction' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
