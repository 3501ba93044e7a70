/**
 * Answers DCMP polls from the store: 202 when jobs wait for the device (it should connect with
 * `solicited`), 200 when nothing does. Plain HTTP proves nothing about who asks, so a poll never
 * changes the device it names (its address, its last contact: store.commit), and what is recorded
 * is bounded: a known device's poll at most once per address, answer and POLL_ROW_MS and within
 * overall caps, everything else (refusals, unknown devices) within a noise limiter, as failed
 * handshakes are. Every request is answered.
 */
import { maskRequestTarget } from '../../shared/secrets';
import { dcmpBody, dcmpResponseHeaders, type DcmpHandler } from '../net/dcmp-listener';
import { peerKey } from '../net/peer-address';
import { RowLimiter } from '../net/rate-limit';
import { normalizeMac, supportsSendSolicited } from '../provisioning';
import type { ExchangeRecord, Store } from '../store';

/** A phone polls every few minutes; one that polls faster is recorded this often at most. */
export const POLL_ROW_MS = 10_000;
/**
 * Known devices' polls recorded in all, per minute and per hour: a site of a thousand phones
 * polling every minute fits; a flood naming many known MACs from many addresses does not write
 * more (about half a million rows a day at most). Beyond, polls are answered and counted.
 */
export const POLL_ROWS_PER_MINUTE = 1_000;
export const POLL_ROWS_PER_HOUR = 20_000;

export function dcmpHandler(store: Store, record: (r: ExchangeRecord) => number, now: () => number = Date.now): DcmpHandler {
  const noise = new RowLimiter();
  // Keyed by device and address: many phones polling are each recorded; one flood is not.
  const polls = new RowLimiter(POLL_ROW_MS, POLL_ROWS_PER_MINUTE, 10_000, POLL_ROWS_PER_HOUR);
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
    const known = mac !== null && answer.status < 400;
    // The answer is part of the key: a poll whose answer changed (a job came) is recorded at once.
    const key = `${known ? mac : ''}|${answer.status}|${peerKey(request.peerAddress)}`;
    const held = (known ? polls : noise).admit(key, now());
    if (held === null) return answer;
    const body = dcmpBody(answer);
    record({
      kind: 'dcmp', started: request.started, ended: Date.now(), listener: 'dcmp', localPort: request.localPort, peerAddress: request.peerAddress,
      peerPort: request.peerPort, tlsProtocol: null, tlsCipher: null, method: request.method, path: maskRequestTarget(request.path, ['device-id']), httpStatus: answer.status,
      requestHeaders: request.headers, requestBody: Buffer.alloc(0), responseHeaders: dcmpResponseHeaders(answer), responseBody: body,
      mac: mac && store.device(mac) ? mac : null, reason: null, replyAction: null, replyStatus: null, nonce: null, fragment: null, itemCount: 0, refusedItems: 0,
      action: null, error: answer.status >= 400 ? answer.text : null, warning: held > 0 ? `${held} ${known ? 'poll' : 'refused request'}${held === 1 ? '' : 's'} before this one not recorded (rate limit)` : null,
    });
    return answer;
  };
}
