import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/shared/api';
import { WsApiClient, wsUrlFor } from '../../src/renderer/src/api/ws-client';

/** A WebSocket stand-in: records what the client sends; the test plays the server. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  reply(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WsApiClient (the web UI side of the bridge)', () => {
  it('builds the socket address from the page and the token', () => {
    expect(wsUrlFor({ protocol: 'http:', host: '127.0.0.1:4000' }, 'a+b/c')).toBe('ws://127.0.0.1:4000/api?token=a%2Bb%2Fc');
  });

  it('waits for the socket, sends one JSON request per call, resolves results and rethrows API errors', async () => {
    FakeSocket.all = [];
    const client = new WsApiClient({ url: 'ws://x/api?token=t', WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    const socket = FakeSocket.all[0]!;
    const status = client.getStatus();
    const missing = client.getExchange(7);
    await tick();
    expect(socket.sent).toEqual([]);
    socket.open();
    await tick();
    expect(socket.sent.map((s) => JSON.parse(s))).toEqual([
      { id: 1, method: 'getStatus', args: [] },
      { id: 2, method: 'getExchange', args: [7] },
    ]);
    socket.reply({ id: 2, ok: false, error: { code: 'not-found', message: 'no exchange 7' } });
    socket.reply({ id: 1, ok: true, result: { version: '0.1.0' } });
    expect(await status).toEqual({ version: '0.1.0' });
    const e = await missing.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'not-found', message: 'no exchange 7' });
    client.close();
  });

  it('dispatches pushed events to subscribers until they unsubscribe', async () => {
    FakeSocket.all = [];
    const client = new WsApiClient({ url: 'ws://x/api', WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    const socket = FakeSocket.all[0]!;
    socket.open();
    const got: number[] = [];
    const off = client.onExchanges((batch) => got.push(...batch.map((x) => x.id)));
    socket.reply({ event: 'exchanges', data: [{ id: 1 }, { id: 2 }] });
    off();
    socket.reply({ event: 'exchanges', data: [{ id: 3 }] });
    expect(got).toEqual([1, 2]);
    client.close();
  });

  it('says the connection was refused after repeated failed handshakes, and fails waiting calls', async () => {
    FakeSocket.all = [];
    const states: string[] = [];
    const client = new WsApiClient({ url: 'ws://x/api', WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    client.onConnection((s) => states.push(s));
    const call = client.listDevices().catch((e: Error) => e.message);
    vi.useFakeTimers();
    try {
      // Back-off between attempts: 0.5 s, 1 s, 2 s; the fourth failure in a row gives up.
      for (const wait of [500, 1000, 2000, 0]) {
        FakeSocket.all.at(-1)!.close();
        vi.advanceTimersByTime(wait);
      }
    } finally {
      vi.useRealTimers();
    }
    expect(FakeSocket.all).toHaveLength(4);
    expect(states.at(-1)).toBe('refused');
    expect(await call).toMatch(/refused the connection/);
  });
});
