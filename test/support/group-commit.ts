/**
 * Group commit driven in one process (the real ExchangeHandler, Store and GroupCommit, no sockets),
 * so that what one turn decides is certainly one batch.
 */
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { GroupCommit } from '../../src/main/app/group-commit';
import type { WpiRequest } from '../../src/main/net/wpi-listener';
import { Store } from '../../src/main/store';

/** A phone's POST as the listener hands it on. */
export function wpiRequest(body: string, peer: string, cookie?: string): WpiRequest {
  return {
    started: Date.now(), listener: 'default', localPort: 18443, peerAddress: peer, peerPort: 40000, tlsProtocol: 'TLSv1.3', tlsCipher: 'X',
    method: 'POST', path: '/DeploymentService/LoginService', headers: cookie ? [['Cookie', cookie]] : [], body: Buffer.from(body),
  };
}

/** A store in `dir` with its handler behind group commit; `close` goes to the caller's cleanup. */
export function groupCommitIn(dir: string, close: (f: () => void) => void) {
  const store = new Store(dir);
  const handler = new ExchangeHandler(store);
  const group = new GroupCommit(handler, store);
  close(() => store.close());
  return { dir, store, handler, group };
}
