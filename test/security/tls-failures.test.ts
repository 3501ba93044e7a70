/**
 * Failed handshakes are recorded (issue #12, item 3): on the Secure-Mode port a client certificate
 * from another CA, a self-signed one with a phone's subject, one forged in our CA's name, an
 * expired one, none at all; on both ports a protocol version the listener does not speak. Each is
 * a `tls-failure` exchange with the peer's address and port, the listener's port and the reason,
 * and a flood of them writes a bounded number of rows. Real Service, real sockets, loopback only.
 */
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passphraseProtector, Pki } from '../../src/main/pki';
import { Service } from '../../src/main/app/service';
import type { ExchangeSummary } from '../../src/shared/model';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { forgeCertificate, type ForgeCa } from '../pki/helpers';

/** What the refused certificates claim to be; the good one is another phone's. */
const MAC = '00:1A:E8:7E:00:01';
const GOOD_MAC = '00:1A:E8:7E:00:02';
const DAY = 24 * 3600_000;

/** A client certificate shaped like the ones LocalDLS issues (CN = MAC, O = LocalDLS, clientAuth). */
function clientCertificate(options: { issuer: ForgeCa | 'self'; notBefore?: number; notAfter?: number; serial?: string }): { certPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = options.serial ?? '7e0001';
  cert.validity.notBefore = new Date(options.notBefore ?? Date.now() - DAY);
  cert.validity.notAfter = new Date(options.notAfter ?? Date.now() + 365 * DAY);
  const subject = [
    { name: 'commonName', value: MAC },
    { name: 'organizationName', value: 'LocalDLS' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer === 'self' ? subject : options.issuer.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(options.issuer === 'self' ? key : options.issuer.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

const newDir = tempDirs();
let service: Service;
let port = 0;
let securePort = 0;
let siteCa: ForgeCa;
let ourCaPem = '';
let good: { certPem: string; keyPem: string };

/** A service on fresh ports with the test's site CA imported (each has its own per-listener row limit). */
async function startService(): Promise<{ started: Service; port: number; securePort: number }> {
  const dataDir = newDir();
  const keyProtector = passphraseProtector('tls failure tests', dataDir, { scryptCost: 1024 });
  await (await Pki.open(dataDir, keyProtector, { hostname: 'testhost' })).importCa(Buffer.from(siteCa.certPem + siteCa.keyPem));
  const started = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, autoContact: false, keyProtector });
  const info = await started.start();
  return { started, port: info.port, securePort: info.securePort! };
}

beforeAll(async () => {
  // A site CA whose key the test holds, so it can also sign an expired certificate in its name.
  siteCa = forgeCertificate({ cn: 'Handshake Test Site CA', ca: true });
  ({ started: service, port, securePort } = await startService());
  ourCaPem = service.pki!.caCertificatePem();
  // Another phone's certificate of our CA, which every case may use (in whatever order they run).
  good = await service.pki!.issueDeviceCertificate(GOOD_MAC);
});
afterAll(async () => {
  await service?.stop();
});

interface Attempt {
  /** The client's own port, as the service should record it. */
  localPort: number;
  /** The HTTP status if the request was answered, else the client's error. */
  outcome: number | string;
}

/** A phone's start-up POST over TLS from `from`, with the given client TLS options. */
function attempt(to: number, from: string, clientTls: https.RequestOptions): Promise<Attempt> {
  return new Promise((resolve) => {
    let localPort = 0;
    const body = message({ reason: 'start-up', items: startUpItems(MAC) });
    const req = https.request(
      {
        host: '127.0.0.1', port: to, path: '/DeploymentService/LoginService', method: 'POST', agent: false, rejectUnauthorized: false,
        localAddress: from, ...clientTls, headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), Connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ localPort, outcome: res.statusCode ?? 0 }));
      },
    );
    req.on('socket', (s) => s.once('connect', () => (localPort = s.localPort ?? 0)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ localPort, outcome: e.code ?? e.message }));
    req.end(body);
  });
}

