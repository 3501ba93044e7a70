import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import forge from 'node-forge';
import { type KeyProtector, type PkiOptions, Pki, passphraseProtector } from '../../src/main/pki';

/** A passphrase protector with a cheap scrypt cost (the default cost is tested on its own). */
export function fastProtector(dataDir: string, passphrase = 'correct horse battery staple'): KeyProtector {
  return passphraseProtector(passphrase, dataDir, { scryptCost: 1024 });
}

export function openPki(dataDir: string, options: PkiOptions = {}): Promise<Pki> {
  return Pki.open(dataDir, fastProtector(dataDir), { hostname: 'testhost', ...options });
}

/** Every file below `dir`, recursively. */
export function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

export interface ForgeCa {
  certPem: string;
  /** PKCS#8, unencrypted. */
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

/**
 * A certificate made with node-forge (key pair from node:crypto, as pure-JS RSA generation is slow):
 * a CA (or not), self-signed or signed by `issuer`.
 */
export function forgeCertificate(options: { cn: string; ca: boolean; issuer?: ForgeCa; keyUsage?: boolean }): ForgeCa {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '0a1b2c3d';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: options.cn },
    { name: 'organizationName', value: 'Example Site' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject);
  const exts: object[] = [{ name: 'basicConstraints', cA: options.ca, critical: true }, { name: 'subjectKeyIdentifier' }];
  if (options.keyUsage !== false) {
    exts.push(options.ca ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true } : { name: 'keyUsage', digitalSignature: true, critical: true });
  }
  if (options.issuer) {
    const ski = options.issuer.cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string } | undefined;
    if (ski) exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(ski.subjectKeyIdentifier) });
  }
  cert.setExtensions(exts);
  cert.sign(options.issuer ? options.issuer.key : key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, cert, key };
}

/** PKCS#8 PEM encrypted with `password` (PBES2, AES-256-CBC). */
export function encryptedKeyPem(keyPem: string, password: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }) as string;
}

export function x509(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

export interface HandshakeResult {
  /** The client got the server's greeting: both sides authenticated each other. */
  greeted: boolean;
  clientError: string | null;
  /** Why the server refused the handshake (tlsClientError), if it did. */
  serverError: string | null;
  /** The server's secure-connection handler ran (the handshake passed its checks). */
  serverAccepted: boolean;
  /** What the server learnt from the client certificate via pki.deviceIdentity. */
  identity: unknown;
}

/**
 * A mutual-TLS server on 127.0.0.1 that requires a client certificate from `serverOptions.ca`, and
 * a client presenting `pfx`. Resolves when the client socket closes.
 */
export async function mutualTlsHandshake(
  serverOptions: tls.TlsOptions,
  clientOptions: tls.ConnectionOptions,
  identify: (peer: tls.DetailedPeerCertificate) => unknown = () => null,
): Promise<HandshakeResult> {
  let identity: unknown = null;
  let serverError: string | null = null;
  let serverAccepted = false;
  const server = tls.createServer({ ...serverOptions, requestCert: true, rejectUnauthorized: true }, (socket) => {
    serverAccepted = true;
    identity = identify(socket.getPeerCertificate(true));
    socket.end('hello from the secure port');
  });
  server.on('tlsClientError', (e) => (serverError = e.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<HandshakeResult>((resolve) => {
      let data = '';
      let clientError: string | null = null;
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...clientOptions });
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (data += d));
      socket.on('error', (e) => (clientError = e.message));
      socket.on('close', () => resolve({ greeted: data === 'hello from the secure port', clientError, serverError, serverAccepted, identity }));
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
