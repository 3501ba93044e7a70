/**
 * Electron IPC for the LocalDlsApi: one `ipcMain.handle` channel per method, each checking that
 * the caller is our own page (sender frame on the app origin) before the API validates the
 * arguments; events go to the window with `webContents.send`. Results travel in an envelope so
 * the preload can rethrow the API's error code and message intact.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { API_EVENTS, API_METHODS, ApiError, ipcChannel, ipcEventChannel, subscribeEvent, toWireError, type ApiEvent, type IpcEnvelope, type Unsubscribe } from '../../shared/api';
import type { LocalDlsApiHost } from './api-host';

/** Whether a frame URL belongs to our UI (app://localdls/… or, in development, the dev server). */
export function isTrustedUrl(raw: string, trusted: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  // URL.origin is "null" for custom schemes, so compare scheme and host.
  return trusted.some((t) => {
    const want = new URL(t);
    return url.protocol === want.protocol && url.host === want.host;
  });
}

function senderOk(event: IpcMainInvokeEvent, trusted: readonly string[]): boolean {
  const frame = event.senderFrame;
  return frame !== null && !frame.isDestroyed() && isTrustedUrl(frame.url, trusted);
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc(api: LocalDlsApiHost, trustedOrigins: readonly string[]): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event, ...args: unknown[]): Promise<IpcEnvelope> => {
      if (!senderOk(event, trustedOrigins)) return { ok: false, error: toWireError(new ApiError('bad-argument', 'refused: the call did not come from the LocalDLS window')) };
      try {
        return { ok: true, result: await api.call(method, args) };
      } catch (e) {
        return { ok: false, error: toWireError(e) };
      }
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** Forwards the API's events to one window's page while it lives. */
export function forwardEvents(api: LocalDlsApiHost, contents: WebContents): Unsubscribe {
  const send = (event: ApiEvent) => (payload: unknown) => {
    if (!contents.isDestroyed()) contents.send(ipcEventChannel(event), payload);
  };
  const offs: Unsubscribe[] = API_EVENTS.map((event) => subscribeEvent(api, event, send(event)));
  const off = () => offs.forEach((f) => f());
  contents.once('destroyed', off);
  return off;
}
