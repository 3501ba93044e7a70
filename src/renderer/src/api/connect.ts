/**
 * Picks the LocalDlsApi for where the page runs: the Electron preload's `window.localdls`, or the
 * web UI's WebSocket with the token from the page address.
 */
import type { LocalDlsApi, Unsubscribe } from '../../../shared/api';
import { WsApiClient, wsUrlFor, type ConnectionState } from './ws-client';

const TOKEN_KEY = 'localdls.token';

export interface Connection {
  api: LocalDlsApi;
  /** Connection changes (web UI only; the desktop app is always connected). */
  onConnection(listener: (state: ConnectionState, detail: string | null) => void): Unsubscribe;
}

/** The token from `?token=…`, kept for reloads in this tab and removed from the address bar. */
export function takeToken(win: Window): string | null {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
      url.searchParams.delete('token');
      win.history.replaceState(null, '', url.pathname + url.search + url.hash);
    } catch {
      // Storage refused (privacy mode): keep the token in the address bar instead.
    }
    return fromUrl;
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function connect(win: Window): Connection {
  if (win.localdls) return { api: win.localdls, onConnection: () => () => undefined };
  const token = takeToken(win) ?? '';
  const client = new WsApiClient({ url: wsUrlFor(win.location, token) });
  return { api: client, onConnection: (l) => client.onConnection(l) };
}
