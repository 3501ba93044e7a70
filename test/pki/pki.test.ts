import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { type KeyProtector, Pki, fromPkcs12Der, toPkcs12Der } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { allFiles, encryptedKeyPem, fastProtector, forgeCertificate, modeOf, openPki, x509 } from './helpers';

const newDir = tempDirs();
const posix = process.platform !== 'win32';
const MAC = '00:1A:E8:00:00:01';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** What a TLS socket's getPeerCertificate() gives deviceIdentity: the bytes and their SHA-256. */
function peer(pem: string): PeerCertificate {
  const x = new X509Certificate(pem);
  return { raw: x.raw, fingerprint256: x.fingerprint256 } as PeerCertificate;
}

function pemBody(pem: string): string {
  return pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
}

describe('local CA', () => {
  it('is created once per data directory and reloaded unchanged', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const ca = x509(pki.caCertificatePem());
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=LocalDLS CA testhost\nO=LocalDLS');
    expect(ca.checkIssued(ca) && ca.verify(ca.publicKey)).toBe(true);
    expect(/^[0-7][0-9A-F]{31}$/.test(ca.serialNumber)).toBe(true); // 16 bytes, positive
    expect(Date.parse(ca.validTo) - Date.now()).toBeGreaterThan(3640 * 24 * 3600_000);
    expect(pki.caChainPems()).toEqual([pki.caCertificatePem()]);
    expect(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8')).toBe(pki.caCertificatePem());

    const again = await openPki(dir);
    expect(again.caCertificatePem()).toBe(pki.caCertificatePem());
    expect(again.caSummary().fingerprint).toBe(pki.caSummary().fingerprint);
    expect(pki.caSummary().imported).toBe(false);
  });

  it('has the CA extensions of the profile (basicConstraints critical, keyCertSign + cRLSign, SKI)', async () => {
    const pki = await openPki(newDir());
    const cert = forge.pki.certificateFromPem(pki.caCertificatePem());
    expect(cert.getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(cert.getExtension('keyUsage')).toMatchObject({ keyCertSign: true, cRLSign: true, critical: true });
    expect(cert.getExtension('subjectKeyIdentifier')).toBeTruthy();
    expect(cert.publicKey).toHaveProperty('n');
    expect((cert.publicKey as forge.pki.rsa.PublicKey).n.bitLength()).toBe(2048);
  });

  it('refuses another passphrase and another kind of protector', async () => {
    const dir = newDir();
    await openPki(dir);
    expect(() => fastProtector(dir, 'not the passphrase')).toThrow(/the key passphrase does not open the keys in/);
    const other: KeyProtector = { kind: 'safeStorage', seal: (b) => b, open: (b) => b };
    await expect(Pki.open(dir, other)).rejects.toThrow(/sealed with the "passphrase" key protector, not "safeStorage"/);
  });

  it('refuses a half-present CA', async () => {
    const dir = newDir();
    await openPki(dir);
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'pki', 'ca.crt'));
    await expect(openPki(dir)).rejects.toThrow(/has ca.key.sealed but no ca.crt/);
  });
});

describe('keys at rest', () => {
  it('never writes a private key in clear: every file under the data directory is scanned', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const server = await pki.secureServerIdentity({ dns: ['localhost'], ips: ['127.0.0.1'] });
    const creds = await pki.issueDeviceCertificates([MAC, '00:1A:E8:00:00:02']);
    const caForge = forgeCertificate({ cn: 'Site CA', ca: true });
    await pki.importCa(Buffer.from(caForge.certPem + caForge.keyPem));
    const keys = [server.key, ...creds.map((c) => c.keyPem), caForge.keyPem];
    const ders = keys.map((k) => createPrivateKey(k).export({ type: 'pkcs8', format: 'der' }));
    const files = allFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const bytes = readFileSync(f);
      const text = bytes.toString('latin1');
      expect(text, f).not.toMatch(/PRIVATE KEY/);
      for (const k of keys) expect(text.includes(pemBody(k).slice(0, 64)), f).toBe(false);
      for (const d of ders) expect(bytes.includes(d.subarray(0, 64)), f).toBe(false);
    }
    const sealed = files.filter((f) => f.endsWith('.sealed'));
    expect(sealed.map((f) => f.slice(join(dir, 'pki').length + 1)).sort()).toEqual(
      expect.arrayContaining(['ca.key.sealed', 'devices/00-1A-E8-00-00-01.key.sealed', 'devices/00-1A-E8-00-00-02.key.sealed', 'server/secure-server.key.sealed']),
    );
    for (const f of sealed) {
      expect(readFileSync(f).subarray(0, 4).toString('latin1')).toBe('LDKS');
      if (posix) expect(modeOf(f), f).toBe(0o600);
    }
    if (posix) {
      for (const d of ['pki', 'pki/devices', 'pki/server']) expect(modeOf(join(dir, d)), d).toBe(0o700);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });
});

