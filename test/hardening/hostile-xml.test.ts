/**
 * Hostile XML over real sockets against a real Service: entity bombs, external entities, deep
 * nesting, huge names and values within the body limit, many attributes and items, invalid UTF-8,
 * references to non-characters, markup hidden in comments and CDATA, fragments that never end.
 * Each is answered with a status and one line (or a valid DLSMessage), recorded, and a real
 * phone is served meanwhile.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { InteractionEngine, type ProtocolError } from '../../src/main/provisioning';
import { toHar } from '../../src/main/commands/traffic-views';
import { parseDLSMessage } from '../../src/main/wpi';
import { post, type RawResponse } from '../support/https-client';
import { message, nonce, startUpItems } from '../support/messages';
import { phoneInteraction, servedFully, sleep, startService } from './support';

const MAC = '00:1A:E8:66:77:88';

function oneLine(r: RawResponse, status: number, reason?: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toMatch(/^text\/plain/);
  expect(r.body.endsWith('\n')).toBe(true);
  expect(r.body.indexOf('\n')).toBe(r.body.length - 1);
  expect(r.body.length).toBeLessThan(300);
  if (reason) expect(r.body).toMatch(reason);
}

const wpm = (inner: string, attrs = '') => `<?xml version="1.0" encoding="UTF-8"?><WorkpointMessage><Message nonce="${nonce()}"${attrs}>${inner}</Message></WorkpointMessage>`;
/** A start-up of MAC (XML declaration included; `bare` drops it, for tests that put their own prolog first). */
const startUp = (extra = '') =>
  wpm(`<ReasonForContact>start-up</ReasonForContact><ItemList>${startUpItems(MAC).map((i) => `<Item name="${i.name}">${i.value}</Item>`).join('')}${extra}</ItemList>`);

const bare = (xml: string) => xml.replace(/^<\?xml[^>]*\?>/, '');

describe('entities and DTDs', () => {
  it('refuses entity bombs and DOCTYPEs of every shape with 400, without expanding anything', async () => {
    const { service, port } = await startService();
    const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join('');
    const bodies = [
      `<?xml version="1.0"?><!DOCTYPE lolz [${lol}]>${bare(startUp('<Item name="e164">&lol9;</Item>'))}`,
      `<?xml version="1.0"?><!doctype WorkpointMessage [<!ENTITY a "${'x'.repeat(1000)}">]>${bare(startUp('<Item name="e164">&a;&a;&a;</Item>'))}`,
      `<!ENTITY a "b">${bare(startUp())}`,
      `${startUp()}<!DOCTYPE x>`,
      `<?xml version="1.0"?><!DOCTYPE WorkpointMessage [<!ENTITY % p "<!ENTITY q 'r'>"> %p;]>${bare(startUp())}`,
      // Quadratic blow-up without a DTD: one big entity-like text used many times stays text.
      startUp(`<Item name="e164">${'&amp;'.repeat(40_000)}</Item>`),
    ];
    const phone = phoneInteraction(port);
    for (const body of bodies.slice(0, -1)) oneLine(await post(port, body), 400, /DOCTYPE or entity declarations are not allowed/);
    const last = await post(port, bodies.at(-1)!);
    expect(last.status).toBe(200);
    expect(parseDLSMessage(last.body).action).toBe('ReadAllItems');
    expect(service.store.items(MAC).find((i) => i.name === 'e164')?.value).toBe('&'.repeat(40_000));
    expect(servedFully(await phone)).toBe(true);
    expect(service.store.exchanges({ limit: 100 }).filter((x) => x.httpStatus === 400)).toHaveLength(bodies.length - 1);
  });

  it('never fetches an external entity or DTD', async () => {
    const { port } = await startService();
    let connections = 0;
    const trap = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const trapPort = (trap.address() as net.AddressInfo).port;
    try {
      const bodies = [
        `<?xml version="1.0"?><!DOCTYPE WorkpointMessage SYSTEM "http://127.0.0.1:${trapPort}/x.dtd">${bare(startUp())}`,
        `<?xml version="1.0"?><!DOCTYPE WorkpointMessage [<!ENTITY xxe SYSTEM "http://127.0.0.1:${trapPort}/secret">]>${bare(startUp('<Item name="e164">&xxe;</Item>'))}`,
        `<?xml version="1.0"?><!DOCTYPE WorkpointMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${bare(startUp('<Item name="e164">&xxe;</Item>'))}`,
        `<?xml version="1.0"?><?xml-stylesheet href="http://127.0.0.1:${trapPort}/x.xsl"?>${bare(startUp())}`,
        startUp(`<Item name="e164" xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="http://127.0.0.1:${trapPort}/x"/></Item>`),
      ];
      for (const body of bodies.slice(0, 3)) {
        const r = await post(port, body);
        oneLine(r, 400, /DOCTYPE/);
        expect(r.body).not.toMatch(/root:/);
      }
      // Stylesheet PIs and XInclude are just markup to the codec: accepted as a message, never followed.
      for (const body of bodies.slice(3)) {
        const r = await post(port, body);
        expect(r.status, r.body).toBe(200);
      }
      await sleep(300);
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((r) => trap.close(() => r()));
    }
  });
});

