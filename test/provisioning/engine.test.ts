import { describe, expect, it } from 'vitest';
import { InteractionEngine, ProtocolError, SessionTable, type EngineInput, type EngineOutput, decide as decideWith, newInteraction, normalizeMac, sessionIdFromCookies, type EngineLookups } from '../../src/main/provisioning';
import type { Device, Job } from '../../src/shared/model';
import type { Item, WorkpointMessage } from '../../src/main/wpi';
import { startUpItems } from '../support/messages';

const MAC = '00:1A:E8:00:00:01';
const known: Device = {
  mac: MAC, e164: '1', deviceType: 'OpenStage 60', softwareVersion: 'V3', partNumber: null, contactMeUri: null,
  lastAddress: '127.0.0.1', mode: 'default', state: 'idle', tlsProtocol: 'TLSv1.3', profile: null, lastContactMe: null, bootstrap: null, certSerial: null, firstContact: 1, lastContact: 1, contactFailures: 0, lastContactError: null, lastContactMeOutcome: null, lastContactMeError: null,
};

/** decide() for a device without jobs, in a fresh interaction. */
const decide = (x: Omit<Parameters<typeof decideWith>[0], 'jobs' | 'interaction' | 'now'>) => decideWith({ jobs: [], interaction: newInteraction(), now: 0, ...x });

export function lookups(devices: Record<string, Device> = {}): EngineLookups {
  return { device: (mac) => devices[mac], pendingJobs: () => [], profiles: () => [], overrides: () => [] };
}

function msg(reason: WorkpointMessage['reason'], extra: Partial<WorkpointMessage> = {}): WorkpointMessage {
  return { nonce: `N${Math.random().toString(16).slice(2)}`, reason, items: [], ...extra };
}

