/**
 * The site CA's public part, read without its key: the certificate is public, so showing or
 * exporting it needs no key passphrase (only issuing certificates does).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaSummary } from './pki';
import { fingerprintHex, pemBlocks } from './x509';

export interface PublicCa {
  summary: CaSummary;
  /** The CA certificate then the certificates above it (PEM). */
  chainPems: string[];
}

/** The CA of `dataDir` as Pki.open would load it, or null when none was made or imported yet. */
export function readPublicCa(dataDir: string): PublicCa | null {
  const dir = join(dataDir, 'pki');
  const certFile = join(dir, 'ca.crt');
  if (!existsSync(certFile)) return null;
  const certPem = readFileSync(certFile, 'utf8');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (e) {
    throw new Error(`${certFile} is not a certificate (${(e as Error).message}): restore it from a backup, or import the site CA again`);
  }
  const chainFile = join(dir, 'ca-chain.pem');
  const chain = existsSync(chainFile) ? pemBlocks(readFileSync(chainFile, 'utf8'), 'CERTIFICATE') : [];
  let imported = false;
  try {
    imported = (JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as { imported?: unknown }).imported === true;
  } catch {
    // no pki.json: a CA LocalDLS made (the file records imports)
  }
  return {
    summary: { subject: x509.subject.split('\n').join(', '), fingerprint: fingerprintHex(x509), notAfter: Date.parse(x509.validTo), chainLength: chain.length, imported },
    chainPems: [certPem, ...chain],
  };
}
