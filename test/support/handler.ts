/**
 * Drives the real ExchangeHandler + Store without sockets, for flow tests: each call is one
 * phone message, answered exactly as the listener would answer it.
 */
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { Store } from '../../src/main/store';
import { buildWorkpointMessage, parseDLSMessage, type DLSMessage, type WorkpointMessage } from '../../src/main/wpi';
import { nonce } from './messages';

export class FlowHarness {
  readonly store: Store;
  readonly handler: ExchangeHandler;
  clock = 1_000_000;
  private cookies = new Map<string, string>();

  constructor(dataDir: string) {
    this.store = new Store(dataDir);
    this.handler = new ExchangeHandler(this.store, () => this.clock);
  }

  /** One phone message from `peer`; the phone keeps and returns its cookie like a real one. */
  say(peer: string, m: Omit<WorkpointMessage, 'nonce' | 'items'> & { nonce?: string; items?: WorkpointMessage['items'] }): DLSMessage & { status: number; body: string } {
    this.clock += 10;
    const xml = buildWorkpointMessage({ nonce: nonce(), items: [], ...m });
    const cookie = this.cookies.get(peer);
    const res = this.handler.exchange({
      started: this.clock, listener: 'default', localPort: 18443, peerAddress: peer, peerPort: 40000, tlsProtocol: 'TLSv1.3', tlsCipher: 'X',
      method: 'POST', path: '/DeploymentService/LoginService',
      headers: cookie ? [['Cookie', `${cookie}; path=/DeploymentService; secure`]] : [],
      body: Buffer.from(xml),
    });
    const set = res.headers.find(([n]) => n === 'Set-Cookie')?.[1];
    if (set) this.cookies.set(peer, set.split(';')[0]!);
    const body = res.body.toString('utf8');
    if (res.status !== 200) return { status: res.status, body, nonce: '', action: 'CleanUp', items: [] };
    const answer = parseDLSMessage(body);
    if (answer.action === 'CleanUp' || answer.action === 'Restart' || answer.action === 'SoftwareDeployment') this.cookies.delete(peer);
    return { ...answer, status: res.status, body };
  }

  close(): void {
    this.store.close();
  }
}
