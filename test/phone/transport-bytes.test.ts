/**
 * The phone reads the service's answer from its bytes, over a real TLS socket on 127.0.0.1: UTF-8
 * is read as such (manual p.30), anything else is refused rather than patched up.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Transport } from '../../src/phone';
import { selfSignedCertificate } from './helpers';

const servers: https.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function answering(body: Buffer): Promise<string> {
  const server = https.createServer(selfSignedCertificate(), (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': String(body.length), Connection: 'close' });
      res.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const xml = '<?xml version="1.0" encoding="UTF-8"?><DLSMessage xmlns="http://www.siemens.com/DLS"><Message nonce="N1"><Action>WriteItems</Action><ItemList><Item name="display-id-unicode">Müller €</Item></ItemList></Message></DLSMessage>';

describe('Transport: the answer as bytes', () => {
  it('reads a UTF-8 answer, umlauts and all', async () => {
    const res = await new Transport({ server: await answering(Buffer.from(xml, 'utf8')) }).post('<x/>');
    expect(res.parseError).toBeUndefined();
    expect(res.message?.items).toEqual([{ name: 'display-id-unicode', value: 'Müller €' }]);
  });

  it('refuses an answer that is not UTF-8, and says so', async () => {
    const res = await new Transport({ server: await answering(Buffer.from(xml.replace(' €', ''), 'latin1')) }).post('<x/>');
    expect(res.message).toBeUndefined();
    expect(res.parseError).toMatch(/not UTF-8/);
    expect(res.status).toBe(200);
  });
});
