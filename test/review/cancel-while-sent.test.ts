/**
 * Review of cancel (093005a: Store.cancelJob, one transaction, from the CLI or the UI) against the
 * interaction under way: a WriteItems in several parts, cancelled after its first part was sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { MAC, PEER } from '../web/api-harness';

const newDir = tempDirs();
const open: FlowHarness[] = [];
afterEach(() => open.splice(0).forEach((h) => h.close()));

describe('review: cancel during an interaction', () => {
  // FINDING (medium): held that no further part goes out, but the phone's answer to the part sent
  // before the cancel overwrites it (JobTables.apply updates any state): the job ends "done",
  // partsDone 1 of 3, though 2 of its 3 items were never written and the user cancelled it. The
  // UI shows cancelled, then done. A cancelled job should stay cancelled (or say "cancelled after
  // part 1 of 3 was accepted").
  it('sends no further part of a job cancelled after its first part went out, and it stays cancelled', () => {
    const h = new FlowHarness(newDir());
    open.push(h);
    h.say(PEER, { reason: 'start-up', items: startUpItems(MAC) });
    h.say(PEER, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [] });
    h.say(PEER, { reason: 'reply-to', action: 'CleanUp', status: 'accepted', items: [] });
    const [job] = h.store.addJobs([{ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }, { name: 'sntp-addr', value: 'a' }, { name: 'display-id', value: 'b' }] }], h.clock);
    const first = h.say(PEER, { reason: 'start-up', maxItems: 1, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    expect(first.action).toBe('WriteItems');
    expect(first.items).toHaveLength(1);
    expect(h.store.cancelJob(job!.id, h.clock)?.cancelled).toBe(true);
    const next = h.say(PEER, { reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: first.items });
    expect(next.action, 'the next part of a cancelled job').not.toBe('WriteItems');
    expect(h.store.jobs.get(job!.id), 'cancelled, 1 of 3 parts written').toMatchObject({ state: 'cancelled' });
  });
});