/** The newest tls-failure row from `peer` (waits briefly: the row is written as the socket closes). */
async function failureFrom(peer: string): Promise<ExchangeSummary> {
  for (let i = 0; i < 200; i++) {
    const row = service.store.exchanges({ limit: 1000 }).find((x) => x.kind === 'tls-failure' && x.peerAddress === peer);
    if (row) return row;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no tls-failure row from ${peer}`);
}

/** A client's certificate and key as TLS options (an object without them presents none). */
function asOptions(c: { certPem?: string; keyPem?: string }): https.RequestOptions {
  return c.certPem ? { cert: c.certPem, key: c.keyPem } : {};
}

const OLD_TLS: https.RequestOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' };

describe('handshake failures on the Secure-Mode port are recorded with peer, port and reason', () => {
  it('serves a certificate of our CA (the check does not shut out phones)', async () => {
    const r = await attempt(securePort, '127.0.0.70', asOptions(good));
    expect(typeof r.outcome).toBe('number');
    expect(service.store.exchanges({ limit: 1000 }).some((x) => x.kind === 'tls-failure' && x.peerAddress === '127.0.0.70')).toBe(false);
  });

  const cases: [string, string, () => { certPem?: string; keyPem?: string }, string, RegExp][] = [
    ['another CA', '127.0.0.71', () => clientCertificate({ issuer: forgeCertificate({ cn: 'Some Other CA', ca: true }) }),
      "client certificate not issued by this service's CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)", /bootstrapped with another CA/],
    ['self-signed with a phone’s subject', '127.0.0.72', () => clientCertificate({ issuer: 'self' }),
      "client certificate self-signed, not issued by this service's CA (DEPTH_ZERO_SELF_SIGNED_CERT)", /bootstrapped with another CA/],
    // Our CA's name and key identifier, an attacker's signature.
    ['forged in our CA’s name', '127.0.0.73', () => {
      const ours = { cert: forge.pki.certificateFromPem(ourCaPem), key: forge.pki.privateKeyFromPem(forgeCertificate({ cn: 'x', ca: true }).keyPem) as forge.pki.rsa.PrivateKey };
      return clientCertificate({ issuer: { ...ours, certPem: ourCaPem, keyPem: '' } });
    }, "client certificate names this service's CA but its signature does not verify: forged (CERT_SIGNATURE_FAILURE)", /not a phone of this site/],
    ['expired, though issued by our CA', '127.0.0.74', () => clientCertificate({ issuer: siteCa, notBefore: Date.now() - 400 * DAY, notAfter: Date.now() - DAY }),
      'client certificate expired (CERT_HAS_EXPIRED)', /clocks.*bootstrap it again/],
    ['no certificate', '127.0.0.75', () => ({}),
      'no client certificate, or one without its issuer (UNABLE_TO_GET_ISSUER_CERT)', /only phones bootstrapped into Secure Mode/],
  ];
  for (const [what, from, clientTls, reason, hint] of cases) {
    it(`${what}: refused, recorded`, async () => {
      const r = await attempt(securePort, from, asOptions(clientTls()));
      // Never answered: the connection is closed right after the handshake.
      expect(typeof r.outcome).toBe('string');
      const row = await failureFrom(from);
      expect(row).toMatchObject({
        kind: 'tls-failure', listener: 'secure', localPort: securePort, peerAddress: from, peerPort: r.localPort,
        httpStatus: 0, mac: null, error: `TLS handshake failed: ${reason}`,
      });
      expect(row.warning).toMatch(hint);
      expect(r.localPort).toBeGreaterThan(0);
      // Nothing about the device it claims was touched.
      expect(service.store.device(MAC)).toBeUndefined();
    });
  }

  it('a protocol version the listener does not speak (TLS 1.0 against the modern profile), on both ports', async () => {
    for (const [to, listener, from] of [[securePort, 'secure', '127.0.0.76'], [port, 'default', '127.0.0.77']] as const) {
      const r = await attempt(to, from, OLD_TLS);
      expect(typeof r.outcome).toBe('string');
      const row = await failureFrom(from);
      expect(row).toMatchObject({ listener, localPort: to, peerAddress: from, peerPort: r.localPort, error: 'TLS handshake failed: unsupported protocol' });
    }
  });

  it('still refuses and records after the secure listener’s TLS profile is changed while running', async () => {
    await service.setTlsProfile('secure', 'legacy');
    try {
      const r = await attempt(securePort, '127.0.0.79', asOptions(clientCertificate({ issuer: 'self' })));
      expect(typeof r.outcome).toBe('string');
      expect((await failureFrom('127.0.0.79')).error).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect(typeof (await attempt(securePort, '127.0.0.80', asOptions(good))).outcome).toBe('number');
    } finally {
      await service.setTlsProfile('secure', 'modern');
    }
  });

  it('a flood of bad certificates from many addresses writes at most 30 rows a minute, one per address and reason', async () => {
    // A service of its own: the flood uses up its listener's rows for the minute, which would
    // leave nothing for the other cases if they ran after it.
    const { started: own, securePort: ownPort } = await startService();
    try {
      const bad = asOptions(clientCertificate({ issuer: 'self' }));
      // 40 addresses × 3 attempts, 8 at a time.
      const jobs = Array.from({ length: 120 }, (_, i) => `127.0.2.${1 + (i % 40)}`);
      for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((from) => attempt(ownPort, from, bad)));
      await new Promise((r) => setTimeout(r, 100));
      const rows = own.store.exchanges({ limit: 10_000 }).filter((x) => x.kind === 'tls-failure');
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(30);
      expect(rows.every((x) => x.peerAddress.startsWith('127.0.2.'))).toBe(true);
      expect(new Set(rows.map((x) => x.peerAddress)).size).toBe(rows.length);
      // The service keeps serving a good certificate meanwhile.
      const ownGood = await own.pki!.issueDeviceCertificate(GOOD_MAC);
      expect(typeof (await attempt(ownPort, '127.0.0.78', asOptions(ownGood))).outcome).toBe('number');
    } finally {
      await own.stop();
    }
  });
});
