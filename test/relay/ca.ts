/** A throw-away CA and a server certificate it signs (with the IP in its names), for the upstream-CA tests. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  return { key: privateKey, pub: publicKey };
}

function certificate(subject: string, pub: string, issuer: string, signKey: string, ca: boolean, ip?: string, validity?: { from: number; to: number }): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pub);
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(validity?.from ?? Date.now() - 60_000);
  cert.validity.notAfter = new Date(validity?.to ?? Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer([{ name: 'commonName', value: issuer }]);
  cert.setExtensions(
    ca
      ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]
      : [{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames: [{ type: 7, ip: ip! }] }],
  );
  cert.sign(forge.pki.privateKeyFromPem(signKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** `validity`: the server certificate's dates (ms), e.g. one that has expired. */
export function caSignedServer(ip: string, validity?: { from: number; to: number }): { ca: string; otherCa: string; server: { key: string; cert: string } } {
  const caKeys = keyPair();
  const ca = certificate('Site DLS CA', caKeys.pub, 'Site DLS CA', caKeys.key, true);
  const otherKeys = keyPair();
  const otherCa = certificate('Other CA', otherKeys.pub, 'Other CA', otherKeys.key, true);
  const serverKeys = keyPair();
  return { ca, otherCa, server: { key: serverKeys.key, cert: certificate('dls.site.example', serverKeys.pub, 'Site DLS CA', caKeys.key, false, ip, validity) } };
}
