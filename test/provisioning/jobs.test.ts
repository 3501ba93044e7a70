import { afterEach, describe, expect, it } from 'vitest';
import { globMatch } from '../../src/main/provisioning';
import { applyProfileTo } from '../../src/main/commands/profile-apply';
import type { Item } from '../../src/main/wpi';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const harnesses: FlowHarness[] = [];
afterEach(() => harnesses.splice(0).forEach((h) => h.close()));

const MAC = '00:1A:E8:00:00:01';
const PEER = '10.0.0.5';

/** A known phone (already read once) that calls back with `solicited`. */
function knownPhone(softwareVersion = 'V3 R5.12.0') {
  const h = new FlowHarness(newDir());
  harnesses.push(h);
  expect(h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'software-version': softwareVersion }) }).action).toBe('ReadAllItems');
  expect(h.say(PEER, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [{ name: 'sntp-addr', value: 'old' }, { name: 'device-type', value: 'OpenStage 60' }] }).action).toBe('CleanUp');
  const solicited = (extra: Record<string, string> = {}) =>
    h.say(PEER, { reason: 'solicited', items: startUpItems(MAC, { 'configuration-changed-flag': 'false', 'software-version': softwareVersion, ...extra }) });
  const reply = (action: string, status: string, items: Item[] = [], maxItems?: number) =>
    h.say(PEER, { reason: 'reply-to', action, status, items, ...(maxItems !== undefined ? { maxItems } : {}) });
  return { h, solicited, reply, job: (id: number) => h.store.jobs.get(id)! };
}

/** A write of sntp-addr sent to the phone and answered busy: the job waits for the phone's callback. */
function writeAnsweredBusy(phone: ReturnType<typeof knownPhone>, value: string) {
  const j = phone.h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value }] }, 1);
  expect(phone.solicited().items).toEqual([{ name: 'sntp-addr', value }]);
  expect(phone.reply('WriteItems', 'busy').action).toBe('CleanUp');
  return j;
}