describe('device certificates', () => {
  it('have CN = MAC, a urn:dev:mac SAN, clientAuth, and are signed by the CA', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const cred = await pki.issueDeviceCertificate('00-1a-e8-00-00-01');
    expect(cred.mac).toBe(MAC);
    const cert = x509(cred.certPem);
    const ca = x509(pki.caCertificatePem());
    expect(cert.subject).toBe(`CN=${MAC}\nO=LocalDLS`);
    expect(cert.subjectAltName).toBe('URI:urn:dev:mac:001ae8000001');
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(cred.keyPem))).toBe(true);
    expect(cred.serial).toBe(cert.serialNumber);
    expect(cred.serial).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(cred.notAfter).toBe(Date.parse(cert.validTo));
    const fc = forge.pki.certificateFromPem(cred.certPem);
    expect(fc.getExtension('keyUsage')).toMatchObject({ digitalSignature: true, critical: true });
    expect(fc.getExtension('basicConstraints')).toMatchObject({ cA: false, critical: true });
    expect(fc.getExtension('authorityKeyIdentifier')).toBeTruthy();
    // the certificate next to the sealed key, both reloadable for a re-send
    expect(readFileSync(join(dir, 'pki', 'devices', '00-1A-E8-00-00-01.crt'), 'utf8')).toBe(cred.certPem);
    const reloaded = (await openPki(dir)).deviceCredential('001AE8000001');
    expect(reloaded).toEqual(cred);
    expect(pki.deviceCredential('00:1A:E8:00:00:99')).toBeNull();
  });

  it('get a fresh key and serial when issued again (renewal)', async () => {
    const pki = await openPki(newDir());
    const a = await pki.issueDeviceCertificate(MAC);
    const b = await pki.issueDeviceCertificate(MAC);
    expect(b.serial).not.toBe(a.serial);
    expect(b.keyPem).not.toBe(a.keyPem);
    expect(pki.deviceCredential(MAC)?.serial).toBe(b.serial);
    expect(pki.deviceIdentity(peer(a.certPem))).toEqual({ mac: MAC, serial: a.serial }); // still valid until revoked
  });

  it('refuse a malformed MAC', async () => {
    const pki = await openPki(newDir());
    await expect(pki.issueDeviceCertificate('00:1A:E8:00:00')).rejects.toThrow(/is not a MAC address/);
  });

  it('can be issued for 200 devices, with progress, and the bulk run can be aborted', async () => {
    const dir = newDir();
    const pki = await openPki(dir, { keyBits: 1024 });
    const macs = Array.from({ length: 200 }, (_, i) => `00:1A:E8:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    const progress: number[] = [];
    const creds = await pki.issueDeviceCertificates(macs, { onProgress: (done, total) => progress.push(done * 1000 + total) });
    expect(creds).toHaveLength(200);
    expect(creds.map((c) => c.mac)).toEqual(macs.map((m) => m.toUpperCase()));
    expect(new Set(creds.map((c) => c.serial)).size).toBe(200);
    expect(progress).toHaveLength(200);
    expect(progress.at(-1)).toBe(200 * 1000 + 200);
    const files = readdirSync(join(dir, 'pki', 'devices'));
    expect(files.filter((f) => f.endsWith('.crt'))).toHaveLength(200);
    expect(files.filter((f) => f.endsWith('.key.sealed'))).toHaveLength(200);
    const ca = x509(pki.caCertificatePem());
    expect(creds.every((c) => x509(c.certPem).verify(ca.publicKey))).toBe(true);

    const controller = new AbortController();
    let seen = 0;
    const aborted = pki.issueDeviceCertificates(
      macs.map((m) => m.replace('00:1A:E8', '00:1A:E9')),
      { signal: controller.signal, onProgress: (done) => { seen = done; if (done === 3) controller.abort(new Error('stopped by the user')); } },
    );
    await expect(aborted).rejects.toThrow('stopped by the user');
    expect(seen).toBeLessThan(200);
    expect(readdirSync(join(dir, 'pki', 'devices')).filter((f) => f.startsWith('00-1A-E9') && f.endsWith('.crt')).length).toBe(seen);
  }, 120_000);
});

describe('deviceIdentity', () => {
  it('reads MAC and serial from our client certificates only', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate(MAC);
    expect(pki.deviceIdentity(peer(cred.certPem))).toEqual({ mac: MAC, serial: cred.serial });
    // same CN from another CA, the server certificate, nothing at all
    const otherPki = await openPki(newDir());
    const foreign = await otherPki.issueDeviceCertificate(MAC);
    expect(pki.deviceIdentity(peer(foreign.certPem))).toBeNull();
    const server = await pki.secureServerIdentity({ dns: ['dls.example'], ips: [] });
    expect(pki.deviceIdentity(peer(server.cert))).toBeNull();
    expect(pki.deviceIdentity({} as PeerCertificate)).toBeNull();
    expect(pki.deviceIdentity(undefined)).toBeNull();
    expect(pki.deviceIdentity({ raw: Buffer.from('not a certificate') } as PeerCertificate)).toBeNull();
  });

  it('remembers its answers per certificate and CA: the same again, a CA import and other bytes under a known fingerprint change them', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate(MAC);
    const other = await pki.issueDeviceCertificate('00:1A:E8:00:00:02');
    const foreign = await (await openPki(newDir())).issueDeviceCertificate('00:1A:E8:00:00:03');
    for (let i = 0; i < 3; i++) {
      expect(pki.deviceIdentity(peer(cred.certPem))).toEqual({ mac: MAC, serial: cred.serial });
      expect(pki.deviceIdentity(peer(foreign.certPem))).toBeNull();
      // without its fingerprint the certificate is checked as before
      expect(pki.deviceIdentity({ raw: new X509Certificate(cred.certPem).raw } as PeerCertificate)).toEqual({ mac: MAC, serial: cred.serial });
    }
    // Another certificate's bytes under a remembered fingerprint are checked for what they are.
    const mixed = { raw: new X509Certificate(other.certPem).raw, fingerprint256: peer(cred.certPem).fingerprint256 } as PeerCertificate;
    expect(pki.deviceIdentity(mixed)).toEqual({ mac: '00:1A:E8:00:00:02', serial: other.serial });
    const bogus = { raw: new X509Certificate(foreign.certPem).raw, fingerprint256: peer(cred.certPem).fingerprint256 } as PeerCertificate;
    expect(pki.deviceIdentity(bogus)).toBeNull();
    expect(pki.deviceIdentity(peer(cred.certPem))).toEqual({ mac: MAC, serial: cred.serial });
    // After a CA import the old CA's certificates are no longer ours, remembered or not.
    const site = forgeCertificate({ cn: 'Example Site CA', ca: true });
    await pki.importCa(Buffer.from(site.certPem + site.keyPem));
    expect(pki.deviceIdentity(peer(cred.certPem))).toBeNull();
    const renewed = await pki.issueDeviceCertificate(MAC);
    expect(pki.deviceIdentity(peer(renewed.certPem))).toEqual({ mac: MAC, serial: renewed.serial });
  });

  it('remembers at most 4,096 certificates, the oldest going first (helper-73)', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate(MAC);
    const raw = new X509Certificate(cred.certPem).raw;
    const kept = () => (pki as unknown as { identities: Map<string, unknown> }).identities;
    for (let i = 0; i < 4100; i++) expect(pki.deviceIdentity({ raw, fingerprint256: `F${i}` } as PeerCertificate)).toEqual({ mac: MAC, serial: cred.serial });
    expect(kept().size).toBe(4096);
    const keys = [...kept().keys()];
    expect(keys[0]).toMatch(/ F4$/);
    expect(keys.at(-1)).toMatch(/ F4099$/);
  });
});

describe('Secure-Mode server identity', () => {
  it('is signed by the CA for the given names, cached, and reissued when the names change', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const names = { dns: ['DLS.example', 'localhost'], ips: ['127.0.0.1', '::1'] };
    const id = await pki.secureServerIdentity(names);
    const cert = x509(id.cert);
    expect(cert.subjectAltName).toBe('DNS:dls.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.verify(x509(pki.caCertificatePem()).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(id.key))).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(id.ca).toEqual(pki.caChainPems());

    const same = await (await openPki(dir)).secureServerIdentity({ dns: ['localhost', 'dls.example'], ips: ['::1', '127.0.0.1'] });
    expect(same).toEqual(id);
    const concurrent = await Promise.all([pki.secureServerIdentity({ dns: ['a.example'], ips: [] }), pki.secureServerIdentity({ dns: ['a.example'], ips: [] })]);
    expect(concurrent[0]).toEqual(concurrent[1]);
    expect(concurrent[0].cert).not.toBe(id.cert);
  });

  it('refuses names a phone cannot use', async () => {
    const pki = await openPki(newDir());
    await expect(pki.secureServerIdentity({ dns: [], ips: [] })).rejects.toThrow(/at least one DNS name or IP address/);
    await expect(pki.secureServerIdentity({ dns: [], ips: ['0.0.0.0'] })).rejects.toThrow(/not an address a phone can connect to/);
    await expect(pki.secureServerIdentity({ dns: [], ips: ['300.1.1.1'] })).rejects.toThrow(/not an IP address/);
    await expect(pki.secureServerIdentity({ dns: ['bad name'], ips: [] })).rejects.toThrow(/not a DNS name/);
  });
});

describe('importing a site CA', () => {
  it('from PEM (certificate + unencrypted key) replaces the CA for future issuance only', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const before = await pki.issueDeviceCertificate(MAC);
    const serverBefore = await pki.secureServerIdentity({ dns: ['localhost'], ips: [] });
    const oldPem = pki.caCertificatePem();
    const oldCa = x509(oldPem);
    const site = forgeCertificate({ cn: 'Example Site CA', ca: true });

    const summary = await pki.importCa(Buffer.from(site.certPem + site.keyPem));
    expect(summary).toMatchObject({ imported: true, chainLength: 0 });
    expect(summary.subject).toContain('CN=Example Site CA');
    expect(x509(pki.caCertificatePem()).fingerprint256).toBe(x509(site.certPem).fingerprint256);

    const after = await pki.issueDeviceCertificate('00:1A:E8:00:00:02');
    expect(x509(after.certPem).checkIssued(x509(site.certPem))).toBe(true);
    expect(x509(after.certPem).verify(createPublicKey(site.keyPem))).toBe(true);
    // the earlier device certificate is untouched and still signed by the old CA
    expect(pki.deviceCredential(MAC)).toEqual(before);
    expect(x509(before.certPem).verify(oldCa.publicKey)).toBe(true);
    // the server certificate follows the CA
    const serverAfter = await pki.secureServerIdentity({ dns: ['localhost'], ips: [] });
    expect(serverAfter.cert).not.toBe(serverBefore.cert);
    expect(x509(serverAfter.cert).verify(createPublicKey(site.keyPem))).toBe(true);
    // kept across restarts; the old CA is archived
    const reopened = await openPki(dir);
    expect(reopened.caCertificatePem()).toBe(pki.caCertificatePem());
    expect(reopened.caSummary().imported).toBe(true);
    const archived = readdirSync(join(dir, 'pki', 'previous-cas'));
    expect(archived).toHaveLength(1);
    expect(readFileSync(join(dir, 'pki', 'previous-cas', archived[0] as string, 'ca.crt'), 'utf8')).toBe(oldPem);
    expect(existsSync(join(dir, 'pki', 'previous-cas', archived[0] as string, 'ca.key.sealed'))).toBe(true);
  });

  it('from PEM with an encrypted PKCS#8 key, asking for the password', async () => {
    const pki = await openPki(newDir());
    const site = forgeCertificate({ cn: 'Encrypted Site CA', ca: true });
    const input = Buffer.from(site.certPem + encryptedKeyPem(site.keyPem, 'site password'));
    await expect(pki.importCa(input)).rejects.toThrow('the CA private key is encrypted: give its password');
    await expect(pki.importCa(input, 'wrong')).rejects.toThrow(/cannot decrypt the CA private key — wrong password\?/);
    await pki.importCa(input, 'site password');
    expect(pki.caSummary().subject).toContain('Encrypted Site CA');
  });

  it('from PKCS#12 with an intermediate CA and its root: the chain is kept in order', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const root = forgeCertificate({ cn: 'Example Root CA', ca: true });
    const intermediate = forgeCertificate({ cn: 'Example Issuing CA', ca: true, issuer: root });
    const unrelated = forgeCertificate({ cn: 'Unrelated CA', ca: true });
    const p12 = forge.pkcs12.toPkcs12Asn1(intermediate.key, [intermediate.cert, unrelated.cert, root.cert], 'p12 password', { algorithm: '3des' });
    const der = Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');

    await expect(pki.importCa(der, 'nope')).rejects.toThrow(/the PKCS#12 password is wrong/);
    const summary = await pki.importCa(der, 'p12 password');
    expect(summary.chainLength).toBe(1);
    expect(pki.caChainPems().map((p) => x509(p).subject.split('\n')[0])).toEqual(['CN=Example Issuing CA', 'CN=Example Root CA']);

    const server = await pki.secureServerIdentity({ dns: ['localhost'], ips: [] });
    const sent = server.cert.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(sent).toHaveLength(2); // leaf + issuing CA; the root is not sent
    const cred = await pki.issueDeviceCertificate(MAC);
    expect(x509(cred.certPem).checkIssued(x509(intermediate.certPem))).toBe(true);
    expect(pki.deviceIdentity(peer(cred.certPem))).toEqual({ mac: MAC, serial: cred.serial });
    // chain survives a restart
    expect((await openPki(dir)).caChainPems()).toEqual(pki.caChainPems());
  });

  it('from a PKCS#12 written by toPkcs12Der (AES-256), also as base64 text', async () => {
    const pki = await openPki(newDir());
    const site = forgeCertificate({ cn: 'Modern P12 CA', ca: true });
    const der = toPkcs12Der(site.keyPem, site.certPem, [], 'pw');
    expect(fromPkcs12Der(der, 'pw').certPem).toBe(x509(site.certPem).toString());
    await pki.importCa(Buffer.from(der.toString('base64')), 'pw');
    expect(pki.caSummary().subject).toContain('Modern P12 CA');
  });

  it('refuses a certificate that is not a CA, a mismatched key, and files without key or certificate', async () => {
    const dir = newDir();
    const pki = await openPki(dir);
    const before = pki.caCertificatePem();
    const leaf = forgeCertificate({ cn: 'Just a server', ca: false });
    await expect(pki.importCa(Buffer.from(leaf.certPem + leaf.keyPem))).rejects.toThrow(/"CN=Just a server, O=Example Site" is not a CA certificate/);
    const a = forgeCertificate({ cn: 'CA A', ca: true });
    const b = forgeCertificate({ cn: 'CA B', ca: true });
    await expect(pki.importCa(Buffer.from(a.certPem + b.keyPem))).rejects.toThrow('the private key does not belong to the certificate in the file');
    await expect(pki.importCa(Buffer.from(a.certPem))).rejects.toThrow(/holds no private key/);
    await expect(pki.importCa(Buffer.from(a.keyPem))).rejects.toThrow(/holds no certificate/);
    await expect(pki.importCa(Buffer.from('hello world!'))).rejects.toThrow(/neither PEM nor PKCS#12/);
    const noKeyUsage = forgeCertificate({ cn: 'CA without keyCertSign', ca: true, keyUsage: false });
    await pki.importCa(Buffer.from(noKeyUsage.certPem + noKeyUsage.keyPem)); // keyUsage absent = unrestricted
    expect(pki.caCertificatePem()).not.toBe(before);
    expect((await openPki(dir)).caCertificatePem()).toBe(pki.caCertificatePem());
  });

  it('refuses a CA whose keyUsage forbids signing certificates', async () => {
    const pki = await openPki(newDir());
    const site = forgeCertificate({ cn: 'CRL-only CA', ca: true, keyUsage: false });
    site.cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', cRLSign: true, critical: true }]);
    site.cert.sign(site.key, forge.md.sha256.create());
    await expect(pki.importCa(Buffer.from(forge.pki.certificateToPem(site.cert) + site.keyPem))).rejects.toThrow(/keyCertSign/);
  });
});
