/**
 * Answers DCMP polls from the store: 202 when jobs wait for the device (it should connect with
 * `solicited`), 200 when nothing does. Every poll is recorded.
 */
import { dcmpBody, dcmpResponseHeaders, type DcmpHandler } from '../net/dcmp-listener';
import { normalizeMac, supportsSendSolicited } from '../provisioning';
import type { ExchangeRecord, Store } from '../store';

export function dcmpHandler(store: Store, record: (r: ExchangeRecord) => number): DcmpHandler {
  return (request, poll) => {
    let mac: string | null = null;
    let answer;
    if ('refused' in poll) answer = poll.refused;
    else if (!poll.deviceId) answer = { status: 400, text: 'device-id is missing: poll /dcmp/contact-me?device-id=<MAC>' };
    else if (!(mac = normalizeMac(poll.deviceId))) answer = { status: 400, text: `device-id "${poll.deviceId.slice(0, 40)}" is not a MAC address` };
    else {
      const device = store.device(mac);
      if (!device) {
        answer = { status: 404, text: `unknown device ${mac}: a phone registers with start-up on the WPI port first` };
      } else {
        const pending = store.jobs.pending(mac);
        // A phone that was busy and has send-solicited calls back by itself when its call ends.
        const waiting = pending.filter((j) => j.state === 'queued' || (j.state === 'waiting-busy' && !supportsSendSolicited(device.softwareVersion)));
        answer = waiting.length
          ? { status: 202, text: `${waiting.length} job${waiting.length > 1 ? 's' : ''} waiting: connect with solicited` }
          : { status: 200, text: 'nothing pending' };
      }
    }
    const body = dcmpBody(answer);
    record({
      kind: 'dcmp', started: request.started, ended: Date.now(), listener: 'dcmp', localPort: request.localPort, peerAddress: request.peerAddress,
      peerPort: request.peerPort, tlsProtocol: null, tlsCipher: null, method: request.method, path: request.path, httpStatus: answer.status,
      requestHeaders: request.headers, requestBody: Buffer.alloc(0), responseHeaders: dcmpResponseHeaders(answer), responseBody: body,
      mac: mac && store.device(mac) ? mac : null, reason: null, replyAction: null, replyStatus: null, nonce: null, fragment: null, itemCount: 0,
      action: null, error: answer.status >= 400 ? answer.text : null, warning: null,
    });
    return answer;
  };
}