describe('jobs run by the engine (real store, no sockets)', () => {
  it('WriteItems: sent on contact, done on accepted, and the written values become the device\'s items', () => {
    const { h, solicited, reply, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'ldap-server-address', index: 0, value: 'ldap' }] }, 1);
    const w = solicited();
    expect(w.action).toBe('WriteItems');
    expect(w.items).toEqual([{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'ldap-server-address', index: 0, value: 'ldap' }]);
    expect(job(j.id)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(reply('WriteItems', 'accepted').action).toBe('CleanUp');
    expect(job(j.id)).toMatchObject({ state: 'done', error: null });
    expect(h.store.items(MAC).find((i) => i.name === 'sntp-addr')?.value).toBe('pool.ntp.org');
  });

  it('per-item statuses reach the job: failed with a readable error, accepted items still applied', () => {
    const { h, solicited, reply, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'device-type', value: 'X' }, { name: 'bogus-item', value: '1' }, { name: 'sntp-addr', value: 'ntp' }] }, 1);
    solicited();
    reply('WriteItems', 'accepted', [{ name: 'device-type', value: '', status: 'read only' }, { name: 'bogus-item', value: '', status: 'unknown item' }]);
    expect(job(j.id)).toMatchObject({
      state: 'failed',
      error: 'the phone refused 2 items: device-type: read only, bogus-item: unknown item',
      results: [{ name: 'device-type', status: 'read only' }, { name: 'bogus-item', status: 'unknown item' }],
    });
    expect(h.store.items(MAC).find((i) => i.name === 'sntp-addr')?.value).toBe('ntp');
    expect(h.store.items(MAC).find((i) => i.name === 'device-type')?.value).toBe('OpenStage 60');
  });

  it('splits a WriteItems by the phone\'s maxItems without breaking an index group (manual p.71)', () => {
    const { h, reply, job } = knownPhone();
    const items = [
      { name: 'sntp-addr', value: 'a' },
      { name: 'function-key-def', index: 1, value: '3' },
      { name: 'key-label-unicode', index: 1, value: 'Call' },
      { name: 'function-key-def', index: 2, value: '6' },
      { name: 'key-label-unicode', index: 2, value: 'Fwd' },
      { name: 'file-server', index: 1, value: 'ftp' },
      { name: 'file-name', index: 1, value: 'logo.png' },
      { name: 'file-type', index: 1, value: 'LOGO' },
      { name: 'e164', value: '100' },
    ];
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items }, 1);
    const first = h.say(PEER, { reason: 'solicited', maxItems: 5, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    const parts = [first.items];
    let answer = reply('WriteItems', 'accepted', [], 5);
    while (answer.action === 'WriteItems') {
      parts.push(answer.items);
      answer = reply('WriteItems', 'accepted', [], 5);
    }
    expect(answer.action).toBe('CleanUp');
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(5);
    expect(parts.flat()).toHaveLength(items.length);
    const partOf = (name: string, index?: number) => parts.findIndex((p) => p.some((i) => i.name === name && i.index === index));
    expect(partOf('function-key-def', 1)).toBe(partOf('key-label-unicode', 1));
    expect(partOf('function-key-def', 2)).toBe(partOf('key-label-unicode', 2));
    expect(new Set([partOf('file-server', 1), partOf('file-name', 1), partOf('file-type', 1)]).size).toBe(1);
    // One attempt: the job was sent once, in parts (an attempt per part would fail a long job early).
    expect(job(j.id)).toMatchObject({ state: 'done', partsDone: parts.length, attempts: 1 });
  });

  it('busy: keeps the job and answers CleanUp with send-solicited; firmware before V3R3 gets a plain CleanUp', () => {
    const { h, solicited, reply, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'x' }] }, 1);
    solicited();
    const busy = reply('WriteItems', 'busy');
    expect(busy.action).toBe('CleanUp');
    expect(busy.items).toEqual([{ name: 'send-solicited', value: 'true' }]);
    expect(job(j.id)).toMatchObject({ state: 'waiting-busy', error: expect.stringMatching(/calls back when the call ends/) });

    const old = knownPhone('V2 R2.30.0');
    const j2 = old.h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'x' }] }, 1);
    old.solicited();
    expect(old.reply('WriteItems', 'busy').items).toEqual([]);
    expect(old.job(j2.id)).toMatchObject({ state: 'waiting-busy', error: expect.stringMatching(/retries with contact-me/) });
  });

  it('follows the manual\'s three-job busy chain (p.74–75)', () => {
    const { h, solicited, reply, job } = knownPhone();
    const w = (v: string) => h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: v }] }, 1).id;
    const j1 = w('one');
    // 3–6: job 1 WriteItems -> busy -> CleanUp + send-solicited
    solicited();
    expect(reply('WriteItems', 'busy').items).toEqual([{ name: 'send-solicited', value: 'true' }]);
    // 7–10: contact-me; job 2 contains no WriteItems and ends with a normal CleanUp (job 1 still waits)
    const j2 = h.store.jobs.add({ mac: MAC, kind: 'ReadItems', items: [{ name: 'sntp-addr', value: '' }] }, 1).id;
    expect(solicited().action).toBe('ReadItems');
    expect(reply('ReadItems', 'accepted', [{ name: 'sntp-addr', value: 'old' }])).toMatchObject({ action: 'CleanUp', items: [] });
    expect([job(j1).state, job(j2).state]).toEqual(['waiting-busy', 'done']);
    // 11–16: contact-me; job 3 WriteItems -> busy -> CleanUp + send-solicited (another item than
    // job 1's: a job writing job 1's item would wait behind it, see below)
    const j3 = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'display-id', value: 'three' }] }, 1).id;
    expect(solicited()).toMatchObject({ action: 'WriteItems', items: [{ name: 'display-id', value: 'three' }] });
    expect(reply('WriteItems', 'busy').items).toEqual([{ name: 'send-solicited', value: 'true' }]);
    // 17: the call ends, the phone's one solicited connection; 18–20: job 1 succeeds,
    // CleanUp + send-solicited because another job waits
    expect(solicited()).toMatchObject({ action: 'WriteItems', items: [{ name: 'sntp-addr', value: 'one' }] });
    expect(reply('WriteItems', 'accepted').items).toEqual([{ name: 'send-solicited', value: 'true' }]);
    expect(job(j1).state).toBe('done');
    // 21: the phone reconnects immediately; 22–24: job 3 succeeds, plain CleanUp after the last
    expect(solicited()).toMatchObject({ action: 'WriteItems', items: [{ name: 'display-id', value: 'three' }] });
    expect(reply('WriteItems', 'accepted')).toMatchObject({ action: 'CleanUp', items: [] });
    expect([job(j1).state, job(j2).state, job(j3).state]).toEqual(['done', 'done', 'done']);
  });

  it('Restart and factory reset end the interaction; done when the phone starts up again', () => {
    const { h, solicited, job } = knownPhone();
    const r = h.store.jobs.add({ mac: MAC, kind: 'Restart', items: [] }, 1).id;
    const f = h.store.jobs.add({ mac: MAC, kind: 'FactoryReset', items: [] }, 1).id;
    expect(solicited()).toMatchObject({ action: 'Restart', items: [] });
    expect(job(r).state).toBe('sent');
    const back = h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    expect(job(r).state).toBe('done');
    expect(back).toMatchObject({ action: 'Restart', items: [{ name: 'restart-password', value: '124816' }, { name: 'restart-type', value: 'FactoryReset' }] });
    expect(job(f).state).toBe('sent');
    // After a factory reset the phone reports changed configuration: it is read again.
    expect(h.say(PEER, { reason: 'start-up', items: startUpItems(MAC) }).action).toBe('ReadAllItems');
    expect(job(f).state).toBe('done');
  });

  it('SoftwareDeployment is done only when the phone comes back with the expected version', () => {
    const { h, solicited, job } = knownPhone('V3 R5.11.0');
    const items = [{ name: 'file-https-base-url', value: 'https://files.example/fw.img' }, { name: 'file-type', value: 'APP' }, { name: 'file-sw-type', value: 'Siemens SIP' }, { name: 'file-sw-version', value: '3.5.12.0' }, { name: 'file-priority', value: 'normal' }];
    const ok = h.store.jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items, expect: { 'software-version': 'V3 R5.12.0' } }, 1).id;
    expect(solicited().action).toBe('SoftwareDeployment');
    h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'configuration-changed-flag': 'false', 'software-version': 'V3 R5.12.0' }) });
    expect(job(ok)).toMatchObject({ state: 'done' });
    const bad = h.store.jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items, expect: { 'software-version': 'V3 R6.0.0' } }, 1).id;
    solicited({ 'software-version': 'V3 R5.12.0' });
    h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'configuration-changed-flag': 'false', 'software-version': 'V3 R5.12.0' }) });
    expect(job(bad)).toMatchObject({ state: 'failed', error: 'the phone came back with software-version "V3 R5.12.0", expected "V3 R6.0.0"' });
  });

  it('SoftwareDeployment refused by the phone: busy (normal priority in a call) waits for its callback, failed fails the job; the reply is taken, not refused', () => {
    const { h, solicited, reply, job } = knownPhone('V3 R5.11.0');
    const items = [{ name: 'file-https-base-url', value: 'https://files.example/fw.img' }, { name: 'file-sw-version', value: '3.5.12.0' }, { name: 'file-priority', value: 'normal' }];
    const j = h.store.jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items, expect: { 'software-version': 'V3 R5.12.0' } }, 1).id;
    expect(solicited().action).toBe('SoftwareDeployment');
    const busy = reply('SoftwareDeployment', 'busy');
    expect(busy).toMatchObject({ status: 200, action: 'CleanUp', items: [{ name: 'send-solicited', value: 'true' }] });
    expect(job(j)).toMatchObject({ state: 'waiting-busy', attempts: 1, unanswered: 0 });
    // Out of the call it calls back and gets it again; this time the image cannot be used.
    expect(solicited().action).toBe('SoftwareDeployment');
    expect(reply('SoftwareDeployment', 'failed')).toMatchObject({ status: 200, action: 'CleanUp' });
    expect(job(j)).toMatchObject({ state: 'failed', attempts: 2, error: 'the phone refused SoftwareDeployment (status failed)' });
    // Taken: no reply, a reboot, and the start-up with the version (a new interaction) confirms it.
    const ok = h.store.jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items, expect: { 'software-version': 'V3 R5.12.0' } }, 1).id;
    expect(solicited().action).toBe('SoftwareDeployment');
    expect(job(ok)).toMatchObject({ state: 'sent' });
    h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'configuration-changed-flag': 'false', 'software-version': 'V3 R5.12.0' }) });
    expect(job(ok)).toMatchObject({ state: 'done' });
  });

  it('FileDeployment is finished by the phone\'s status message', () => {
    const { h, solicited, job } = knownPhone();
    const items = [{ name: 'file-https-base-url', value: 'https://files.example/logo.png' }, { name: 'file-type', value: 'LOGO' }];
    const j = h.store.jobs.add({ mac: MAC, kind: 'FileDeployment', items }, 1).id;
    expect(solicited()).toMatchObject({ action: 'FileDeployment', items });
    const st = h.say(PEER, { reason: 'status', items: [...startUpItems(MAC), { name: 'file-deployment-status', index: 1, value: 'ok' }, { name: 'file-deployment-name', index: 1, value: 'logo.png' }] });
    expect(st.action).toBe('CleanUp');
    expect(job(j).state).toBe('done');
    const j2 = h.store.jobs.add({ mac: MAC, kind: 'FileDeployment', items }, 1).id;
    solicited();
    h.say(PEER, { reason: 'status', items: [{ name: 'file-deployment-status', index: 1, value: 'failed' }, { name: 'file-deployment-name', index: 1, value: 'logo.png' }] });
    expect(job(j2)).toMatchObject({ state: 'failed', error: 'the phone could not deploy logo.png' });
  });

  it('runs several jobs in one interaction, and a refused one does not stop the next', () => {
    const { h, solicited, reply, job } = knownPhone();
    const a = h.store.jobs.add({ mac: MAC, kind: 'ReadItems', items: [{ name: 'sntp-addr', value: '' }] }, 1).id;
    const b = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '200' }] }, 1).id;
    const c = h.store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, 1).id;
    expect(solicited()).toMatchObject({ action: 'ReadItems', items: [{ name: 'sntp-addr', value: '' }] });
    expect(reply('ReadItems', 'accepted', [{ name: 'sntp-addr', value: 'read-value' }]).action).toBe('WriteItems');
    expect(reply('WriteItems', 'failed').action).toBe('ReadAllItems');
    expect(reply('ReadAllItems', 'accepted', [{ name: 'only', value: '1' }]).action).toBe('CleanUp');
    expect([job(a).state, job(b).state, job(c).state]).toEqual(['done', 'failed', 'done']);
    expect(job(b).error).toBe('the phone refused WriteItems (status failed)');
    expect(h.store.items(MAC).map((i) => i.name)).toEqual(['only']);
  });

  it('a phone clean-up in the middle of a job fails the job with the phone\'s reason', () => {
    const { h, solicited, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }] }, 1).id;
    solicited();
    h.say(PEER, { reason: 'clean-up', items: [{ name: 'cleanup-reason', value: 'invalid XML received' }] });
    expect(job(j)).toMatchObject({ state: 'failed', error: 'the phone ended the interaction: invalid XML received' });
  });

  it('an unanswered job is queued again when the session expires, and failed after five attempts', () => {
    const { h, solicited, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }] }, 1).id;
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(solicited().action).toBe('WriteItems');
      h.store.expireInteractions([], [MAC], h.clock);
    }
    expect(job(j)).toMatchObject({ state: 'failed', attempts: 5, error: 'no answer from the phone to 5 sendings' });
  });

  it('a job sent again each time the phone starts over (its interaction abandoned, not expired) also fails after five attempts', () => {
    const { h, solicited, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }] }, 1).id;
    for (let attempt = 1; attempt <= 5; attempt++) {
      // Each solicited is a first message: it abandons the interaction the job went out in.
      expect(solicited().action).toBe('WriteItems');
      expect(job(j)).toMatchObject({ state: 'sent', attempts: attempt });
    }
    // The sixth start-over: the fifth send was not answered either. The job fails; nothing is sent.
    expect(solicited().action).toBe('CleanUp');
    expect(job(j)).toMatchObject({ state: 'failed', attempts: 5, error: 'no answer from the phone to 5 sendings' });
    expect(solicited().action).toBe('CleanUp');
    expect(job(j)).toMatchObject({ state: 'failed', attempts: 5 });
  });

  it('a busy answer is an answer: a job the phone answered busy five times and more still gets five sendings left unanswered before it fails', () => {
    const phone = knownPhone();
    const { h, solicited, reply, job } = phone;
    const j = writeAnsweredBusy(phone, 'busy.example').id;
    for (let busy = 2; busy <= 6; busy++) {
      expect(solicited().items).toEqual([{ name: 'sntp-addr', value: 'busy.example' }]);
      expect(reply('WriteItems', 'busy').action).toBe('CleanUp');
    }
    expect(job(j)).toMatchObject({ state: 'waiting-busy', attempts: 6, unanswered: 0 });
    // Out of its call, the phone takes it and starts over without answering: sent again, four more
    // times; the fifth sending left unanswered fails it.
    for (let unanswered = 1; unanswered <= 5; unanswered++) {
      expect(solicited().action, `sending ${unanswered}`).toBe('WriteItems');
      expect(job(j)).toMatchObject({ state: 'sent', attempts: 6 + unanswered, unanswered: unanswered - 1 });
    }
    expect(solicited().action).toBe('CleanUp');
    expect(job(j)).toMatchObject({ state: 'failed', attempts: 11, unanswered: 5, error: 'no answer from the phone to 5 sendings' });
    // The same through an expiry: counted alike.
    const k = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '2' }] }, 1).id;
    expect(solicited().action).toBe('WriteItems');
    expect(reply('WriteItems', 'busy').action).toBe('CleanUp');
    expect(solicited().action).toBe('WriteItems');
    h.store.expireInteractions([], [MAC], h.clock);
    expect(job(k)).toMatchObject({ state: 'queued', attempts: 2, unanswered: 1, error: 'the phone did not answer; will send again' });
  });

  it('plug & play: a new phone matching a profile gets a WriteItems of only what differs, in its first interaction', () => {
    const h = new FlowHarness(newDir());
    harnesses.push(h);
    h.store.jobs.setProfile({ name: 'site', deviceType: null, matchMac: '00:1A:E8:*', matchE164: null, items: [{ name: 'sntp-addr', value: 'ntp.site' }, { name: 'e164', value: '498972231001' }] }, 1);
    h.say(PEER, { reason: 'start-up', items: startUpItems(MAC) });
    const w = h.say(PEER, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [{ name: 'sntp-addr', value: 'old' }, { name: 'e164', value: '498972231001' }] });
    expect(w).toMatchObject({ action: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.site' }] });
    expect(h.store.device(MAC)?.profile).toBe('site');
    const [job] = h.store.jobs.list({ mac: MAC });
    expect(job).toMatchObject({ state: 'sent', source: 'profile:site', attempts: 1 });
    expect(h.say(PEER, { reason: 'reply-to', action: 'WriteItems', status: 'accepted' }).action).toBe('CleanUp');
    expect(h.store.jobs.get(job!.id)?.state).toBe('done');

    // A second phone whose items already match: profile assigned, nothing queued.
    const mac2 = '00:1A:E8:00:00:02';
    h.say('10.0.0.6', { reason: 'start-up', items: startUpItems(mac2) });
    expect(h.say('10.0.0.6', { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [{ name: 'sntp-addr', value: 'ntp.site' }, { name: 'e164', value: '498972231001' }] }).action).toBe('CleanUp');
    expect(h.store.device(mac2)?.profile).toBe('site');
    expect(h.store.jobs.list({ mac: mac2 })).toEqual([]);
  });

  it('data stored before the command layer refused it (a job, a profile) never sends key material, goto-secure-mode or the mask (helper-63)', () => {
    const { h, solicited, reply } = knownPhone();
    // Written straight into the store, as an older LocalDLS let them in.
    const legacy = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'goto-secure-mode', value: 'true' }, { name: 'sntp-addr', value: 'a' }] }, 1);
    const masked = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'admin-pwd', value: '••••••' }] }, 1);
    const deployment = h.store.jobs.add({ mac: MAC, kind: 'FileDeployment', items: [{ name: 'file-type', value: 'LOGO' }, { name: 'bootstrapping-tan', value: 'x' }] }, 1);
    const fine = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'b' }] }, 1);
    const w = solicited();
    expect(w).toMatchObject({ action: 'WriteItems', items: [{ name: 'sntp-addr', value: 'b' }] });
    expect(h.store.jobs.get(legacy.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^not sent: goto-secure-mode is sent only by a bootstrap/) });
    expect(h.store.jobs.get(masked.id)).toMatchObject({ state: 'failed', error: 'not sent: admin-pwd has the mask (••••••) as its value' });
    // Any kind of job: a deployment's items go out as stored too (helper-65).
    expect(h.store.jobs.get(deployment.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^not sent: bootstrapping-tan is sent only by a bootstrap/) });
    expect(reply('WriteItems', 'accepted').action).toBe('CleanUp');
    expect(h.store.jobs.get(fine.id)?.state).toBe('done');
    // Retried, such a job is not copied into a new row; applied, a profile's such item is left out (helper-65).
    const retried = h.store.rollouts.retry([legacy.id, masked.id], 'test', h.clock + 1);
    expect(retried.jobs).toEqual([]);
    expect(retried.refused.map((r) => r.reason)).toEqual([expect.stringMatching(/^goto-secure-mode is sent only by a bootstrap/), 'admin-pwd has the mask (••••••) as its value']);
    h.store.jobs.setProfile({ name: 'old', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'bootstrapping-tan', value: 't' }, { name: 'sntp-addr', value: 'c' }] }, 1);
    const [applied] = applyProfileTo(h.store, h.store.jobs.profile('old')!, [MAC]);
    expect(h.store.jobs.get(applied!.jobId!)!.items).toEqual([{ name: 'sntp-addr', value: 'c' }]);

    // A plug & play profile stored with goto-secure-mode: the rest of it is written, not that.
    const p = new FlowHarness(newDir());
    harnesses.push(p);
    p.store.jobs.setProfile({ name: 'legacy', deviceType: null, matchMac: '00:1A:E8:*', matchE164: null, items: [{ name: 'goto-secure-mode', value: 'true' }, { name: 'sntp-addr', value: 'ntp.site' }] }, 1);
    p.say(PEER, { reason: 'start-up', items: startUpItems(MAC) });
    const pnp = p.say(PEER, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [{ name: 'sntp-addr', value: 'old' }] });
    expect(pnp).toMatchObject({ action: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.site' }] });
  });

  it('plug & play patterns: * and ? match as documented, and a crafted e164 cannot make matching run away', () => {
    for (const [pattern, value, match] of [
      ['00:1A:E8:*', '00:1a:e8:00:00:01', true], ['4989*', '498972231001', true], ['4989??231001', '498972231001', true],
      ['4989?', '49891', true], ['4989?', '498912', false], ['*1001', '498972231001', true], ['*', '', true], ['?', '', false],
      ['49*0*0*0*1', '4900001', true], ['a*b*c', 'aXbYc', true], ['a*b*c', 'aXbYcZ', false], ['**x', 'x', true], ['.*', 'x', false], ['[0-9]', '5', false],
      // Case folded a character at a time: positions do not shift after a character whose lower case is longer.
      ['?1', 'İ1', true], ['*Σ', 'ΑΣ', true], ['*σ', 'ΑΣ', true], ['a?c', 'AbC', true],
    ] as const) expect(globMatch(pattern, value), `${pattern} ~ ${value}`).toBe(match);
    // Three stars against 5,000 zeros and a letter: a backtracking regular expression never came back.
    expect(globMatch('49*0*0*0*1', `49${'0'.repeat(5000)}z`)).toBe(false);
    const h = new FlowHarness(newDir());
    harnesses.push(h);
    h.store.jobs.setProfile({ name: 'by-number', deviceType: null, matchMac: null, matchE164: '49*0*0*0*1', items: [{ name: 'sntp-addr', value: 'ntp.site' }] }, 1);
    const hostile = startUpItems(MAC).map((i) => (i.name === 'e164' ? { ...i, value: `49${'0'.repeat(5000)}z` } : i));
    expect(h.say(PEER, { reason: 'start-up', items: hostile }).action).toBe('ReadAllItems');
    expect(h.store.device(MAC)?.profile).toBeNull();
  }, 20_000);

  it('a fragmented opening from another host cannot take a phone\'s job: the first fragment names the device, and every check runs on it', () => {
    const { h, solicited, reply, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'SECRET1' }] }, 1);
    expect(solicited().action).toBe('WriteItems'); // the phone's interaction is open, the job sent
    const ATTACKER = '10.0.0.66';
    // Its device kept for a later fragment: refused at once.
    const hidden = h.say(ATTACKER, { reason: 'start-up', fragment: 'next', items: [{ name: 'e164', value: '999' }] });
    expect(hidden.status).toBe(403);
    expect(hidden.body).toMatch(/names its device \(mac-addr\) in the first fragment/);
    // A status in fragments, for a device never met, or for this one (its interaction is open): refused.
    expect(h.say(ATTACKER, { reason: 'status', fragment: 'next', items: startUpItems('00:1A:E8:00:00:99') }).status).toBe(403);
    expect(h.say(ATTACKER, { reason: 'status', fragment: 'next', items: startUpItems(MAC) }).body).toMatch(/has an interaction open: it must continue that interaction/);
    // Naming the phone in the first fragment is a new interaction of that phone: the phone's own one is
    // abandoned (its job goes back to the queue), and the job is not sent to the other host on top.
    expect(h.say(ATTACKER, { reason: 'start-up', fragment: 'next', items: startUpItems(MAC).slice(7, 8) }).action).toBe('GetNextFragment');
    expect(job(j.id)).toMatchObject({ state: 'queued' });
    expect(h.store.items(MAC).find((i) => i.name === 'e164')?.value).not.toBe('999');
    // The phone's late answer in its abandoned interaction changes nothing.
    expect(reply('WriteItems', 'accepted').status).toBe(403);
    expect(job(j.id)).toMatchObject({ state: 'queued' });
  });

  it('a job still out when its interaction ends without its answer (an unexpected status) goes back to the queue, and is sent again', () => {
    const { h, solicited, reply, job } = knownPhone();
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }] }, 1);
    expect(solicited().action).toBe('WriteItems');
    expect(reply('WriteItems', 'pending').action).toBe('CleanUp');
    expect(job(j.id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(h.store.device(MAC)?.state).toBe('idle');
    // The phone's next contact gets it again, and this time answers.
    expect(solicited().action).toBe('WriteItems');
    expect(reply('WriteItems', 'accepted').action).toBe('CleanUp');
    expect(job(j.id)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('a WriteItems split by the maxItems of the phone\'s first message keeps that split when the phone announces another in its reply', () => {
    const { h, reply, job } = knownPhone();
    const items = [{ name: 'sntp-addr', value: 'a.example' }, { name: 'display-id', value: 'newname' }, { name: 'e164', value: '777' }];
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items }, 1);
    const first = h.say(PEER, { reason: 'solicited', maxItems: 1, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    expect(first.items).toEqual([items[0]]);
    // The phone now says it takes any number: the parts already split stay what they were.
    const second = reply('WriteItems', 'accepted', [], -1);
    expect(second.action).toBe('WriteItems');
    expect(second.items).toEqual([items[1]]);
    expect(reply('WriteItems', 'accepted', [], -1).items).toEqual([items[2]]);
    expect(reply('WriteItems', 'accepted', [], -1).action).toBe('CleanUp');
    expect(job(j.id)).toMatchObject({ state: 'done', partsDone: 3 });
    expect(h.store.items(MAC).find((i) => i.name === 'e164')?.value).toBe('777');
  });

  it('a write queued while an older one waits for the busy phone goes after it, so the newest value is written last', () => {
    const phone = knownPhone();
    const { h, solicited, reply, job } = phone;
    const older = writeAnsweredBusy(phone, 'first.example');
    const newer = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'second.example' }] }, 2);
    // The phone calls back: the older write first (before, the newer went first and was overwritten).
    expect(solicited().items).toEqual([{ name: 'sntp-addr', value: 'first.example' }]);
    expect(reply('WriteItems', 'accepted').items).toEqual([{ name: 'sntp-addr', value: 'second.example' }]);
    expect(reply('WriteItems', 'accepted').action).toBe('CleanUp');
    expect([job(older.id).state, job(newer.id).state]).toEqual(['done', 'done']);
    expect(h.store.items(MAC).find((i) => i.name === 'sntp-addr')?.value).toBe('second.example');
  });

  it('a job that clashes with a write held behind a busy one waits too (the hold passes on, in queue order)', () => {
    const phone = knownPhone();
    const { h, solicited, reply, job } = phone;
    const a = writeAnsweredBusy(phone, 'A');
    const b = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'B' }, { name: 'display-id', value: 'B-old' }] }, 2);
    const c = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'display-id', value: 'C-new' }] }, 3);
    const sent = [solicited().items];
    for (let r = reply('WriteItems', 'accepted'); r.action === 'WriteItems'; r = reply('WriteItems', 'accepted')) sent.push(r.items);
    expect(sent.map((items) => items.map((i) => i.value).join('+'))).toEqual(['A', 'B+B-old', 'C-new']);
    expect([a, b, c].map((x) => job(x.id).state)).toEqual(['done', 'done', 'done']);
    expect(h.store.items(MAC).find((i) => i.name === 'display-id')?.value).toBe('C-new');
  });

  it('a WriteItems taken up again in a later interaction starts at its first part, split by that interaction\'s maxItems: nothing is left unsent', () => {
    const { h, reply, job } = knownPhone();
    const items = [{ name: 'sntp-addr', value: 'a' }, { name: 'display-id', value: 'b' }, { name: 'e164', value: 'c' }, { name: 'ldap-server-address', value: 'd' }];
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items }, 1);
    const solicited = (maxItems: number) => h.say(PEER, { reason: 'solicited', maxItems, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    expect(solicited(1).items).toEqual([items[0]]);
    expect(reply('WriteItems', 'accepted', [], 1).items).toEqual([items[1]]);
    expect(reply('WriteItems', 'busy', [], 1).action).toBe('CleanUp'); // part 2 of 4: busy
    // The phone calls back announcing 2 items a message: the job again, from its start.
    const again = [solicited(2).items];
    for (let r = reply('WriteItems', 'accepted', [], 2); r.action === 'WriteItems'; r = reply('WriteItems', 'accepted', [], 2)) again.push(r.items);
    expect(again).toEqual([[items[0], items[1]], [items[2], items[3]]]);
    expect(job(j.id)).toMatchObject({ state: 'done', partsDone: 2, attempts: 2 });
    expect(h.store.items(MAC).find((i) => i.name === 'ldap-server-address')?.value).toBe('d');
  });

  it('a write in parts: each reply counts its own refusals; sent again after a busy part, the job counts what the last sending refused, once', () => {
    const { h, reply, job } = knownPhone();
    const items = [{ name: 'sntp-addr', value: 'a' }, { name: 'e164', value: 'c' }];
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items }, 1);
    const solicited = () => h.say(PEER, { reason: 'solicited', maxItems: 1, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    const refusedOfLast = () => h.store.listExchanges({ device: MAC, reason: 'reply-to' }, { limit: 1 }).exchanges[0]!.refusedItems;
    const refused = [{ name: 'sntp-addr', value: '', status: 'invalid data' }];
    expect(solicited().items).toEqual([items[0]]);
    expect(reply('WriteItems', 'accepted', refused, 1).items).toEqual([items[1]]);
    expect(refusedOfLast()).toBe(1);
    expect(reply('WriteItems', 'busy', [], 1).action).toBe('CleanUp'); // the second part: in a call
    expect(job(j.id).state).toBe('waiting-busy');
    // It calls back: the job from its first part again, refused again; the second part taken.
    expect(solicited().items).toEqual([items[0]]);
    expect(reply('WriteItems', 'accepted', refused, 1).items).toEqual([items[1]]);
    expect(reply('WriteItems', 'accepted', [], 1).action).toBe('CleanUp');
    expect(refusedOfLast()).toBe(0);
    expect(job(j.id)).toMatchObject({ state: 'failed', attempts: 2, error: 'the phone refused 1 item: sntp-addr: invalid data', results: [{ name: 'sntp-addr', status: 'invalid data' }] });
  });

  it('a job in many parts counts one attempt per sending: ended without its answer, it is queued again, not failed', () => {
    const { h, solicited, reply, job } = knownPhone();
    const items = Array.from({ length: 6 }, (_, i) => ({ name: 'function-key-def', index: i + 1, value: String(i) }));
    const j = h.store.jobs.add({ mac: MAC, kind: 'WriteItems', items }, 1);
    const first = h.say(PEER, { reason: 'solicited', maxItems: 1, items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) });
    expect(first.action).toBe('WriteItems');
    for (let k = 0; k < 5; k++) expect(reply('WriteItems', 'accepted', [], 1).action).toBe('WriteItems');
    expect(reply('WriteItems', 'pending', [], 1).action).toBe('CleanUp');
    expect(job(j.id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(solicited().action).toBe('WriteItems');
  });
});

