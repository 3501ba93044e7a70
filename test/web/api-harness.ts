/** A LocalDlsApiHost over the real ExchangeHandler + Store (no sockets), with a phone's interaction recorded. */
import { LocalDlsApiHost, type ApiOptions, type ApiService } from '../../src/main/bridge/api-host';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';

export const MAC = '00:1A:E8:00:00:01';
export const PEER = '192.0.2.10';

/** A listening secure port, as the status bar shows it. */
export const SECURE_LISTENER = { kind: 'secure', host: '0.0.0.0', port: 18444, tlsProfile: 'mutual TLS', state: 'listening', error: null } as const;

/** `secure`: the PKI and key protector of a service with Secure Mode on. */
export function apiOver(h: FlowHarness, options: Partial<ApiOptions> = {}, secure: Pick<ApiService, 'pki' | 'keyProtector'> = {}): LocalDlsApiHost {
  return new LocalDlsApiHost(
    {
      store: h.store,
      onExchange: (cb) => {
        h.handler.events.on('exchange', cb);
        return () => h.handler.events.off('exchange', cb);
      },
      ...secure,
    },
    { dataDir: '/data', batchMs: 5, networkInterfaces: () => ({}), ...options },
  );
}

/** start-up → ReadAllItems → reply-to (with a password item) → CleanUp. */
export function interaction(h: FlowHarness, mac = MAC, peer = PEER): void {
  h.say(peer, { reason: 'start-up', items: startUpItems(mac) });
  h.say(peer, {
    reason: 'reply-to', action: 'ReadAllItems', status: 'accepted',
    items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'user-pwd', value: '123456' }, { name: 'function-key-def', index: 0, value: 'line' }, { name: 'function-key-def', index: 1, value: 'forward' }],
  });
}
