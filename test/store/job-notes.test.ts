/**
 * The notes the store writes on jobs are the ones shared/job-notes.ts knows (the UI reads them back
 * into its language): written by the real store, on a real database, then parsed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JOB_NOTES, notContactedNote, parseJobNote } from '../../src/shared/job-notes';
import { Store } from '../../src/main/store';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

const MAC = '00:1A:E8:00:00:01';

function storeWithPhone(): Store {
  const store = new Store(newDir());
  stores.push(store);
  store.commit(exchangeRecord({ mac: null, started: 1, ended: 1 }), { device: { mac: MAC, contactMeUri: 'http://127.0.0.1:8085/contact_dls.html/ContactDLS', lastAddress: '127.0.0.1' } }, null);
  return store;
}

describe('job notes as the store writes them', () => {
  it('a job sent without an answer, queued again or out of attempts; a cancel; contact-me failing, then the phone unreachable', () => {
    const store = storeWithPhone();
    const send = (id: number, at: number) => store.jobs.apply({ id, state: 'sent', attempt: true, sent: at, error: null }, at);
    const again = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 1).id;
    send(again, 2);
    store.jobs.requeueSent(MAC, 3, 5);
    expect(parseJobNote(store.jobs.get(again)!.error!)).toEqual({ key: 'willSendAgain', params: {} });
    send(again, 4);
    store.jobs.requeueSent(MAC, 5, 2);
    expect(parseJobNote(store.jobs.get(again)!.error!)).toEqual({ key: 'noAnswer', params: { sendings: 2 } });
    // A note written before migration 20 reads the same.
    expect(parseJobNote('no answer from the phone after 2 attempts')).toEqual({ key: 'noAnswer', params: { sendings: 2 } });

    const cancelled = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 6).id;
    expect(store.cancelJob(cancelled, 7)?.cancelled).toBe(true);
    expect(parseJobNote(store.jobs.get(cancelled)!.error!)).toEqual({ key: 'cancelledByUser', params: {} });

    const waiting = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 8).id;
    store.contactFailures.failed(MAC, 'connect ECONNREFUSED 127.0.0.1:8085', 9, 2);
    expect(parseJobNote(store.jobs.get(waiting)!.error!)).toEqual({ key: 'contactFailed', params: { failures: 1, max: 2, last: 'connect ECONNREFUSED 127.0.0.1:8085' } });
    store.contactFailures.failed(MAC, 'timed out after 5000 ms', 10, 2);
    expect(store.jobs.get(waiting)!.state).toBe('failed');
    expect(parseJobNote(store.jobs.get(waiting)!.error!)).toEqual({ key: 'unreachable', params: { failures: 2, last: 'timed out after 5000 ms' } });
  });

  it('"not contacted" writes over no note, its own, or "will send again", never over a busy job\'s note or a failed contact-me\'s', () => {
    const store = storeWithPhone();
    const note = notContactedNote('the phone has not reported a contact-me-uri');
    const fresh = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 1).id;
    const again = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 1).id;
    store.jobs.apply({ id: again, state: 'queued', error: JOB_NOTES.willSendAgain }, 2);
    const busy = store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'a' }] }, 1).id;
    store.jobs.apply({ id: busy, state: 'waiting-busy', error: JOB_NOTES.busyCallsBack }, 2);
    store.contactFailures.notContacted(MAC, note, 3);
    expect([fresh, again, busy].map((id) => store.jobs.get(id)!.error)).toEqual([note, note, JOB_NOTES.busyCallsBack]);
    store.contactFailures.contactable(MAC, 4);
    expect([fresh, again, busy].map((id) => store.jobs.get(id)!.error)).toEqual([null, null, JOB_NOTES.busyCallsBack]);
    store.contactFailures.failed(MAC, 'timed out', 5, 5);
    const failedNote = store.jobs.get(fresh)!.error;
    store.contactFailures.notContacted(MAC, note, 6);
    expect(store.jobs.get(fresh)!.error).toBe(failedNote);
  });
});
