import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, parseWorkpointMessage, type Item } from '../../src/main/wpi';
import { allItems, SimulatedPhone, TransportError, type PhoneOptions } from '../../src/phone';
import { readAllScript, scriptedTransport, type Script } from './helpers';

const MAC = '00:1A:E8:00:00:2A';

function phoneWith(script: Script, options: Partial<PhoneOptions> = {}) {
  const transport = scriptedTransport(script);
  const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: MAC, transport, ...options });
  return { phone, transport };
}

const valueOf = (items: Item[], name: string) => items.find((i) => i.name === name)?.value;

describe('ReadAllItems fragmentation (manual p.69–70)', () => {
  it('splits by the phone\'s maxItems: fragment next … final, each a valid WorkpointMessage', async () => {
    const { phone, transport } = phoneWith(readAllScript, { maxItems: 5 });
    const expected = allItems(phone.config);
    const result = await phone.runInteraction('start-up');
    expect(result.ok).toBe(true);
    const replies = transport.sent.slice(1).map((xml) => parseWorkpointMessage(xml));
    expect(replies.length).toBe(Math.ceil(expected.length / 5));
    replies.forEach((m, i) => {
      expect(m).toMatchObject({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', maxItems: 5 });
      expect(m.items.length).toBeLessThanOrEqual(5);
      expect(m.fragment).toBe(i === replies.length - 1 ? 'final' : 'next');
    });
    expect(replies.flatMap((m) => m.items)).toEqual(expected);
    expect(result.exchanges).toBe(replies.length + 1);
    expect(result.actions).toEqual(['ReadAllItems', ...Array(replies.length - 1).fill('GetNextFragment'), 'CleanUp']);
  });

  it('splits by the 50 kB rule when the items are large', async () => {
    const { phone, transport } = phoneWith(readAllScript);
    const blob = 'QUJD'.repeat(2500); // 10 kB of base64
    phone.changeLocally(Array.from({ length: 8 }, (_, i) => ({ name: 'userdata-picture', index: i + 2, value: blob })));
    const expected = allItems(phone.config);
    const result = await phone.runInteraction('start-up');
    expect(result.ok).toBe(true);
    const replies = transport.sent.slice(1);
    expect(replies.length).toBeGreaterThan(1);
    for (const xml of replies) expect(Buffer.byteLength(xml)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const parsed = replies.map((xml) => parseWorkpointMessage(xml));
    expect(parsed.map((m) => m.fragment)).toEqual([...Array(replies.length - 1).fill('next'), 'final']);
    expect(parsed.flatMap((m) => m.items)).toEqual(expected);
  });

  it('honours a smaller fragmentBytes limit', async () => {
    const { phone, transport } = phoneWith(readAllScript, { fragmentBytes: 8 * 1024 });
    await phone.runInteraction('start-up');
    const replies = transport.sent.slice(1);
    expect(replies.length).toBeGreaterThanOrEqual(4);
    for (const xml of replies) expect(Buffer.byteLength(xml)).toBeLessThanOrEqual(8 * 1024);
  });

  it('sends a single reply with fragment="final" when everything fits', async () => {
    const { phone, transport } = phoneWith(readAllScript);
    const result = await phone.runInteraction('start-up');
    expect(result).toMatchObject({ ok: true, exchanges: 2, actions: ['ReadAllItems', 'CleanUp'], end: 'CleanUp' });
    const first = parseWorkpointMessage(transport.sent[0]);
    expect(first.fragment).toBeUndefined();
    expect(first).toMatchObject({ reason: 'start-up', maxItems: -1 });
    expect(parseWorkpointMessage(transport.sent[1]).fragment).toBe('final');
  });

  it('treats anything but GetNextFragment mid-fragmenting as an error', async () => {
    const { phone, transport } = phoneWith((m) => (m.reason === 'reply-to' ? { action: 'CleanUp' } : { action: 'ReadAllItems' }), { maxItems: 50 });
    const result = await phone.runInteraction('start-up');
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/CleanUp while \d+ fragment\(s\).*pending/);
    expect(transport.sent).toHaveLength(2);
  });
});

describe('the interaction loop', () => {
  it('uses a fresh 32-hex nonce for every message', async () => {
    const { phone, transport } = phoneWith(readAllScript, { maxItems: 100 });
    await phone.runInteraction('start-up');
    const nonces = transport.messages.map((m) => m.nonce);
    for (const n of nonces) expect(n).toMatch(/^[0-9A-F]{32}$/);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('ends with an error, and sends nothing more, on a wrong nonce', async () => {
    const { phone, transport } = phoneWith(() => ({ action: 'ReadAllItems', nonce: 'DEADBEEF' }));
    const result = await phone.runInteraction('start-up');
    expect(result).toMatchObject({ ok: false, exchanges: 1 });
    expect(result.error).toMatch(/nonce DEADBEEF, expected [0-9A-F]{32}/);
    expect(transport.sent).toHaveLength(1);
  });

  it('ends with an error on a non-200 answer or a body that is not a DLSMessage', async () => {
    const http = await phoneWith(() => ({ status: 500, body: '' })).phone.runInteraction('start-up');
    expect(http).toMatchObject({ ok: false, exchanges: 1 });
    expect(http.error).toMatch(/HTTP 500/);
    const junk = await phoneWith(() => ({ status: 200, body: '<html>hello</html>' })).phone.runInteraction('start-up');
    expect(junk.ok).toBe(false);
    expect(junk.error).toMatch(/not a DLSMessage/);
    const unknownAction = await phoneWith((m) => ({ status: 200, body: `<DLSMessage><Message nonce="${m.nonce}"><Action>Dance</Action></Message></DLSMessage>` })).phone.runInteraction('start-up');
    expect(unknownAction.error).toMatch(/unknown Action "Dance"/);
  });

  it('answers ReadItems with the requested values', async () => {
    const { phone, transport } = phoneWith((m) =>
      m.reason === 'solicited' ? { action: 'ReadItems', items: [{ name: 'e164', value: '' }, { name: 'no-such-item', value: '' }] } : { action: 'CleanUp' },
    );
    const result = await phone.runInteraction('solicited');
    expect(result.ok).toBe(true);
    const reply = transport.messages[1];
    expect(reply).toMatchObject({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', fragment: 'final' });
    expect(reply.items).toEqual([
      { name: 'e164', value: valueOf(transport.messages[0].items, 'e164') },
      { name: 'no-such-item', value: '', status: 'unknown item' },
    ]);
  });

  it('answers WriteItems with <ItemList/> when all applied, or with the failed items', async () => {
    const writes: Item[][] = [[{ name: 'sntp-addr', value: '192.0.2.1' }], [{ name: 'device-type', value: 'x' }, { name: 'reg-port', value: '5070' }]];
    const { phone, transport } = phoneWith((_m, i) => (i < writes.length ? { action: 'WriteItems', items: writes[i] } : { action: 'CleanUp' }));
    const result = await phone.runInteraction('solicited');
    expect(result.actions).toEqual(['WriteItems', 'WriteItems', 'CleanUp']);
    expect(transport.sent[1]).toContain('<ItemList/>');
    expect(transport.messages[1]).toMatchObject({ action: 'WriteItems', status: 'accepted', items: [] });
    expect(transport.messages[2]).toMatchObject({ action: 'WriteItems', status: 'accepted', items: [{ name: 'device-type', value: '', status: 'read only' }] });
    expect(valueOf(allItems(phone.config), 'sntp-addr')).toBe('192.0.2.1');
    expect(valueOf(allItems(phone.config), 'reg-port')).toBe('5070');
  });

  it('refuses WriteItems while busy with status="busy" and no ItemList (manual p.46)', async () => {
    let now = 1000;
    const { phone, transport } = phoneWith(
      (m) => {
        if (m.reason !== 'reply-to') return { action: 'WriteItems', items: [{ name: 'sntp-addr', value: '192.0.2.9' }] };
        // busy -> CleanUp + send-solicited, keep the job (manual p.72–76)
        return m.status === 'busy' ? { action: 'CleanUp', items: [{ name: 'send-solicited', value: 'true' }] } : { action: 'CleanUp' };
      },
      { busyUntil: 2000, now: () => now },
    );
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, sendSolicited: true });
    expect(transport.messages[1]).toMatchObject({ reason: 'reply-to', action: 'WriteItems', status: 'busy', items: [] });
    expect(transport.sent[1]).not.toContain('ItemList');
    expect(phone.solicitedPending).toBe(true);
    expect(valueOf(allItems(phone.config), 'sntp-addr')).not.toBe('192.0.2.9');
    now = 3000;
    await phone.runInteraction('solicited');
    expect(phone.solicitedPending).toBe(false);
    expect(valueOf(allItems(phone.config), 'sntp-addr')).toBe('192.0.2.9');
  });

  it('reboots on Restart without replying; the next interaction is a start-up', async () => {
    const { phone, transport } = phoneWith((m) => (m.reason === 'solicited' ? { action: 'Restart' } : { action: 'CleanUp' }));
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'Restart', exchanges: 1, actions: ['Restart'] });
    expect(phone.reboots).toBe(1);
    expect(transport.sent).toHaveLength(1);
    const next = await phone.runInteraction('solicited');
    expect(next.reason).toBe('start-up');
    expect(transport.messages[1].reason).toBe('start-up');
  });

  it('still owes its start-up when the start-up reached no service', async () => {
    let down = true;
    const { phone, transport } = phoneWith(() => {
      if (down) throw new TransportError('network', 'connection refused by 127.0.0.1:1: is the service running on that port?');
      return { action: 'CleanUp' };
    });
    const failed = await phone.runInteraction('start-up');
    expect(failed).toMatchObject({ ok: false, exchanges: 0 });
    down = false;
    expect((await phone.runInteraction('solicited')).reason).toBe('start-up');
    expect((await phone.runInteraction('solicited')).reason).toBe('solicited');
    expect(transport.messages.map((m) => m.reason)).toEqual(['start-up', 'start-up', 'solicited']);
  });

  it('factory-resets only with restart-type=FactoryReset and the password 124816 (manual p.51)', async () => {
    const reset = (password: string): Script => (m) =>
      m.reason === 'solicited'
        ? { action: 'Restart', items: [{ name: 'restart-password', value: password }, { name: 'restart-type', value: 'FactoryReset' }] }
        : { action: 'CleanUp' };
    const wrong = phoneWith(reset('000000'));
    wrong.phone.changeLocally([{ name: 'sntp-addr', value: '192.0.2.7' }]);
    expect(await wrong.phone.runInteraction('solicited')).toMatchObject({ ok: true, end: 'Restart' });
    expect(wrong.phone.factoryResets).toBe(0);
    expect(valueOf(allItems(wrong.phone.config), 'sntp-addr')).toBe('192.0.2.7');

    const right = phoneWith(reset('124816'));
    right.phone.changeLocally([{ name: 'sntp-addr', value: '192.0.2.7' }]);
    expect(await right.phone.runInteraction('solicited')).toMatchObject({ ok: true, factoryReset: true });
    expect(right.phone.factoryResets).toBe(1);
    expect(valueOf(allItems(right.phone.config), 'sntp-addr')).not.toBe('192.0.2.7');
    expect(right.phone.config.configurationChanged).toBe(true);
  });

  it('records cleanup-reason and clears configuration-changed-flag after an interaction', async () => {
    const { phone, transport } = phoneWith(() => ({ action: 'CleanUp', items: [{ name: 'cleanup-reason', value: 'wrong TAN from device' }] }));
    const first = await phone.runInteraction('start-up');
    expect(first.cleanupReason).toBe('wrong TAN from device');
    await phone.runInteraction('start-up');
    expect(transport.messages.map((m) => valueOf(m.items, 'configuration-changed-flag'))).toEqual(['true', 'false']);
  });

  it('sends locally changed items with local-changes (V2R2+, manual p.37)', async () => {
    const { phone, transport } = phoneWith(() => ({ action: 'CleanUp' }), { configurationChanged: false });
    phone.changeLocally([{ name: 'language-iso', value: 'fr' }]);
    await phone.runInteraction('local-changes');
    const m = transport.messages[0];
    expect(m.reason).toBe('local-changes');
    expect(valueOf(m.items, 'configuration-changed-flag')).toBe('true');
    expect(valueOf(m.items, 'language-iso')).toBe('fr');
  });

  it('answers a FileDeployment without a file source with status="failed" (manual p.29)', async () => {
    const { phone, transport } = phoneWith((m) => (m.reason === 'reply-to' ? { action: 'CleanUp' } : { action: 'FileDeployment', items: [{ name: 'file-type', value: 'LOGO' }] }));
    expect((await phone.runInteraction('solicited')).ok).toBe(true);
    expect(transport.messages[1]).toMatchObject({ reason: 'reply-to', action: 'FileDeployment', status: 'failed' });
  });

  it('stops a service that never ends the interaction', async () => {
    const { phone } = phoneWith(() => ({ action: 'ReadItems', items: [{ name: 'e164', value: '' }] }), { maxExchanges: 5 });
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: false, exchanges: 5 });
    expect(result.error).toMatch(/within 5 exchanges/);
  });
});
