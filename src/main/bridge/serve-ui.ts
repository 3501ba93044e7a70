/**
 * `serve --ui`: the LocalDlsApi over a started Service, and the web UI server in front of it.
 * Kept apart from cli.ts so the CLI only decides whether to call it.
 */
import type { ListenerStatus } from '../../shared/api';
import { LocalDlsApiHost } from './api-host';
import type { ListeningInfo, Service } from '../app/service';
import { startUiServer, type UiServer } from './ui-server';

/** The listener list the status bar shows, from what Service.start() reported. */
export function listenersOf(info: ListeningInfo): ListenerStatus[] {
  const list: ListenerStatus[] = [{ kind: 'default', host: info.host, port: info.port, tlsProfile: info.tls, state: 'listening', error: null }];
  // The secure listener always asks for a client certificate; its profile is modern or legacy like the default one's.
  if (info.securePort !== undefined) list.push({ kind: 'secure', host: info.host, port: info.securePort, tlsProfile: info.secureTls ?? 'modern', state: 'listening', error: null });
  if (info.dcmpPort !== undefined) list.push({ kind: 'dcmp', host: info.host, port: info.dcmpPort, tlsProfile: 'none (plain HTTP)', state: 'listening', error: null });
  return list;
}

export interface WebUi {
  url: string;
  api: LocalDlsApiHost;
  server: UiServer;
  close(): Promise<void>;
}

export async function startWebUi(service: Service, listening: ListeningInfo, options: { dataDir: string; port: number; rendererDir?: string }): Promise<WebUi> {
  const api = new LocalDlsApiHost(service, { dataDir: options.dataDir, listeners: listenersOf(listening) });
  let server: UiServer;
  try {
    server = await startUiServer({ api, port: options.port, rendererDir: options.rendererDir });
  } catch (e) {
    await api.close();
    throw e;
  }
  return {
    url: server.url,
    api,
    server,
    close: async () => {
      try {
        await server.close();
      } finally {
        await api.close();
      }
    },
  };
}
