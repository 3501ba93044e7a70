/**
 * The web UI's token: taken from the page address (then kept for reloads in this tab and removed
 * from the address bar once the page is idle, after the socket has started), or from the tab's
 * storage on a reload.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, keepToken, tokenOf } from '../../src/renderer/src/api/connect';

/** What happened, in order: sockets opened, storage writes, address changes. */
let events: string[] = [];

function fakeWindow(href: string, storage: Map<string, string> | 'refused'): Window {
  const location = { href, protocol: new URL(href).protocol, host: new URL(href).host };
  return {
    location,
    sessionStorage: {
      getItem: (k: string) => {
        if (storage === 'refused') throw new Error('SecurityError');
        return storage.get(k) ?? null;
      },
      setItem: (k: string, v: string) => {
        if (storage === 'refused') throw new Error('SecurityError');
        events.push(`store ${v}`);
        storage.set(k, v);
      },
    },
    history: {
      replaceState: (_s: unknown, _t: string, url: string) => {
        events.push(`address ${url}`);
        location.href = new URL(url, location.href).href;
      },
    },
  } as unknown as Window;
}

class RecordingSocket {
  readyState = 0;
  onopen = null;
  onclose = null;
  onmessage = null;
  onerror = null;
  constructor(url: string) {
    events.push(`socket ${new URL(url).searchParams.get('token')}`);
  }
  send() {}
  close() {}
}

afterEach(() => {
  events = [];
  vi.unstubAllGlobals();
});

describe('the web UI token', () => {
  it('comes from the address: the socket starts first, then the token is kept and leaves the address bar', () => {
    vi.stubGlobal('WebSocket', RecordingSocket);
    const storage = new Map<string, string>();
    const win = fakeWindow('http://127.0.0.1:4000/?token=abc&view=traffic#x', storage);
    const idle: (() => void)[] = [];
    (win as unknown as { requestIdleCallback: (f: () => void) => void }).requestIdleCallback = (f) => idle.push(f);
    const connection = connect(win);
    // The page's first screen comes first: nothing is written until the page is idle.
    expect(events).toEqual(['socket abc']);
    expect(win.location.href).toContain('token=abc');
    for (const run of idle) run();
    expect(events).toEqual(['socket abc', 'store abc', 'address /?view=traffic#x']);
    expect(storage.get('localdls.token')).toBe('abc');
    (connection.api as unknown as { close(): void }).close();

    // A reload of this tab: the address has no token, the stored one is used and nothing is written.
    events = [];
    connect(fakeWindow('http://127.0.0.1:4000/?view=traffic', storage));
    expect(events).toEqual(['socket abc']);
  });

  it('stays in the address bar when the storage is refused, and is still used', () => {
    const win = fakeWindow('http://127.0.0.1:4000/?token=abc', 'refused');
    expect(tokenOf(win)).toEqual({ token: 'abc', fromAddress: true });
    keepToken(win, 'abc');
    expect(win.location.href).toBe('http://127.0.0.1:4000/?token=abc');
    expect(events).toEqual([]);
    // Without one in the address, refused storage means no token (the page then says how to open it).
    expect(tokenOf(fakeWindow('http://127.0.0.1:4000/', 'refused'))).toEqual({ token: null, fromAddress: false });
  });

  it('without one anywhere, no socket is opened and nothing is written', () => {
    vi.stubGlobal('WebSocket', RecordingSocket);
    const connection = connect(fakeWindow('http://127.0.0.1:4000/', new Map()));
    expect(events).toEqual([]);
    return expect(connection.settled).resolves.toBeUndefined();
  });
});