describe('decide: phone-driven first messages', () => {
  for (const reason of ['start-up', 'solicited', 'local-changes', 'inventory-changes'] as const) {
    it(`${reason} from a new device registers it and answers ReadAllItems`, () => {
      const d = decide({ message: msg(reason, { items: startUpItems(MAC) }), mac: MAC, device: undefined, peerAddress: '10.0.0.9' });
      expect(d.answer.action).toBe('ReadAllItems');
      expect(d.ends).toBeNull();
      expect(d.changes.device).toMatchObject({ mac: MAC, e164: '49897223290', deviceType: 'OpenStage 60', softwareVersion: 'V3 R5.12.0', lastAddress: '10.0.0.9' });
      expect(d.changes.mergeItems?.map((i) => i.name)).toContain('contact-me-uri');
      expect(d.changes.openInteraction).toEqual({ reason });
    });
  }

  it('a known device with configuration-changed-flag=false gets CleanUp (manual p.34)', () => {
    const items = startUpItems(MAC, { 'configuration-changed-flag': 'false' });
    const d = decide({ message: msg('start-up', { items }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.answer.action).toBe('CleanUp');
    expect(d.ends).toBe('CleanUp');
  });

  it('a known device reporting configuration-changed-flag=true is read again', () => {
    const d = decide({ message: msg('local-changes', { items: startUpItems(MAC) }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.answer.action).toBe('ReadAllItems');
  });

  it('refuses a first message without mac-addr or with a malformed one', () => {
    expect(() => decide({ message: msg('start-up'), mac: null, device: undefined, peerAddress: 'x' })).toThrow(ProtocolError);
    const bad = startUpItems('not-a-mac');
    expect(() => decide({ message: msg('start-up', { items: bad }), mac: null, device: undefined, peerAddress: 'x' })).toThrow(/not a MAC/);
  });
});

describe('decide: a phone back in Default Mode with its bootstrap sent (manual p.62–68)', () => {
  const bootstrapJob = (variant: 'pin' | 'nopin', over: Partial<Job> = {}): Job => ({
    id: 7, mac: MAC, kind: 'Bootstrap', items: [{ name: 'goto-secure-mode', value: variant }], expect: null, state: 'sent', attempts: 1, unanswered: 0, partsDone: 1,
    created: 0, updated: 0, sent: 0, finished: null, results: [], error: 'waiting for the phone on the secure port', source: `bootstrap:${variant}`, rolloutAt: 0, ...over,
  });
  const secretOf = () => ({ items: [], serial: 'ABCD01' });
  const items = startUpItems(MAC, { 'configuration-changed-flag': 'false' });
  const failed = (d: ReturnType<typeof decideWith>) => d.changes.jobs?.find((j) => j.id === 7 && j.state === 'failed');

  // start-up = the phone booted; without PIN it would have switched at once; with PIN a dialog may still be open.
  const table: [WorkpointMessage['reason'], 'pin' | 'nopin', boolean][] = [
    ['start-up', 'pin', true], ['start-up', 'nopin', true],
    ['solicited', 'nopin', true], ['local-changes', 'nopin', true], ['inventory-changes', 'nopin', true],
    ['solicited', 'pin', false], ['local-changes', 'pin', false], ['inventory-changes', 'pin', false],
  ];
  for (const [reason, variant, fails] of table) {
    it(`${reason} after a ${variant} bootstrap ${fails ? 'fails it and revokes its certificate' : 'keeps it waiting'}`, () => {
      const d = decideWith({ message: msg(reason, { items }), mac: MAC, device: { ...known, bootstrap: 'pending' }, peerAddress: 'x', jobs: [bootstrapJob(variant)], interaction: newInteraction(), listener: 'default', secretOf, now: 5 });
      if (fails) {
        expect(failed(d)?.error).toMatch(new RegExp(`^the phone came back in Default Mode \\(${reason} on the Default-Mode port\\)`));
        expect(d.changes).toMatchObject({ bootstrap: 'failed', revoke: { serial: 'ABCD01' } });
      } else {
        expect(failed(d)).toBeUndefined();
        expect(d.changes.bootstrap).toBeUndefined();
        expect(d.changes.revoke).toBeUndefined();
      }
      // Nothing is sent again either way.
      expect(d.answer.action).toBe('CleanUp');
    });
  }

  it('a bootstrap not yet delivered (queued, or sent without the phone\'s accepted reply) is not failed by a start-up', () => {
    for (const job of [bootstrapJob('pin', { state: 'queued', partsDone: 0, attempts: 0 }), bootstrapJob('pin', { partsDone: 0 })]) {
      const d = decideWith({ message: msg('start-up', { items }), mac: MAC, device: known, peerAddress: 'x', jobs: [job], interaction: newInteraction(), listener: 'default', secretOf, now: 5 });
      expect(failed(d)).toBeUndefined();
      expect(d.changes.revoke).toBeUndefined();
    }
  });
});

describe('decide: replies, status and clean-up', () => {
  const all: Item[] = [{ name: 'a', value: '1' }, { name: 'b', index: 0, value: '2' }];
  it('reply-to ReadAllItems accepted replaces the item set and ends with CleanUp', () => {
    const d = decide({ message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted', items: all }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.answer).toEqual({ action: 'CleanUp', items: [] });
    expect(d.changes.replaceItems).toEqual(all);
    expect(d.ends).toBe('CleanUp');
  });
  it('reply-to failed is recorded with a warning and ends with CleanUp', () => {
    const d = decide({ message: msg('reply-to', { action: 'WriteItems', status: 'failed' }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.answer.action).toBe('CleanUp');
    expect(d.warning).toMatch(/refused WriteItems/);
  });
  it('status records the file-deployment items and ends with CleanUp', () => {
    const items = [{ name: 'file-deployment-status', index: 1, value: 'ok' }];
    const d = decide({ message: msg('status', { items }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.changes.mergeItems).toEqual(items);
    expect(d.answer.action).toBe('CleanUp');
  });
  it('phone clean-up is answered with CleanUp and ends the interaction with its reason', () => {
    const d = decide({ message: msg('clean-up', { items: [{ name: 'cleanup-reason', value: 'password retries exceeded' }] }), mac: MAC, device: known, peerAddress: 'x' });
    expect(d.answer.action).toBe('CleanUp');
    expect(d.ends).toBe('phone clean-up: password retries exceeded');
  });
});

/** Handles a message and applies it, as the exchange handler does once the store has committed it. */
function run(e: InteractionEngine, input: EngineInput, interactionId = 1): EngineOutput {
  const out = e.handle(input);
  out.apply({ interactionId: out.interactionId ?? interactionId, newJobIds: [] });
  return out;
}

describe('InteractionEngine', () => {
  const newEngine = (devices: Record<string, Device> = {}) => new InteractionEngine(lookups(devices));

  it('runs start-up -> ReadAllItems -> fragmented reply -> CleanUp on one session, echoing every nonce', () => {
    const e = newEngine();
    const first = run(e, { message: msg('start-up', { items: startUpItems(MAC) }), cookieSessionId: null, peerAddress: 'p', listener: 'default', now: 0 }, 7);
    expect(first.answer.action).toBe('ReadAllItems');
    expect(first.setCookie).toMatch(/^JSESSIONID=[0-9A-F]{32}; Path=\/DeploymentService; Secure$/);
    const cookie = sessionIdFromCookies([`${first.setCookie!.split(';')[0]}; path=/DeploymentService; secure`]);

    const part1 = msg('reply-to', { action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: [{ name: 'a', value: '1' }] });
    const r1 = run(e, { message: part1, cookieSessionId: cookie, peerAddress: 'p', listener: 'default', now: 1 });
    expect(r1.answer).toEqual({ nonce: part1.nonce, action: 'GetNextFragment', items: [] });
    expect(r1.interactionId).toBe(7);
    expect(r1.setCookie).toBeNull();

    const part2 = msg('reply-to', { action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [{ name: 'b', index: 0, value: '2' }] });
    const r2 = run(e, { message: part2, cookieSessionId: cookie, peerAddress: 'p', listener: 'default', now: 2 });
    expect(r2.answer.nonce).toBe(part2.nonce);
    expect(r2.answer.action).toBe('CleanUp');
    expect(r2.changes.replaceItems).toEqual([{ name: 'a', value: '1' }, { name: 'b', index: 0, value: '2' }]);
    expect(r2.changes.endInteraction).toBe('CleanUp');
    expect(r2.mac).toBe(MAC);
    expect(e.sessions.size).toBe(0);
  });

  it('correlates a reply-to without cookie by peer address and warns', () => {
    const e = newEngine();
    run(e, { message: msg('start-up', { items: startUpItems(MAC) }), cookieSessionId: null, peerAddress: '10.1.1.1', listener: 'default', now: 0 });
    const r = run(e, { message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted' }), cookieSessionId: null, peerAddress: '10.1.1.1', listener: 'default', now: 1 });
    expect(r.mac).toBe(MAC);
    expect(r.warning).toMatch(/matched by address/);
  });

  it('secure port: a reply-to without cookie continues the interaction of its certificate, not the latest of its address', () => {
    const [A, B] = ['00:1A:E8:00:00:0A', '00:1A:E8:00:00:0B'];
    const secure = (mac: string, serial: string): Device => ({ ...known, mac, mode: 'secure', certSerial: serial });
    const e = newEngine({ [A]: secure(A, 'AA01'), [B]: secure(B, 'BB01') });
    const idA = { mac: A, serial: 'AA01' };
    const idB = { mac: B, serial: 'BB01' };
    const replyTo = () => msg('reply-to', { action: 'ReadAllItems', status: 'accepted' });
    // Two phones behind one NAT address; B opened last.
    run(e, { message: msg('local-changes', { items: startUpItems(A) }), cookieSessionId: null, peerAddress: 'nat', listener: 'secure', clientIdentity: idA, now: 0 }, 1);
    run(e, { message: msg('local-changes', { items: startUpItems(B) }), cookieSessionId: null, peerAddress: 'nat', listener: 'secure', clientIdentity: idB, now: 0 }, 2);
    const a = e.handle({ message: replyTo(), cookieSessionId: null, peerAddress: 'nat', listener: 'secure', clientIdentity: idA, now: 1 });
    expect(a).toMatchObject({ mac: A, interactionId: 1, warning: 'reply-to without session cookie: matched by client certificate' });
    // The certificate, not the address: the NAT's mapping may change between two connections.
    const b = e.handle({ message: replyTo(), cookieSessionId: null, peerAddress: 'nat-2', listener: 'secure', clientIdentity: idB, now: 1 });
    expect(b).toMatchObject({ mac: B, interactionId: 2 });
    // A certificate with no interaction open finds none, whoever else is open at its address.
    const c = { mac: '00:1A:E8:00:00:0C', serial: 'CC01' };
    const e2 = newEngine({ [A]: secure(A, 'AA01'), [c.mac]: secure(c.mac, c.serial) });
    run(e2, { message: msg('local-changes', { items: startUpItems(A) }), cookieSessionId: null, peerAddress: 'nat', listener: 'secure', clientIdentity: idA, now: 0 }, 1);
    expect(() => e2.handle({ message: replyTo(), cookieSessionId: null, peerAddress: 'nat', listener: 'secure', clientIdentity: c, now: 1 })).toThrow(/continues no live interaction \(it has no session cookie and this certificate has no open interaction\)/);
  });

  it('keeps two phones behind one address apart by cookie', () => {
    const e = newEngine();
    const a = run(e, { message: msg('start-up', { items: startUpItems('00:1A:E8:00:00:0A') }), cookieSessionId: null, peerAddress: 'nat', listener: 'default', now: 0 });
    run(e, { message: msg('start-up', { items: startUpItems('00:1A:E8:00:00:0B') }), cookieSessionId: null, peerAddress: 'nat', listener: 'default', now: 0 });
    const r = run(e, { message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted' }), cookieSessionId: a.session.id, peerAddress: 'nat', listener: 'default', now: 1 });
    expect(r.mac).toBe('00:1A:E8:00:00:0A');
  });

  it('does not mistake a new phone behind the same address for another phone\'s fragments', () => {
    const e = newEngine();
    const a = run(e, { message: msg('start-up', { items: startUpItems('00:1A:E8:00:00:0A') }), cookieSessionId: null, peerAddress: 'nat', listener: 'default', now: 0 });
    const frag = run(e, { message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: [{ name: 'x', value: '1' }] }), cookieSessionId: a.session.id, peerAddress: 'nat', listener: 'default', now: 1 });
    expect(frag.answer.action).toBe('GetNextFragment');
    const b = run(e, { message: msg('start-up', { items: startUpItems('00:1A:E8:00:00:0B') }), cookieSessionId: null, peerAddress: 'nat', listener: 'default', now: 2 });
    expect(b.answer.action).toBe('ReadAllItems');
    expect(b.mac).toBe('00:1A:E8:00:00:0B');
    expect(b.session).not.toBe(a.session);
    const last = run(e, { message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [{ name: 'y', value: '2' }] }), cookieSessionId: a.session.id, peerAddress: 'nat', listener: 'default', now: 3 });
    expect(last.mac).toBe('00:1A:E8:00:00:0A');
    expect(last.changes.replaceItems?.map((i) => i.name)).toEqual(['x', 'y']);
  });

  it('refuses a reply-to that continues no interaction (403), and remembers nothing of it', () => {
    const e = newEngine();
    const input: EngineInput = { message: msg('reply-to', { action: 'ReadAllItems', status: 'accepted', items: startUpItems(MAC) }), cookieSessionId: null, peerAddress: 'q', listener: 'default', now: 0 };
    expect(() => e.handle(input)).toThrow(/reply-to continues no live interaction \(it has no session cookie and no interaction is open at its address\).*refused/);
    expect(() => e.handle({ ...input, cookieSessionId: 'DEADBEEF' })).toThrow(/its session cookie names no open interaction/);
    expect(e.sessions.size).toBe(0);
    expect(e.nonces.devices).toBe(0);
  });

  it('changes nothing until the exchange is applied: the same message can be handled again', () => {
    const e = newEngine();
    const start: EngineInput = { message: msg('start-up', { items: startUpItems(MAC) }), cookieSessionId: null, peerAddress: 'p', listener: 'default', now: 0 };
    const lost = e.handle(start);
    expect(e.sessions.size).toBe(0);
    expect(e.nonces.devices).toBe(0);
    // The store failed: nothing was applied, so the phone's retry is not a replay.
    const retried = run(e, start);
    expect(retried.answer.action).toBe('ReadAllItems');
    expect(retried.session.id).not.toBe(lost.session.id);
    expect(e.sessions.size).toBe(1);
    const frag = msg('reply-to', { action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: [{ name: 'x', value: '1' }] });
    const input: EngineInput = { message: frag, cookieSessionId: retried.session.id, peerAddress: 'p', listener: 'default', now: 1 };
    e.handle(input);
    expect(retried.session.assembling).toBeNull();
    expect(run(e, input).answer.action).toBe('GetNextFragment');
    expect(retried.session.assembling?.items).toHaveLength(1);
  });

  it('a fragmented start-up is assembled before the device is registered; its first fragment names the device', () => {
    const e = newEngine();
    const all = startUpItems(MAC);
    const mac = all.find((i) => i.name === 'mac-addr')!;
    const items = [mac, ...all.filter((i) => i !== mac)];
    // Without mac-addr in the first fragment: refused (the checks that need the device would be skipped).
    expect(() => run(e, { message: msg('start-up', { fragment: 'next', items: items.slice(1, 4) }), cookieSessionId: null, peerAddress: 'q', listener: 'default', now: 0 })).toThrow(
      /a start-up in fragments names its device \(mac-addr\) in the first fragment: refused/,
    );
    const r1 = run(e, { message: msg('start-up', { fragment: 'next', items: items.slice(0, 3) }), cookieSessionId: null, peerAddress: 'p', listener: 'default', now: 0 });
    expect(r1.answer.action).toBe('GetNextFragment');
    const r2 = run(e, { message: msg('start-up', { fragment: 'final', items: items.slice(3) }), cookieSessionId: r1.session.id, peerAddress: 'p', listener: 'default', now: 1 });
    expect(r2.answer.action).toBe('ReadAllItems');
    expect(r2.changes.device?.mac).toBe(MAC);
    expect(r2.changes.mergeItems).toHaveLength(items.length);
  });

  it('expires silent sessions', () => {
    const e = new InteractionEngine(lookups(), { idleMs: 1000, maxSessions: 10 });
    run(e, { message: msg('start-up', { items: startUpItems(MAC) }), cookieSessionId: null, peerAddress: 'p', listener: 'default', now: 0 });
    expect(e.sessions.expire(500)).toHaveLength(0);
    expect(e.sessions.expire(1000).map((s) => s.mac)).toEqual([MAC]);
  });

  it('bounds the number of sessions', () => {
    const e = new InteractionEngine(lookups(), { idleMs: 1e9, maxSessions: 3 });
    for (let i = 0; i < 10; i++) {
      run(e, { message: msg('start-up', { items: startUpItems(`00:1A:E8:00:00:${String(i).padStart(2, '0')}`) }), cookieSessionId: null, peerAddress: `p${i}`, listener: 'default', now: i });
    }
    expect(e.sessions.size).toBe(3);
  });
});

describe('SessionTable bounds', () => {
  it('one address filling the table evicts its own oldest sessions, never another address’s', () => {
    const t = new SessionTable({ idleMs: 1e9, maxSessions: 50, maxSessionsPerAddress: 10 });
    const phone = t.create('127.0.0.10', 'default', 0);
    for (let i = 0; i < 100; i++) t.create('127.0.0.2', 'default', i + 1);
    expect(t.size).toBe(11);
    expect(t.find(phone.id, '127.0.0.10', 'default')?.session).toBe(phone);
    // At the global bound, the address holding the most gives way first.
    const u = new SessionTable({ idleMs: 1e9, maxSessions: 6, maxSessionsPerAddress: 100 });
    const others = ['127.0.0.11', '127.0.0.12'].map((a) => u.create(a, 'default', 0));
    for (let i = 0; i < 20; i++) u.create('127.0.0.2', 'default', i + 1);
    expect(u.size).toBe(6);
    for (const o of others) expect(u.find(o.id, o.peerAddress, 'default')?.session).toBe(o);
  });
});

describe('identifiers', () => {
  it('normalizes MAC spellings', () => {
    expect(normalizeMac('00:01:e3:25:ea:13')).toBe('00:01:E3:25:EA:13');
    expect(normalizeMac('0001E325EA13')).toBe('00:01:E3:25:EA:13');
    expect(normalizeMac('00-01-E3-25-EA-13')).toBe('00:01:E3:25:EA:13');
    expect(normalizeMac('00:01:E3:25:EA')).toBeNull();
    expect(normalizeMac('zz:01:E3:25:EA:13')).toBeNull();
  });
  it('parses cookies leniently, attributes attached', () => {
    expect(sessionIdFromCookies(['JSESSIONID=abc123; path=/DeploymentService; secure'])).toBe('ABC123');
    expect(sessionIdFromCookies(['other=1', 'jsessionid="DEF"'])).toBe('DEF');
    expect(sessionIdFromCookies(['JSESSIONID=<script>'])).toBeNull();
    expect(sessionIdFromCookies([])).toBeNull();
  });
});
