/**
 * The certificate authority that signs the Secure-Mode server certificate and the phones' client
 * certificates (manual p.62: the service provides "its individual client certificate, including
 * private key" and "the CA certificate(s) the provisioning server is signed with").
 * Either created locally or imported from a site CA (PEM or PKCS#12).
 */
import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { errorMessage } from './fs-util';
import { newSerialHex } from './identifiers';
import { caCertificateFields, generateRsaKeyPair, isSelfSigned, newCertificate, pemBlocks, signCertificate } from './x509';

/** A CA as held in memory: its certificate, the chain above it and its private key. */
export interface CaMaterial {
  /** The issuing CA certificate (PEM). */
  certPem: string;
  /** Certificates above it, nearest first, up to the root when known; empty for a local root. */
  chainPems: string[];
  /** Unencrypted PKCS#8 PEM; only ever written to disk sealed. */
  keyPem: string;
}

export async function createLocalCa(options: { keyBits: number; validityDays: number; hostname: string }): Promise<CaMaterial> {
  const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(options.keyBits);
  const cn = `LocalDLS CA ${options.hostname}`.slice(0, 64); // X.520 ub-common-name
  const subject = [
    { name: 'commonName', value: cn, valueTagClass: forge.asn1.Type.UTF8 },
    { name: 'organizationName', value: 'LocalDLS' },
  ] as forge.pki.CertificateField[];
  const cert = newCertificate({ serialHex: newSerialHex(), publicKeyPem, subject, validityDays: options.validityDays });
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const certPem = await signCertificate(cert, { key: createPrivateKey(privateKeyPem) });
  return { certPem, chainPems: [], keyPem: privateKeyPem };
}

/** What checkCa() learned about a CA. */
export interface CheckedCa {
  x509: X509Certificate;
  key: KeyObject;
}

/** Refuses anything LocalDLS cannot issue with: not a CA, key not matching, not RSA, not valid now. */
export function checkCa(material: CaMaterial, now = Date.now()): CheckedCa {
  const x509 = new X509Certificate(material.certPem);
  const key = createPrivateKey(material.keyPem);
  const name = `the certificate "${oneLine(x509.subject)}"`;
  if (!x509.checkPrivateKey(key)) throw new Error(`the private key does not belong to ${name}`);
  const { keyUsage, basicCa } = caCertificateFields(x509);
  if (!basicCa) throw new Error(`${name} is not a CA certificate (its basicConstraints do not say cA=true), so it cannot sign device certificates`);
  if (keyUsage !== null && !keyUsage.keyCertSign) throw new Error(`${name} may not sign certificates (its keyUsage lacks keyCertSign)`);
  if (!x509.ca) throw new Error(`${name} is not accepted as a CA certificate by OpenSSL`);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`the key of ${name} is ${key.asymmetricKeyType ?? 'of an unknown type'}: LocalDLS can only issue with an RSA CA key`);
  }
  if (Date.parse(x509.validTo) <= now) throw new Error(`${name} expired on ${x509.validTo}`);
  if (Date.parse(x509.validFrom) > now) throw new Error(`${name} is not valid before ${x509.validFrom}`);
  return { x509, key };
}

/**
 * Reads a site CA from PEM text (certificates + one private key, plain or encrypted with
 * `password`) or from PKCS#12 (DER or base64). The CA is the certificate the key belongs to;
 * the other certificates that form its chain are kept, unrelated ones are dropped.
 */
export function readCaImport(input: Buffer, password?: string): CaMaterial {
  const text = input.toString('utf8');
  if (text.includes('-----BEGIN ')) return fromParts(readPem(text, password));
  let der = input;
  if (input[0] !== 0x30) {
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new Error('the CA file is neither PEM nor PKCS#12');
    der = Buffer.from(compact, 'base64');
  }
  return fromParts(readPkcs12(der, password ?? ''));
}

interface Parts {
  certs: X509Certificate[];
  key: KeyObject;
}

function readPem(text: string, password: string | undefined): Parts {
  const certs = pemBlocks(text, 'CERTIFICATE').map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new Error(`certificate ${i + 1} of the PEM file cannot be read: ${errorMessage(e)}`);
    }
  });
  if (certs.length === 0) throw new Error('the PEM file holds no certificate (-----BEGIN CERTIFICATE-----)');
  const keys = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'].flatMap((t) => pemBlocks(text, t));
  if (keys.length === 0) throw new Error("the PEM file holds no private key: the CA's private key is needed to issue certificates");
  if (keys.length > 1) throw new Error(`the PEM file holds ${keys.length} private keys: give only the CA's key`);
  const keyPem = keys[0] as string;
  const encrypted = keyPem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(keyPem);
  if (encrypted && (password === undefined || password === '')) throw new Error('the CA private key is encrypted: give its password');
  try {
    return { certs, key: createPrivateKey({ key: keyPem, format: 'pem', passphrase: encrypted ? password : undefined }) };
  } catch (e) {
    if (encrypted) throw new Error(`cannot decrypt the CA private key — wrong password? (${errorMessage(e)})`);
    throw new Error(`cannot read the CA private key: ${errorMessage(e)}`);
  }
}

/** Certificates and the one private key of a PKCS#12 file (node-forge; modern PBES2 and legacy 3DES). */
export function readPkcs12(der: Buffer, password: string): Parts {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(der.toString('binary'), false); // PKCS#12 files are often BER
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (e) {
    const msg = errorMessage(e);
    if (/mac could not be verified|wrong password|invalid password/i.test(msg)) {
      throw new Error(`the PKCS#12 password is wrong (the PKCS#12 integrity check fails)`);
    }
    throw new Error(`cannot read the PKCS#12 file: ${msg}`);
  }
  const bags = p12.safeContents.flatMap((c) => c.safeBags);
  const keyBags = bags.filter((b) => b.type === forge.pki.oids['pkcs8ShroudedKeyBag'] || b.type === forge.pki.oids['keyBag']);
  const certBags = bags.filter((b) => b.type === forge.pki.oids['certBag']);
  if (keyBags.length === 0) throw new Error("the PKCS#12 file holds no private key: the CA's private key is needed to issue certificates");
  if (keyBags.length > 1) throw new Error(`the PKCS#12 file holds ${keyBags.length} private keys: give only the CA's key`);
  const bag = keyBags[0] as forge.pkcs12.Bag;
  const key = bag.key
    ? createPrivateKey(forge.pki.privateKeyToPem(bag.key))
    : createPrivateKey({ key: Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });
  const certs = certBags.map((b) => {
    const asn1 = b.cert ? forge.pki.certificateToAsn1(b.cert) : b.asn1;
    return new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  });
  if (certs.length === 0) throw new Error('the PKCS#12 file holds no certificate');
  return { certs, key };
}

function fromParts({ certs, key }: Parts): CaMaterial {
  const ca = certs.find((c) => c.checkPrivateKey(key));
  if (ca === undefined) {
    throw new Error(`the private key does not belong to ${certs.length === 1 ? 'the certificate' : `any of the ${certs.length} certificates`} in the file`);
  }
  const chain: X509Certificate[] = [];
  let current = ca;
  while (!isSelfSigned(current)) {
    const issuer = certs.find((c) => !chain.includes(c) && c !== ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem: ca.toString(), chainPems: chain.map((c) => c.toString()), keyPem };
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