describe('namespace prefixes', () => {
  it('carry no key, TAN or password past the masking: not into the store, not into an export', async () => {
    const { service, port } = await startService();
    // Read by the codec as secure-mode-data and user-pwd (prefixes dropped): accepted.
    const accepted = await post(port, startUp('<é:Item xmlns:é="urn:x" é:name="secure-mode-data">NEVERSTORE-KEY-1</é:Item><Item d:name="user-pwd">PWD-PREFIXED-3</Item>'));
    expect(accepted.status).toBe(200);
    // Two names on one tag: which one counts would be a guess, so it is refused (and still recorded).
    const refused = await post(port, startUp('<Item name="e164" y:name="bootstrapping-tan">NEVERSTORE-TAN-2</Item>'));
    oneLine(refused, 400, /has the attribute name twice/);
    const ids = service.store.exchanges({ limit: 10 }).map((x) => x.id);
    expect(ids).toHaveLength(2);
    const stored = ids.map((id) => service.store.exchange(id)!);
    const raw = stored.map((x) => Buffer.from(x.requestBody).toString('utf8')).join('\n');
    expect(raw).not.toContain('NEVERSTORE');
    expect(raw).toContain('PWD-PREFIXED-3'); // passwords are kept for the protocol, masked on the way out
    expect(service.store.items(MAC).find((i) => i.name === 'secure-mode-data')?.value).toBe('••••••');
    const har = JSON.stringify(toHar(stored));
    expect(har).not.toContain('NEVERSTORE');
    expect(har).not.toContain('PWD-PREFIXED');
  });
});

