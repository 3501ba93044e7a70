import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DLS_CLIENT_CERTIFICATE_PASSWORD,
  type DeviceCredential,
  type Pki,
  type SecureServerIdentity,
  buildSecureModeData,
  dlsClientCertificate,
  fromPkcs12Der,
  pinPassword,
  toPkcs12Der,
  unpackSecureModeData,
} from '../../src/main/pki';
import { mutualTlsHandshake, openPki } from './helpers';

const MAC = '00:1A:E8:12:34:56';

describe('PKCS#12 client credential in a real mutual-TLS handshake (127.0.0.1)', () => {
  let pki: Pki;
  let other: Pki;
  let server: SecureServerIdentity;
  let cred: DeviceCredential;

  // One PKI for the whole file (key generation is the slow part); removed at the end.
  const dirs = [mkdtempSync(join(tmpdir(), 'localdls-test-')), mkdtempSync(join(tmpdir(), 'localdls-test-'))];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  beforeAll(async () => {
    pki = await openPki(dirs[0] as string);
    other = await openPki(dirs[1] as string);
    server = await pki.secureServerIdentity({ dns: ['localhost'], ips: ['127.0.0.1'] });
    cred = await pki.issueDeviceCertificate(MAC);
  });

  const serverTrusting = (ca: string[]): tls.TlsOptions => ({ key: server.key, cert: server.cert, ca });

  it('is accepted as pfx (AES-256, empty password) and authenticates against a server trusting the CA', async () => {
    const pfx = toPkcs12Der(cred.keyPem, cred.certPem, pki.caChainPems(), '');
    const r = await mutualTlsHandshake(serverTrusting(server.ca), { pfx, ca: pki.caChainPems() }, (peer) => pki.deviceIdentity(peer));
    expect(r.clientError).toBeNull();
    expect(r.serverError).toBeNull();
    expect(r.serverAccepted).toBe(true);
    expect(r.greeted).toBe(true);
    expect(r.identity).toEqual({ mac: MAC, serial: cred.serial });
  });

  it('is refused by a server that trusts another CA', async () => {
    const pfx = toPkcs12Der(cred.keyPem, cred.certPem, pki.caChainPems(), '');
    const r = await mutualTlsHandshake(serverTrusting(other.caChainPems()), { pfx, ca: pki.caChainPems() });
    // Node checks the verification result after the handshake and drops the socket (no specific alert).
    expect(r.greeted).toBe(false);
    expect(r.serverAccepted).toBe(false);
    expect(r.serverError).not.toBeNull();
  });

  it('fails the handshake without a client certificate', async () => {
    const r = await mutualTlsHandshake(serverTrusting(server.ca), { ca: pki.caChainPems() });
    expect(r.greeted).toBe(false);
    expect(r.serverError).toMatch(/peer did not return a certificate|certificate required/i);
  });

  it('works with the legacy 3DES key encryption and with a non-empty password', async () => {
    const legacy = toPkcs12Der(cred.keyPem, cred.certPem, pki.caChainPems(), '', { keyAlgorithm: '3des' });
    expect((await mutualTlsHandshake(serverTrusting(server.ca), { pfx: legacy, ca: pki.caChainPems() })).greeted).toBe(true);
    const withPassword = toPkcs12Der(cred.keyPem, cred.certPem, pki.caChainPems(), 'p12 secret');
    expect(() => tls.createSecureContext({ pfx: withPassword, passphrase: 'wrong' })).toThrow();
    expect((await mutualTlsHandshake(serverTrusting(server.ca), { pfx: withPassword, passphrase: 'p12 secret', ca: pki.caChainPems() })).greeted).toBe(true);
  });

  it('dls-client-certificate is base64 PKCS#12 with the documented default (empty) password', async () => {
    expect(DLS_CLIENT_CERTIFICATE_PASSWORD).toBe('');
    const item = dlsClientCertificate(cred, pki.caChainPems());
    expect(item).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const pfx = Buffer.from(item, 'base64');
    const back = fromPkcs12Der(pfx, '');
    expect(back.certPem).toBe(cred.certPem);
    expect(back.caPems).toEqual(pki.caChainPems());
    const r = await mutualTlsHandshake(serverTrusting(server.ca), { pfx, ca: pki.caChainPems() }, (peer) => pki.deviceIdentity(peer));
    expect(r.identity).toEqual({ mac: MAC, serial: cred.serial });
  });

  it('secure-mode-data opened with the PIN gives a pfx and CA list that complete the handshake', async () => {
    const pin = '48151623';
    const data = buildSecureModeData(cred, pki.caChainPems(), 18444, pin);
    const contents = unpackSecureModeData(data, pinPassword(pin));
    expect(contents.securePort).toBe(18444);
    const r = await mutualTlsHandshake(serverTrusting(server.ca), { pfx: contents.pkcs12, ca: contents.caPems }, (peer) => pki.deviceIdentity(peer));
    expect(r.greeted).toBe(true);
    expect(r.identity).toEqual({ mac: MAC, serial: cred.serial });
  });

  it('a client trusting only another CA refuses the secure-port server certificate', async () => {
    const pfx = toPkcs12Der(cred.keyPem, cred.certPem, [], '');
    const r = await mutualTlsHandshake(serverTrusting(server.ca), { pfx, ca: other.caChainPems() });
    expect(r.greeted).toBe(false);
    expect(r.clientError).toMatch(/self.signed|unable to (get|verify)/i);
  });
});
