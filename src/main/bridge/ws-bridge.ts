/**
 * One WebSocket connection of the web UI: JSON requests in, results and batched events out, over
 * the same LocalDlsApi the Electron IPC uses. The UI server has already checked the token, Host and
 * Origin before a socket gets here; this module checks every message.
 */
import type { WebSocket } from 'ws';
import { API_EVENTS, ApiError, subscribeEvent, toWireError, type ApiEvent, type ApiEventPayloads, type LocalDlsEvents, type Unsubscribe, type WireEvent, type WireResponse } from '../../shared/api';
import type { LocalDlsApiHost } from './api-host';

export type BridgedApi = Pick<LocalDlsApiHost, 'call'> & LocalDlsEvents;

export interface BridgeLimits {
  /** Calls one client may have running at once. */
  maxInFlight: number;
  /** Above this many queued outgoing bytes, events are dropped and the client told to resync. */
  maxBufferedBytes: number;
}

export const DEFAULT_BRIDGE_LIMITS: BridgeLimits = { maxInFlight: 32, maxBufferedBytes: 16 * 1024 * 1024 };

export function bridgeSocket(ws: WebSocket, api: BridgedApi, limits: BridgeLimits = DEFAULT_BRIDGE_LIMITS): void {
  let inFlight = 0;
  let dropped = false;

  const send = (message: WireResponse | WireEvent) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  const forward = <E extends ApiEvent>(event: E) => (data: ApiEventPayloads[E]) => {
    // A slow or stalled client must not make the service buffer without bound.
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      dropped = true;
      return;
    }
    if (dropped) {
      dropped = false;
      send({ event: 'resync' });
    }
    send({ event, data });
  };

  const subscriptions: Unsubscribe[] = [];
  for (const event of API_EVENTS) subscriptions.push(subscribeEvent(api, event, forward(event)));
  // ws reports protocol violations (oversized frames: 1009, bad UTF-8: 1007) here and closes the
  // socket itself; without a listener the error would end the whole service.
  ws.on('error', () => undefined);
  ws.on('close', () => {
    for (const off of subscriptions) off();
  });

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(1003, 'text messages only');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(data.toString());
    } catch {
      ws.close(1007, 'not JSON');
      return;
    }
    const r = request as { id?: unknown; method?: unknown; args?: unknown };
    if (typeof request !== 'object' || request === null || !Number.isSafeInteger(r.id)) {
      ws.close(1008, 'a request needs a numeric id');
      return;
    }
    const id = r.id as number;
    if (typeof r.method !== 'string' || !Array.isArray(r.args)) {
      send({ id, ok: false, error: toWireError(new ApiError('bad-argument', 'a request needs a method name and a list of arguments')) });
      return;
    }
    if (inFlight >= limits.maxInFlight) {
      send({ id, ok: false, error: toWireError(new ApiError('unavailable', `more than ${limits.maxInFlight} calls at once; wait for answers first`)) });
      return;
    }
    inFlight++;
    api
      .call(r.method, r.args)
      .then(
        (result) => send({ id, ok: true, result }),
        (e: unknown) => send({ id, ok: false, error: toWireError(e) }),
      )
      .finally(() => inFlight--);
  });
}
