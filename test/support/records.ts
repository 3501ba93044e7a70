/** An exchange record as the listener would hand it to the store, for store-level tests. */
import type { ExchangeRecord } from '../../src/main/store';

export function exchangeRecord(over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started: 1000, ended: 1005, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [], requestBody: Buffer.from('<req/>'), responseHeaders: [], responseBody: Buffer.from('<res/>'),
    mac: '00:1A:E8:00:00:01', reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 0, refusedItems: 0,
    action: 'CleanUp', error: null, warning: null,
    ...over,
  };
}
