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
  /** Settles once the first connection attempt is over (open, closed or refused): calls made before it have left. */
  settled: Promise<void>;
}

/** The token from `?token=…`, else the one kept for reloads in this tab. */
export function tokenOf(win: Window): { token: string | null; fromAddress: boolean } {
  const fromUrl = new URL(win.location.href).searchParams.get('token');
  if (fromUrl) return { token: fromUrl, fromAddress: true };
  try {
    return { token: win.sessionStorage.getItem(TOKEN_KEY), fromAddress: false };
  } catch {
    return { token: null, fromAddress: false };
  }
}

/** Keeps the address's token for reloads in this tab and removes it from the address bar. */
export function keepToken(win: Window, token: string): void {
  try {
    win.sessionStorage.setItem(TOKEN_KEY, token);
    const url = new URL(win.location.href);
    url.searchParams.delete('token');
    win.history.replaceState(null, '', url.pathname + url.search + url.hash);
  } catch {
    // Storage refused (privacy mode): keep the token in the address bar instead.
  }
}

/** Said when the page was opened without its token (a bookmark, the address typed by hand). */
export const NO_TOKEN =
  'This address has no access token. Open the full address that `localdls serve --ui` printed (it ends in ?token=…); ' +
  'the service makes a new token each time it starts, so after a restart use the new address.';

function whenIdle(win: Window, run: () => void): void {
  if (typeof win.requestIdleCallback === 'function') win.requestIdleCallback(run, { timeout: 2000 });
  else setTimeout(run, 0);
}

export function connect(win: Window): Connection {
  if (win.localdls) return { api: win.localdls, onConnection: () => () => undefined, settled: Promise.resolve() };
  const { token, fromAddress } = tokenOf(win);
  const client = new WsApiClient({ url: wsUrlFor(win.location, token ?? ''), ...(token ? {} : { refuse: NO_TOKEN }) });
  // Once the page is idle: a fresh page's first storage write takes 10–30 ms here, and the first
  // screen is still being drawn. Until then the token stays in the address bar, as it came.
  if (token && fromAddress) whenIdle(win, () => keepToken(win, token));
  const settled = new Promise<void>((resolve) => {
    if (client.connectionState !== 'connecting') return resolve();
    const off = client.onConnection((state) => {
      if (state === 'connecting') return;
      off();
      resolve();
    });
  });
  return { api: client, onConnection: (l) => client.onConnection(l), settled };
}