describe('size and shape within the body limit', () => {
  it('refuses nesting tens of thousands deep with a short reason (not an echo of the input)', async () => {
    const { service, port } = await startService();
    const phone = phoneInteraction(port);
    const closed = `<WorkpointMessage>${'<a>'.repeat(30_000)}${'</a>'.repeat(30_000)}</WorkpointMessage>`;
    const open = '<WorkpointMessage>'.concat('<Message>'.repeat(28_000));
    const inside = wpm(`<ReasonForContact>start-up</ReasonForContact><ItemList><Item name="mac-addr">${'<x>'.repeat(20_000)}${'</x>'.repeat(20_000)}</Item></ItemList>`);
    oneLine(await post(port, closed), 400, /XML nested deeper than 16 levels/);
    oneLine(await post(port, open), 400, /XML nested deeper than 16 levels/);
    oneLine(await post(port, inside), 400, /XML nested deeper than 16 levels/);
    // What is stored is as short as what was said.
    for (const x of service.store.exchanges({ limit: 10 }).filter((e) => e.httpStatus === 400)) expect(x.error!.length).toBeLessThan(300);
    expect(servedFully(await phone)).toBe(true);
  });

  it('answers huge names and values, many attributes and many items clearly', async () => {
    const { service, port } = await startService();
    const phone = phoneInteraction(port);
    const big = 'n'.repeat(200_000);
    oneLine(await post(port, `<${big}/>`), 400, /^root element is n{40}…, expected WorkpointMessage\n$/);
    oneLine(await post(port, wpm('<ReasonForContact>start-up</ReasonForContact>').replace(/nonce="[^"]+"/, `nonce="${big}"`)), 400, /nonce must be 1-256 printable ASCII/);
    oneLine(await post(port, wpm('<ReasonForContact>start-up</ReasonForContact>').replace('<Message ', `<Message ${big}="1" `)), 400, /without a mac-addr/);
    oneLine(await post(port, wpm(`<ReasonForContact>${big}</ReasonForContact>`)), 400, /^unknown ReasonForContact "n{40}…"\n$/);
    const manyAttrs = Array.from({ length: 15_000 }, (_, i) => `a${i}="${i}"`).join(' ');
    oneLine(await post(port, wpm('<ReasonForContact>start-up</ReasonForContact>').replace('<Message ', `<Message ${manyAttrs} `)), 400, /without a mac-addr/);
    oneLine(await post(port, wpm('<ReasonForContact>start-up</ReasonForContact>').replace('<Message ', `<Message ${'a="1" '.repeat(15_000)}`)), 400, /^not well-formed XML: duplicate attribute: a\. \(line 1\)\n$/);
    // Within the limit and well-formed: a phone with a 200 kB value or 6,000 items is a phone.
    const huge = await post(port, startUp(`<Item name="e164">${'9'.repeat(200_000)}</Item>`));
    expect(parseDLSMessage(huge.body).action).toBe('ReadAllItems');
    const many = await post(port, startUp(Array.from({ length: 6_000 }, (_, i) => `<Item name="x-${i}" index="${i}"/>`).join('')));
    expect(parseDLSMessage(many.body).action).toBe('ReadAllItems');
    expect(service.store.items(MAC).length).toBeGreaterThan(6_000);
    expect(servedFully(await phone)).toBe(true);
  });

  it('refuses invalid UTF-8 of every kind with one line', async () => {
    const { service, port } = await startService();
    const bad = [[0xff], [0xfe, 0xff], [0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xc3]];
    const body = Buffer.from(startUp());
    const at = body.indexOf('00:1A:E8');
    for (const seq of bad) {
      const r = await post(port, Buffer.concat([body.subarray(0, at), Buffer.from(seq), body.subarray(at)]));
      oneLine(r, 400, /^body is not valid UTF-8\n$/);
    }
    // UTF-16 with a BOM is not what phones send either.
    oneLine(await post(port, Buffer.from(`\ufeff${startUp()}`, 'utf16le')), 400, /UTF-8|not well-formed/);
    expect(service.store.device(MAC)).toBeUndefined();
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('refuses references to non-characters, keeps CDATA as written and ignores markup hidden in comments and CDATA', async () => {
    const { service, port } = await startService();
    oneLine(await post(port, startUp('<Item name="sntp-addr">a&#0;b&#xD800;c&#x1;d&#xFFFE;e&#65;</Item>')), 400, /^not well-formed XML: .*\(line \d+\)\n$/);
    expect(service.store.device(MAC)).toBeUndefined();
    const r = await post(port, startUp(
      '<Item name="sntp-addr">a&amp;b<![CDATA[&amp;<x>]]>e&#65;</Item>' +
        '<!-- <Item name="mac-addr">00:1A:E8:00:00:99</Item> -->' +
        '<Item name="e164"><![CDATA[<Item name="mac-addr">00:1A:E8:00:00:98</Item>]]></Item>' +
        '<?pi <Item name="x">y</Item>?>',
    ));
    expect(parseDLSMessage(r.body).action).toBe('ReadAllItems');
    // References are resolved; CDATA is taken as written (no entity inside it is decoded).
    expect(service.store.items(MAC).find((i) => i.name === 'sntp-addr')?.value).toBe('a&b&amp;<x>eA');
    expect(service.store.device('00:1A:E8:00:00:99')).toBeUndefined();
    expect(service.store.device('00:1A:E8:00:00:98')).toBeUndefined();
    // A reason quoting a cut surrogate pair would not be valid UTF-8 text.
    const emoji = await post(port, wpm(`<ReasonForContact>${'x'.repeat(39)}😀😀</ReasonForContact>`));
    oneLine(emoji, 400, /^unknown ReasonForContact "x{39}…"\n$/);
  });
});

describe('fragments that never end', () => {
  it('drops a fragmented message beyond 4 MiB with 413 and keeps serving phones', async () => {
    const { service, port } = await startService();
    const first = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    const cookie = `${String(first.headers['set-cookie']).split(';')[0]}; path=/DeploymentService; secure`;
    const items = Array.from({ length: 1500 }, (_, i) => ({ name: 'x', index: i, value: 'v'.repeat(100) }));
    const statuses: number[] = [];
    // Bounded: the cap is 4 MiB of items, about 17 of these; stop at the refusal or after 40.
    for (let n = 0; n < 40; n++) {
      const r = await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', items }), { headers: { Cookie: cookie } });
      statuses.push(r.status);
      if (r.status !== 200) {
        oneLine(r, 413, /^fragmented message larger than 4194304 bytes: its fragments are dropped\n$/);
        break;
      }
      expect(parseDLSMessage(r.body).action).toBe('GetNextFragment');
    }
    expect(statuses.at(-1)).toBe(413);
    expect(statuses.length).toBeGreaterThan(10);
    expect(service.handler.engine.sessions.size).toBeLessThanOrEqual(1);
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('bounds what all unfinished fragmented messages hold together (503), and frees it when they end', () => {
    const engine = new InteractionEngine({ device: () => undefined, pendingJobs: () => [], profiles: () => [], overrides: () => [] }, { idleMs: 120_000, maxSessions: 100, maxAssemblyBytes: 10_000, maxAssemblingBytes: 15_000 });
    const items = (mac: string) => [{ name: 'mac-addr', value: mac }, ...Array.from({ length: 40 }, (_, i) => ({ name: 'x', index: i, value: 'v'.repeat(100) }))];
    // As the exchange handler does: apply what was answered, and what a refusal changes, once recorded.
    const fragment = (mac: string, fragment: 'next' | 'final', peer: string, cookie: string | null = null) => {
      try {
        const out = engine.handle({ message: { nonce: nonce(), reason: 'start-up', fragment, items: items(mac) }, cookieSessionId: cookie, peerAddress: peer, listener: 'default', now: 1 });
        out.apply({ interactionId: 1, newJobIds: [] });
        return out;
      } catch (err) {
        (err as ProtocolError).afterRecord?.();
        throw err;
      }
    };
    // Each of these holds about 6.7 kB: two fit in 15 kB, three do not.
    const a = fragment('00:1A:E8:00:01:01', 'next', '10.0.0.1');
    fragment('00:1A:E8:00:01:02', 'next', '10.0.0.2');
    expect(() => fragment('00:1A:E8:00:01:03', 'next', '10.0.0.3')).toThrow(expect.objectContaining({ status: 503, message: 'too many fragmented messages in progress: try again later' }));
    // One message too large for itself is 413, whatever the others hold…
    expect(() => fragment('00:1A:E8:00:01:01', 'next', '10.0.0.1', a.session.id)).toThrow(expect.objectContaining({ status: 413 }));
    // …and so is its final fragment: it must not pass for the whole message (that would replace the
    // phone's items with the last fragment's).
    expect(() => fragment('00:1A:E8:00:01:01', 'final', '10.0.0.1', a.session.id)).toThrow(expect.objectContaining({ status: 413 }));
    expect(a.session.assembling).toBeNull();
    // a's assembly was dropped with its refusal: room again.
    const c = fragment('00:1A:E8:00:01:03', 'next', '10.0.0.3');
    expect(c.answer.action).toBe('GetNextFragment');
    // The final fragment ends an assembly and frees its share.
    expect(fragment('00:1A:E8:00:01:03', 'final', '10.0.0.3', c.session.id).answer.action).toBe('ReadAllItems');
    expect(fragment('00:1A:E8:00:01:04', 'next', '10.0.0.4').answer.action).toBe('GetNextFragment');
  });
});
