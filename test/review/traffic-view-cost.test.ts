/**
 * Review (905896e): the traffic views read stored request bodies with the same parser
 * (traffic-views.ts parsedItems), so the parse cost of wpi-parse-cost.test.ts is paid again, on the
 * service's thread, each time someone opens the row in the UI or runs `traffic show`. Timed on
 * purpose (see that file).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { apiOver } from '../web/api-harness';

const newDir = tempDirs();
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

describe('review: opening a stored hostile message', () => {
  // FINDING (high, with the parse cost): the refused 64 KiB message is kept, and every view of it
  // blocks the service again for seconds.
  it('shows the exchange of a 64 KiB message of repeated elements in linear time', async () => {
    const h = new FlowHarness(newDir());
    const api = apiOver(h);
    open.push({ h, api });
    const hostile = `<WorkpointMessage><Message nonce="n"><ReasonForContact>start-up</ReasonForContact><ItemList>${'<X/>'.repeat(16_000)}</ItemList></Message></WorkpointMessage>`;
    h.handler.exchange({
      started: 1, listener: 'default', localPort: 18443, peerAddress: '127.0.0.2', peerPort: 40000, tlsProtocol: 'TLSv1.3', tlsCipher: 'X',
      method: 'POST', path: '/DeploymentService/LoginService', headers: [['Content-Type', 'text/xml']], body: Buffer.from(hostile),
    });
    const [row] = h.store.exchanges({ limit: 1 });
    expect(row).toBeDefined();
    const started = performance.now();
    const detail = await api.getExchange(row!.id);
    const ms = performance.now() - started;
    expect(detail.request.bytes).toBe(Buffer.byteLength(hostile));
    expect(ms, `getExchange took ${Math.round(ms)} ms`).toBeLessThan(1500);
  }, 120_000);
});
